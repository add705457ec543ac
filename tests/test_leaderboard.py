"""The leaderboard on a results store filled by the real harness: tiny model (seeds 1, 2) and majority (seed 1)."""

import copy
import csv
import io
import json
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from conftest import CONFIGS, SHARED
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from bench.errors import BenchError
from bench.evaluation.significance import score_function
from bench.records import store
from bench.reports import leaderboard
from bench.run import run

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
TARGETS = {"russia", "ukraine", "china", "west"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Three real runs in one store: (db path, their records)."""
    tmp = tmp_path_factory.mktemp("leaderboard")
    db = tmp / "results.sqlite"
    jobs = [("experiment=smoke", "seed=1"), ("experiment=smoke", "seed=2"), ("model=majority", "seed=1")]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BENCH_DATA_DIR", str(SHARED))
        mp.setenv("BENCH_CACHE_DIR", str(tmp / "cache"))
        for k, overrides in enumerate(jobs):
            GlobalHydra.instance().clear()
            with initialize_config_dir(config_dir=str(CONFIGS), version_base="1.3"):
                cfg = compose(
                    config_name="config",
                    overrides=[f"output_dir={tmp / f'run{k}'}", f"results_db={db}", "print_table=false", *overrides],
                )
            run(cfg)
    GlobalHydra.instance().clear()
    return db, [json.loads(r["record"]) for r in store.runs(db)]


def _store(tmp_path, records, *extra) -> Path:
    """A fresh store holding copies of the real records plus crafted ones."""
    db = tmp_path / "crafted.sqlite"
    for rec in [*records, *extra]:
        store.insert(db, rec)
    return db


def _variant(rec, **changes) -> dict:
    """A copy of a record under a new run id; changes: 'a.b.c' (dotted, with __ for dots) -> value."""
    new = copy.deepcopy(rec)
    new["run_id"] = f"crafted-{uuid.uuid4().hex[:8]}"
    for dotted, value in changes.items():
        *path, last = dotted.split("__")
        node = new
        for key in path:
            node = node[key]
        node[last] = value
    return new


def _tiny(records, seed=1):
    return next(r for r in records if r["model"]["name"] == "tiny" and r["seed"] == seed)


def test_rows_seeds_ranks_and_significance(runs):
    db, records = runs
    (board,) = leaderboard.build(db, n_resamples=300)
    assert (board.task, board.split, board.metric, board.second_metric) == ("demo", "test", "f_avg_targets", "f_avg")
    assert set(board.targets) == TARGETS
    by_model = {r.model: r for r in board.rows}
    assert set(by_model) == {"tiny", "majority"}
    tiny, majority = by_model["tiny"], by_model["majority"]
    assert (len(tiny.records), tiny.seeds, len(majority.records), majority.seeds) == (2, [1, 2], 1, [1])
    tests = [r["metrics"]["test"]["main"] for r in records if r["model"]["name"] == "tiny"]
    assert tiny.mean == pytest.approx(sum(tests) / 2)
    assert tiny.std is not None and majority.std is None
    assert [r.rank for r in board.rows] == sorted(r.rank for r in board.rows) and board.rows[0].rank == 1
    best, other = board.rows
    assert best.p_vs_best is None and 0 < other.p_vs_best <= 1 and other.tied == (other.p_vs_best >= 0.05)
    for r in board.rows:
        assert 0 <= r.ci[0] <= r.ci[1] <= 1 and set(r.per_target) == TARGETS == set(r.per_target_ci)
        assert r.n_examples == r.records[0]["metrics"]["test"]["pooled"]["n"]
    assert majority.mean == 0.0 and majority.ci == (0.0, 0.0)  # demo majority labels are never favor/against
    dev = leaderboard.build(db, split="dev", metric="accuracy", n_resamples=100)[0]
    assert (dev.split, dev.metric) == ("dev", "accuracy")


def test_csv_markdown_and_table(runs, capsys, tmp_path):
    db, _ = runs
    out = tmp_path / "lb.csv"
    leaderboard.main(["--db", str(db), "--format", "csv", "--out", str(out), "--resamples", "200"])
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [(r["task"], r["model"], r["n"]) for r in rows] in (
        [("demo", "tiny", "2"), ("demo", "majority", "1")],
        [("demo", "majority", "1"), ("demo", "tiny", "2")],
    )
    tiny = next(r for r in rows if r["model"] == "tiny")
    assert tiny["seeds"] == "1;2" and {f"target:{t}" for t in TARGETS} <= set(tiny)
    assert float(tiny["ci_low"]) <= float(tiny["ci_high"]) and len(tiny["config_hash"]) == 8

    leaderboard.main(["--db", str(db), "--task", "demo", "--format", "markdown", "--resamples", "200"])
    md = capsys.readouterr().out
    table = [line for line in md.splitlines() if line.startswith("|")]
    assert len(table) == 4 and "| rank | model | n | protocol | score | 95% CI | f_avg |" in table[0]
    assert "best" in md and md.startswith("### demo v1: f_avg_targets on test")

    leaderboard.main(["--db", str(db), "--resamples", "200"])
    text = capsys.readouterr().out
    assert "demo v1: f_avg_targets on test" in text and "tiny" in text and "±" in text and "p vs best" in text


def test_configs_sharing_a_model_name_show_a_hash(runs, tmp_path):
    db, records = runs
    other = _variant(_tiny(records), config__train__learning_rate=0.5, overrides=["train.learning_rate=0.5", "seed=1"])
    (board,) = leaderboard.build(_store(tmp_path, records, other), n_resamples=100)
    labels = sorted(r.label for r in board.rows if r.model == "tiny")
    assert len(labels) == 2 and all(lab.startswith("tiny [") and lab.endswith("]") for lab in labels)
    # the settings column tells them apart by their command-line overrides (composed runs record none)
    settings = {r.settings for r in board.rows if r.model == "tiny"}
    assert settings == {"train.learning_rate=0.5", ""}, settings
    assert next(r for r in board.rows if r.model == "majority").settings == ""
    assert len({r.config_hash for r in board.rows}) == 3
    # seed, output_dir, results_db and print_table do not split a configuration
    same = _variant(_tiny(records), seed=3, config__seed=3, config__output_dir="/elsewhere", config__print_table=True)
    (board,) = leaderboard.build(_store(tmp_path / "b", records, same), n_resamples=100)
    assert next(r for r in board.rows if r.model == "tiny").seeds == [1, 2, 3]


def test_a_seed_run_again_counts_once_with_its_newest_run(runs, tmp_path):
    """Re-running a seed (force=true, or again with eval_task) must not add a run to the row's n and std."""
    db, records = runs
    tiny = _tiny(records)
    again = _variant(tiny, created_at="2999-01-01T00:00:00+00:00", config__eval_task="ruw")
    again["metrics"]["test"]["pooled"]["f_avg_targets"] = 0.987654
    (board,) = leaderboard.build(_store(tmp_path, records, again), n_resamples=100)
    row = next(r for r in board.rows if r.model == "tiny")
    assert row.seeds == [1, 2] and len(row.records) == 2
    assert row.records[0]["run_id"] == again["run_id"] and row.scores[0] == 0.987654


def test_missing_predictions_file_is_named(runs, tmp_path, capsys):
    db, records = runs
    gone = tmp_path / "nowhere" / "predictions.jsonl"
    bad = _variant(_tiny(records), predictions_path=str(gone))
    db2 = _store(tmp_path, records, bad)
    with pytest.raises(BenchError, match="predictions file .*nowhere/predictions.jsonl.* not found"):
        leaderboard.build(db2)
    with pytest.raises(SystemExit) as exc:
        leaderboard.main(["--db", str(db2)])
    assert exc.value.code == 2 and str(gone) in capsys.readouterr().err


def test_unknown_task_and_unrecorded_metric(runs):
    db, _ = runs
    with pytest.raises(BenchError, match="no runs of task"):
        leaderboard.build(db, tasks=["ruw"])


def _html(runs, tmp_path) -> tuple[str, Path]:
    db, records = runs
    evil = _variant(
        _tiny(records),
        model__name="<script>alert('m')</script>",
        config__model__name="<script>alert('m')</script>",
        task__name='demo"><img src=x onerror=alert(1)>',
    )
    page = tmp_path / "site" / "leaderboard.html"
    leaderboard.main(["--db", str(_store(tmp_path, records, evil)), "--format", "html", "--out", str(page)])
    return page.read_text(), page


def test_html_is_self_contained_and_escaped(runs, tmp_path):
    html, _ = _html(runs, tmp_path)
    assert "<script" not in html.lower() and "<img" not in html.lower()
    assert "&lt;script&gt;alert(&#x27;m&#x27;)&lt;/script&gt;" in html
    assert "demo&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    assert html.count('<table class="board">') == 2 and html.count("<svg") == 6  # 2 tasks x 3 plots
    assert "<style>" in html and not re.search(
        r"""(src|href)=["'](?!#|data:)""", html
    )  # nothing fetched: self-contained


@pytest.mark.skipif(
    CHROMIUM is None, reason="chromium not installed (apt-get install -y chromium) for the render check"
)
def test_html_renders_in_headless_chromium(runs, tmp_path):
    _, page = _html(runs, tmp_path)
    out = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'chrome'}",
         "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    dom = out.stdout
    assert dom.count('<table class="board">') == 2 and dom.count("<svg") == 6
    assert '<tr class="best">' in dom and "&lt;script&gt;" in dom and "<script>alert" not in dom


