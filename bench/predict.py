"""Apply a recorded run's saved model to new articles.

    python -m bench.predict RUN_ID articles.jsonl page.txt [--db results/results.sqlite] [--out predictions.jsonl]

Inputs are JSONL, CSV, plain-text files or saved news-aggregator pages (see bench.importers). The run must have
been trained with `train.save_model=true`, which keeps its best checkpoint in `<run dir>/model`.
"""

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
import torch

from bench import importers, report, store
from bench.encoding import aggregate, encode, softmax
from bench.errors import BenchError
from bench.models import joint


def load_record(run: str, db: str) -> dict:
    """A run record by run id (from the results store) or by the path of its run.json."""
    if run.endswith(".json") and Path(run).exists():
        return json.loads(Path(run).read_text(encoding="utf-8"))
    for row in store.runs(db):
        if row["run_id"] == run:
            return json.loads(row["record"])
    raise BenchError(f"no run {run!r} in {db}; list runs with `python -m bench.results --db {db}`")


def predict(record: dict, paths: list[str], batch_size: int = 32) -> list[dict]:
    """Label and class probabilities for every article and target of the run's task."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding

    model_dir = Path(record["record_path"]).parent / "model"
    if not (model_dir / "config.json").exists():
        raise BenchError(
            f"run {record['run_id']} kept no model ({model_dir} is missing); re-run it with train.save_model=true"
        )
    cfg = record["config"]
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    has_target = cfg["task"]["target_field"] is not None
    targets = list(cfg["task"]["targets"]) if has_target else None
    examples = importers.as_examples(importers.import_articles(*paths), targets)
    strategy, max_length = cfg["train"]["long_document"], cfg["model"]["max_length"]
    if cfg["model"].get("formulation") == "joint":  # one input per article, a head per target
        labels = list(cfg["task"]["labels"])
        model = joint.load_saved(model_dir, targets, labels).eval()
        enc = joint.encode_articles(tokenizer, examples, max_length, strategy)
    else:
        model = AutoModelForSequenceClassification.from_pretrained(model_dir, use_safetensors=True).eval()
        labels = [model.config.id2label[i] for i in range(model.config.num_labels)]
        batch = {"text": [e["text"] for e in examples], "target": [e["target"] or "" for e in examples]}
        enc = encode(tokenizer, batch, max_length, strategy, has_target)
    rows = enc.pop("example")  # the article (and target) of each input (several per article for chunks_*)
    features = [{k: enc[k][i] for k in enc} for i in range(len(rows))]
    order = sorted(range(len(features)), key=lambda i: len(features[i]["input_ids"]))  # less padding per batch
    collate = DataCollatorWithPadding(tokenizer)
    logits = None
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            out = model(**collate([features[i] for i in idx])).logits.float().numpy()
            if logits is None:
                logits = np.zeros((len(features), *out.shape[1:]), dtype=np.float32)
            logits[idx] = out
    if cfg["model"].get("formulation") == "joint":
        per_example = joint.example_logits(logits, rows, examples, targets, strategy)
    else:
        per_example = aggregate(logits, rows, len(examples), strategy)
    probs = softmax(per_example.astype(np.float64)).tolist()
    return [
        {
            "id": e["group"],
            "target": e["target"],
            "label": labels[max(range(len(labels)), key=p.__getitem__)],
            "probs": {lab: round(x, 6) for lab, x in zip(labels, p, strict=True)},
            **e["meta"],
        }
        for e, p in zip(examples, probs, strict=True)
    ]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run", help="run id in the results store, or the path of a run.json")
    ap.add_argument("inputs", nargs="+", help="JSONL, CSV, text or saved aggregator-page files, or folders")
    ap.add_argument("--db", default=os.environ.get("BENCH_RESULTS_DB", "results/results.sqlite"))
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
    print(report.table(table, ["id", "outlet", "headline", "target", "label", "p"]))


if __name__ == "__main__":
    main()
