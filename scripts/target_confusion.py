"""Per-target confusion of recorded runs on one split: how the examples of each gold stance were labelled.

    python scripts/target_confusion.py --task ruw --target russia [--split test] [--db results/leaderboard.sqlite]

One block per run (model, protocol, seed): rows are gold labels, columns predictions, from the run's predictions
file. docs/RESULTS.md uses it to show whether a model reads the target (e.g. how many pro-Russia tweets it calls
favor toward Russia).
"""

import argparse
import json
from collections import Counter

from bench.records import store
from bench.reports.leaderboard import settings
from bench.reports.tables import table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", required=True)
    ap.add_argument("--target", required=True)
    ap.add_argument("--split", default="test")
    ap.add_argument("--db", default=store.default_db())
    args = ap.parse_args()
    for row in store.runs(args.db, args.task):
        rec = json.loads(row["record"])
        labels = rec["config"]["task"]["labels"]
        with open(rec["predictions_path"], encoding="utf-8") as f:
            preds = [p for p in map(json.loads, f) if p["split"] == args.split and p["target"] == args.target]
        counts = Counter((p["gold"], p["pred"]) for p in preds)
        protocol = rec["model"].get("protocol") or rec["config"]["model"].get("protocol", "default")
        name = f"{rec['model']['name']} ({protocol}) seed {rec['seed']} [{settings(rec)}]"
        print(f"\n{name}: gold (rows) x predicted (columns)")
        rows = [{"gold": g, **{p: counts[(g, p)] for p in labels}, "n": sum(counts[(g, p)] for p in labels)}
                for g in labels]  # fmt: skip
        print(table(rows, ["gold", *labels, "n"]))


if __name__ == "__main__":
    main()
