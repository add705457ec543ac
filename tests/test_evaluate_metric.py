"""The `evaluate` metric module (bench/evaluation/stance_metric) loads offline and scores exactly as bench's metrics."""

import json

import numpy as np
import pytest

from bench.evaluation import stance_metric_path
from bench.evaluation.metrics import METRICS, score_split
from bench.run import run

evaluate = pytest.importorskip("evaluate")
LABELS = ["favor", "against", "neutral", "none"]


@pytest.fixture(scope="module")
def metric():
    return evaluate.load(stance_metric_path())  # a local folder: nothing is fetched from the Hub


def test_hand_made_cases_match_the_registry(metric):
    gold = ["favor", "favor", "favor", "against", "against", "none", "none", "neutral"]
    pred = ["favor", "favor", "against", "against", "none", "favor", "none", "neutral"]
    targets = ["russia", "russia", "ukraine", "ukraine", "russia", "ukraine", "russia", "ukraine"]
    got = metric.compute(predictions=pred, references=gold, targets=targets, labels=LABELS)
    assert got["f_avg"] == pytest.approx((2 / 3 + 1 / 2) / 2)  # favor F1 2/3, against F1 1/2 (worked by hand)
    for name in ("f_avg", "f_avg_targets", "macro_f1", "accuracy"):
        assert got[name] == pytest.approx(METRICS[name].fn(gold, pred, LABELS, targets)), name
    without = metric.compute(predictions=pred, references=gold)
    assert "f_avg_targets" not in without and without["f_avg"] == got["f_avg"]


def test_random_cases_match_the_registry(metric):
    rng = np.random.default_rng(3)
    gold = list(rng.choice(LABELS, 300))
    pred = [g if rng.random() < 0.5 else str(rng.choice(LABELS)) for g in gold]
    targets = list(rng.choice(["a", "b", "c"], 300))
    got = metric.compute(predictions=pred, references=gold, targets=targets, labels=LABELS)
    assert got == pytest.approx({n: METRICS[n].fn(gold, pred, LABELS, targets) for n in got})


def test_a_real_runs_predictions_score_as_its_record(metric, make_cfg, tmp_path):
    rec = run(make_cfg("experiment=smoke", "model=tfidf_svm"))
    with open(rec["predictions_path"], encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    test = [r for r in rows if r["split"] == "test"]
    got = metric.compute(
        predictions=[r["pred"] for r in test],
        references=[r["gold"] for r in test],
        targets=[r["target"] for r in test],
        labels=LABELS,
    )
    pooled = rec["metrics"]["test"]["pooled"]
    for name in ("f_avg", "f_avg_targets", "macro_f1", "accuracy"):
        assert got[name] == pytest.approx(pooled[name]), name
    examples = [{"label": r["gold"], "target": r["target"]} for r in test]
    assert score_split(examples, [r["pred"] for r in test], LABELS, "f_avg")["main"] == pytest.approx(got["f_avg"])
