"""Run one experiment: data -> model -> train -> evaluate -> record (`python -m bench.run task=ruw`)."""

import json
import logging
import os
import shutil
import sys
import time
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from bench import checkpoints, config, cross, models, provenance, record, report, store, tracking
from bench.data import load_task, subsample
from bench.errors import BenchError
from bench.metrics import score_split

log = logging.getLogger("bench")
config.register()


MIN_FREE_BYTES = 200 * 1024**2  # checkpoints, predictions and the store row need room; fail before training


def _check_writable(*paths: Path) -> None:
    """Each folder exists (or can be made), is writable and has MIN_FREE_BYTES free, or one clear BenchError."""
    for p in paths:
        try:
            p.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise BenchError(f"cannot create output folder {p} ({e.strerror}); choose another folder") from None
        if not os.access(p, os.W_OK):
            raise BenchError(
                f"output folder {p} is not writable; choose another with hydra.run.dir=... or results_db=..."
            )
        free = shutil.disk_usage(p).free
        if free < MIN_FREE_BYTES:
            raise BenchError(
                f"output folder {p} has only {free // 1024**2} MB free (at least {MIN_FREE_BYTES // 1024**2} MB "
                "needed); free some space or choose another folder"
            )


def _recorded(cfg: DictConfig, fp: str) -> dict | None:
    """The stored record of a complete run with this fingerprint (None if absent or force=true)."""
    if cfg.force:
        return None
    rec = store.find_complete(cfg.results_db, fp)
    if rec is not None:
        log.info("skip: already recorded as run %s (fingerprint %s); force=true re-runs", rec["run_id"], fp[:8])
    return rec


def run(cfg: DictConfig) -> dict:
    """Train and evaluate one (task, model, seed) and record the result; returns the run record.

    A run whose fingerprint is already recorded as complete is skipped (its stored record is returned)
    unless cfg.force is set, so a re-launched sweep only runs what is failed or missing.
    """
    from transformers import set_seed

    clock = {"start": time.perf_counter()}
    timing = {}

    def lap(name):
        now = time.perf_counter()
        timing[name] = round(now - clock.get("last", clock["start"]), 3)
        clock["last"] = now

    config.check_choices(cfg)
    run_dir = Path(cfg.output_dir)
    db = Path(cfg.results_db)
    _check_writable(run_dir, db.parent)
    tracking.check(cfg.logger)
    set_seed(cfg.seed)
    data = load_task(cfg.task)
    cross_tasks = {c.split: c for c in cross.load(cfg)}  # eval_task=...: other test sets, checked before training
    for c in cross_tasks.values():
        data.checksums = {**data.checksums, **c.checksums}
    fp = record.fingerprint(cfg, data.checksums, provenance.git_state()["commit"])
    if (done := _recorded(cfg, fp)) is not None:
        return done
    ckpt_dir = checkpoints.folder(db, fp)  # a killed launch of this run left its checkpoints here: resume
    train = subsample(data.splits["train"], cfg.train.max_train_examples, cfg.seed)
    evals = {s: subsample(data.splits[s], cfg.train.max_eval_examples, cfg.seed) for s in ("dev", "test")}
    for split, c in cross_tasks.items():
        evals[split] = c.examples
    lap("data")
    clf = models.build(cfg, run_dir, checkpoint_dir=ckpt_dir)
    lap("model_load")
    fit_info = clf.fit(train, evals["dev"])
    lap("train")
    cost = {"train": {"examples": len(train), "wall_s": timing["train"], **_tokens(fit_info)}}
    metrics, pred_rows = {}, []
    labels = list(cfg.task.labels)
    for split, examples in evals.items():
        start = time.perf_counter()
        pred, probs = clf.predict(examples)
        cost[split] = {"examples": len(examples), "wall_s": round(time.perf_counter() - start, 3)}
        cost[split].update(getattr(clf, "last_cost", None) or {})  # transformers: inputs and tokens read
        if split in cross_tasks:
            pred, metrics[split] = cross.score(cross_tasks[split], pred)
        else:
            metrics[split] = score_split(examples, pred, labels, cfg.task.main_score)
        pred_rows += [
            {
                "split": split,
                "id": e["id"],
                "group": e.get("group", e["id"]),  # the article of a (target, article) pair: bootstrap cluster
                "target": e["target"],
                "gold": e["label"],
                "pred": p,
                "probs": dict(zip(labels, pr, strict=True)),
            }
            for e, p, pr in zip(examples, pred, probs, strict=True)
        ]
    lap("evaluate")
    if hasattr(clf, "prepare_s"):  # part of train and evaluate: tokenizing, or reading the cached inputs
        timing["prepare_inputs"] = round(clf.prepare_s, 3)
    predictions_path = run_dir / "predictions.jsonl"
    timing["total"] = round(time.perf_counter() - clock["start"], 3)
    overrides = HydraConfig.get().overrides.task if HydraConfig.initialized() else []
    rec = record.build(
        cfg,
        run_id=record.new_run_id(cfg),
        overrides=overrides,
        data=data,
        model_info=getattr(clf, "provenance", {}),
        fit_info=fit_info,
        metrics=metrics,
        predictions_path=predictions_path,
        timing=timing,
        cost=cost,
    )
    rec["record_path"] = str(run_dir / "run.json")
    if os.environ.get("RANK", "0") != "0":  # torchrun / accelerate launch: every rank runs this, rank 0 records
        return rec
    with open(predictions_path, "w", encoding="utf-8") as f:
        f.writelines(json.dumps(r) + "\n" for r in pred_rows)
    record.write_json_atomic(run_dir / "run.json", rec)
    store.insert(db, rec)
    checkpoints.finish(ckpt_dir, run_dir, keep=cfg.train.save_checkpoints)
    tracking.log_run(cfg.logger, rec)  # logger=mlflow / tensorboard: a copy of the stored record
    if cfg.print_table:
        print(f"\n{cfg.task.name} / {cfg.model.name} / seed {cfg.seed}  (main score: {cfg.task.main_score})")
        print(report.table(report.split_rows(metrics), ["split", "target", "n", "f_avg", "macro_f1", "accuracy"]))
        print(f"run record: {run_dir / 'run.json'}  results store: {db}")
    return rec


def _tokens(fit_info: dict) -> dict:
    return {"inputs": fit_info.get("train_inputs"), "tokens": fit_info.get("train_tokens")}


@hydra.main(version_base="1.3", config_path="../configs", config_name="config")
def main(cfg: DictConfig) -> float:
    try:
        return run(cfg)["metrics"]["dev"]["main"]
    except BenchError as e:
        log.error("%s", e)
        if HydraConfig.get().mode == RunMode.MULTIRUN:
            # the launcher marks this job failed, finishes the others, then reports it; a re-launch retries it
            raise BenchError(str(e)) from None  # plain BenchError: pickles back from joblib/submitit workers
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
