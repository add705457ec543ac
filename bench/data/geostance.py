"""GeoStance: labels shipped in this repository, article texts fetched from three public corpora and verified."""

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bench.data import sources
from bench.data.readers import examples_of, extra_settings, field_of, jsonl_records, read_text, reader
from bench.data.war_news import read_articles
from bench.errors import DataError


@dataclass
class Corpus:
    url: str = ""  # public folder of per-article files at a pinned commit
    local: str = ""  # folder under $BENCH_DATA_DIR holding a local copy
    local_subdir: str = ""


@dataclass
class GeoStanceExtra:
    allsides: Corpus = field(default_factory=Corpus)
    ukraine_crisis: Corpus = field(default_factory=Corpus)
    journalism: Corpus = field(default_factory=Corpus)  # journalism-subjectivity: 2022-23 war articles (wa_ ids)


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


def _journalism_text(corpus: Corpus, aid: str, read: dict[str, dict[int, str]]) -> str | None:
    """A wa_<aljazeera|bbc>_<row> article: row <row> of the pinned CSV, cleaned by the tested page rule
    (bench.data.war_news: BBC navigation and Al Jazeera footer stripped); None if there is no such row."""
    slug, _, row = aid.removeprefix("wa_").rpartition("_")
    if slug not in ("aljazeera", "bbc") or not row.isdigit():
        return None
    if slug not in read:
        path = sources.fetch(corpus.local, corpus.url, f"{slug}.csv", "geostance/journalism")
        read[slug] = {a["row"]: a["text"] for a in read_articles(path.read_bytes(), slug, str(path))} if path else {}
    return read[slug].get(int(row))


@reader("geostance", extra=GeoStanceExtra)
def read_geostance(folder: Path, task, split: str) -> Iterator[dict]:
    """GeoStance: labels shipped in this repository, texts fetched from the two public corpora and verified."""
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
        yield from examples_of(task, rec, aid, text, labels_path, n, meta)


def _geostance_texts(task, labels_path: Path) -> dict[str, str]:
    """Every labelled article's text, from the local copy or the pinned public files (cached after download)."""
    ids = [field_of(r, "id", labels_path, n) for n, r in jsonl_records(labels_path)]
    cfg = extra_settings(task)
    texts: dict[str, str] = {}
    journalism: dict[str, dict[int, str]] = {}
    bundle = None
    root = os.environ.get("BENCH_DATA_DIR")
    if root and (Path(root) / cfg.allsides.local / "articles.jsonl").exists():
        bundle = Path(root) / cfg.allsides.local / "articles.jsonl"
        wanted = {i.removeprefix("as_") for i in ids if i.startswith("as_")}
        for _, r in jsonl_records(bundle):
            if r.get("id") in wanted:
                texts["as_" + r["id"]] = r["text"]
    for aid in ids:
        if aid in texts:
            continue
        if aid.startswith("as_") and bundle is None:
            path = sources.fetch(
                cfg.allsides.local,
                cfg.allsides.url,
                f"{aid.removeprefix('as_')}.json",
                "geostance/allsides",
            )
            texts[aid] = _allsides_text(path) if path else None
        elif aid.startswith("uc_"):
            rel = f"{aid.removeprefix('uc_')}.json"
            path = sources.fetch(
                cfg.ukraine_crisis.local + "/" + cfg.ukraine_crisis.local_subdir,
                cfg.ukraine_crisis.url,
                rel,
                "geostance/ukraine_crisis",
            )
            texts[aid] = _crisis_text(path) if path else None
        elif aid.startswith("wa_"):
            texts[aid] = _journalism_text(cfg.journalism, aid, journalism)
        if texts.get(aid) is None:
            line = ids.index(aid) + 1
            raise DataError(
                labels_path,
                f"article {aid} not found in its source",
                line=line,
                fix="restore the local copy under BENCH_DATA_DIR or remove the label",
            )
    return texts
