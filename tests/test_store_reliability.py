"""The results store under crashes and concurrent writers: no partial row, no lost row, no corruption."""

import json
import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import time

from conftest import ROOT

from bench.records import record, store


def _record(run_id: str, pad: int = 0) -> dict:
    """A record with the fields the store's columns need; pad makes the JSON span many SQLite pages."""
    return {
        "run_id": run_id,
        "fingerprint": "f" * 64,
        "created_at": "2026-01-01T00:00:00+00:00",
        "task": {"name": "demo"},
        "model": {"name": "tiny"},
        "seed": 1,
        "main_score": "f_avg",
        "metrics": {"dev": {"main": 0.5}, "test": {"main": 0.25}},
        "status": "complete",
        "timing_s": {"total": 1.0},
        "git": {"commit": "c" * 40},
        "record_path": f"/runs/{run_id}/run.json",
        "padding": "x" * pad,
    }


def _check(db) -> list[dict]:
    """integrity_check is ok and every row is whole: its record parses and agrees with its columns."""
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = con.execute("SELECT run_id, test_main, record FROM runs").fetchall()
    finally:
        con.close()
    recs = []
    for run_id, test_main, text in rows:
        rec = json.loads(text)
        assert rec["run_id"] == run_id and rec["metrics"]["test"]["main"] == test_main
        recs.append(rec)
    return recs


def _writer(db: str, worker: int, n: int) -> None:
    for i in range(n):
        store.insert(db, _record(f"w{worker}-{i}", pad=2000))


def test_eight_concurrent_writers_lose_no_row(tmp_path):
    db = str(tmp_path / "results.sqlite")
    store.connect(db).close()  # create the WAL-mode store first, as the first job of a sweep does
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(db, w, 20)) for w in range(8)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    recs = _check(db)
    assert sorted(r["run_id"] for r in recs) == sorted(f"w{w}-{i}" for w in range(8) for i in range(20))


def _fresh_store_worker(folder: str, worker: int, stores: int, barrier) -> None:
    try:
        for k in range(stores):
            db = f"{folder}/results{k}.sqlite"
            barrier.wait(60)  # all open store k at once, before any of them has created it
            store.insert(db, _record(f"w{worker}", pad=2000))
            assert store.find_complete(db, "f" * 64) is not None
    except BaseException:
        barrier.abort()  # the others stop too instead of waiting for this one
        raise


def test_parallel_jobs_opening_a_fresh_store_all_record(tmp_path):
    """Sweep jobs that start together all create the store (the WAL switch) and read it before inserting: none
    may fail with "database is locked" (SQLite does not wait on the WAL switch's lock; before connect retried,
    8 processes opening 40 fresh stores together saw it 4 to 13 times a run)."""
    ctx = multiprocessing.get_context("spawn")
    workers, stores = 8, 40
    barrier = ctx.Barrier(workers)
    procs = [ctx.Process(target=_fresh_store_worker, args=(str(tmp_path), w, stores, barrier)) for w in range(workers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0] * workers
    for k in range(stores):
        assert sorted(r["run_id"] for r in _check(tmp_path / f"results{k}.sqlite")) == [f"w{w}" for w in range(8)]


INSERT_FOREVER = """
import sys
from test_store_reliability import _record
from bench.records import store
db = sys.argv[1]
for i in range(100000):
    store.insert(db, _record(f"r{i}", pad=200000))
"""


def test_killed_during_inserts_leaves_a_readable_store_without_partial_rows(tmp_path):
    db = tmp_path / "results.sqlite"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT)])}
    for round_ in range(3):  # kill at three different moments
        proc = subprocess.Popen([sys.executable, "-c", INSERT_FOREVER, str(db)], cwd=ROOT, env=env)
        deadline = time.monotonic() + 60
        target = 5 * (round_ + 1)
        while proc.poll() is None and time.monotonic() < deadline:
            if db.exists() and sum(r["run_id"].startswith("r") for r in store.runs(db)) >= target:
                break
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL
        recs = _check(db)  # the next opener recovers the WAL; the half-written transaction is gone
        killed = [r for r in recs if r["run_id"].startswith("r")]
        assert len(killed) >= target
        assert all(len(r["padding"]) == 200000 for r in killed)
        # the store accepts new rows after the crash
        store.insert(db, _record(f"after-crash-{round_}"))
        con = store.connect(db)
        with con:
            con.execute("DELETE FROM runs WHERE run_id LIKE 'r%'")  # the next round starts again at r0
        con.close()


WRITE_THEN_DIE = """
import os, signal, sys
from pathlib import Path
from test_store_reliability import _record
from bench.records import record
run_dir = Path(sys.argv[1])
rec = _record("killed-run")
record.write_json_atomic(run_dir / "run.json", rec)
os.kill(os.getpid(), signal.SIGKILL)  # dies between run.json and store.insert, as bench.run would
"""


def test_killed_between_run_json_and_insert_leaves_no_row(tmp_path):
    db = tmp_path / "results.sqlite"
    store.insert(db, _record("earlier-run"))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT)])}
    out = subprocess.run([sys.executable, "-c", WRITE_THEN_DIE, str(tmp_path)], cwd=ROOT, env=env)
    assert out.returncode == -signal.SIGKILL
    assert json.loads((tmp_path / "run.json").read_text())["run_id"] == "killed-run"  # whole, never half
    assert [r["run_id"] for r in _check(db)] == ["earlier-run"]  # no row: a re-launch runs it again
    assert store.find_complete(db, "f" * 64)["run_id"] == "earlier-run"


def test_run_json_is_never_half_written(tmp_path):
    path = tmp_path / "run.json"
    for i in range(20):
        record.write_json_atomic(path, _record(f"r{i}", pad=100000))
        assert json.loads(path.read_text())["run_id"] == f"r{i}"
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]  # no temporary file left behind
