import numpy as np
import pytest
from sklearn.metrics import f1_score

from bench.evaluation.metrics import classification_scores, f_avg, score_split

LABELS = ["favor", "against", "none"]


def test_f_avg_matches_hand_computed_tweeteval_example():
    # favor: tp=2 fp=1 fn=1 -> P=2/3 R=2/3 F1=2/3; against: tp=1 fp=1 fn=1 -> F1=1/2; none ignored
    gold = ["favor", "favor", "favor", "against", "against", "none", "none"]
    pred = ["favor", "favor", "against", "against", "none", "favor", "none"]
    assert f_avg(gold, pred) == pytest.approx((2 / 3 + 1 / 2) / 2)


def test_f_avg_equals_tweeteval_official_formula():
    # TweetEval's evaluation_script: f1_score(average=None) on integer labels, mean of against (1) and favor (2)
    rng = np.random.default_rng(0)
    gold = rng.integers(0, 3, 500)
    pred = np.where(rng.random(500) < 0.6, gold, rng.integers(0, 3, 500))
    official = f1_score(gold, pred, average=None)[[1, 2]].mean()
    names = {0: "none", 1: "against", 2: "favor"}
    ours = f_avg([names[g] for g in gold], [names[p] for p in pred])
    assert ours == pytest.approx(official)


def test_per_class_confusion_and_macro():
    gold = ["favor", "against", "none", "none"]
    pred = ["favor", "none", "none", "against"]
    s = classification_scores(gold, pred, LABELS)
    assert s["per_class"]["favor"]["f1"] == 1.0
    assert s["per_class"]["none"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert s["confusion"]["matrix"] == [[1, 0, 0], [0, 0, 1], [0, 1, 1]]
    assert s["macro_f1"] == pytest.approx((1 + 0 + 0.5) / 3)
    assert s["accuracy"] == 0.5


def test_scores_pooled_and_per_target():
    examples = [{"target": t, "label": g} for t, g in [("a", "favor"), ("a", "against"), ("b", "favor"), ("b", "none")]]
    pred = ["favor", "favor", "favor", "none"]
    s = score_split(examples, pred, LABELS, "f_avg")
    assert set(s["per_target"]) == {"a", "b"}
    assert s["per_target"]["b"]["f_avg"] == pytest.approx(0.5)  # favor F1=1, against absent -> 0
    assert s["main"] == s["pooled"]["f_avg"]
