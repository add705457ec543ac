"""Deduplicate the war-news-2022 headline units and select the items human-style annotators will read.

Reads the local copies under $BENCH_DATA_DIR (default ../shared/datasets relative to the repository root), writes
the annotation batches and article files OUTSIDE the repository (texts are copyrighted) and only counts to
data/war_news/selection.json. Selection uses metadata and keyword filters to choose WHICH items are read (relevance
and balance); it never decides a label.

Usage: python scripts/war_news_select.py [--out ../labelling] [--round 2] [--check]. Units, ids and dedup come
from bench.data.war_news_units, which the headline task's reader also uses; --check rebuilds them and verifies the
id and SHA-256 of every item already dealt into the batches.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

from bench.data.war_news import SIDES, SOURCES, read_articles, text_sha256
from bench.data.war_news_units import deduplicate, local_units

REPO = Path(__file__).resolve().parent.parent
SELECT_SEED, SHUFFLE_SEED = 2022, 7
N_BATCHES, N_SECOND_READING = 6, 400

US = r"\bU\.?S\.?A?\b|\bAmerica|\bWashington\b|\bBiden\b|\bBlinken\b|\bPelosi\b"
EUROPE = r"\bEU\b|\bEurope|\bE\.U\.|\bBrussels\b"
KEYWORDS = {
    "targets": re.compile(rf"Ukrain|Kyiv|Kiev|Zelensk|\bWest|NATO|{US}|{EUROPE}|[Ss]anction"),
    "west_aid": re.compile(
        rf"\baid\b|[Ww]eapon|\barms\b|[Ss]anction|\ball(y|ies|ied)\b|{US}|{EUROPE}|\bUK\b|Britain|British|NATO|"
        r"\bWest|Biden|Johnson|Scholz|Macron|HIMARS|Javelin|[Ll]end-[Ll]ease|[Mm]ilitary assistance|Stinger",
    ),
    "china": re.compile(r"China|Chinese|Beijing|\bXi\b|Xi Jinping|Taiwan"),
    "war": re.compile(
        r"Russia|Ukrain|NATO|Kyiv|Kiev|Moscow|Putin|Zelensk|Kremlin|Donbas|Crimea|Luhansk|Donetsk|Mariupol|"
        r"Zaporizh|Kherson|Kharkiv|Lavrov|[Ss]anction|\b[Ww]ar\b|Belarus|Lukashenko|[Rr]efugee",
    ),
    "foreign": re.compile(
        rf"{US}|Taiwan|\bWest|Japan|{EUROPE}|\bUK\b|Britain|Germany|France|Australia|\bG7\b|\bG20\b|Tokyo|Canberra",
    ),
    "russia_ukraine": re.compile(r"Russia|Ukrain|Kyiv|Kiev|Moscow|Putin|Zelensk|Kremlin"),
    # round 2 hunts for the thin cells (which items to read; labels still come from reading)
    "china_praise": re.compile(
        r"cooperat|win-win|development|contribut|friendship|peace|success|achiev|support|help|aid\b|growth|"
        r"initiative|respect|resolute|firmly|oppos"
    ),
    "thanks_allies": re.compile(r"[Tt]hank|grateful|gratitude|solidarity|support|partners|allies|stand with|help"),
    "ukraine_named": re.compile(r"Ukrain|Kyiv|Kiev|Zelensk|Kiev regime|Nazi|nationalist"),
}

LABELLING = Path(__file__).resolve().parents[2] / "labelling"  # beside the checkout: texts never enter it


def take(rng: random.Random, pool: list[dict], n: int, reason: str, chosen: set[str]) -> list[dict]:
    """Sample up to n not-yet-chosen units from pool, tagging them with the selection reason."""
    free = [u for u in pool if u["id"] not in chosen]
    picked = rng.sample(free, min(n, len(free)))
    for unit in picked:
        chosen.add(unit["id"])
    return [dict(unit, selection=reason) for unit in picked]


def matching(pool: list[dict], *names: str) -> list[dict]:
    """Units whose text matches any of the named keyword filters."""
    return [u for u in pool if any(KEYWORDS[name].search(u["text"]) for name in names)]


def select(units: list[dict]) -> tuple[list[dict], dict]:
    """Apply the per-outlet quotas and hunts with seeded sampling; return the items and the shortfalls."""
    rng = random.Random(SELECT_SEED)
    by = defaultdict(list)
    for unit in units:
        by[(unit["outlet"], unit["source"])].append(unit)
    chosen: set[str] = set()
    out: list[dict] = []
    shortfall = {}

    def quota(outlet: str, target: int, parts: list[tuple[list[dict], int, str]]) -> None:
        """Fill one outlet's quota from the parts in order, each capped at its own n and the remaining quota."""
        got: list[dict] = []
        for pool, n, reason in parts:
            got += take(rng, pool, min(n, target - len(got)), reason, chosen)
        out.extend(got)
        if len(got) < target:
            shortfall[outlet] = {"quota": target, "selected": len(got)}

    for outlet in ("News-Front", "TASS"):
        pool = by[(outlet, "ruwa")]
        quota(outlet, len(pool), [(pool, len(pool), "all")])
    rt = by[("RT", "ruwa")]
    quota("RT", 650, [(matching(rt, "targets"), 650, "hunt:targets"), (rt, 650, "quota")])
    for outlet in ("Censor.net", "Ukrinform"):
        pool = by[(outlet, "ruwa")]
        hunts = [(matching(pool, "china"), 40, "hunt:china"), (matching(pool, "west_aid"), 183, "hunt:west_aid")]
        quota(outlet, 550, [*hunts, (pool, 550, "quota")])
    for outlet, n in (("Xinhua", 450), ("Global Times", 350), ("CGTN", 300)):
        pool = by[(outlet, "sentivis")]
        war = matching(pool, "war")
        war_ids = {u["id"] for u in war}
        foreign = [
            u
            for u in matching(pool, "foreign")
            if u["id"] not in war_ids and (u["section"] == "CHINA" or KEYWORDS["china"].search(u["text"]))
        ]
        quota(
            outlet, n, [(war, round(n * 0.6), "topic:war"), (foreign, n, "topic:china_foreign"), (war, n, "topic:war")]
        )
    bbc_ruwa, bbc_nsv = by[("BBC", "ruwa")], by[("BBC", "sentivis")]
    hunts = [(matching(bbc_nsv, "china"), 250, "hunt:china_against")]
    hunts += [(matching(bbc_nsv, "russia_ukraine"), 250, "hunt:russia_ukraine"), (bbc_nsv, 250, "quota")]
    quota("BBC", 500, [(bbc_ruwa, 250, "quota"), *hunts, (bbc_ruwa, 500, "quota")])
    for outlet, n in (("Reuters", 350), ("Al Jazeera", 200)):
        pool = by[(outlet, "ruwa")]
        quota(outlet, n, [(pool, n, "quota")])
    msnbc = by[("MSNBC", "ruwa")]
    china = matching(msnbc, "china")
    quota("MSNBC", 200, [(china, 200, "hunt:china"), (msnbc, 200, "quota")])
    return out, shortfall


