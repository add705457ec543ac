"""Registries fill themselves by import: a decorated function or class registers when its module is imported."""

import importlib
import pkgutil


def import_modules(package: str) -> None:
    """Import every module of `package` once, so that each registration decorator in it has run."""
    for info in pkgutil.iter_modules(importlib.import_module(package).__path__):
        importlib.import_module(f"{package}.{info.name}")
