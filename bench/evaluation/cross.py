"""Cross-dataset evaluation: score the model trained on one task on another task's test set (`eval_task=ruw`), or
on several with one training (`eval_task=[ruw,geostance]`).

Only the targets both tasks share are scored (demo -> ruw: russia and ukraine). A training label the eval task
lacks is mapped by CROSS_LABELS (`neutral` counts as `none`: neither favours nor opposes the target); a training
label with no counterpart is an error before anything trains. Scores use the eval task's labels and main score and
are recorded as metrics["cross:<task>"], next to dev and test.
"""

from dataclasses import dataclass

from bench import config
from bench.data import load_task, subsample
from bench.errors import BenchError
from bench.evaluation.metrics import score_split

CROSS_LABELS = {"neutral": "none"}  # training label -> eval label, when the eval task lacks the training label


@dataclass
class CrossTask:
    name: str
    examples: list[dict]
    labels: list[str]
    main_score: str
    label_map: dict[str, str]  # training label -> eval label
    targets: list[str]
    checksums: dict[str, str]  # the eval task's data files, prefixed "eval_task:<name>/"

    @property
    def split(self) -> str:
        return f"cross:{self.name}"


def label_map(train_labels: list[str], eval_labels: list[str], eval_name: str) -> dict[str, str]:
    out = {}
    for lab in train_labels:
        mapped = lab if lab in eval_labels else CROSS_LABELS.get(lab)
        if mapped not in eval_labels:
            raise BenchError(
                f"eval_task={eval_name}: training label {lab!r} has no counterpart among {list(eval_labels)}; "
                "cross-dataset evaluation needs tasks with the same kind of labels (stance or tone)"
            )
        out[lab] = mapped
    return out


def load(cfg) -> list[CrossTask]:
    """Each eval task's test examples on the shared targets (none without eval_task); fails before training."""
    names = cfg.get("eval_task") or []
    names = [names] if isinstance(names, str) else list(names)
    if len(set(names)) != len(names):
        raise BenchError(f"eval_task={names}: a task is named twice")
    return [_load_one(cfg, name) for name in names]


def _load_one(cfg, name: str) -> CrossTask:
    if not isinstance(name, str):
        raise BenchError(f"eval_task: {name!r} is not a task name; give one name or a list of names")
    task = config.compose_task(name)
    if task.name == cfg.task.name:
        raise BenchError(f"eval_task={task.name} is the training task; its test set is scored already")
    if (task.target_field is None) != (cfg.task.target_field is None):
        raise BenchError(f"eval_task={task.name}: one of {cfg.task.name}, {task.name} has targets, the other not")
    mapping = label_map(list(cfg.task.labels), list(task.labels), task.name)
    targets = [t for t in task.targets if t in cfg.task.targets]
    if task.target_field is not None and not targets:
        raise BenchError(
            f"eval_task={task.name}: no target in common with {cfg.task.name} "
            f"({list(task.targets)} vs {list(cfg.task.targets)})"
        )
    data = load_task(task)
    test = [e for e in data.splits["test"] if task.target_field is None or e["target"] in targets]
    return CrossTask(
        name=task.name,
        examples=subsample(test, cfg.train.max_eval_examples, cfg.seed),
        labels=list(task.labels),
        main_score=task.main_score,
        label_map=mapping,
        targets=targets,
        checksums={f"eval_task:{task.name}/{k}": v for k, v in data.checksums.items()},
    )


def score(cross: CrossTask, pred: list[str]) -> tuple[list[str], dict]:
    """Predictions mapped to the eval task's labels, and their scores (plus the mapping and targets used)."""
    mapped = [cross.label_map.get(p, p) for p in pred]  # an invalid answer stays invalid
    metrics = score_split(cross.examples, mapped, cross.labels, cross.main_score)
    metrics["eval"] = {"main_score": cross.main_score, "targets": cross.targets, "label_map": cross.label_map}
    return mapped, metrics