def test_intervals_resample_whole_texts_and_old_files_fall_back_to_examples(runs, tmp_path):
    db, records = runs
    (board,) = leaderboard.build(db, n_resamples=200)
    tiny = _tiny(records)
    preds = leaderboard.load_predictions(tiny, "test")
    texts = {p["group"] for p in preds.values()}
    assert all(p["id"].startswith(f"{p['group']}:") for p in preds.values())  # demo: one pair per (text, target)
    assert board.n_clusters == len(texts) < board.n_examples
    assert f"from {len(texts)} texts; CI over texts" in leaderboard.to_table([board])
    # the row's interval is the text bootstrap of its runs' predictions
    by_model = {r.model: r for r in board.rows}
    score = score_function("f_avg_targets", tiny["config"]["task"]["labels"])  # demo's main score
    gold, pred, groups, targets = zip(
        *((p["gold"], p["pred"], p["group"], p["target"]) for p in preds.values()), strict=True
    )
    want = leaderboard.bootstrap_ci(gold, pred, score, n_resamples=200, seed=0, groups=groups, targets=targets)
    other = leaderboard.load_predictions(_tiny(records, seed=2), "test")
    g2, p2, t2, x2 = zip(*((p["gold"], p["pred"], p["group"], p["target"]) for p in other.values()), strict=True)
    want2 = leaderboard.bootstrap_ci(g2, p2, score, n_resamples=200, seed=0, groups=t2, targets=x2)
    assert by_model["tiny"].ci == pytest.approx(((want.low + want2.low) / 2, (want.high + want2.high) / 2))

    # a predictions file written before texts were recorded: the board resamples single examples
    old = tmp_path / "old_predictions.jsonl"
    with open(tiny["predictions_path"]) as f, open(old, "w") as out:
        for line in f:
            row = json.loads(line)
            row.pop("group")
            out.write(json.dumps(row) + "\n")
    (board,) = leaderboard.build(_store(tmp_path, [_variant(tiny, predictions_path=str(old))]), n_resamples=200)
    assert board.n_clusters is None and "CI over texts" not in leaderboard.to_table([board])
    plain = leaderboard.bootstrap_ci(gold, pred, score, n_resamples=200, seed=0, targets=targets)
    assert board.rows[0].ci == pytest.approx((plain.low, plain.high))


def test_a_setting_added_later_at_its_old_behaviour_keeps_the_row():
    from bench.reports.board import config_hash

    old = {"task": {"name": "ruw"}, "model": {"name": "minilm", "max_length": 128}, "seed": 1}
    same = copy.deepcopy(old)
    same["model"]["target_segment"] = "first"  # what every run did before the setting existed
    other = copy.deepcopy(old)
    other["model"]["target_segment"] = "second"
    assert config_hash(same) == config_hash(old) != config_hash(other)
