import json
import os
import sqlite3
import subprocess
import sys

import pytest
from conftest import ROOT, needs_shared

from bench import results
from bench.run import run


def test_tiny_on_demo_writes_record_and_row(make_cfg, tmp_path):
    cfg = make_cfg("experiment=smoke", "seed=7")
    rec = run(cfg)
    on_disk = json.loads((tmp_path / "run" / "run.json").read_text())
    assert on_disk["run_id"] == rec["run_id"]
    assert set(on_disk["metrics"]) == {"dev", "test"}
    assert set(on_disk["metrics"]["test"]["per_target"]) == {"russia", "ukraine", "china", "west"}
    for key in ("config", "data_checksums", "packages", "git", "hardware", "timing_s", "fingerprint"):
        assert on_disk[key], key
    assert on_disk["model"]["source"] == "random_init" and on_disk["seed"] == 7
    assert {"data", "model_load", "train", "evaluate", "total"} <= set(on_disk["timing_s"])
    preds = (tmp_path / "run" / "predictions.jsonl").read_text().splitlines()
    assert len(preds) == on_disk["metrics"]["dev"]["pooled"]["n"] + on_disk["metrics"]["test"]["pooled"]["n"]
    con = sqlite3.connect(tmp_path / "results.sqlite")
    row = con.execute("SELECT task, model, seed, test_main, record FROM runs").fetchall()
    assert len(row) == 1
    assert row[0][:3] == ("demo", "tiny", 7)
    assert row[0][3] == pytest.approx(on_disk["metrics"]["test"]["main"])
    (summary,) = results.summary(tmp_path / "results.sqlite")
    assert (summary["task"], summary["model"], summary["seeds"]) == ("demo", "tiny", 1)
    assert summary["test"] == pytest.approx(on_disk["metrics"]["test"]["main"])


@pytest.mark.parametrize("model", ["majority", "tfidf_svm"])
def test_baselines_on_demo(make_cfg, model):
    rec = run(make_cfg(f"model={model}"))
    assert 0.0 <= rec["metrics"]["test"]["main"] <= 1.0
    if model == "majority":
        # the majority class of every demo target is a non-pole label, so F_avg must be 0
        assert rec["metrics"]["test"]["main"] == 0.0


def _bench(*args, env_extra=None, tmp_path):
    env = {
        **os.environ,
        "BENCH_OUTPUT_DIR": str(tmp_path / "outputs"),
        "BENCH_RESULTS_DB": str(tmp_path / "results.sqlite"),
        **(env_extra or {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "bench.run", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_two_job_multirun(tmp_path):
    out = _bench("-m", "experiment=smoke", "seed=1,2", "print_table=false", tmp_path=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    rows = sqlite3.connect(tmp_path / "results.sqlite").execute("SELECT seed FROM runs ORDER BY seed").fetchall()
    assert rows == [(1,), (2,)]
    assert len(list((tmp_path / "outputs").rglob("run.json"))) == 2


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("model=bert_huge", "Could not find 'model/bert_huge'"),
        ("task=no_such_task", "Could not find 'task/no_such_task'"),
        ("train.learning_rat=0.1", "Could not override 'train.learning_rat'"),
    ],
)
def test_unknown_names_and_keys_fail_clearly(tmp_path, override, message):
    out = _bench(override, tmp_path=tmp_path)
    assert out.returncode != 0
    assert message in out.stderr
    assert "Traceback" not in out.stderr


@needs_shared("tweeteval")
def test_tfidf_svm_reproduces_published_tweeteval_svm(make_cfg):
    rec = run(make_cfg("task=tweeteval_stance", "model=tfidf_svm"))
    # TweetEval paper, SVM baseline: 67.3 F_avg on the pooled test set
    assert abs(100 * rec["metrics"]["test"]["main"] - 67.3) <= 3.0


def test_fingerprint_depends_on_the_resolved_config_not_on_override_order(make_cfg):
    """A sweep re-launched with its overrides in another order skips what is recorded: the fingerprint hashes the
    resolved config (and data checksums and code version), not the command line."""
    from bench.records import record

    a = make_cfg("seed=3", "train.precision=bf16", "model.max_length=256", "task=demo")
    b = make_cfg("task=demo", "model.max_length=256", "seed=3", "train.precision=bf16")
    c = make_cfg("task=demo", "model.max_length=255", "seed=3", "train.precision=bf16")
    checksums = {"data/demo/articles.jsonl": "0" * 64}
    assert record.fingerprint(a, checksums, "abc") == record.fingerprint(b, checksums, "abc")
    assert record.fingerprint(a, checksums, "abc") != record.fingerprint(c, checksums, "abc")
    assert record.fingerprint(a, checksums, "abc") != record.fingerprint(a, checksums, "abd")  # another commit


def test_mpnet_random_is_mpnet_sized_and_uses_the_real_tokenizer_setting(make_cfg):
    """model=mpnet_random (scripts/bench_gpu.sh): all-mpnet-base-v2's architecture with random weights."""
    from bench.models.transformer import load_model

    cfg = make_cfg("model=mpnet_random")
    assert cfg.model.tokenizer_from == (os.environ.get("BENCH_MPNET_DIR") or "sentence-transformers/all-mpnet-base-v2")
    model, provenance = load_model(cfg.model, list(cfg.task.labels), seed=1)
    assert type(model).__name__ == "MPNetForSequenceClassification" and provenance["source"] == "random_init"
    n = sum(p.numel() for p in model.parameters())
    assert abs(n - cfg.model.params) / cfg.model.params < 0.01, n
