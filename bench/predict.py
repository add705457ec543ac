"""Apply a recorded run's saved model to new articles.

    python -m bench.predict RUN_ID articles.jsonl page.txt [--db results/results.sqlite] [--out predictions.jsonl]

Inputs are JSONL, CSV, plain-text files or saved news-aggregator pages (see bench.data.articles). The run must have
been trained with `train.save_model=true`, which keeps its best checkpoint in `<run dir>/model`.
"""

import argparse
import json
import sys
from pathlib import Path

from omegaconf import OmegaConf

from bench.data import articles
from bench.errors import BenchError
from bench.models import registry
from bench.records import store
from bench.reports import tables


def load_record(run: str, db: str) -> dict:
    """A run record by run id (from the results store) or by the path of its run.json."""
    if run.endswith(".json") and Path(run).exists():
        return json.loads(Path(run).read_text(encoding="utf-8"))
    rec = store.get(db, run)
    if rec is None:
        raise BenchError(f"no run {run!r} in {db}; list runs with `python -m bench.results --db {db}`")
    return rec


def predict(record: dict, paths: list[str]) -> list[dict]:
    """Label and class probabilities for every article and target of the run's task, from any model kind."""
    model_dir = Path(record["record_path"]).parent / "model"
    if not model_dir.is_dir():
        raise BenchError(
            f"run {record['run_id']} kept no model ({model_dir} is missing); re-run it with train.save_model=true"
        )
    cfg = OmegaConf.create(record["config"])
    targets = list(cfg.task.targets) if cfg.task.target_field is not None else None
    examples = articles.as_examples(articles.import_articles(*paths), targets)
    out = registry.load(cfg, model_dir).predict(examples)
    labels = list(cfg.task.labels)
    return [
        {
            "id": e["group"],
            "target": e["target"],
            "label": label,
            "probs": {lab: round(x, 6) for lab, x in zip(labels, p, strict=True)},
            **e["meta"],
        }
        for e, label, p in zip(examples, out.labels, out.probs, strict=True)
    ]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run", help="run id in the results store, or the path of a run.json")
    ap.add_argument("inputs", nargs="+", help="JSONL, CSV, text or saved aggregator-page files, or folders")
    ap.add_argument("--db", default=store.default_db())
    ap.add_argument("--out", help="write one JSON line per article and target here")
    args = ap.parse_args(argv)
    try:
        rows = predict(load_record(args.run, args.db), args.inputs)
    except BenchError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    if args.out:
        Path(args.out).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    table = [
        {
            "id": r["id"],
            "outlet": r["outlet"],
            "headline": (r["headline"] or "")[:50],
            "target": r["target"],
            "label": r["label"],
            "p": max(r["probs"].values()),
        }
        for r in rows
    ]
    print(tables.table(table, ["id", "outlet", "headline", "target", "label", "p"]))


if __name__ == "__main__":
    main()
