"""Readers for each dataset's file format; each yields raw records with file and line for errors.

A raw record is a dict with `id`, `text`, `target` (None for single-label tasks), `label` (as written in
the file), `where` (file, line). Validation and label mapping happen once, in bench.data.
"""

import csv
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from bench.errors import DataError

READERS: dict[str, Callable] = {}


def reader(name: str):
    def register(fn):
        READERS[name] = fn
        return fn

    return register


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


def jsonl_records(path: Path) -> Iterator[tuple[int, dict]]:
    for n, line in enumerate(read_text(path).splitlines(), 1):
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


def _examples(task, rec: dict, rid: str, text: str, path: Path, n: int, meta: dict | None = None) -> Iterator[dict]:
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
        yield from _examples(task, rec, field_of(rec, "id", path, n), text, path, n)


@reader("ruw")
def read_ruw(folder: Path, task, split: str) -> Iterator[dict]:
    """RUW CSVs: Tweet, Target 1, Stance 1, Target 2, Stance 2 (cp1252, not UTF-8)."""
    path = folder / f"raw_{task.splits[split]}_Russia_Ukraine.csv"
    rows = csv.DictReader(read_text(path, encoding="cp1252").splitlines())
    for n, row in _csv_rows(rows, path):
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


def _csv_rows(rows: csv.DictReader, path: Path) -> Iterator[tuple[int, dict]]:
    """(line, row) from a CSV reader; a malformed row is a DataError naming its line, not a csv.Error."""
    n = 1
    try:
        for n, row in enumerate(rows, 2):  # noqa: B007 (n names the failing line below)
            yield n, row
    except csv.Error as e:
        raise DataError(path, f"malformed CSV ({e})", line=n + 1, fix="fix the quoting of that row") from None


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


def _allsides_text(local: Path) -> str:
    try:
        rec = json.loads(read_text(local))
        # the public per-article JSON keeps the original text in content_original; the local bundle in text
        text = rec.get("content_original", rec.get("text", ""))
    except (ValueError, AttributeError):
        raise DataError(local, "is not an article JSON object", fix="re-fetch the pinned revision") from None
    if not isinstance(text, str):
        raise DataError(local, "field 'content_original' is not text", fix="re-fetch the pinned revision")
    return text


def _crisis_text(local: Path) -> str:
    try:
        sents = sorted(json.loads(read_text(local))["sentences"], key=lambda s: s["position_in_article"])
        return "\n".join(s["content"] for s in sents)
    except (ValueError, KeyError, TypeError, AttributeError):
        raise DataError(
            local, "is not an article JSON with sentences (content, position_in_article)", fix="re-fetch it"
        ) from None


@reader("geostance")
def read_geostance(folder: Path, task, split: str) -> Iterator[dict]:
    """GeoStance: labels shipped in this repository, texts fetched from the two public corpora and verified."""
    from bench import sources

    labels_path = folder / "labels.jsonl"
    texts = _geostance_texts(task, labels_path)
    for n, rec in jsonl_records(labels_path):
        if field_of(rec, "split", labels_path, n) != split:
            continue
        aid = field_of(rec, "id", labels_path, n)
        text = texts[aid]
        expected = field_of(rec, "text_sha256", labels_path, n)
        if len(expected) != 64 or not set(expected) <= set("0123456789abcdef"):
            raise DataError(labels_path, "field 'text_sha256' is not a SHA-256 hex digest", line=n)
        got = sources.sha256_text(text)
        if got != expected:
            raise DataError(
                labels_path,
                f"text of {aid} has SHA-256 {got[:12]}…, the label was given to {expected[:12]}…",
                line=n,
                fix="the source text changed; re-fetch the pinned revision",
            )
        meta = {"outlet": rec.get("outlet"), "outlet_bias": rec.get("outlet_bias")}
        yield from _examples(task, rec, aid, text, labels_path, n, meta)


def _geostance_texts(task, labels_path: Path) -> dict[str, str]:
    """Every labelled article's text, from the local copy or the pinned public files (cached after download)."""
    from bench import sources

    ids = [field_of(r, "id", labels_path, n) for n, r in jsonl_records(labels_path)]
    cfg = task.extra
    texts: dict[str, str] = {}
    bundle = None
    root = os.environ.get("BENCH_DATA_DIR")
    if root and (Path(root) / cfg["allsides"]["local"] / "articles.jsonl").exists():
        bundle = Path(root) / cfg["allsides"]["local"] / "articles.jsonl"
        wanted = {i.removeprefix("as_") for i in ids if i.startswith("as_")}
        for _, r in jsonl_records(bundle):
            if r.get("id") in wanted:
                texts["as_" + r["id"]] = r["text"]
    for aid in ids:
        if aid in texts:
            continue
        if aid.startswith("as_") and bundle is None:
            path = sources.fetch(
                cfg["allsides"]["local"],
                cfg["allsides"]["url"],
                f"{aid.removeprefix('as_')}.json",
                "geostance/allsides",
            )
            texts[aid] = _allsides_text(path) if path else None
        elif aid.startswith("uc_"):
            rel = f"{aid.removeprefix('uc_')}.json"
            path = sources.fetch(
                cfg["ukraine_crisis"]["local"] + "/" + cfg["ukraine_crisis"]["local_subdir"],
                cfg["ukraine_crisis"]["url"],
                rel,
                "geostance/ukraine_crisis",
            )
            texts[aid] = _crisis_text(path) if path else None
        if texts.get(aid) is None:
            line = ids.index(aid) + 1
            raise DataError(
                labels_path,
                f"article {aid} not found in its source",
                line=line,
                fix="restore the local copy under BENCH_DATA_DIR or remove the label",
            )
    return texts


def mark_target(sentence: str, start: int, end: int, mention: str, opening: str, closing: str) -> str | None:
    """The sentence with markers around sentence[start:end], or None if that span is not the mention."""
    if not (0 <= start < end <= len(sentence)) or sentence[start:end] != mention:
        return None
    return f"{sentence[:start]}{opening} {mention} {closing}{sentence[end:]}"


@reader("newsmtsc")
def read_newsmtsc(folder: Path, task, split: str) -> Iterator[dict]:
    """NewsMTSC (Hugging Face layout): <split>.jsonl, one target mention per row with its character span.

    The input marks the mention inside the sentence (`... [TGT] Cruz [/TGT] came in third ...`) and, with
    `extra.prefix_mention` (default true), also names it first (`Cruz | ...`), so it survives head truncation.
    The mention is an open vocabulary, so it is not a task target: the task is single-label (target None)
    and the mention and span are kept in `meta`.
    """
    extra = task.extra or {}
    opening, closing = extra.get("marker_open", "[TGT]"), extra.get("marker_close", "[/TGT]")
    prefix = extra.get("prefix_mention", True)
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
