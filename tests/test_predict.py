"""bench.predict on a saved tiny model: a multi-article aggregator page and malformed inputs."""

import json

import pytest
from conftest import ROOT

from bench import predict
from bench.errors import BenchError, DataError
from bench.run import run

# written for this test; outlets, headlines and bodies are invented
PAGE = """Harbour talks resume as ministers meet in Valletta
Negotiators from both sides returned to the table on Monday after a two-week pause.
Officials described the first session as workmanlike.

Related Articles

Northern Ledger
15 hours ago
Grain corridor extended for another season
The corridor will stay open until spring, port authorities said.

Evening Courier
2 days ago
Sanctions package delayed by late objections
Two members asked for more time to study the energy clauses.
"""


@pytest.fixture(scope="module")
def saved_run(tmp_path_factory):
    from conftest import CONFIGS
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    tmp = tmp_path_factory.mktemp("predict")
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONFIGS), version_base="1.3"):
        cfg = compose(
            config_name="config",
            overrides=[
                "experiment=smoke",
                "train.save_model=true",
                f"output_dir={tmp / 'run'}",
                f"results_db={tmp / 'results.sqlite'}",
            ],
        )
    GlobalHydra.instance().clear()
    return run(cfg), tmp


def test_predicts_every_article_and_target_of_a_page(saved_run, tmp_path, capsys):
    rec, tmp = saved_run
    page = tmp_path / "page.txt"
    page.write_text(PAGE, encoding="utf-8")
    out = tmp_path / "pred.jsonl"
    predict.main([rec["run_id"], str(page), "--db", str(tmp / "results.sqlite"), "--out", str(out)])
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 3 * 4  # three articles, four targets
    assert {r["outlet"] for r in rows} == {None, "Northern Ledger", "Evening Courier"}
    for r in rows:
        assert set(r["probs"]) == {"favor", "against", "neutral", "none"}
        assert abs(sum(r["probs"].values()) - 1) < 1e-4 and r["label"] == max(r["probs"], key=r["probs"].get)
    assert "Northern Ledger" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "error"),
    [(b"", "empty"), (b"Only a headline\n", "body"), (b"Headline\nBody with a bad byte \xff here\n", "UTF-8")],
)
def test_malformed_inputs_fail_clearly(saved_run, tmp_path, content, error):
    rec, _ = saved_run
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(DataError, match=error):
        predict.predict(rec, [str(path)])


def test_run_without_saved_model_is_refused(saved_run):
    rec, _ = saved_run
    other = dict(rec, record_path="/nonexistent/run.json", run_id="x")
    with pytest.raises(BenchError, match="train.save_model=true"):
        predict.predict(other, [])


def test_joint_run_predicts_what_it_scored(tmp_path):
    """A saved joint model (one pass per article, a head per target) gives bench.predict the probabilities the run
    recorded for the same articles."""
    from conftest import CONFIGS
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONFIGS), version_base="1.3"):
        cfg = compose(
            config_name="config",
            overrides=["experiment=smoke", "model=tiny_joint", "train.save_model=true",
                       f"output_dir={tmp_path / 'run'}", f"results_db={tmp_path / 'results.sqlite'}"],
        )  # fmt: skip
    GlobalHydra.instance().clear()
    rec = run(cfg)
    recorded = {}
    for line in (tmp_path / "run" / "predictions.jsonl").read_text().splitlines():
        r = json.loads(line)
        if r["split"] == "test":
            recorded[(r["id"].rsplit(":", 1)[0], r["target"])] = r["probs"]
    articles = {}
    for line in (ROOT / "data" / "demo" / "articles.jsonl").read_text(encoding="utf-8").splitlines():
        a = json.loads(line)
        if a["id"] in {k[0] for k in recorded}:
            articles[a["id"]] = {"id": a["id"], "headline": a["headline"], "text": a["text"]}
    path = tmp_path / "articles.jsonl"
    path.write_text("".join(json.dumps(a) + "\n" for a in articles.values()), encoding="utf-8")
    rows = predict.predict(rec, [str(path)])
    assert len(rows) == 4 * len(articles)
    got = {(r["id"].split(":", 1)[1], r["target"]): r["probs"] for r in rows}  # ids: <file>:<article id>
    for key, want in recorded.items():  # the run scored a sample of (article, target) pairs
        assert got[key] == pytest.approx(want, abs=1e-4), key
