"""Stance and sentiment metrics, registered by name: every consumer (config validation, run records, significance,
tracking, leaderboard, terminal tables) reads this registry, so a new metric is one decorated function here.

A metric takes (gold, pred, labels, targets) -- targets is each example's target, or None for single-label tasks --
and returns a float. `applies(labels, has_targets)` says which tasks report it.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

STANCE_POLES = ("favor", "against")


@dataclass(frozen=True)
class Metric:
    name: str
    fn: Callable[..., float]
    higher_is_better: bool
    applies: Callable[[Sequence[str], bool], bool]
    description: str
    per_target_mean_of: str | None = None  # the mean over targets of this metric (bootstrapped by target masks)


METRICS: dict[str, Metric] = {}


def _always(labels, has_targets) -> bool:
    return True


def _stance(labels, has_targets) -> bool:
    return set(STANCE_POLES) <= set(labels)


def register_metric(name: str, *, higher_is_better=True, applies=_always, per_target_mean_of=None):
    """Register `fn(gold, pred, labels, targets) -> float` under `name` (its docstring is the description)."""

    def register(fn):
        doc = (fn.__doc__ or name).strip().splitlines()[0]
        METRICS[name] = Metric(name, fn, higher_is_better, applies, doc, per_target_mean_of)
        return fn

    return register


def applicable(labels: Sequence[str], has_targets: bool) -> list[str]:
    """Names of the registered metrics a task with these labels (and targets or not) reports."""
    return [m.name for m in METRICS.values() if m.applies(labels, has_targets)]


@register_metric("f_avg", applies=_stance)
def f_avg(gold, pred, labels=None, targets=None) -> float:
    """Mean of the F1 scores of favor and against, pooled over targets (SemEval-2016 / TweetEval)."""
    _, _, f1, _ = precision_recall_fscore_support(gold, pred, labels=list(STANCE_POLES), zero_division=0)
    return float(np.mean(f1))


def mean_over_targets(metric: str, gold, pred, labels=None, targets=None) -> float:
    """The mean over targets of `metric` computed on each target's examples."""
    if targets is None:
        return METRICS[metric].fn(gold, pred, labels, None)
    gold, pred, targets = np.asarray(gold, dtype=object), np.asarray(pred, dtype=object), np.asarray(targets)
    order = sorted(set(targets))  # a fixed order: string hashing differs between processes, float sums would too
    scores = [METRICS[metric].fn(list(gold[targets == t]), list(pred[targets == t]), labels) for t in order]
    return float(np.mean(scores)) if scores else 0.0


@register_metric("f_avg_targets", applies=lambda labels, has_targets: has_targets and _stance(labels, True),
                 per_target_mean_of="f_avg")  # fmt: skip
def f_avg_targets(gold, pred, labels=None, targets=None) -> float:
    """Mean over targets of each target's F_avg: predicting a target's majority stance earns no more than it."""
    return mean_over_targets("f_avg", gold, pred, labels, targets)


@register_metric("macro_f1")
def macro_f1(gold, pred, labels=None, targets=None) -> float:
    """Unweighted mean F1 over the task's labels (every label seen when labels is None)."""
    _, _, f1, _ = precision_recall_fscore_support(gold, pred, labels=labels, average=None, zero_division=0)
    return float(np.mean(f1)) if len(f1) else 0.0


@register_metric("accuracy")
def accuracy(gold, pred, labels=None, targets=None) -> float:
    """Share of examples labelled correctly."""
    return float(np.mean(np.asarray(gold) == np.asarray(pred))) if len(gold) else 0.0


def classification_scores(gold: list[str], pred: list[str], labels: list[str], targets=None) -> dict:
    """Every applicable metric, per-class precision/recall/F1 and the confusion matrix."""
    p, r, f1, support = precision_recall_fscore_support(gold, pred, labels=labels, zero_division=0)
    scores = {"n": len(gold)}
    for name in applicable(labels, targets is not None):
        scores[name] = METRICS[name].fn(gold, pred, labels, targets)
    scores["per_class"] = {
        lab: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f1[i]), "support": int(support[i])}
        for i, lab in enumerate(labels)
    }
    scores["confusion"] = {"labels": list(labels), "matrix": confusion_matrix(gold, pred, labels=labels).tolist()}
    return scores


def score_split(examples: list[dict], pred: list[str], labels: list[str], main_score: str) -> dict:
    """Pooled scores over all targets, then the same scores per target; `main` is the task's main score."""
    gold = [e["label"] for e in examples]
    has_targets = any(e["target"] is not None for e in examples)
    targets = [e["target"] for e in examples] if has_targets else None
    result = {"pooled": classification_scores(gold, pred, labels, targets), "per_target": {}}
    for t in sorted(set(targets or ())):
        idx = [i for i, e in enumerate(examples) if e["target"] == t]
        result["per_target"][t] = classification_scores([gold[i] for i in idx], [pred[i] for i in idx], labels)
    result["main"] = result["pooled"][main_score]
    return result
