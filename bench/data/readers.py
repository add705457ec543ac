"""Readers for each dataset's file format; each yields raw records with file and line for errors.

A raw record is a dict with `id`, `text`, `target` (None for single-label tasks), `label` (as written in
the file), `where` (file, line). Validation and label mapping happen once, in bench.data.
"""

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from bench.errors import BenchError, DataError
from bench.plugins import import_modules

READERS: dict[str, Callable] = {}
EXTRA: dict[str, type] = {}  # reader -> dataclass schema of its task.extra settings


def reader(name: str, extra: type | None = None):
    """Register `fn(folder, task, split)` as the reader `name`; `extra` is the schema of its task.extra keys."""

    def register(fn):
        READERS[name] = fn
        if extra is not None:
            EXTRA[name] = extra
        return fn

    return register


def discover() -> dict[str, Callable]:
    """Every registered reader, after importing each module of bench.data."""
    import_modules("bench.data")
    return READERS


def check_extra(task) -> None:
    """task.extra against its reader's schema: a misspelt or mistyped key fails, naming the key."""
    schema = EXTRA.get(task.loader)
    extra = task.extra or {}
    if schema is None:
        if extra:
            raise BenchError(f"task {task.name!r}: reader {task.loader!r} takes no task.extra settings ({list(extra)})")
        return
    try:
        OmegaConf.merge(OmegaConf.structured(schema), extra)
    except OmegaConfBaseException as e:
        key = getattr(e, "full_key", "") or ""
        raise BenchError(
            f"task {task.name!r}: task.extra{'.' + key if key else ''} is not a setting of reader {task.loader!r} "
            f"({e.msg if hasattr(e, 'msg') else e}); its settings: {list(schema.__dataclass_fields__)}"
        ) from None


def extra_settings(task):
    """task.extra merged over its reader's defaults."""
    return OmegaConf.merge(OmegaConf.structured(EXTRA[task.loader]), task.extra or {})


def read_text(path: Path, encoding: str = "utf-8") -> str:
    try:
        return path.read_text(encoding=encoding)
    except UnicodeDecodeError as e:
        line = path.read_bytes()[: e.start].count(b"\n") + 1
        raise DataError(
            path,
            f"is not valid {encoding} (byte {e.start})",
            line=line,
            fix=f"re-save the file as {encoding}",
        ) from None
    except FileNotFoundError:
        raise DataError(path, "file not found", fix="check BENCH_DATA_DIR or the task's source") from None


def physical_lines(text: str) -> list[str]:
    """Lines as editors count them: split at \\n (and \\r\\n) only, not at the Unicode separators (U+2028,
    U+2029, U+0085) that str.splitlines() also breaks at, which JSON allows inside strings."""
    return [line.removesuffix("\r") for line in text.split("\n")]


