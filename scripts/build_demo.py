"""Merge the demo corpus's written parts into data/demo/articles.jsonl with a fixed 60/20/20 split.

The split is stratified by the russia label and then drawn by a seeded shuffle, so every split holds
every stance; it is stored in the file, so the corpus has one split for everyone.
"""

import json
import random
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIELDS = ("id", "date", "headline", "text", "russia", "ukraine", "china", "west", "tone")


def main(parts_dir: Path, out: Path, seed: int = 2014) -> None:
    records = []
    for path in sorted(parts_dir.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                rec = json.loads(line)
                records.append({k: rec[k] for k in FIELDS})
    strata = defaultdict(list)
    for rec in records:
        strata[(rec["russia"], rec["china"])].append(rec)
    rng = random.Random(seed)
    for key in sorted(strata):
        group = sorted(strata[key], key=lambda r: r["id"])
        rng.shuffle(group)
        for i, rec in enumerate(group):
            r = i % 5
            rec["split"] = "train" if r < 3 else ("dev" if r == 3 else "test")
    records.sort(key=lambda r: r["id"])
    with open(out, "w", encoding="utf-8") as f:
        for rec in records:
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    print(f"wrote {len(records)} articles to {out}")


if __name__ == "__main__":
    parts = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "data" / "demo" / "parts"
    main(parts, ROOT / "data" / "demo" / "articles.jsonl")