def select_round2(units: list[dict], done: set[str]) -> list[dict]:
    """A second, targeted round for the cells round 1 left thin (russia favor, ukraine against, china favor and
    against, west favor): only units not read yet, chosen by outlet and keyword filters, seeded."""
    rng = random.Random(SELECT_SEED + 1)
    by = defaultdict(list)
    for unit in units:
        if unit["id"] not in done:
            by[(unit["outlet"], unit["source"])].append(unit)
    chosen: set[str] = set()
    out = []
    out += take(rng, by[("RT", "ruwa")], 400, "hunt2:russia_favor", chosen)
    for outlet, n in (("Global Times", 220), ("CGTN", 180), ("Xinhua", 200)):
        pool = [u for u in matching(by[(outlet, "sentivis")], "china") if KEYWORDS["china_praise"].search(u["text"])]
        out += take(rng, pool, n, "hunt2:china_favor", chosen)
    out += take(rng, matching(by[("Global Times", "sentivis")], "ukraine_named"), 120, "hunt2:ukraine_against", chosen)
    for outlet in ("Censor.net", "Ukrinform"):
        pool = [u for u in matching(by[(outlet, "ruwa")], "west_aid") if KEYWORDS["thanks_allies"].search(u["text"])]
        out += take(rng, pool, 170, "hunt2:west_favor", chosen)
    for outlet, source in (("BBC", "sentivis"), ("Reuters", "ruwa"), ("Al Jazeera", "ruwa"), ("MSNBC", "ruwa")):
        out += take(rng, matching(by[(outlet, source)], "china"), 120, "hunt2:china_against", chosen)
    return out