def jsonl_records(path: Path) -> Iterator[tuple[int, dict]]:
    """(line, record) for every non-empty line of a JSONL file; a bad line is a DataError naming it."""
    for n, line in enumerate(physical_lines(read_text(path)), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            raise DataError(path, f"malformed JSON ({e.msg})", line=n, fix="fix or remove that line") from None
        if not isinstance(rec, dict):
            raise DataError(path, "a line must hold one JSON object", line=n)
        yield n, rec


def field_of(rec: dict, key: str, path: Path, line: int) -> str:
    value = rec.get(key)
    if value is None:
        raise DataError(path, f"missing field {key!r}", line=line, fix=f"add {key!r} to every record")
    if isinstance(value, list | dict):
        kind = "list" if isinstance(value, list) else "object"
        raise DataError(path, f"field {key!r} is a JSON {kind}, not text", line=line, fix="write it as a string")
    return str(value)


def examples_of(task, rec: dict, rid: str, text: str, path: Path, n: int, meta: dict | None = None) -> Iterator[dict]:
    """One record as examples: a single-label example, or one (target, text) example per task target."""
    base = {"text": text, "where": (str(path), n), **({"meta": meta} if meta is not None else {})}
    if task.target_field is None:
        yield {"id": rid, "target": None, "label": field_of(rec, task.label_field, path, n), **base}
        return
    for target in task.targets:
        yield {"id": f"{rid}:{target}", "group": rid, "target": target, "label": field_of(rec, target, path, n), **base}


@reader("jsonl_wide")
def read_jsonl_wide(folder: Path, task, split: str) -> Iterator[dict]:
    """One JSONL file holding all splits (a `split` field) and one label column per target."""
    path = folder / next(iter(task.source.files))
    for n, rec in jsonl_records(path):
        if field_of(rec, "split", path, n) != split:
            continue
        text = field_of(rec, task.text_field, path, n)
        if rec.get("headline"):
            text = f"{field_of(rec, 'headline', path, n)}\n\n{text}"
        yield from examples_of(task, rec, field_of(rec, "id", path, n), text, path, n)


@reader("ruw")
def read_ruw(folder: Path, task, split: str) -> Iterator[dict]:
    """RUW CSVs: Tweet, Target 1, Stance 1, Target 2, Stance 2 (cp1252, not UTF-8)."""
    path = folder / f"raw_{task.splits[split]}_Russia_Ukraine.csv"
    for n, row in _csv_rows(read_text(path, encoding="cp1252"), path):
        text = field_of(row, "Tweet", path, n)
        for k in (1, 2):
            target = field_of(row, f"Target {k}", path, n).strip().lower()
            yield {
                "id": f"{split}-{n}:{target}",
                "group": f"{split}-{n}",
                "text": text,
                "target": target,
                "label": field_of(row, f"Stance {k}", path, n).strip(),
                "where": (str(path), n),
            }


def _csv_rows(text: str, path: Path) -> Iterator[tuple[int, dict]]:
    """(physical line where the record starts, row as a dict) of a CSV text with a header; quoted multi-line
    records and blank lines keep the count right, and a malformed row is a DataError naming its line."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, [])
        for row in reader:
            if row:  # a blank line is no record; the reader's line count still includes it
                first = reader.line_num - sum(field.count("\n") for field in row)  # a record may span lines
                yield first, dict(zip(header, row + [None] * (len(header) - len(row)), strict=False))
    except csv.Error as e:
        raise DataError(path, f"malformed CSV ({e})", line=reader.line_num, fix="fix the quoting of that row") from None


@reader("tweeteval")
def read_tweeteval(folder: Path, task, split: str) -> Iterator[dict]:
    """TweetEval stance: <target>/<split>_text.txt and <split>_labels.txt, one example per line."""
    for target in task.targets:
        text_path = folder / target / f"{task.splits[split]}_text.txt"
        label_path = folder / target / f"{task.splits[split]}_labels.txt"
        texts = read_text(text_path).splitlines()
        labels = read_text(label_path).splitlines()
        if len(texts) != len(labels):
            raise DataError(
                label_path,
                f"has {len(labels)} lines but {text_path.name} has {len(texts)}",
                fix="the two files must be aligned line by line",
            )
        for n, (text, label) in enumerate(zip(texts, labels, strict=True), 1):
            yield {
                "id": f"{target}-{split}-{n}",
                "text": text,
                "target": target,
                "label": label.strip(),
                "where": (str(label_path), n),
            }


def mark_target(sentence: str, start: int, end: int, mention: str, opening: str, closing: str) -> str | None:
    """The sentence with markers around sentence[start:end], or None if that span is not the mention."""
    if not (0 <= start < end <= len(sentence)) or sentence[start:end] != mention:
        return None
    return f"{sentence[:start]}{opening} {mention} {closing}{sentence[end:]}"


@dataclass
class NewsMtscExtra:
    marker_open: str = "[TGT]"
    marker_close: str = "[/TGT]"
    prefix_mention: bool = True  # also name the mention first, so it survives head truncation


@reader("newsmtsc", extra=NewsMtscExtra)
def read_newsmtsc(folder: Path, task, split: str) -> Iterator[dict]:
    """NewsMTSC (Hugging Face layout): <split>.jsonl, one target mention per row with its character span.

    The input marks the mention inside the sentence (`... [TGT] Cruz [/TGT] came in third ...`) and, with
    `extra.prefix_mention` (default true), also names it first (`Cruz | ...`), so it survives head truncation.
    The mention is an open vocabulary, so it is not a task target: the task is single-label (target None)
    and the mention and span are kept in `meta`.
    """
    extra = extra_settings(task)
    opening, closing, prefix = extra.marker_open, extra.marker_close, extra.prefix_mention
    path = folder / f"{task.splits[split]}.jsonl"
    for n, rec in jsonl_records(path):
        sentence = field_of(rec, "sentence", path, n)
        mention = field_of(rec, "mention", path, n)
        try:
            start, end = int(rec.get("from")), int(rec.get("to"))
        except (TypeError, ValueError):
            raise DataError(
                path, "fields 'from' and 'to' must be integer character offsets", line=n, fix="fix that record"
            ) from None
        marked = mark_target(sentence, start, end, mention, opening, closing)
        if marked is None:
            raise DataError(
                path,
                f"span {start}:{end} of the sentence is {sentence[start:end]!r}, not the mention {mention!r}",
                line=n,
                fix="fix 'from'/'to' (0-based, end exclusive) or the mention",
            )
        yield {
            "id": field_of(rec, "id", path, n),
            "text": f"{mention} | {marked}" if prefix else marked,
            "target": None,
            "label": field_of(rec, "polarity", path, n),
            "where": (str(path), n),
            "meta": {"mention": mention, "span": [start, end]},
        }
