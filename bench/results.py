"""List recorded runs, summarise them per task and model, or move them between stores as JSONL.

python -m bench.results [--task ruw] [--summary]
python -m bench.results export --out runs.jsonl [--task ruw]
python -m bench.results import runs.jsonl
"""

import argparse
import json
import os
import statistics
import sys

from bench import report, store, transfer
from bench.errors import BenchError


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
    db_default = os.environ.get("BENCH_RESULTS_DB", "results/results.sqlite")
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", default=db_default, help="results store (default: $BENCH_RESULTS_DB or %(default)s)")
    ap.add_argument("--task")
    ap.add_argument("--summary", action="store_true", help="mean and std over seeds per task and model")
    sub = ap.add_subparsers(dest="command", metavar="{export,import}")
    ex = sub.add_parser("export", help="write every run record to a JSONL file, one per line")
    ex.add_argument("--out", required=True, help="JSONL file to write")
    im = sub.add_parser("import", help="add the runs of a JSONL export that the store does not hold yet")
    im.add_argument("file", help="JSONL file written by export")
    for p in (ex, im):  # also accepted after the subcommand; SUPPRESS keeps a value given before it
        p.add_argument("--db", default=argparse.SUPPRESS)
    ex.add_argument("--task", default=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.command == "export":
        n = transfer.export(args.db, args.out, args.task)
        print(f"exported {n} runs from {args.db} to {args.out}")
        return
    if args.command == "import":
        try:
            imported, skipped = transfer.import_(args.db, args.file)
        except BenchError as e:
            print(f"error: {e}; nothing was imported", file=sys.stderr)
            sys.exit(2)
        print(f"imported {imported} runs into {args.db}; skipped {skipped} already there (same run_id)")
        return
    table_rows = summary(args.db, args.task) if args.summary else rows(args.db, args.task)
    if not table_rows:
        print(f"no runs recorded in {args.db}")
        return
    columns = list(dict.fromkeys(k for r in table_rows for k in r))
    print(report.table(table_rows, columns))


if __name__ == "__main__":
    main()
