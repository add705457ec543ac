"""The run record: everything needed to trust and reproduce one result, written atomically."""

import hashlib
import json
import os
import shutil
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from omegaconf import OmegaConf

from bench.errors import BenchError
from bench.records import provenance


def fingerprint(cfg, checksums: dict[str, str], code_version: str | None) -> str:
    """Identity of a run: task, model, training settings, seed, data and code."""
    body = {
        "task": OmegaConf.to_container(cfg.task, resolve=True),
        "model": OmegaConf.to_container(cfg.model, resolve=True),
        "train": OmegaConf.to_container(cfg.train, resolve=True),
        "seed": cfg.seed,
        "data": checksums,
        "code": code_version,
    }
    if cfg.get("eval_task"):  # absent otherwise: runs without cross-dataset evaluation keep their fingerprint
        body["eval_task"] = cfg.eval_task if isinstance(cfg.eval_task, str) else list(cfg.eval_task)
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def new_run_id(cfg) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return f"{cfg.task.name}-{cfg.model.name}-s{cfg.seed}-{stamp}-{uuid.uuid4().hex[:6]}"


def build(cfg, *, fp, git, overrides, data, model_info, fit_info, metrics, predictions_path, timing, cost) -> dict:
    """The run record: identity, config, data, metrics, provenance, timings and cost."""
    return {
        "run_id": new_run_id(cfg),
        "fingerprint": fp,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "status": "complete",
        "task": {
            "name": cfg.task.name,
            "version": str(cfg.task.version),
            "main_score": cfg.task.main_score,
            "data_report": data.report,
        },
        "model": {
            "name": cfg.model.name,
            "kind": cfg.model.kind,
            "protocol": cfg.model.protocol,
            "params": cfg.model.params,
            **model_info,
        },
        "seed": cfg.seed,
        "main_score": cfg.task.main_score,
        "config": OmegaConf.to_container(cfg, resolve=True),
        "overrides": list(overrides),
        "data_checksums": data.checksums,
        "fit": fit_info,
        "metrics": metrics,
        "predictions_path": str(predictions_path),
        "git": git,
        "packages": provenance.package_versions(),
        "hardware": provenance.hardware(),
        "timing_s": timing,
        "cost": cost,  # per phase: examples, model inputs, non-padding tokens, wall seconds
    }


def write(run_dir: Path, rec: dict, prediction_rows: list[dict]) -> None:
    """The predictions file, then run.json (atomically): a reader of run.json always finds its predictions."""
    with open(rec["predictions_path"], "w", encoding="utf-8") as f:
        f.writelines(json.dumps(r) + "\n" for r in prediction_rows)
    write_json_atomic(run_dir / "run.json", rec)


class Stopwatch:
    """Wall seconds per phase, each lap measured from the previous one."""

    def __init__(self):
        self.start = self.last = time.perf_counter()
        self.timing: dict[str, float] = {}

    def lap(self, name: str) -> float:
        now = time.perf_counter()
        self.timing[name] = round(now - self.last, 3)
        self.last = now
        return self.timing[name]

    def total(self) -> dict[str, float]:
        self.timing["total"] = round(time.perf_counter() - self.start, 3)
        return self.timing


def write_json_atomic(path: Path, obj) -> None:
    """Write to a temporary file, then rename: a reader sees the old file or the new one, never half."""
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=1)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)


MIN_FREE_BYTES = 200 * 1024**2  # checkpoints, predictions and the store row need room; fail before training


def check_outputs(*paths: Path) -> None:
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
