"""Stance and sentiment metrics: F_avg (SemEval-2016 / TweetEval), macro-F1, accuracy, per class/target."""

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

STANCE_POLES = ("favor", "against")


def f_avg(gold: list[str], pred: list[str]) -> float:
    """Mean of the F1 scores of favor and against (neutral/none count only as errors), as in TweetEval."""
    _, _, f1, _ = precision_recall_fscore_support(gold, pred, labels=list(STANCE_POLES), zero_division=0)
    return float(np.mean(f1))


def classification_scores(gold: list[str], pred: list[str], labels: list[str]) -> dict:
    """Accuracy, macro-F1, F_avg (when the labels are stances), per-class scores and the confusion matrix."""
    p, r, f1, support = precision_recall_fscore_support(gold, pred, labels=labels, zero_division=0)
    scores = {
        "n": len(gold),
        "accuracy": float(np.mean(np.array(gold) == np.array(pred))) if gold else 0.0,
        "macro_f1": float(np.mean(f1)),
        "per_class": {
            lab: {
                "precision": float(p[i]),
                "recall": float(r[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, lab in enumerate(labels)
        },
        "confusion": {"labels": list(labels), "matrix": confusion_matrix(gold, pred, labels=labels).tolist()},
    }
    if set(STANCE_POLES) <= set(labels):
        scores["f_avg"] = f_avg(gold, pred)
    return scores


def score_split(examples: list[dict], pred: list[str], labels: list[str], main_score: str) -> dict:
    """Pooled scores over all targets, then the same scores per target; `main` is the task's main score."""
    gold = [e["label"] for e in examples]
    result = {"pooled": classification_scores(gold, pred, labels), "per_target": {}}
    targets = sorted({e["target"] for e in examples if e["target"] is not None})
    for t in targets:
        idx = [i for i, e in enumerate(examples) if e["target"] == t]
        result["per_target"][t] = classification_scores([gold[i] for i in idx], [pred[i] for i in idx], labels)
    result["main"] = result["pooled"][main_score]
    return result
