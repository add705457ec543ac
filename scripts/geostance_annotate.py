"""Select, display and record GeoStance annotations.

This script never decides a label: it chooses which articles to show (from metadata only),
prints them for a human-style reading, and validates and appends the labels an annotator types.

    python scripts/geostance_annotate.py select            # writes data/geostance/annotations/batches.json
    python scripts/geostance_annotate.py show --batch a1 --pass 1 --n 6
    python scripts/geostance_annotate.py record --batch a1 --pass 1 < labels.txt
    python scripts/geostance_annotate.py status
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ANN = ROOT / "data" / "geostance" / "annotations"
DATA_DIR = Path(os.environ.get("BENCH_DATA_DIR", ROOT.parent / "shared" / "datasets"))
STANCES = {"favor", "against", "neutral", "none"}
TONES = {"positive", "negative", "neutral"}
TARGETS = ("russia", "ukraine", "china", "west")
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


def load_articles() -> dict[str, dict]:
    """Every candidate article keyed by GeoStance id, from the local copies."""
    arts = {}
    with open(DATA_DIR / "allsides-geo" / "articles.jsonl", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            arts["as_" + r["id"]] = {
                "id": "as_" + r["id"],
                "title": r["title"],
                "text": r["text"],
                "source": r["source"],
                "outlet_bias": r["outlet_bias"],
                "date": r["date"],
                "topic": r["topic"],
                "mentions": r["mentions"],
                "url": r["url"],
            }
    for path in sorted(glob.glob(str(DATA_DIR / "ukraine-crisis-2014" / "original_json" / "*.json"))):
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
        sents = sorted(d["sentences"], key=lambda s: s["position_in_article"])
        aid = "uc_" + d["id"]
        arts[aid] = {
            "id": aid,
            "title": sents[0]["content"],
            "text": "\n".join(s["content"] for s in sents),
            "source": "unknown (ukraine-crisis-2014)",
            "outlet_bias": "unknown",
            "date": "2014",
            "topic": "ukraine_crisis",
            "mentions": {},
            "url": "",
        }
    return arts


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


def done_ids(pass_no: int, batch: str) -> set[str]:
    path = ANN / ("adjudication.jsonl" if batch == "adjudication" else f"pass{pass_no}_{batch}.jsonl")
    if not path.exists():
        return set()
    return {json.loads(line)["id"] for line in path.read_text().splitlines() if line.strip()}


def show(batch: str, pass_no: int, n: int) -> None:
    arts = load_articles()
    ids = json.loads((ANN / "batches.json").read_text())[batch]
    done = done_ids(pass_no, batch)
    todo = [i for i in ids if i not in done]
    print(f"# batch {batch} pass {pass_no}: {len(done)} recorded, {len(todo)} to go")
    for aid in todo[:n]:
        a = arts[aid]
        text = "\n".join(p.strip() for p in a["text"].split("\n") if p.strip())
        print(f"\n======== {aid} | {a['source']} | {a['date']} | {len(text.split())} words")
        print(text)


def record(batch: str, pass_no: int) -> None:
    """Read lines `id | russia | ukraine | china | west | tone | rationale` from stdin and append them."""
    ids = set(json.loads((ANN / "batches.json").read_text())[batch])
    done = done_ids(pass_no, batch)
    out = []
    for k, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) != 7:
            sys.exit(
                f"stdin line {k}: expected 7 fields 'id|russia|ukraine|china|west|tone|rationale', got {len(parts)}"
            )
        aid, *stances, tone, why = parts
        stances = [s.lower() for s in stances]
        if aid not in ids:
            sys.exit(f"stdin line {k}: {aid} is not in batch {batch}")
        if aid in done:
            sys.exit(f"stdin line {k}: {aid} is already recorded in pass {pass_no}")
        bad = [s for s in stances if s not in STANCES] + ([tone] if tone.lower() not in TONES else [])
        if bad:
            sys.exit(f"stdin line {k}: unknown label(s) {bad}; stances are {sorted(STANCES)}, tones {sorted(TONES)}")
        if len(why.split()) < 4:
            sys.exit(f"stdin line {k}: rationale for {aid} needs a full sentence")
        out.append(
            {
                "id": aid,
                **dict(zip(TARGETS, stances, strict=True)),
                "tone": tone.lower(),
                "rationale": why,
                "pass": pass_no,
                "annotator": batch,
            }
        )
        done.add(aid)
    with open(ANN / f"pass{pass_no}_{batch}.jsonl", "a", encoding="utf-8") as f:
        for r in out:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"recorded {len(out)}; batch {batch} pass {pass_no} now has {len(done)}")


def disagreements() -> list[tuple[dict, dict]]:
    """Double-annotated articles whose two passes differ on any label, in a fixed order."""
    first = {}
    for path in sorted(ANN.glob("pass1_*.jsonl")):
        for line in path.read_text().splitlines():
            if line.strip():
                r = json.loads(line)
                first[r["id"]] = r
    out = []
    for line in (ANN / "pass2_p2.jsonl").read_text().splitlines():
        if line.strip():
            r2 = json.loads(line)
            r1 = first.get(r2["id"])
            if r1 and any(r1[f] != r2[f] for f in (*TARGETS, "tone")):
                out.append((r1, r2))
    return sorted(out, key=lambda pair: pair[0]["id"])


def adjudicate_show(n: int) -> None:
    arts = load_articles()
    done = done_ids(0, "adjudication")
    todo = [(r1, r2) for r1, r2 in disagreements() if r1["id"] not in done]
    print(f"# adjudication: {len(done)} recorded, {len(todo)} to go")
    for r1, r2 in todo[:n]:
        a = arts[r1["id"]]
        text = "\n".join(p.strip() for p in a["text"].split("\n") if p.strip())
        print(f"\n======== {a['id']} | {a['source']} | {a['date']} | {len(text.split())} words")
        for r in (r1, r2):
            labels = " ".join(f"{f}={r[f]}" for f in (*TARGETS, "tone"))
            print(f"PASS {r['pass']}: {labels} | {r['rationale']}")
        print(text)


def adjudicate_record() -> None:
    """Lines `id|russia|ukraine|china|west|tone|rationale` with the adjudicated labels of a disagreement."""
    pending = {r1["id"] for r1, _ in disagreements()}
    done = done_ids(0, "adjudication")
    out = []
    for k, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) != 7:
            sys.exit(f"stdin line {k}: expected 7 fields 'id|russia|ukraine|china|west|tone|rationale'")
        aid, *stances, tone, why = parts
        stances = [x.lower() for x in stances]
        if aid not in pending or aid in done:
            sys.exit(f"stdin line {k}: {aid} is not a pending disagreement")
        if any(x not in STANCES for x in stances) or tone.lower() not in TONES:
            sys.exit(f"stdin line {k}: unknown label; stances are {sorted(STANCES)}, tones {sorted(TONES)}")
        out.append(
            {
                "id": aid,
                **dict(zip(TARGETS, stances, strict=True)),
                "tone": tone.lower(),
                "rationale": why,
                "pass": 0,
                "annotator": "adjudicator",
            }
        )
        done.add(aid)
    with open(ANN / "adjudication.jsonl", "a", encoding="utf-8") as f:
        for r in out:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"recorded {len(out)}; {len(pending - done)} disagreements left")


def status() -> None:
    batches = json.loads((ANN / "batches.json").read_text())
    for b, ids in batches.items():
        p = 2 if b == "p2" else 1
        print(b, f"{len(done_ids(p, b))}/{len(ids)}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "cmd",
        choices=[
            "select",
            "select-round2",
            "select-round3",
            "show",
            "record",
            "status",
            "adjudicate-show",
            "adjudicate-record",
        ],
    )
    ap.add_argument("--batch")
    ap.add_argument("--pass", dest="pass_no", type=int, default=1)
    ap.add_argument("--n", type=int, default=6)
    a = ap.parse_args()
    if a.cmd == "select":
        select(n_allsides=1530, n_annotators=5, n_second=240)
    elif a.cmd == "select-round2":
        select_round("b", per_leaning=250, n_annotators=5, seed=29)
    elif a.cmd == "select-round3":
        # round 3 added "+1 for any article with 3+ Ukraine mentions" to rare_cell_priority
        select_round("c", per_leaning=250, n_annotators=5, seed=31)
    elif a.cmd == "adjudicate-show":
        adjudicate_show(a.n)
    elif a.cmd == "adjudicate-record":
        adjudicate_record()
    elif a.cmd == "show":
        show(a.batch, a.pass_no, a.n)
    elif a.cmd == "record":
        record(a.batch, a.pass_no)
    else:
        status()


if __name__ == "__main__":
    main()