def item_record(unit: dict) -> dict:
    """Shape a selected unit as one batch line."""
    rec = {k: unit[k] for k in ("id", "outlet")} | {"side": SIDES[unit["outlet"]]}
    rec |= {k: unit[k] for k in ("source", "date")}
    if unit["source"] == "ruwa":
        rec.update(event=unit["event"], url=unit["url"])
    rec.update(text=unit["text"], text_sha256=text_sha256(unit["text"]), selection=unit["selection"])
    return rec


def write_jsonl(path: Path, records: list[dict]) -> None:
    """Write records as UTF-8 JSON lines."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")


def read_jsonl(path: Path) -> list[dict]:
    """The records of a JSON-lines file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def check_batches(kept: list[dict], out: Path) -> int:
    """Every item of the written batches (h*.jsonl) has the id, text and SHA-256 of a rebuilt unit."""
    by_id = {u["id"]: u for u in kept}
    items = [rec for path in sorted((out / "batches").glob("h*.jsonl")) for rec in read_jsonl(path)]
    bad = [r["id"] for r in items if r["id"] not in by_id or text_sha256(by_id[r["id"]]["text"]) != r["text_sha256"]]
    print(
        f"{len(items)} batch items, {len(bad)} differ from the rebuilt units{': ' + ', '.join(bad[:10]) if bad else ''}"
    )
    return 1 if bad else 0


