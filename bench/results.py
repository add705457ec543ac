"""List recorded runs, or summarise them per task and model: `python -m bench.results [--task ruw] [--summary]`."""

import argparse
import json
import os
import statistics

from bench import report, store


def rows(db: str, task: str | None = None) -> list[dict]:
    """One row per recorded run."""
    return [
        {
            "run_id": r["run_id"],
            "task": r["task"],
            "model": r["model"],
            "seed": r["seed"],
            "main_score": r["main_score"],
            "dev": r["dev_main"],
            "test": r["test_main"],
            "wall_s": f"{r['wall_s']:.1f}",
            "commit": (r["git_commit"] or "")[:8],
        }
        for r in store.runs(db, task)
    ]


def summary(db: str, task: str | None = None) -> list[dict]:
    """One row per (task, model): test main score mean and standard deviation over seeds, per-target means."""
    groups: dict = {}
    for r in store.runs(db, task):
        groups.setdefault((r["task"], r["model"]), []).append(json.loads(r["record"]))
    out = []
    for (task_name, model), recs in sorted(groups.items()):
        test = [rec["metrics"]["test"]["main"] for rec in recs]
        row = {
            "task": task_name,
            "model": model,
            "seeds": len(recs),
            "main_score": recs[0]["main_score"],
            "dev": statistics.mean(rec["metrics"]["dev"]["main"] for rec in recs),
            "test": statistics.mean(test),
            "test_std": statistics.stdev(test) if len(test) > 1 else 0.0,
        }
        for target in recs[0]["metrics"]["test"]["per_target"]:
            key = recs[0]["main_score"]
            row[target] = statistics.mean(rec["metrics"]["test"]["per_target"][target][key] for rec in recs)
        out.append(row)
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--db", default=os.environ.get("BENCH_RESULTS_DB", "results/results.sqlite"))
    ap.add_argument("--task")
    ap.add_argument("--summary", action="store_true", help="mean and std over seeds per task and model")
    args = ap.parse_args(argv)
    table_rows = summary(args.db, args.task) if args.summary else rows(args.db, args.task)
    if not table_rows:
        print(f"no runs recorded in {args.db}")
        return
    columns = list(dict.fromkeys(k for r in table_rows for k in r))
    print(report.table(table_rows, columns))


if __name__ == "__main__":
    main()
