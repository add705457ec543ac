"""`python -m bench.reproduce RUN_ID`: re-run a recorded run from its stored config and compare; and option checks."""

import json
import sqlite3

import pytest

from bench import reproduce
from bench.errors import BenchError
from bench.records import store
from bench.run import run


def test_reproduced_smoke_run_is_identical_and_warns_on_another_commit(make_cfg, tmp_path, capsys, caplog):
    rec = run(make_cfg("experiment=smoke", "seed=5", "print_table=false"))
    db = tmp_path / "results.sqlite"
    # pretend the run was recorded at another commit
    con = sqlite3.connect(db)
    stored = json.loads(con.execute("SELECT record FROM runs").fetchone()[0])
    stored["git"]["commit"] = "0" * 40
    with con:
        con.execute("UPDATE runs SET record = ?", (json.dumps(stored),))
    con.close()

    code = reproduce.main([rec["run_id"], "--db", str(db), "--output-dir", str(tmp_path / "again")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "predictions: 0 differ" in out and "identical" in out
    assert "code differs from the recorded run" in caplog.text and "0000000000" in caplog.text
    rows = store.runs(db)
    assert len(rows) == 2  # the re-run is recorded as a new row (force=true), next to the original
    new = json.loads(rows[-1]["record"])
    assert new["metrics"] == rec["metrics"]
    assert new["config"]["seed"] == 5 and new["record_path"] == str(tmp_path / "again" / "run.json")


def test_differences_are_listed_per_split_and_target():
    old = {"test": {"main": 0.5, "per_target": {"russia": {"f_avg": 0.5}}}, "dev": {"main": 0.1}}
    new = {"test": {"main": 0.5, "per_target": {"russia": {"f_avg": 0.25}}}, "dev": {"main": 0.1}}
    assert reproduce.metric_differences(old, new) == ["test/per_target/russia/f_avg: 0.5 -> 0.25 (-0.25)"]
    assert reproduce.metric_differences(old, new, tol=0.3) == []


def test_prediction_differences_count(tmp_path):
    rows = [{"split": "test", "id": str(i), "target": "t", "pred": "favor"} for i in range(4)]
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text("".join(json.dumps(r) + "\n" for r in rows))
    rows[2]["pred"] = "against"
    b.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert reproduce.prediction_differences(str(a), str(b)) == 1
    assert reproduce.prediction_differences(str(tmp_path / "gone.jsonl"), str(b)) is None


def test_unknown_run_id_exits_2(tmp_path, capsys):
    assert reproduce.main(["no-such-run", "--db", str(tmp_path / "results.sqlite")]) == 2
    assert "run 'no-such-run' is not in the results store" in capsys.readouterr().err


@pytest.mark.parametrize("override", ["task.main_score=f1", "model.kind=bert", "model.long_document=tail"])
def test_unregistered_choices_fail_before_anything_runs_listing_the_registered(make_cfg, override):
    key, value = override.split("=")
    with pytest.raises(BenchError, match=rf"{key}='{value}' is not an? \w+( \w+)?; use one of \["):
        run(make_cfg("experiment=smoke", override))


@pytest.mark.parametrize(
    "override, allowed",
    [
        ("train.precision=fp8", "auto, fp32, bf16, fp16"),
        ("train.class_weights=inverse", "balanced, none"),
        ("task.overlap=x", "drop, keep, error"),
        ("model.formulation=both", "pairs, joint"),
    ],
)
def test_enum_options_fail_at_composition_naming_key_and_values(make_cfg, override, allowed):
    from hydra.errors import ConfigCompositionException

    key, value = override.split("=")
    with pytest.raises(ConfigCompositionException) as err:
        make_cfg("experiment=smoke", override)
    message = str(err.value.__cause__)
    assert f"Invalid value '{value}', expected one of [{allowed}]" in message and f"full_key: {key}" in message
