"""Load a task into validated (target, text, label) examples per split, with a report of what was dropped."""

import dataclasses
import hashlib
import logging
import sys
from dataclasses import dataclass, field

from omegaconf import OmegaConf

import bench.data
from bench import cache
from bench.data import readers, sources
from bench.errors import BenchError, DataError

log = logging.getLogger(__name__)
SPLITS = ("train", "dev", "test")


@dataclass
class TaskData:
    """Examples per split, the files they came from (with checksums) and a data report."""

    splits: dict[str, list[dict]]
    checksums: dict[str, str]
    report: dict = field(default_factory=dict)


def _normalise(text: str) -> str:
    return " ".join(text.lower().split())


OVERLAP = ("drop", "keep", "error")


def _check_strings(rec: dict, path, line) -> None:
    """Every field a reader yields for the model is one string that UTF-8 can encode (no lone surrogates)."""
    for key in ("id", "text", "label") + (("target",) if rec.get("target") is not None else ()):
        value = rec.get(key)
        if not isinstance(value, str):
            raise DataError(
                path, f"field {key!r} is {type(value).__name__}, not text", line=line, fix="write it as a string"
            )
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise DataError(
                path, f"field {key!r} holds an unpaired surrogate", line=line, fix="re-save the file as valid UTF-8"
            ) from None


def _validate(task, rec: dict) -> dict:
    path, line = rec["where"]
    _check_strings(rec, path, line)
    raw = rec["label"]
    label = task.label_map.get(raw, raw)
    if label not in task.labels:
        known = sorted(set(task.labels) | set(task.label_map))
        raise DataError(
            path,
            f"unknown label {raw!r}",
            line=line,
            fix=f"use one of {known} or add it to the task's label_map",
        )
    if not rec["text"].strip():
        raise DataError(path, f"empty text for example {rec['id']!r}", line=line, fix="remove the record")
    if task.target_field is not None and rec["target"] not in task.targets:
        raise DataError(
            path,
            f"target {rec['target']!r} is not one of the task's targets {list(task.targets)}",
            line=line,
            fix="add it to the task's targets or drop the record",
        )
    return {
        "id": rec["id"],
        "group": rec.get("group", rec["id"]),
        "text": rec["text"],
        "target": rec["target"],
        "label": label,
        "meta": rec.get("meta", {}),
        "where": (path, line),
    }


def load_task(task) -> TaskData:
    """Read, validate and de-overlap every split of a task; a task read before comes from bench.cache, keyed by
    the task config, the SHA-256 of its declared files and the reading code."""
    known = readers.discover()
    if task.loader not in known:
        raise BenchError(f"task {task.name!r}: unknown loader {task.loader!r}; known: {sorted(known)}")
    if task.overlap not in OVERLAP:
        raise BenchError(f"task.overlap={task.overlap!r} is unknown; use one of {list(OVERLAP)}")
    readers.check_extra(task)
    folder = sources.task_dir(task)
    sums = sources.checksums(task, folder)
    if not sums:  # no declared files to address the data by: read it every time
        return _read(task, folder, sums)
    settings = OmegaConf.to_container(OmegaConf.structured(task), resolve=True)
    # the whole bench.data package and the reader's own module (a reader may be registered from elsewhere)
    code = cache.code_digest(bench.data, sys.modules[known[task.loader].__module__])
    key = cache.digest("task", settings, sums, code)
    fields = cache.json_entry("tasks", key, lambda: dataclasses.asdict(_read(task, folder, sums)))
    return TaskData(**fields)


def _read(task, folder, sums: dict[str, str]) -> TaskData:
    read = readers.READERS[task.loader]
    splits = {s: [_validate(task, r) for r in read(folder, task, s)] for s in SPLITS}
    report = {}
    for s, examples in splits.items():
        if not examples:
            raise BenchError(
                f"task {task.name!r}: split {s!r} has no examples in {folder}; check the task's splits mapping"
            )
        first: dict[str, tuple] = {}
        for e in examples:
            if e["id"] in first:
                path, line = e["where"]
                raise DataError(
                    path,
                    f"duplicate example id {e['id']!r} in split {s!r} (first at line {first[e['id']][1]})",
                    line=line,
                    fix="give every record its own id",
                )
            first[e["id"]] = e["where"]
        texts = [_normalise(e["text"]) for e in {e["group"]: e for e in examples}.values()]
        report[f"{s}_texts"] = len(texts)
        report[f"{s}_duplicate_texts"] = len(texts) - len(set(texts))
        if task.target_field is not None:
            missing = set(task.targets) - {e["target"] for e in examples}
            if missing:
                raise DataError(
                    examples[0]["where"][0],
                    f"targets {sorted(missing)} of task {task.name!r} have no examples in split {s!r}",
                    fix="remove them from the task's targets or add labelled examples",
                )
    train_texts = {_normalise(e["text"]) for e in splits["train"]}
    for s in ("dev", "test"):
        overlap = [e for e in splits[s] if _normalise(e["text"]) in train_texts]
        report[f"{s}_overlap_with_train"] = len({e["group"] for e in overlap})
        if overlap and task.overlap == "error":
            path, line = overlap[0]["where"]
            raise DataError(
                path,
                f"{len(overlap)} {s} examples of task {task.name!r} repeat a train text (task.overlap=error)",
                line=line,
                fix="set task.overlap=drop to remove them",
            )
        if overlap and task.overlap == "drop":
            splits[s] = [e for e in splits[s] if _normalise(e["text"]) not in train_texts]
    for s, examples in splits.items():
        report[f"{s}_examples"] = len(examples)
    log.info("task %s: %s", task.name, report)
    return TaskData(splits=splits, checksums=sums, report=report)


def subsample(examples: list[dict], n: int | None, seed: int) -> list[dict]:
    """A deterministic subset of n examples (by hashed id), keeping the original order."""
    if n is None or n >= len(examples):
        return examples
    key = lambda e: hashlib.sha256(f"{seed}:{e['id']}".encode()).hexdigest()  # noqa: E731
    keep = {e["id"] for e in sorted(examples, key=key)[:n]}
    return [e for e in examples if e["id"] in keep]
