import json
import sqlite3

import pytest

from bench import results
from bench.records import store
from bench.run import run


def _count(db):
    return sqlite3.connect(db).execute("SELECT COUNT(*) FROM runs").fetchone()[0]


@pytest.fixture
def cluster_export(make_cfg, tmp_path):
    """A 'cluster' store with two baseline runs, exported with the CLI."""
    for seed in (1, 2):
        run(make_cfg("model=majority", f"seed={seed}", "print_table=false"))
    out = tmp_path / "export" / "runs.jsonl"
    results.main(["--db", str(tmp_path / "results.sqlite"), "export", "--out", str(out)])
    return out


def test_export_import_merges_without_duplicates(cluster_export, tmp_path, capsys):
    lines = cluster_export.read_text().splitlines()
    assert len(lines) == 2
    exported = [json.loads(line) for line in lines]
    assert {r["seed"] for r in exported} == {1, 2} and all("metrics" in r and "config" in r for r in exported)

    local = tmp_path / "local.sqlite"
    results.main(["import", str(cluster_export), "--db", str(local)])
    assert "imported 2 runs" in capsys.readouterr().out
    assert _count(local) == 2
    src = {r["run_id"]: r for r in store.runs(tmp_path / "results.sqlite")}
    for r in store.runs(local):
        assert r == src[r["run_id"]]  # every column, the full record included

    results.main(["--db", str(local), "import", str(cluster_export)])
    out = capsys.readouterr().out
    assert "imported 0 runs" in out and "skipped 2 already there" in out
    assert _count(local) == 2

    # --task filters the export; listing and summary still work
    only = tmp_path / "none.jsonl"
    results.main(["--db", str(local), "export", "--out", str(only), "--task", "ruw"])
    assert only.read_text() == ""
    results.main(["--db", str(local), "--summary"])
    assert "majority" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ('{"run_id": "x", ', "not valid JSON"),
        ('{"run_id": "x", "seed": 1}', "run record lacks fingerprint"),
        ("[1, 2]", "expected a run record"),
    ],
)
def test_malformed_line_names_file_and_line_and_imports_nothing(cluster_export, tmp_path, capsys, bad_line, message):
    local = tmp_path / "local.sqlite"
    lines = cluster_export.read_text().splitlines()
    first = tmp_path / "first.jsonl"
    first.write_text(lines[0] + "\n")
    results.main(["--db", str(local), "import", str(first)])
    before = store.runs(local)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(lines[0] + "\n\n" + bad_line + "\n" + lines[1] + "\n")  # the bad record is on line 3
    with pytest.raises(SystemExit) as e:
        results.main(["--db", str(local), "import", str(bad)])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert f"{bad}:3: " in err and message in err and "nothing was imported" in err
    assert store.runs(local) == before  # line 4 is a valid new run, but the file is refused whole
