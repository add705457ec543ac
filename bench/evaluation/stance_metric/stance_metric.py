"""The benchmark's stance metrics as a Hugging Face `evaluate` metric, loaded offline from this folder:

    import evaluate
    from bench.evaluation import stance_metric_path
    metric = evaluate.load(stance_metric_path())
    metric.compute(predictions=["favor", "none"], references=["favor", "against"], targets=["russia", "russia"])

It computes every metric of bench.evaluation.metrics that applies (F_avg, F_avg over targets, macro-F1, accuracy)
with the same functions, so scores of your own predictions follow the benchmark's definitions exactly.
"""

import datasets
import evaluate

from bench.evaluation.metrics import METRICS, applicable

_DESCRIPTION = "Stance metrics of StanceBench: " + "; ".join(f"{m.name}: {m.description}" for m in METRICS.values())
_KWARGS = """
Args:
    predictions: predicted labels (strings, e.g. favor / against / neutral / none).
    references: gold labels.
    targets (optional): the target of each example; enables f_avg_targets (the mean over targets of F_avg).
    labels (optional): the task's label set for macro-F1 (default: the labels present).
Returns:
    a dict with every applicable metric: f_avg and f_avg_targets need favor and against among the labels.
"""
_CITATION = "Mohammad et al. 2016 (SemEval-2016 Task 6) for F_avg; StanceBench for f_avg_targets."


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS)
class StanceMetric(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS,
            features=datasets.Features(
                {"predictions": datasets.Value("string"), "references": datasets.Value("string")}
            ),  # targets and labels are keyword arguments of compute()
        )

    def _compute(self, predictions, references, targets=None, labels=None):
        labels = list(labels) if labels is not None else sorted(set(references) | set(predictions))
        if targets is not None and len(targets) != len(references):
            raise ValueError(f"targets has {len(targets)} entries for {len(references)} references")
        targets = list(targets) if targets is not None else None
        names = applicable(labels, targets is not None)
        return {n: METRICS[n].fn(list(references), list(predictions), labels, targets) for n in names}
