"""Leaderboard per task from the results store, with bootstrap intervals and significance against the best row.

`python -m bench.leaderboard [--db PATH] [--task T ...] [--split test|dev] [--metric f_avg|macro_f1|accuracy]
[--format table|markdown|csv|html] [--out FILE]`

One row per model configuration: runs are grouped by task, model name and a hash of the resolved config without
seed, output_dir, results_db, print_table and eval_task (rows of one model in several configurations are labelled
with that hash, and their `settings` column shows the overrides that tell them apart). For each row:

* score: mean ± sample std of the metric over the row's runs (seeds), n = number of runs: one per seed, the newest
  where a seed was run again (force=true, or again with eval_task);
* 95% CI: percentile bootstrap over the split's texts (1000 resamples; all (target, text) pairs of a drawn text
  come together, since they share it and are not independent; with one example per text this is the plain example
  bootstrap), computed for each run from its predictions file (files without the "group" field, written before it
  was recorded, make the whole board resample single examples); the row shows the *mean of the per-run lower
  and upper bounds* (the interval a typical seed gets). Per-target intervals (HTML plot) are computed the same way
  on each target's examples;
* significance: paired bootstrap (same resampled texts for both systems) of each row's *first run*
  (lowest seed, earliest) against the first run of the best row (highest mean), on the example ids both share;
  rows with p >= 0.05 are marked `*` (not significantly different from the best).
"""

import argparse
import csv
import io
import json
import logging
import statistics
import sys
from collections import Counter
from pathlib import Path

from bench.errors import BenchError
from bench.evaluation.metrics import METRICS
from bench.evaluation.significance import bootstrap_ci, paired_bootstrap, score_function
from bench.records import store
from bench.reports import tables
from bench.reports.board import Board, Row, config_hash, display_rows, title

log = logging.getLogger("bench")
NOT_SETTINGS = ("task", "model", "seed", "results_db", "print_table", "model.protocol", "force", "eval_task")
SECOND = {"f_avg": "f_avg_targets", "f_avg_targets": "f_avg"}  # the other headline score shown beside the main one
ALPHA = 0.05
LEGEND = (
    "score: mean ± std over seeds (n runs); 95% CI: percentile bootstrap over examples, or over texts where the "
    "title says so (all target pairs of a drawn text together), mean of the per-seed bounds; "
    f"* = not significantly different from the best row (paired bootstrap of each row's first seed, p >= {ALPHA})"
)


def settings(rec: dict) -> str:
    """The run's command-line overrides that set its configuration (not task, model, seed or where it wrote)."""
    return " ".join(o for o in rec.get("overrides", []) if o.split("=")[0] not in NOT_SETTINGS)


def load_predictions(rec: dict, split: str) -> dict[str, dict]:
    """The run's predictions on `split`, by example id; a clear error when the file is missing."""
    path = rec.get("predictions_path")
    if not path:
        raise BenchError(f"run {rec.get('run_id')} records no predictions_path; re-run it to get a predictions file")
    if not Path(path).is_file():
        raise BenchError(
            f"predictions file {path} of run {rec.get('run_id')} (record {rec.get('record_path')}) not found; "
            "restore it or delete the run from the results store"
        )
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip() and (row := json.loads(line))["split"] == split:
                out[row["id"]] = row
    if not out:
        raise BenchError(f"predictions file {path} holds no {split!r} examples")
    return out


def _groups(rows: list[dict], clustered: bool) -> list | None:
    """Bootstrap clusters: each prediction's article ("group"), or None (single examples)."""
    return [r["group"] for r in rows] if clustered else None


def _targets(rows: list[dict]) -> list | None:
    """Each prediction's target, for metrics that average over targets (None for single-label tasks)."""
    return [r["target"] for r in rows] if rows and rows[0].get("target") is not None else None


def _score(rec: dict, preds: dict, split: str, metric: str, labels) -> float:
    """A run's score: as recorded, or computed from its predictions (records made before the metric existed)."""
    recorded = rec["metrics"][split]["pooled"].get(metric)
    if recorded is not None:
        return recorded
    rows = list(preds.values())
    return METRICS[metric].fn([r["gold"] for r in rows], [r["pred"] for r in rows], list(labels), _targets(rows))


def _avg_ci(preds_per_run: list[dict], score_fn, clustered: bool, ids_filter=None, **kw) -> tuple[float, float]:
    cis = []
    for preds in preds_per_run:
        rows = [r for r in preds.values() if ids_filter is None or ids_filter(r)]
        gold, pred, groups = [r["gold"] for r in rows], [r["pred"] for r in rows], _groups(rows, clustered)
        cis.append(bootstrap_ci(gold, pred, score_fn, groups=groups, targets=_targets(rows), **kw))
    return statistics.mean(c.low for c in cis), statistics.mean(c.high for c in cis)


