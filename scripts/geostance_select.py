"""Choose which GeoStance articles annotators read, from metadata only (topic, outlet, URL, mention counts).

This script never reads a label or classifies text: it writes the reading order of each annotator's batch to
data/geostance/annotations/batches.json (scripts/geostance_annotate.py then shows and records the labels).

    python scripts/geostance_select.py select          # round 1: batches a1..a5 and the second-pass batch p2
    python scripts/geostance_select.py select-round2   # adds b1..b5
    python scripts/geostance_select.py select-round3   # adds c1..c5
"""

from __future__ import annotations

import argparse
import json
import random

from bench.data.geostance_annotations import ANN, load_articles

MAX_WORDS = 2000  # longer articles are not selected, so every label rests on a full reading
FOREIGN_TOPICS = {
    "world",
    "foreign_policy",
    "trade",
    "china",
    "russia",
    "asia",
    "europe",
    "national_security",
    "north_korea",
    "middle_east",
    "state_department",
    "defense",
    "national_defense",
    "nuclear_weapons",
    "us_military",
    "terrorism",
    "cybersecurity",
    "economic_policy",
    "banking_and_finance",
    "coronavirus",
}


def priority(a: dict) -> float:
    """Metadata-only priority: foreign-affairs topics, opinion pieces and West mentions first."""
    m = a["mentions"]
    score = 2.0 * (a["topic"] in FOREIGN_TOPICS)
    score += 2.0 * any(k in a["url"].lower() for k in ("opinion", "commentary", "/op-ed", "editorial"))
    score += 1.5 * (m.get("west", 0) >= 3) + 1.0 * (m.get("ukraine", 0) >= 3) + 1.0 * (m.get("china", 0) >= 3)
    score += 0.5 * (sum(v >= 3 for v in m.values()) >= 2)
    return score


def pick_per_leaning(pool: list[dict], key, per_leaning: int, rng: random.Random) -> list[str]:
    """The per_leaning highest-priority articles of each outlet leaning (ties in a seeded random order), shuffled."""
    chosen = []
    for leaning in ("left", "center", "right"):
        cands = [a for a in pool if a["outlet_bias"] == leaning]
        rng.shuffle(cands)
        cands.sort(key=key, reverse=True)
        chosen += [a["id"] for a in cands[:per_leaning]]
    rng.shuffle(chosen)
    return chosen


def select(n_allsides: int, n_annotators: int, n_second: int, seed: int = 13) -> None:
    arts = load_articles()
    rng = random.Random(seed)
    pool = [a for a in arts.values() if a["id"].startswith("as_") and len(a["text"].split()) <= MAX_WORDS]
    chosen = pick_per_leaning(pool, priority, n_allsides // 3, rng)
    uc = sorted(i for i in arts if i.startswith("uc_"))
    batches = {f"a{k + 1}": [] for k in range(n_annotators)}
    # 2014 articles first in every batch, so all of them are read even if a batch stops early
    for k, aid in enumerate(uc):
        batches[f"a{k % n_annotators + 1}"].append(aid)
    for k, aid in enumerate(chosen):
        batches[f"a{k % n_annotators + 1}"].append(aid)
    # second pass: drawn from the first 40% of every batch (read first), shown in a fresh order
    second = []
    for ids in batches.values():
        head = ids[: int(len(ids) * 0.4)]
        second += rng.sample(head, n_second // n_annotators)
    rng.shuffle(second)
    batches["p2"] = second
    (ANN / "batches.json").write_text(json.dumps(batches, indent=1) + "\n")
    print({k: len(v) for k, v in batches.items()})


OPINION_OUTLETS = {
    "American Spectator",
    "Townhall",
    "Guest Writer - Right",
    "Guest Writer - Left",
    "Reason",
    "National Review",
    "The Daily Caller",
    "Breitbart News",
    "Salon",
    "The Flip Side",
    "Newsmax",
    "Washington Examiner",
    "The Federalist",
    "HuffPost",
    "The Intercept",
    "Vox",
    "Mother Jones",
    "The Nation",
    "Slate",
    "Daily Beast",
}


def rare_cell_priority(a: dict) -> float:
    """Metadata-only priority for the second round: where favor/against cells that the first round lacked
    (ukraine against, russia/china favor, west favor) are most likely: opinion outlets, right-leaning coverage of
    Ukraine, China in trade and economy stories, explicit West mentions."""
    m, right = a["mentions"], a["outlet_bias"] == "right"
    score = 3.0 * (right and m.get("ukraine", 0) >= 3) + 1.0 * (m.get("ukraine", 0) >= 3)
    score += 2.0 * (a["source"] in OPINION_OUTLETS and max(m.get("russia", 0), m.get("china", 0)) >= 3)
    score += 2.0 * (
        m.get("china", 0) >= 3
        and a["topic"] in {"trade", "china", "asia", "coronavirus", "economy_and_jobs", "economic_policy"}
    )
    score += 2.0 * (m.get("west", 0) >= 3)
    return score + priority(a) / 4


def select_round(prefix: str, per_leaning: int, n_annotators: int, seed: int) -> None:
    """Add batches <prefix>1..N of not-yet-selected articles chosen by rare_cell_priority, balanced by leaning."""
    arts = load_articles()
    batches = json.loads((ANN / "batches.json").read_text())
    seen = {i for ids in batches.values() for i in ids}
    rng = random.Random(seed)
    pool = [
        a
        for a in arts.values()
        if a["id"].startswith("as_") and a["id"] not in seen and len(a["text"].split()) <= MAX_WORDS
    ]
    chosen = pick_per_leaning(pool, rare_cell_priority, per_leaning, rng)
    for k in range(n_annotators):
        batches[f"{prefix}{k + 1}"] = chosen[k::n_annotators]
    (ANN / "batches.json").write_text(json.dumps(batches, indent=1) + "\n")
    print({k: len(v) for k, v in batches.items()})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cmd", choices=["select", "select-round2", "select-round3"])
    a = ap.parse_args()
    if a.cmd == "select":
        select(n_allsides=1530, n_annotators=5, n_second=240)
    elif a.cmd == "select-round2":
        select_round("b", per_leaning=250, n_annotators=5, seed=29)
    else:
        # round 3 added "+1 for any article with 3+ Ukraine mentions" to rare_cell_priority
        select_round("c", per_leaning=250, n_annotators=5, seed=31)


if __name__ == "__main__":
    main()
