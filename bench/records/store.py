"""The embedded results store: one SQLite row per completed run, written in one transaction."""

import json
import os
import random
import sqlite3
import time
from pathlib import Path

from bench.errors import BenchError

BUSY_TIMEOUT_S = 60
DEFAULT_DB = "results/results.sqlite"


def default_db() -> str:
    """The results store every command uses unless told otherwise: $BENCH_RESULTS_DB, else DEFAULT_DB."""
    return os.environ.get("BENCH_RESULTS_DB") or DEFAULT_DB


SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    created_at TEXT NOT NULL,
    task TEXT NOT NULL,
    model TEXT NOT NULL,
    seed INTEGER NOT NULL,
    main_score TEXT NOT NULL,
    dev_main REAL,
    test_main REAL,
    status TEXT NOT NULL,
    wall_s REAL,
    git_commit TEXT,
    record_path TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_fingerprint ON runs (fingerprint);
"""


def connect(path: str | Path) -> sqlite3.Connection:
    """Open the store (created on first use, in WAL mode) and wait up to BUSY_TIMEOUT_S for other writers."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S)
    try:
        _initialise(con)
    except sqlite3.DatabaseError as e:
        con.close()
        if isinstance(e, sqlite3.OperationalError) and ("locked" in str(e) or "busy" in str(e)):
            raise
        raise BenchError(
            f"results store {path} is not an SQLite results database ({e}); move that file away or point "
            "BENCH_RESULTS_DB (or results_db=..., --db) at another file"
        ) from None
    except BaseException:
        con.close()
        raise
    return con


def check(path: str | Path) -> None:
    """Open (or create) the store once, so that an unusable file fails before any training."""
    connect(path).close()


def _initialise(con: sqlite3.Connection) -> None:
    """WAL mode and the schema. Switching to WAL takes an exclusive lock for which SQLite does not wait (it
    answers "database is locked" at once while another process holds the new file open), so parallel jobs
    opening a fresh store retry with a short random back-off until BUSY_TIMEOUT_S."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            if con.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                con.execute("PRAGMA journal_mode=WAL")
            con.executescript(SCHEMA)
            return
        except sqlite3.OperationalError as e:
            if ("locked" not in str(e) and "busy" not in str(e)) or time.monotonic() > deadline:
                raise
            time.sleep(random.uniform(0.01, 0.1))


def _row(record: dict) -> tuple:
    return (
        record["run_id"],
        record["fingerprint"],
        record["created_at"],
        record["task"]["name"],
        record["model"]["name"],
        record["seed"],
        record["main_score"],
        record["metrics"]["dev"]["main"],
        record["metrics"]["test"]["main"],
        record["status"],
        record["timing_s"]["total"],
        record["git"]["commit"],
        record["record_path"],
        json.dumps(record),
    )


INSERT = "INSERT INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"


def insert(path: str | Path, record: dict) -> None:
    """Append one run; the row appears whole or not at all."""
    con = connect(path)
    try:
        with con:
            con.execute(INSERT, _row(record))
    finally:
        con.close()


def insert_new(path: str | Path, records: list[dict]) -> tuple[int, int]:
    """Insert the records whose run_id is not in the store yet, all in one transaction: (inserted, skipped)."""
    con = connect(path)
    try:
        with con:
            con.execute("BEGIN IMMEDIATE")  # no other writer between the look-up and the inserts
            seen = {r[0] for r in con.execute("SELECT run_id FROM runs")}
            new = []
            for rec in records:
                if rec["run_id"] not in seen:
                    seen.add(rec["run_id"])
                    new.append(_row(rec))
            con.executemany(INSERT, new)
    finally:
        con.close()
    return len(new), len(records) - len(new)


def runs(path: str | Path, task: str | None = None) -> list[dict]:
    if not Path(path).exists():
        return []
    con = connect(path)
    con.row_factory = sqlite3.Row
    try:
        query = "SELECT * FROM runs" + (" WHERE task = ?" if task else "") + " ORDER BY created_at"
        return [dict(r) for r in con.execute(query, (task,) if task else ())]
    finally:
        con.close()


def find_complete(path: str | Path, fingerprint: str) -> dict | None:
    """The newest complete run with this fingerprint, as its full record, or None."""
    if not Path(path).exists():
        return None
    con = connect(path)
    try:
        row = con.execute(
            "SELECT record FROM runs WHERE fingerprint = ? AND status = 'complete' ORDER BY created_at DESC LIMIT 1",
            (fingerprint,),
        ).fetchone()
    finally:
        con.close()
    return json.loads(row[0]) if row else None


def get(path: str | Path, run_id: str) -> dict | None:
    """The full record of one run, or None if the store does not hold it."""
    if not Path(path).exists():
        return None
    con = connect(path)
    try:
        row = con.execute("SELECT record FROM runs WHERE run_id = ?", (run_id,)).fetchone()
    finally:
        con.close()
    return json.loads(row[0]) if row else None
