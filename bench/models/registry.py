"""Model kinds by name: `@register_model("tfidf_svm", config=TfidfSvmConfig)` on a class that implements
bench.models.contract.Classifier makes `model.kind=tfidf_svm` work, with its typed config schema."""

from dataclasses import dataclass

from bench.errors import BenchError
from bench.plugins import import_modules


@dataclass(frozen=True)
class ModelKind:
    name: str
    cls: type
    config: type  # the dataclass schema of its model YAMLs (registered as configs/model base_<name>)


MODEL_KINDS: dict[str, ModelKind] = {}


def register_model(name: str, *, config: type):
    def register(cls):
        MODEL_KINDS[name] = ModelKind(name, cls, config)
        return cls

    return register


def discover() -> dict[str, ModelKind]:
    """Every registered model kind, after importing each module of bench.models."""
    import_modules("bench.models")
    return MODEL_KINDS


def kind(name: str) -> ModelKind:
    kinds = discover()
    if name not in kinds:
        raise BenchError(f"model.kind={name!r} is not a model kind; use one of {sorted(kinds)}")
    return kinds[name]


def build(cfg, run_dir=None, checkpoint_dir=None):
    """The classifier of cfg.model.kind, ready to fit."""
    return kind(cfg.model.kind).cls(cfg, run_dir=run_dir, checkpoint_dir=checkpoint_dir)


def load(cfg, folder):
    """A classifier saved by `save(folder)` after a run with this config."""
    return kind(cfg.model.kind).cls.load(folder, cfg)
