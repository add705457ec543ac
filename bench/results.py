"""List recorded runs as a table: `python -m bench.results [--task ruw] [--db results/results.sqlite]`."""

import argparse
import os

from bench import report, store


def rows(db: str, task: str | None = None) -> list[dict]:
    out = []
    for r in store.runs(db, task):
        out.append(
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
        )
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--db", default=os.environ.get("BENCH_RESULTS_DB", "results/results.sqlite"))
    ap.add_argument("--task")
    args = ap.parse_args(argv)
    table_rows = rows(args.db, args.task)
    if not table_rows:
        print(f"no runs recorded in {args.db}")
        return
    print(
        report.table(table_rows, ["task", "model", "seed", "main_score", "dev", "test", "wall_s", "commit", "run_id"])
    )


if __name__ == "__main__":
    main()
