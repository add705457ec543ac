"""Headline units of the war-news-2022 corpus, with their ids: one builder shared by the selection script
(scripts/war_news_select.py) and the headline task's reader (bench.data.war_news_headlines), so both give an id
exactly the same text.

- RUWA: one unit per CSV row, `ruwa_<data row>`: the title and the desc (subheading) after stripping scraped
  bylines (war_news.clean_ruwa_fields), joined by a newline; rows where both are empty give no unit.
- news-sentivis: one unit per headline row, `nsv_<outlet slug>_<first 12 hex of SHA-256 of the normalised
  headline>`; the same headline recurs across daily snapshots, so rows of one outlet share an id.
- Deduplication: units whose normalised text (war_news_clean.normalise) is equal are merged, across rows, sources
  and outlets; the earliest (by date, then source order: RUWA row, then snapshot time, member, line) is kept.
  The text of an id is therefore the earliest of its own rows (unit_index), whatever else it merged with.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from functools import lru_cache
from pathlib import Path

from bench.data.war_news import (
    OUTLET_SLUGS,
    SENTIVIS_OUTLETS,
    SOURCES,
    clean_ruwa_fields,
    headline_unit,
    normalise,
    read_ruwa,
    read_sentivis,
    text_sha256,
)

SENTIVIS_ZIPS = ("globaltimes", "cgtn", "xinhuanet", "bbc")  # zip slugs, the order units are read in
ID_SLUG_TO_ZIP = {OUTLET_SLUGS[SENTIVIS_OUTLETS[z]]: z for z in SENTIVIS_ZIPS}  # "xinhua" -> "xinhuanet"
RUWA_FILE = SOURCES["ruwa"]["path"].rsplit("/", 1)[-1]


@lru_cache(maxsize=1 << 18)
def unit_key(text: str) -> str:
    """The dedup key of a unit text (normalise, memoised: headlines recur across snapshots)."""
    return normalise(text)


def ruwa_units(data: bytes, name: str, counts: dict[str, Counter] | None = None) -> list[dict]:
    """RUWA headline units from the zip's bytes; counts (optional) gets raw_rows and empty_units per outlet."""
    counts = counts if counts is not None else defaultdict(Counter)
    units = []
    for rec in read_ruwa(data, name):
        counts["raw_rows"][rec["outlet"]] += 1
        title, desc = clean_ruwa_fields(rec["outlet"], rec["title"], rec["desc"])
        text = headline_unit(title, desc)
        if not text:
            counts["empty_units"][rec["outlet"]] += 1
            continue
        units.append(
            {
                "id": f"ruwa_{rec['row']}",
                "outlet": rec["outlet"],
                "source": "ruwa",
                "date": rec["date"],
                "event": rec["event"],
                "url": rec["url"],
                "text": text,
                "key": unit_key(text),
                "order": (0, rec["row"]),
                "where": (name, rec["line"]),
            }
        )
    return units


def sentivis_units(data: bytes, slug: str, name: str, counts: dict[str, Counter] | None = None) -> list[dict]:
    """One unit per non-empty headline row of one news-sentivis zip (slug: globaltimes, cgtn, xinhuanet, bbc);
    rows repeating a headline share its id. counts (optional) gets raw_rows and dates_from_snapshot per outlet."""
    counts = counts if counts is not None else defaultdict(Counter)
    units = []
    for rec in read_sentivis(data, slug, name):
        counts["raw_rows"][rec["outlet"]] += 1
        if rec["date_source"] != "published":
            counts["dates_from_snapshot"][rec["outlet"]] += 1
        key = unit_key(rec["headline"])
        units.append(
            {
                "id": f"nsv_{OUTLET_SLUGS[rec['outlet']]}_{text_sha256(key)[:12]}",
                "outlet": rec["outlet"],
                "source": "sentivis",
                "date": rec["date"],
                "section": rec["section"],
                "text": rec["headline"],
                "key": key,
                "order": (1, rec["snapshot"], rec["member"], rec["line"]),
                "where": (f"{name}:{rec['member']}", rec["line"]),
            }
        )
    return units


def local_units(base: Path, counts: dict[str, Counter] | None = None) -> list[dict]:
    """Every unit (before dedup) of the local copies under base ($BENCH_DATA_DIR): RUWA rows, then news-sentivis."""
    path = base / SOURCES["ruwa"]["path"]
    units = ruwa_units(path.read_bytes(), str(path), counts)
    for slug in SENTIVIS_ZIPS:
        path = base / SOURCES[f"sentivis_{slug}"]["path"]
        units += sentivis_units(path.read_bytes(), slug, str(path), counts)
    return units


def _earliest(unit: dict) -> tuple:
    return unit["date"], unit["order"]


def deduplicate(units: list[dict]) -> tuple[list[dict], list[dict]]:
    """Merge units with the same normalised text, keeping the earliest (by date, then source order); return the kept
    units (with merged_rows and carried_by) in date order, and one record per merged group."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for unit in units:
        if unit["key"]:
            groups[unit["key"]].append(unit)
    kept, merges = [], []
    for members in groups.values():
        members.sort(key=_earliest)
        first = dict(members[0])
        first["merged_rows"] = len(members)
        first["carried_by"] = sorted({m["outlet"] for m in members})
        kept.append(first)
        if len(members) > 1:
            merges.append(
                {
                    "id": first["id"],
                    "kept_outlet": first["outlet"],
                    "rows": len(members),
                    "outlets": first["carried_by"],
                    "ids": sorted({m["id"] for m in members}),
                    "dates": sorted({m["date"] for m in members}),
                }
            )
    kept.sort(key=_earliest)
    return kept, merges


def unit_index(units: list[dict]) -> dict[str, dict]:
    """{id: unit}: each id's earliest row, whose text deduplicate keeps for it (units with an empty key have none)."""
    best: dict[str, dict] = {}
    for unit in units:
        if unit["key"] and (unit["id"] not in best or _earliest(unit) < _earliest(best[unit["id"]])):
            best[unit["id"]] = unit
    return best


def source_of(uid: str) -> str | None:
    """Which file holds a unit: 'ruwa' or a news-sentivis zip slug; None for an id of neither form."""
    if uid.startswith("ruwa_") and uid.removeprefix("ruwa_").isdigit():
        return "ruwa"
    parts = uid.split("_")
    if len(parts) == 3 and parts[0] == "nsv" and parts[1] in ID_SLUG_TO_ZIP:
        return ID_SLUG_TO_ZIP[parts[1]]
    return None
