"""List recorded runs, summarise them per task and model, or move them between stores as JSONL.

python -m bench.results [--task ruw] [--summary]
python -m bench.results --cross [--model tfidf_svm]      # train task x eval task matrix of test main scores
python -m bench.results --cost [--task geostance]        # per long-document strategy: scores, tokens, seconds
python -m bench.results export --out runs.jsonl [--task ruw]
python -m bench.results import runs.jsonl
"""

import argparse
import json
import statistics
import sys

from bench.errors import BenchError
from bench.evaluation.metrics import METRICS
from bench.records import export as transfer
from bench.records import store
from bench.reports import tables as report


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
        key = METRICS[recs[0]["main_score"]].per_target_mean_of or recs[0]["main_score"]  # a target's own score
        for target in recs[0]["metrics"]["test"]["per_target"]:
            row[target] = statistics.mean(rec["metrics"]["test"]["per_target"][target][key] for rec in recs)
        out.append(row)
    return out


def _records(db: str, task: str | None = None, model: str | None = None) -> list[dict]:
    return [json.loads(r["record"]) for r in store.runs(db, task) if model is None or r["model"] == model]


def cross_matrix(db: str, model: str | None = None) -> list[dict]:
    """One row per (train task, model) with a cross-dataset evaluation: the mean test main score over its runs
    on each eval task (the eval task's main score), the in-domain test score on the diagonal."""
    cells: dict = {}
    for rec in _records(db, model=model):
        key = (rec["task"]["name"], rec["model"]["name"])
        row = cells.setdefault(key, {})
        row.setdefault(key[0], []).append(rec["metrics"]["test"]["main"])
        for split, m in rec["metrics"].items():
            if split.startswith("cross:"):
                row.setdefault(split.removeprefix("cross:"), []).append(m["main"])
    cells = {k: v for k, v in cells.items() if len(v) > 1}  # only (task, model) pairs evaluated elsewhere too
    tasks = sorted({t for k, v in cells.items() for t in [k[0], *v]})
    return [
        {"train \\ eval": train, "model": m, **{t: statistics.mean(v[t]) if t in v else None for t in tasks}}
        for (train, m), v in sorted(cells.items())
    ]


def cost(db: str, task: str | None = None) -> list[dict]:
    """One row per (task, model, long-document strategy): test scores and what the runs cost (means over runs)."""
    groups: dict = {}
    for rec in _records(db, task):
        key = (
            rec["task"]["name"],
            rec["model"]["name"],
            rec["config"]["model"].get("long_document", rec["config"]["train"].get("long_document")),
        )
        groups.setdefault(key, []).append(rec)

    def mean(values, seconds=False):  # as int or text: the table prints floats as percentages
        values = [v for v in values if v is not None]
        if not values:
            return None
        return f"{statistics.mean(values):.1f}" if seconds else round(statistics.mean(values))

    out = []
    for (task_name, model, strategy), recs in sorted(groups.items()):
        c = [r.get("cost", {}) for r in recs]
        out.append(
            {
                "task": task_name,
                "model": model,
                "long_document": strategy,
                "runs": len(recs),
                "test": statistics.mean(r["metrics"]["test"]["main"] for r in recs),
                "test_acc": statistics.mean(r["metrics"]["test"]["pooled"]["accuracy"] for r in recs),
                "train_tokens": mean(x.get("train", {}).get("tokens") for x in c),
                "test_inputs": mean(x.get("test", {}).get("inputs") for x in c),
                "test_tokens": mean(x.get("test", {}).get("tokens") for x in c),
                "train_s": mean((r["timing_s"].get("train") for r in recs), seconds=True),
                "test_s": mean((x.get("test", {}).get("wall_s") for x in c), seconds=True),
                # test tokens read per second of test prediction (tokenizing included)
                "test_tok_s": mean(x["test"]["tokens"] / x["test"]["wall_s"] for x in c if _timed(x.get("test"))),
            }
        )
    return out


def _strategy(rec: dict) -> str | None:
    """The run's long-document strategy (recorded under train before it moved to model)."""
    return rec["config"]["model"].get("long_document", rec["config"]["train"].get("long_document"))


def _timed(split_cost: dict | None) -> bool:
    return bool(split_cost) and bool(split_cost.get("tokens")) and bool(split_cost.get("wall_s"))


def main(argv=None) -> None:
    db_default = store.default_db()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", default=db_default, help="results store (default: $BENCH_RESULTS_DB or %(default)s)")
    ap.add_argument("--task")
    ap.add_argument("--summary", action="store_true", help="mean and std over seeds per task and model")
    ap.add_argument("--cross", action="store_true", help="train task x eval task matrix (runs with eval_task=...)")
    ap.add_argument("--model", help="with --cross: only this model")
    ap.add_argument("--cost", action="store_true", help="scores and cost per long-document strategy")
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
    if args.cross:
        table_rows = cross_matrix(args.db, args.model)
    elif args.cost:
        table_rows = cost(args.db, args.task)
    else:
        table_rows = summary(args.db, args.task) if args.summary else rows(args.db, args.task)
    if not table_rows:
        print(f"no runs {'with eval_task ' if args.cross else ''}recorded in {args.db}")
        return
    columns = list(dict.fromkeys(k for r in table_rows for k in r))
    print(report.table(table_rows, columns))


if __name__ == "__main__":
    main()
