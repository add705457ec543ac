"""Evaluation: the metric registry, bootstrap significance, cross-task scoring and the one evaluation loop."""

from pathlib import Path


def stance_metric_path() -> str:
    """The folder `evaluate.load` reads the benchmark's metrics from (offline, no Hub)."""
    return str(Path(__file__).parent / "stance_metric")