def deal_batches(items: list[dict], out: Path) -> dict:
    """Shuffle with seed 7, deal round-robin into h1..h6 and draw p2 evenly from the six batches."""
    rng = random.Random(SHUFFLE_SEED)
    items = list(items)
    rng.shuffle(items)
    batches = [items[i::N_BATCHES] for i in range(N_BATCHES)]
    for i, batch in enumerate(batches, 1):
        write_jsonl(out / "batches" / f"h{i}.jsonl", batch)
    per = [N_SECOND_READING // N_BATCHES + (i < N_SECOND_READING % N_BATCHES) for i in range(N_BATCHES)]
    second = [rec for batch, n in zip(batches, per, strict=True) for rec in rng.sample(batch, n)]
    rng.shuffle(second)
    write_jsonl(out / "batches" / "p2.jsonl", second)
    return {"batch_sizes": [len(b) for b in batches], "p2_size": len(second), "p2_per_batch": per}


def write_articles(base: Path, out: Path) -> dict:
    """Write the cleaned full articles to a1/a2 (shuffled with seed 7, split evenly); report empty rows."""
    records, empty = [], []
    for slug in ("aljazeera", "bbc"):
        path = base / SOURCES[f"articles_{slug}"]["path"]
        for art in read_articles(path.read_bytes(), slug, str(path)):
            aid = f"wa_{slug}_{art['row']}"
            if not art["text"]:
                empty.append(aid)
                continue
            rec = {"id": aid, "outlet": art["outlet"], "url": art["link"], "text": art["text"]}
            records.append(rec | {"text_sha256": text_sha256(art["text"])})
    random.Random(SHUFFLE_SEED).shuffle(records)
    half = (len(records) + 1) // 2
    write_jsonl(out / "articles" / "a1.jsonl", records[:half])
    write_jsonl(out / "articles" / "a2.jsonl", records[half:])
    outlets = dict(Counter(r["outlet"] for r in records))
    return {"articles": outlets, "a1": half, "a2": len(records) - half, "empty_skipped": empty}


def per_outlet_reason(items: list[dict]) -> dict[str, int]:
    """Selected items per "outlet|selection reason"."""
    return {f"{o}|{r}": n for (o, r), n in sorted(Counter((i["outlet"], i["selection"]) for i in items).items())}


def main(argv: list[str] | None = None) -> int:
    """Build units, deduplicate, select, write batches/articles outside the repo and counts inside it."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, default=LABELLING, help="output folder outside the repo")
    parser.add_argument("--counts", type=Path, default=REPO / "data" / "war_news" / "selection.json")
    parser.add_argument("--round", type=int, default=1, help="2: the targeted second round (batches h7, h8)")
    parser.add_argument("--check", action="store_true", help="only check the written batches against rebuilt units")
    args = parser.parse_args(argv)
    base = Path(os.environ.get("BENCH_DATA_DIR", REPO.parent / "shared" / "datasets"))
    if not (base / "war-news-2022").is_dir():
        print(f"no war-news-2022 under {base}; set BENCH_DATA_DIR", file=sys.stderr)
        return 2
    if args.out.resolve().is_relative_to(REPO):
        print("--out must be outside the repository (the texts must never be committed)", file=sys.stderr)
        return 2
    counts: dict[str, Counter] = defaultdict(Counter)
    units = local_units(base, counts)
    kept, merges = deduplicate(units)
    if args.check:
        return check_batches(kept, args.out)
    if args.round == 2:
        return round2(kept, args)
    write_jsonl(args.out / "dedup_merges.jsonl", merges)
    selected, shortfall = select(kept)
    items = [item_record(u) for u in selected]
    dealt = deal_batches(items, args.out)
    articles = write_articles(base, args.out)
    report = {
        "raw_rows": dict(counts["raw_rows"]),
        "empty_units_skipped": dict(counts["empty_units"]),
        "sentivis_dates_from_snapshot": dict(counts["dates_from_snapshot"]),
        "units_before_dedup": len(units),
        "units_after_dedup": dict(Counter(u["outlet"] for u in kept)),
        "units_after_dedup_total": len(kept),
        "merged_groups": len(merges),
        "merged_rows": sum(m["rows"] - 1 for m in merges),
        "cross_outlet_groups": sum(len(m["outlets"]) > 1 for m in merges),
        "selected_per_outlet": dict(Counter(i["outlet"] for i in items)),
        "selected_per_side": dict(Counter(i["side"] for i in items)),
        "selected_per_reason": dict(Counter(i["selection"] for i in items)),
        "selected_per_outlet_reason": per_outlet_reason(items),
        "selected_total": len(items),
        "shortfall": shortfall,
        "seeds": {"selection": SELECT_SEED, "shuffle": SHUFFLE_SEED},
        **dealt,
        **articles,
    }
    args.counts.parent.mkdir(parents=True, exist_ok=True)
    args.counts.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2, ensure_ascii=False))
    top = sorted(merges, key=lambda m: -m["rows"])[:5]
    print("largest merges:", json.dumps([{k: m[k] for k in ("id", "rows", "outlets")} for m in top]))
    return 0


def round2(kept: list[dict], args) -> int:
    """Select round 2 among units not in round 1, deal it into h7 and h8, and add its counts to the report."""
    done = {rec["id"] for i in range(1, N_BATCHES + 1) for rec in read_jsonl(args.out / "batches" / f"h{i}.jsonl")}
    items = [item_record(u) for u in select_round2(kept, done)]
    random.Random(SHUFFLE_SEED + 1).shuffle(items)
    for k, batch in enumerate((items[0::2], items[1::2]), N_BATCHES + 1):
        write_jsonl(args.out / "batches" / f"h{k}.jsonl", batch)
    report = json.loads(args.counts.read_text(encoding="utf-8"))
    report["round2"] = {
        "selected_per_outlet_reason": per_outlet_reason(items),
        "selected_total": len(items),
        "batch_sizes": [len(items[0::2]), len(items[1::2])],
    }
    args.counts.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(report["round2"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
