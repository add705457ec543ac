"""The one evaluation loop: predict each split with any classifier, score it, and keep every prediction."""

import time

from bench.evaluation import cross
from bench.evaluation.metrics import score_split
from bench.models.contract import INVALID


def evaluate(clf, evals: dict[str, list[dict]], task, cross_tasks: dict) -> tuple[dict, list[dict], dict]:
    """Metrics per split, prediction rows (one per example) and the cost of predicting each split."""
    labels = list(task.labels)
    metrics, rows, cost = {}, [], {}
    for split, examples in evals.items():
        start = time.perf_counter()
        out = clf.predict(examples)
        cost[split] = out.cost.as_record(wall_s=time.perf_counter() - start)
        pred = out.labels
        if split in cross_tasks:
            pred, metrics[split] = cross.score(cross_tasks[split], pred)
        else:
            metrics[split] = score_split(examples, pred, labels, task.main_score)
        metrics[split]["invalid"] = sum(p == INVALID for p in pred)  # answers naming no label: counted as errors
        rows += [
            {
                "split": split,
                "id": e["id"],
                "group": e.get("group", e["id"]),  # the text of a (target, text) pair: the bootstrap cluster
                "target": e["target"],
                "gold": e["label"],
                "pred": p,
                "probs": dict(zip(labels, pr, strict=True)),
            }
            for e, p, pr in zip(examples, pred, out.probs, strict=True)
        ]
    return metrics, rows, cost
