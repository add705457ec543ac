"""The run record: everything needed to trust and reproduce one result, written atomically."""

import hashlib
import json
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

from omegaconf import OmegaConf

from bench import provenance


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


def build(cfg, *, run_id, overrides, data, model_info, fit_info, metrics, predictions_path, timing, cost=None) -> dict:
    git = provenance.git_state()
    return {
        "run_id": run_id,
        "fingerprint": fingerprint(cfg, data.checksums, git["commit"]),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "status": "complete",
        "task": {"name": cfg.task.name, "main_score": cfg.task.main_score, "data_report": data.report},
        "model": {"name": cfg.model.name, "kind": cfg.model.kind, "params": cfg.model.params, **model_info},
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
        "cost": cost or {},  # per phase: examples, model inputs, non-padding tokens, wall seconds
    }


def write_json_atomic(path: Path, obj) -> None:
    """Write to a temporary file, then rename: a reader sees the old file or the new one, never half."""
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=1)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)
