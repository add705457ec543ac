"""GeoStance headlines: the stance 2022 war headlines (title + subheading) take toward russia, ukraine, china and
the west. Labels ship in data/war_news/labels.jsonl; each unit's text is rebuilt from the RUWA zip or a
news-sentivis zip (the local copy under $BENCH_DATA_DIR, else the pinned public file, downloaded once into the
cache and opened in memory) by bench.data.war_news_units, the same code that chose the units for reading, and is
checked against the text_sha256 stored with its label."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bench.data import sources
from bench.data.geostance import Corpus
from bench.data.readers import examples_of, extra_settings, field_of, jsonl_records, reader
from bench.data.war_news import SOURCES
from bench.data.war_news_units import RUWA_FILE, ruwa_units, sentivis_units, source_of, unit_index
from bench.errors import DataError

RUWA_URL = SOURCES["ruwa"]["url"].rsplit("/", 1)[0]
SENTIVIS_URL = SOURCES["sentivis_bbc"]["url"].rsplit("/", 1)[0]


@dataclass
class WarNewsExtra:
    ruwa: Corpus = field(default_factory=lambda: Corpus(url=RUWA_URL, local="war-news-2022/ruwa"))
    sentivis: Corpus = field(default_factory=lambda: Corpus(url=SENTIVIS_URL, local="war-news-2022/news-sentivis"))


_INDEX: dict[str, tuple[str, dict[str, dict]]] = {}  # source -> (SHA-256 of its file, {unit id: unit})


def _file_of(source: str) -> str:
    return RUWA_FILE if source == "ruwa" else f"{source}.zip"


def _units(corpus: Corpus, source: str) -> dict[str, dict]:
    """{unit id: unit} of one source file ('ruwa' or a news-sentivis zip slug), rebuilt once per file content."""
    name = _file_of(source)
    path = sources.fetch(corpus.local, corpus.url, name, f"war_news/{corpus.local.rsplit('/', 1)[-1]}")
    if path is None:
        local = Path(os.environ.get("BENCH_DATA_DIR", "")) / corpus.local / name
        raise DataError(local, "file not found", fix=f"restore it from {corpus.url}/{name}, or unset BENCH_DATA_DIR")
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if _INDEX.get(source, ("", {}))[0] != digest:
        units = ruwa_units(data, str(path)) if source == "ruwa" else sentivis_units(data, source, str(path))
        index = {uid: {"text": u["text"], "where": u["where"]} for uid, u in unit_index(units).items()}
        _INDEX[source] = (digest, index)
    return _INDEX[source][1]


@reader("war_news_headlines", extra=WarNewsExtra)
def read_war_news_headlines(folder: Path, task, split: str) -> Iterator[dict]:
    """One example per (unit, target); a unit whose text is missing or changed stops loading, naming its label line."""
    labels_path = folder / "labels.jsonl"
    cfg = extra_settings(task)
    indexes: dict[str, dict[str, dict]] = {}  # source -> its units, read once per split
    for n, rec in jsonl_records(labels_path):
        if field_of(rec, "split", labels_path, n) != split:
            continue
        uid = field_of(rec, "id", labels_path, n)
        source = source_of(uid)
        if source is None:
            raise DataError(
                labels_path,
                f"id {uid!r} is neither ruwa_<row> nor nsv_<globaltimes|cgtn|xinhua|bbc>_<hash>",
                line=n,
                fix="fix the id",
            )
        corpus = cfg.ruwa if source == "ruwa" else cfg.sentivis
        if source not in indexes:
            indexes[source] = _units(corpus, source)
        unit = indexes[source].get(uid)
        url = f"{corpus.url}/{_file_of(source)}"
        if unit is None:
            raise DataError(
                labels_path,
                f"unit {uid} not found in {_file_of(source)}",
                line=n,
                fix=f"restore the pinned file ({url}) under BENCH_DATA_DIR, or remove the label",
            )
        expected = field_of(rec, "text_sha256", labels_path, n)
        got = sources.sha256_text(unit["text"])
        if got != expected:
            file, line = unit["where"]
            raise DataError(
                labels_path,
                f"text of {uid} ({file}, line {line}) has SHA-256 {got[:12]}…, the label was given to {expected[:12]}…",
                line=n,
                fix=f"the source text changed; restore the pinned file ({url})",
            )
        meta = {"outlet": rec.get("outlet"), "side": rec.get("side"), "source": rec.get("source")}
        yield from examples_of(task, rec, uid, unit["text"], labels_path, n, meta)