def _board(task: str, records: list[dict], split: str, metric: str | None, n_resamples: int, seed: int) -> Board:
    metric = metric or records[0]["main_score"]
    groups: dict[tuple, list] = {}
    newest: dict[tuple, dict] = {}  # one run per seed and configuration: a re-run (force=true, or the same run
    for r in sorted(records, key=lambda r: r["created_at"]):  # with eval_task) replaces the earlier one
        newest[(r["model"]["name"], config_hash(r["config"]), r["seed"])] = r
    if len(newest) < len(records):
        dropped = len(records) - len(newest)
        log.info("%s: %d earlier run(s) of a recorded seed left out (the newest counts)", task, dropped)
    for (name, h, _), r in sorted(newest.items(), key=lambda kv: (kv[1]["seed"], kv[1]["created_at"])):
        groups.setdefault((name, h), []).append(r)
    names = Counter(name for name, _ in groups)
    labels = records[0]["config"]["task"]["labels"]
    score_fn = score_function(metric, labels)
    has_targets = records[0]["config"]["task"].get("target_field") is not None
    second = SECOND.get(metric) if has_targets and len(records[0]["config"]["task"].get("targets") or []) > 1 else None
    kw = {"n_resamples": n_resamples, "seed": seed}
    rows, preds = [], {}
    for (_, h), recs in groups.items():
        preds[h] = [load_predictions(r, split) for r in recs]
    # predictions files written before articles were recorded have no "group": then the whole board resamples
    # single examples, so that every row's interval is computed the same way
    clustered = all("group" in p for runs in preds.values() for run in runs for p in run.values())
    for (name, h), recs in groups.items():
        row = Row(name, h, recs, label=name if names[name] == 1 else f"{name} [{h}]")
        row.protocol = recs[0]["model"].get("protocol") or recs[0]["config"]["model"].get("protocol") or "default"
        if row.protocol == "tuned" or names[name] > 1:  # the setting chosen on dev, or what tells rows apart
            row.settings = settings(recs[0])
        row.scores = [_score(r, p, split, metric, labels) for r, p in zip(recs, preds[h], strict=True)]
        if second:
            seconds = [_score(r, p, split, second, labels) for r, p in zip(recs, preds[h], strict=True)]
            row.second = statistics.mean(seconds)
            row.second_std = statistics.stdev(seconds) if len(seconds) > 1 else None
        invalid = [r["metrics"][split].get("invalid") for r in recs]
        if any(invalid):
            n = [r["metrics"][split]["pooled"]["n"] for r in recs]
            row.invalid_rate = statistics.mean((i or 0) / k for i, k in zip(invalid, n, strict=True))
        row.mean = statistics.mean(row.scores)
        row.std = statistics.stdev(row.scores) if len(recs) > 1 else None
        row.ci = _avg_ci(preds[h], score_fn, clustered, **kw)
        row.n_examples = len(preds[h][0])
        for t in recs[0]["metrics"][split]["per_target"]:
            row.per_target[t] = statistics.mean(
                r["metrics"][split]["per_target"][t][METRICS[metric].per_target_mean_of or metric] for r in recs
            )
            row.per_target_ci[t] = _avg_ci(preds[h], score_fn, clustered, lambda p, t=t: p["target"] == t, **kw)
        row.params = recs[0]["model"].get("params")
        row.train_s = statistics.mean(r["timing_s"].get("train", 0.0) for r in recs)
        rows.append(row)
    rows.sort(key=lambda r: -r.mean)
    best = rows[0]
    for row in rows:
        row.rank = 1 + sum(other.mean > row.mean for other in rows)
        if row is best:
            continue
        a, b = preds[best.config_hash][0], preds[row.config_hash][0]
        ids = [i for i in a if i in b]
        if len(ids) < max(len(a), len(b)):
            log.warning("%s: %s is compared with the best row on %d shared ids", task, row.label, len(ids))
        if not ids:
            row.p_vs_best, row.tied = None, False
            continue
        if any(a[i]["gold"] != b[i]["gold"] for i in ids):
            raise BenchError(
                f"{task}: runs {best.records[0]['run_id']} and {row.records[0]['run_id']} disagree on gold"
            )
        shared = [a[i] for i in ids]
        gold, pred_a, pred_b = [r["gold"] for r in shared], [r["pred"] for r in shared], [b[i]["pred"] for i in ids]
        test = paired_bootstrap(
            gold, pred_a, pred_b, score_fn, groups=_groups(shared, clustered), targets=_targets(shared), **kw
        )
        row.p_vs_best, row.tied = test.p_value, test.p_value >= ALPHA
    targets = sorted({t for r in rows for t in r.per_target})
    n_clusters = len({p["group"] for p in preds[best.config_hash][0].values()}) if clustered else None
    version = str(records[0]["task"].get("version", "1"))
    return Board(task, split, metric, targets, best.n_examples, rows, n_clusters, version, second)


