"""Display and record GeoStance annotations.

This script never decides a label: it prints the articles of a batch (chosen by scripts/geostance_select.py) for a
human-style reading, and validates and appends the labels an annotator types.

    python scripts/geostance_annotate.py show --batch a1 --pass 1 --n 6
    python scripts/geostance_annotate.py record --batch a1 --pass 1 < labels.txt
    python scripts/geostance_annotate.py status
    python scripts/geostance_annotate.py adjudicate-show --n 6    # double-annotated articles whose passes differ
    python scripts/geostance_annotate.py adjudicate-record < adjudicated.txt
"""

from __future__ import annotations

import argparse
import json
import sys

from bench.data.geostance_annotations import ANN, STANCES, TARGETS, TONES, load_articles

SELECT_COMMANDS = ("select", "select-round2", "select-round3")  # moved to scripts/geostance_select.py


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
    if len(sys.argv) > 1 and sys.argv[1] in SELECT_COMMANDS:
        sys.exit(f"selection moved: python scripts/geostance_select.py {sys.argv[1]}")
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cmd", choices=["show", "record", "status", "adjudicate-show", "adjudicate-record"])
    ap.add_argument("--batch")
    ap.add_argument("--pass", dest="pass_no", type=int, default=1)
    ap.add_argument("--n", type=int, default=6)
    a = ap.parse_args()
    if a.cmd == "adjudicate-show":
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
