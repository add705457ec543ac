"""Run one experiment: data -> model -> train -> evaluate -> record (`python -m bench.run task=ruw`)."""

import logging
import os
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from bench import config
from bench.errors import BenchError
from bench.evaluation.loop import evaluate
from bench.experiment import preflight, prepare
from bench.models import checkpoints, registry
from bench.records import record, store, tracking
from bench.reports.tables import print_run

log = logging.getLogger("bench")
config.register()


def run(cfg: DictConfig) -> dict:
    """Train and evaluate one (task, model, seed) and record it; returns the run record. A run whose fingerprint
    is recorded as complete is skipped (its stored record returned) unless cfg.force is set."""
    from transformers import set_seed

    clock = record.Stopwatch()
    preflight(cfg)
    set_seed(cfg.seed)
    exp = prepare(cfg)
    if not cfg.force and (done := store.find_complete(cfg.results_db, exp.fingerprint)) is not None:
        log.info(
            "skip: already recorded as run %s (fingerprint %s); force=true re-runs", done["run_id"], exp.fingerprint[:8]
        )
        return done
    clock.lap("data")
    run_dir, ckpt_dir = Path(cfg.output_dir), checkpoints.folder(cfg.results_db, exp.fingerprint)  # resume from it
    clf = registry.build(cfg, run_dir, checkpoint_dir=ckpt_dir)
    clock.lap("model_load")
    fit = clf.fit(exp.train, exp.evals["dev"])
    cost = {"train": fit.cost.as_record(wall_s=clock.lap("train"))}
    metrics, rows, cost_eval = evaluate(clf, exp.evals, cfg.task, exp.cross_tasks)
    clock.lap("evaluate")
    prepare_s = fit.cost.prepare_s + sum(c["prepare_s"] for c in cost_eval.values())  # tokenizing, cached inputs
    overrides = HydraConfig.get().overrides.task if HydraConfig.initialized() else []
    rec = record.build(cfg, fp=exp.fingerprint, git=exp.git, overrides=overrides, data=exp.data,
                       model_info=clf.provenance, fit_info=fit.details, metrics=metrics,
                       predictions_path=run_dir / "predictions.jsonl", cost=cost | cost_eval,
                       timing=clock.total() | {"prepare_inputs": round(prepare_s, 3)})  # fmt: skip
    rec["record_path"] = str(run_dir / "run.json")
    if os.environ.get("RANK", "0") != "0":  # torchrun / accelerate launch: every rank runs this, rank 0 records
        return rec
    if cfg.train.save_model:
        clf.save(run_dir / "model")  # `python -m bench.predict RUN_ID ...` loads it through the same contract
    record.write(run_dir, rec, rows)
    store.insert(cfg.results_db, rec)
    checkpoints.finish(ckpt_dir, run_dir, keep=cfg.train.save_checkpoints)
    tracking.log_run(cfg.logger, rec)  # logger=mlflow / tensorboard: a copy of the stored record
    if cfg.print_table:
        print_run(cfg, rec, cfg.results_db)
    return rec


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
