"""Re-run a recorded run from its stored config and report every metric and prediction that differs.

python -m bench.reproduce RUN_ID [--db results/results.sqlite] [--into OTHER.sqlite] [--output-dir DIR] [--tol 0]

The run is re-run with force=true into a fresh output folder and recorded (as a new row) in the same store or
in --into. Exit status: 0 identical, 1 a metric or prediction differs, 2 the run could not be found or re-run.
"""

import argparse
import json
import logging
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from omegaconf import OmegaConf

from bench import config
from bench.errors import BenchError
from bench.models import registry
from bench.records import provenance, store

log = logging.getLogger("bench.reproduce")


def rebuild_config(rec: dict, output_dir: Path, results_db: str):
    """The stored resolved config, checked against the schema, with force=true and new output places."""
    stored = dict(rec["config"])
    stored.update(force=True, output_dir=str(output_dir), results_db=str(results_db), print_table=False)
    try:
        cfg = OmegaConf.merge(OmegaConf.structured(config.Config), stored)
        schema = registry.kind(stored["model"]["kind"]).config  # the model kind's own schema checks its keys
        cfg.model = OmegaConf.merge(OmegaConf.structured(schema), stored["model"])
        return cfg
    except Exception as e:  # omegaconf's ValidationError / ConfigKeyError: a schema changed since the run
        raise BenchError(f"the stored config of run {rec['run_id']} no longer fits the config schema ({e})") from None


def _leaves(obj, prefix=()):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _leaves(v, (*prefix, str(k)))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _leaves(v, (*prefix, str(i)))
    else:
        yield "/".join(prefix), obj


def metric_differences(old: dict, new: dict, tol: float = 0.0) -> list[str]:
    """One line per metric (split/pooled|per_target/target/score) that differs by more than tol."""
    a, b = dict(_leaves(old)), dict(_leaves(new))
    out = []
    for key in sorted(set(a) | set(b)):
        x, y = a.get(key), b.get(key)
        if isinstance(x, int | float) and isinstance(y, int | float) and not isinstance(x, bool):
            if abs(x - y) > tol:
                out.append(f"{key}: {x:.6g} -> {y:.6g} ({y - x:+.3g})")
        elif x != y:
            out.append(f"{key}: {x!r} -> {y!r}")
    return out


def _predictions(path: str) -> dict | None:
    if not Path(path).exists():
        return None
    with open(path, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return {(r["split"], r["id"], r["target"]): r["pred"] for r in rows}


def prediction_differences(old_path: str, new_path: str) -> int | None:
    """How many examples got another label (None if the original predictions file is gone)."""
    old, new = _predictions(old_path), _predictions(new_path)
    if old is None or new is None:
        return None
    return sum(old.get(k) != new.get(k) for k in set(old) | set(new))


def reproduce(run_id: str, db: str, into: str | None = None, output_dir: str | None = None, tol: float = 0.0):
    """Re-run run_id; returns (original record, new record, metric difference lines, prediction differences)."""
    from bench.run import run

    rec = store.get(db, run_id)
    if rec is None:
        raise BenchError(f"run {run_id!r} is not in the results store {db}; list runs with python -m bench.results")
    git = provenance.git_state()
    was = rec.get("git", {})
    if git["commit"] != was.get("commit"):
        log.warning(
            "the code differs from the recorded run: commit %s now, %s then; differences may come from the code",
            (git["commit"] or "?")[:12],
            (was.get("commit") or "?")[:12],
        )
    if was.get("dirty"):
        log.warning("the recorded run had uncommitted changes (git.dirty); its exact code is unknown")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    out = Path(output_dir or Path(os.environ.get("BENCH_OUTPUT_DIR", "outputs")) / "reproduce" / f"{run_id}-{stamp}")
    cfg = rebuild_config(rec, out, into or db)
    new = run(cfg)
    if new["data_checksums"] != rec["data_checksums"]:
        log.warning("the data files differ from the recorded run's (SHA-256): %s", new["data_checksums"])
    diffs = metric_differences(rec["metrics"], new["metrics"], tol)
    preds = prediction_differences(rec["predictions_path"], new["predictions_path"])
    return rec, new, diffs, preds


def main(argv=None) -> int:
    """The exit status: 0 identical, 1 something differs, 2 the run could not be found or re-run."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run_id")
    ap.add_argument("--db", default=store.default_db())
    ap.add_argument("--into", help="record the re-run in this store instead of --db")
    ap.add_argument("--output-dir", help="folder for the re-run's run.json and predictions (default: a new one)")
    ap.add_argument("--tol", type=float, default=0.0, help="largest metric difference counted as equal")
    args = ap.parse_args(argv)
    try:
        rec, new, diffs, preds = reproduce(args.run_id, args.db, args.into, args.output_dir, args.tol)
    except BenchError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"reproduced {rec['run_id']} as {new['run_id']} ({new['record_path']})")
    if preds is None:
        print(f"predictions: original file {rec['predictions_path']} is missing; not compared")
    else:
        print(f"predictions: {preds} differ")
    if diffs:
        print(f"{len(diffs)} metrics differ (split/scope/target/score: recorded -> now):")
        print("\n".join(f"  {d}" for d in diffs))
    if diffs or preds:
        return 1
    print("identical: every metric of every split and target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
