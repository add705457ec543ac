"""Compose the real Hydra config, pointed at temporary outputs, for tests."""

import os
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from bench import config

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"
SHARED = Path(os.environ.get("BENCH_DATA_DIR", ROOT.parent / "shared" / "datasets"))

config.register()


def needs_shared(name: str):
    """Skip unless the local copy of a public dataset is present."""
    return pytest.mark.skipif(
        not (SHARED / name).is_dir(),
        reason=f"local copy of public dataset {name!r} not found under {SHARED} (set BENCH_DATA_DIR)",
    )


@pytest.fixture(autouse=True)
def _data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("BENCH_DATA_DIR", str(SHARED))
    monkeypatch.setenv("BENCH_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def make_cfg(tmp_path):
    """compose(overrides) -> the real config with outputs and the results store under tmp_path."""

    def make(*overrides: str):
        GlobalHydra.instance().clear()
        with initialize_config_dir(config_dir=str(CONFIGS), version_base="1.3"):
            cfg = compose(
                config_name="config",
                overrides=[
                    f"output_dir={tmp_path / 'run'}",
                    f"results_db={tmp_path / 'results.sqlite'}",
                    *overrides,
                ],
            )
        return cfg

    yield make
    GlobalHydra.instance().clear()


# Skips that mean "this machine lacks what CI provides" (shared datasets, Chromium, the bundled local servers):
# under CI=true they fail the session, so a green CI run never hides tests that did not run.
REQUIRED_IN_CI = ("local copy of public dataset", "chromium", "needs the bundled")
_ci_skips: list[str] = []


def pytest_runtest_logreport(report):
    if report.skipped and os.environ.get("CI") == "true":
        reason = str(report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr)
        if any(token in reason.lower() for token in REQUIRED_IN_CI):
            _ci_skips.append(f"{report.nodeid}: {reason}")


def pytest_sessionfinish(session, exitstatus):
    if _ci_skips:
        print("\nCI=true but these tests skipped for a missing CI prerequisite:\n  " + "\n  ".join(_ci_skips))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
