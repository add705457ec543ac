"""Move run records between results stores as JSONL, one full record per line (`python -m bench.results export`).

Import inserts only the run_ids the target store does not hold yet, so importing the same file twice, or a
cluster's export that overlaps what was already merged, adds no duplicates. A file with a malformed line is
refused whole: nothing from it is inserted.
"""

import json
from pathlib import Path

from bench.errors import DataError
from bench.records import store

# the fields the store's columns are filled from (dotted paths into the record)
REQUIRED = (
    "run_id",
    "fingerprint",
    "created_at",
    "status",
    "task.name",
    "model.name",
    "seed",
    "main_score",
    "metrics.dev.main",
    "metrics.test.main",
    "timing_s.total",
    "git.commit",
    "record_path",
)


def export(db: str | Path, out: str | Path, task: str | None = None) -> int:
    """Write every stored run (of one task) to `out`, oldest first; returns the number of records."""
    rows = store.runs(db, task)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.writelines(json.dumps(json.loads(r["record"])) + "\n" for r in rows)
    tmp.replace(out)
    return len(rows)


def read(path: str | Path) -> list[dict]:
    """Parse and check every line; the first bad one raises DataError naming path:line."""
    records = []
    try:
        lines = Path(path).read_text(encoding="utf-8").split("\n")
    except UnicodeDecodeError:
        raise DataError(
            path, "not a UTF-8 text file", fix="expected JSONL from python -m bench.results export"
        ) from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            raise DataError(path, f"not valid JSON ({e.msg} at column {e.colno})", n) from None
        if not isinstance(rec, dict):
            raise DataError(path, f"expected a run record (a JSON object), got {type(rec).__name__}", n)
        missing = [k for k in REQUIRED if not _has(rec, k)]
        if missing:
            raise DataError(path, f"run record lacks {', '.join(missing)}", n, "is this a bench.results export?")
        if not isinstance(rec["run_id"], str) or not rec["run_id"]:
            raise DataError(path, f"run_id must be a non-empty string, got {rec['run_id']!r}", n)
        records.append(rec)
    return records


def _has(rec: dict, dotted: str) -> bool:
    node = rec
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def import_(db: str | Path, path: str | Path) -> tuple[int, int]:
    """Insert the file's runs that `db` lacks, in one transaction: (imported, skipped as duplicates)."""
    if not Path(path).is_file():
        raise DataError(path, "no such file")
    return store.insert_new(db, read(path))
