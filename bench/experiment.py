"""What one run needs before its model: a checked config and output places, the task's splits (and any other
tasks' test sets, `eval_task=...`), and the run's fingerprint."""

from dataclasses import dataclass
from pathlib import Path

from bench import config
from bench.data import TaskData, load_task, subsample
from bench.evaluation import cross
from bench.records import provenance, record, store, tracking


@dataclass
class Experiment:
    data: TaskData
    cross_tasks: dict  # split name ("cross:<task>") -> cross.CrossTask
    train: list[dict]
    evals: dict[str, list[dict]]  # dev, test and the cross-task splits
    fingerprint: str
    git: dict


def preflight(cfg) -> None:
    """Everything that can fail without data or a model fails here: options, output folders, store, tracker."""
    config.check_choices(cfg)
    record.check_outputs(Path(cfg.output_dir), Path(cfg.results_db).parent)
    store.check(cfg.results_db)
    tracking.check(cfg.logger)


def prepare(cfg) -> Experiment:
    """The splits (subsampled as the train config says), cross-task test sets and the fingerprint."""
    data = load_task(cfg.task)
    cross_tasks = {c.split: c for c in cross.load(cfg)}  # checked before anything trains
    data.checksums = {**data.checksums, **{k: v for c in cross_tasks.values() for k, v in c.checksums.items()}}
    git = provenance.git_state()
    fp = record.fingerprint(cfg, data.checksums, git["commit"])
    train = subsample(data.splits["train"], cfg.train.max_train_examples, cfg.seed)
    evals = {s: subsample(data.splits[s], cfg.train.max_eval_examples, cfg.seed) for s in ("dev", "test")}
    evals |= {split: c.examples for split, c in cross_tasks.items()}
    return Experiment(data, cross_tasks, train, evals, fp, git)
