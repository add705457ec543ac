"""A run killed with SIGKILL in the middle of training resumes from its last checkpoint when re-launched and ends
with the same metrics and predictions as an uninterrupted run with the same seed (CPU)."""

import json
import os
import signal
import subprocess
import sys
import time

from conftest import ROOT

from bench.models import checkpoints
from bench.records import store

# 64 training examples, batch 8: 8 steps and one evaluation + checkpoint per epoch
ARGS = (
    "experiment=smoke",
    "train.max_steps=-1",
    "train.epochs=4",
    "train.early_stopping_patience=10",
    "print_table=false",
    "seed=3",
)


def _env(tmp_path, name):
    return {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "BENCH_OUTPUT_DIR": str(tmp_path / name),
        "BENCH_RESULTS_DB": str(tmp_path / name / "results.sqlite"),
    }


def _cmd():
    return [sys.executable, "-m", "bench.run", *ARGS]


def _result(tmp_path, name):
    (row,) = store.runs(tmp_path / name / "results.sqlite")
    rec = json.loads(row["record"])
    with open(rec["predictions_path"], encoding="utf-8") as f:
        return rec, f.read()


def test_killed_run_resumes_from_checkpoint_with_identical_results(tmp_path):
    full = subprocess.run(_cmd(), cwd=ROOT, env=_env(tmp_path, "full"), capture_output=True, text=True, timeout=600)
    assert full.returncode == 0, full.stderr[-3000:]

    env = _env(tmp_path, "killed")
    ckpts = tmp_path / "killed" / "checkpoints"
    proc = subprocess.Popen(_cmd(), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while proc.poll() is None and time.monotonic() < deadline:
            if any(checkpoints._complete(c) for c in ckpts.glob("*/checkpoint-*")):  # read-only look
                break
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert store.runs(tmp_path / "killed" / "results.sqlite") == []  # killed mid-training: nothing recorded
    (folder,) = ckpts.iterdir()
    first = checkpoints.latest(folder)
    assert first is not None and first.name != "checkpoint-32", first  # killed before the last epoch

    again = subprocess.run(_cmd(), cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "resuming from" in again.stderr + again.stdout

    rec_full, preds_full = _result(tmp_path, "full")
    rec_res, preds_res = _result(tmp_path, "killed")
    assert rec_res["fingerprint"] == rec_full["fingerprint"]
    assert rec_res["fit"]["resumed_from_step"] >= 8
    assert rec_full["fit"]["resumed_from_step"] is None
    assert rec_res["fit"]["steps"] == rec_full["fit"]["steps"] == 32
    assert rec_res["metrics"] == rec_full["metrics"]  # every split, target, class and confusion matrix
    assert preds_res == preds_full  # labels and probabilities (6 decimals) of every example
    assert list(ckpts.iterdir()) == []  # removed once the run was recorded


def _fake_checkpoint(folder, step, complete=True):
    ckpt = folder / f"checkpoint-{step}"
    ckpt.mkdir(parents=True)
    (ckpt / "model.safetensors").write_bytes(b"x")
    (ckpt / "optimizer.pt").write_bytes(b"x")
    (ckpt / "rng_state.pth").write_bytes(b"x")
    (ckpt / "trainer_state.json").write_text(f'{{"global_step": {step}}}' if complete else '{"global_st')
    return ckpt


def test_latest_skips_and_removes_a_checkpoint_killed_while_saving(tmp_path):
    good = _fake_checkpoint(tmp_path, 8)
    torn = _fake_checkpoint(tmp_path, 16, complete=False)
    assert checkpoints.latest(tmp_path) == good
    assert not torn.exists()
    assert checkpoints.latest(tmp_path / "missing") is None


def test_finish_removes_or_keeps_checkpoints(tmp_path):
    folder = checkpoints.folder(tmp_path / "results.sqlite", "ab" * 32)
    assert folder == tmp_path / "checkpoints" / ("ab" * 8)
    _fake_checkpoint(folder, 4)
    checkpoints.finish(folder, tmp_path / "run", keep=False)
    assert not folder.exists()

    _fake_checkpoint(folder, 4)
    (tmp_path / "run").mkdir()
    checkpoints.finish(folder, tmp_path / "run", keep=True)
    assert (tmp_path / "run" / "checkpoints" / "checkpoint-4" / "trainer_state.json").exists()
    assert not folder.exists()