def build(db, tasks=None, split="test", metric=None, n_resamples=1000, seed=0) -> list[Board]:
    """One Board per task and task version (sorted), with rows ranked by mean score: runs on two versions of a
    task (other labels or splits) are never ranked together."""
    by_task: dict[tuple, list] = {}
    for r in store.runs(db):
        if r["status"] == "complete" and (not tasks or r["task"] in tasks):
            rec = json.loads(r["record"])
            if rec["config"]["model"].get("protocol") == "tuning":  # selection trials (bench.tune), not results
                continue
            by_task.setdefault((r["task"], str(rec["task"].get("version", "1"))), []).append(rec)
    missing = [t for t in tasks or () if t not in {name for name, _ in by_task}]
    if missing:
        recorded = sorted({name for name, _ in by_task}) or "none"
        raise BenchError(f"no runs of task(s) {', '.join(missing)} in {db}; recorded: {recorded}")
    boards = []
    for (task, _), recs in sorted(by_task.items()):
        task_cfg = recs[0]["config"]["task"]
        if metric and not METRICS[metric].applies(task_cfg["labels"], task_cfg.get("target_field") is not None):
            msg = f"metric {metric!r} does not apply to task {task!r} (its labels or targets do not fit it)"
            if tasks:
                raise BenchError(msg)
            log.warning("%s; skipping it", msg)
            continue
        boards.append(_board(task, recs, split, metric, n_resamples, seed))
    return boards


def to_table(boards: list[Board]) -> str:
    parts = []
    for b in boards:
        rows = display_rows(b)
        parts.append(f"{title(b)}\n{tables.table(rows, list(rows[0]))}")
    return "\n\n".join([*parts, LEGEND])


def to_markdown(boards: list[Board]) -> str:
    esc = lambda v: str(v).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")  # noqa: E731
    parts = []
    for b in boards:
        rows = display_rows(b)
        cols = list(rows[0])
        lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        lines += ["| " + " | ".join(esc(r[c]) for c in cols) + " |" for r in rows]
        parts.append(f"### {esc(title(b))}\n\n" + "\n".join(lines))
    return "\n\n".join([*parts, f"_{LEGEND}_"]) + "\n"


def csv_rows(boards: list[Board]) -> list[dict]:
    """Unformatted values (scores in [0, 1]); per-target columns are named target:<name>."""
    out = []
    for b in boards:
        for r in b.rows:
            row = {"task": b.task, "version": b.version, "split": b.split, "metric": b.metric, "rank": r.rank}
            row |= {"model": r.model, "protocol": r.protocol, "second_metric": b.second_metric, "second": r.second}
            row |= {"second_std": "" if r.second_std is None else r.second_std, "settings": r.settings}
            row |= {"config_hash": r.config_hash, "n": len(r.records), "n_examples": r.n_examples}
            row |= {"seeds": ";".join(map(str, r.seeds)), "mean": r.mean, "std": "" if r.std is None else r.std}
            row |= {"ci_low": r.ci[0], "ci_high": r.ci[1], "p_vs_best": "" if r.p_vs_best is None else r.p_vs_best}
            row |= {"best": r is b.best, "tied_with_best": r.tied, "params": r.params, "train_s": r.train_s}
            out.append(row | {f"target:{t}": v for t, v in r.per_target.items()})
    return out


def to_csv(boards: list[Board]) -> str:
    rows = csv_rows(boards)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(dict.fromkeys(k for r in rows for k in r)), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def render(boards: list[Board], fmt: str, db: str = "") -> str:
    if fmt == "html":
        from bench.reports.html import render_html

        return render_html(boards, db=db, legend=LEGEND)
    return {"table": to_table, "markdown": to_markdown, "csv": to_csv}[fmt](boards)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", default=store.default_db())
    ap.add_argument("--task", nargs="+", help="only these tasks (default: all recorded)")
    ap.add_argument("--split", choices=("test", "dev"), default="test")
    ap.add_argument("--metric", choices=sorted(METRICS), help="default: each task's main score")
    ap.add_argument("--format", choices=("table", "markdown", "csv", "html"), default="table")
    ap.add_argument("--out", help="write here instead of stdout")
    ap.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples (default 1000)")
    ap.add_argument("--seed", type=int, default=0, help="bootstrap random seed")
    args = ap.parse_args(argv)
    try:
        boards = build(args.db, args.task, args.split, args.metric, args.resamples, args.seed)
        if not boards:
            print(f"no runs recorded in {args.db}", file=sys.stderr)
            return
        text = render(boards, args.format, db=args.db)
    except BenchError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


if __name__ == "__main__":
    main()
