"""The war-news tasks: the headline task's outlet split, loading through bench.data with every text checked against
its label's SHA-256 (a changed or missing unit names labels.jsonl:LINE and the id), and GeoStance v2's war articles."""

import csv
import io
import json
import zipfile
from collections import Counter
from pathlib import Path

import pytest
from conftest import SHARED, needs_shared

from bench import config
from bench.data import load_task
from bench.data.war_news import SOURCES, clean_bbc_article
from bench.errors import DataError

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "data" / "war_news" / "labels.jsonl"
GEO_LABELS = ROOT / "data" / "geostance" / "labels.jsonl"
TEST_OUTLETS = {"Censor.net", "TASS", "News-Front", "Xinhua", "BBC"}


def _rows(path: Path) -> list[tuple[int, dict]]:
    return [(n, json.loads(line)) for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)]


def test_test_outlets_never_in_train_or_dev():
    rows = [r for _, r in _rows(LABELS)]
    outlets = {s: {r["outlet"] for r in rows if r["split"] == s} for s in ("train", "dev", "test")}
    assert outlets["test"] & (outlets["train"] | outlets["dev"]) == set()
    assert outlets["dev"] <= outlets["train"]  # dev is a sample of train's outlets: in-outlet fit
    stats = json.loads((LABELS.parent / "stats.json").read_text(encoding="utf-8"))
    assert outlets["test"] == set(stats["split_choice"]["chosen"])
    assert len({r["id"] for r in rows}) == len(rows) and all(len(r["text_sha256"]) == 64 for r in rows)
    assert not any("text" in r or "url" in r for r in rows)  # texts (and URL slugs, which repeat them) stay out


@needs_shared("war-news-2022")
@pytest.mark.parametrize("name", ["geostance_headlines", "geostance_headlines_tone"])
def test_headline_tasks_load_every_labelled_unit(name):
    task = config.compose_task(name)
    data = load_task(task)
    expected = Counter(r["split"] for _, r in _rows(LABELS))
    per_unit = len(task.targets) or 1
    for split, examples in data.splits.items():
        assert len({e["group"] for e in examples}) == expected[split]
        assert len(examples) == per_unit * expected[split]
        assert all(e["meta"]["outlet"] and e["meta"]["side"] for e in examples)
    assert {e["meta"]["outlet"] for e in data.splits["test"]} == TEST_OUTLETS
    assert task.version == "1"


def _first_ruwa_label() -> tuple[int, int, str]:
    """(labels.jsonl line, RUWA data row, id) of the first RUWA unit in labels.jsonl."""
    n, rec = next((n, r) for n, r in _rows(LABELS) if r["id"].startswith("ruwa_"))
    return n, int(rec["id"].removeprefix("ruwa_")), rec["id"]


def _ruwa_copy(tmp_path: Path, monkeypatch, row: int, change) -> None:
    """A BENCH_DATA_DIR whose RUWA zip has data row `row` changed by change(record dict); other sources linked."""
    src = SHARED / SOURCES["ruwa"]["path"]
    out = io.BytesIO()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.endswith(".csv") and "__MACOSX" not in info.filename:
                rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
                record = dict(zip(rows[0], rows[row], strict=True))
                change(record)
                rows[row] = [record[c] for c in rows[0]]
                buf = io.StringIO(newline="")
                csv.writer(buf).writerows(rows)
                data = buf.getvalue().encode("utf-8")
            zout.writestr(info, data)
    root = tmp_path / "datasets" / "war-news-2022"
    (root / "ruwa").mkdir(parents=True)
    (root / "ruwa" / src.name).write_bytes(out.getvalue())
    (root / "news-sentivis").symlink_to(SHARED / "war-news-2022" / "news-sentivis")
    monkeypatch.setenv("BENCH_DATA_DIR", str(tmp_path / "datasets"))


@needs_shared("war-news-2022")
def test_changed_unit_text_names_label_line_and_id(tmp_path, monkeypatch):
    line, row, uid = _first_ruwa_label()
    _ruwa_copy(tmp_path, monkeypatch, row, lambda r: r.update(title=r["title"] + " (updated)"))
    with pytest.raises(DataError, match=rf"labels\.jsonl:{line}: text of {uid} .*has SHA-256.*restore the pinned"):
        load_task(config.compose_task("geostance_headlines"))


@needs_shared("war-news-2022")
def test_missing_unit_names_label_line_and_id(tmp_path, monkeypatch):
    line, row, uid = _first_ruwa_label()
    _ruwa_copy(tmp_path, monkeypatch, row, lambda r: r.update(title="", desc=""))  # an empty row gives no unit
    with pytest.raises(DataError, match=rf"labels\.jsonl:{line}: unit {uid} not found in RUWA_01\.08\.23\.csv\.zip"):
        load_task(config.compose_task("geostance_headlines"))


def _geostance_over(rows: list[dict], tmp_path: Path, make_cfg):
    """The geostance task (v2 card) over labels `rows`, with BENCH_DATA_DIR holding only war-news-2022 (the full v1
    load from the local copies is tests/test_geostance.py's)."""
    folder = tmp_path / "labels"
    folder.mkdir()
    (folder / "labels.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    task = make_cfg("task=geostance").task
    task.source.embedded = str(folder)
    return task


@needs_shared("war-news-2022")
def test_geostance_v2_loads_the_war_articles(tmp_path, monkeypatch, make_cfg):
    assert config.compose_task("geostance").version == "2" and config.compose_task("geostance_tone").version == "2"
    wa = [r for _, r in _rows(GEO_LABELS) if r["id"].startswith("wa_")]
    expected = Counter(r["split"] for r in wa)
    assert sum(expected.values()) == 405 and all(expected[s] > 0 for s in ("dev", "test"))
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets" / "war-news-2022").symlink_to(SHARED / "war-news-2022")
    monkeypatch.setenv("BENCH_DATA_DIR", str(tmp_path / "datasets"))
    data = load_task(_geostance_over(wa, tmp_path, make_cfg))  # every text checked against its text_sha256
    for split, examples in data.splits.items():
        assert len({e["group"] for e in examples}) == expected[split]
        assert len(examples) == 4 * expected[split]


@needs_shared("war-news-2022")
def test_changed_war_article_fails_sha256(tmp_path, monkeypatch, make_cfg):
    wa = [r for _, r in _rows(GEO_LABELS) if r["id"].startswith("wa_bbc_")]
    labels = [next(r for r in wa if r["split"] == s) for s in ("train", "dev", "test")]
    src = SHARED / SOURCES["articles_bbc"]["path"]
    text = src.read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    row, col = rows[int(labels[1]["id"].rsplit("_", 1)[1])], rows[0].index("article")
    body = clean_bbc_article(row[col])[:60]  # change the article body, not the navigation the cleaning drops
    row[col] = row[col].replace(body, body + " updated", 1)
    buf = io.StringIO(newline="")
    csv.writer(buf).writerows(rows)
    local = tmp_path / "datasets" / "war-news-2022" / "journalism-subjectivity"
    local.mkdir(parents=True)
    (local / "bbc.csv").write_text(buf.getvalue(), encoding="utf-8")
    monkeypatch.setenv("BENCH_DATA_DIR", str(tmp_path / "datasets"))
    task = _geostance_over(labels, tmp_path, make_cfg)
    with pytest.raises(DataError, match=rf"labels\.jsonl:2: text of {labels[1]['id']} has SHA-256"):
        load_task(task)
