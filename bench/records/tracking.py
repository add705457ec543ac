"""Log a finished run's record to MLflow or TensorBoard (`logger=mlflow`, `logger=tensorboard`).

The record (run.json) stays the source of truth: trackers get a copy of its metrics and provenance after it is
stored, so every model kind, baselines included, is tracked the same way. mlflow and tensorboard are imported
only here, and only when a logger is chosen.
"""

import importlib.util
import json
import logging
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

from bench.errors import BenchError
from bench.evaluation.metrics import METRICS

log = logging.getLogger("bench")

BACKENDS = {"mlflow": "mlflow", "tensorboard": "tensorboard"}  # kind -> module that must be importable


def check(logger_cfg) -> None:
    """Fail before training, not after, when the chosen tracker is unknown or not installed."""
    if logger_cfg is None:
        return
    if logger_cfg.kind not in BACKENDS:
        raise BenchError(f"logger.kind={logger_cfg.kind!r} is not one of {sorted(BACKENDS)}")
    if importlib.util.find_spec(BACKENDS[logger_cfg.kind]) is None:
        raise BenchError(
            f"logger={logger_cfg.kind} needs the {BACKENDS[logger_cfg.kind]} package: pip install -e '.[tracking]'"
        )


def flatten(obj, prefix: str = "") -> dict[str, str]:
    """Nested dicts -> {"a.b.c": "value"}; lists and scalars become their JSON text."""
    if isinstance(obj, dict) and obj:
        out = {}
        for k, v in obj.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    return {prefix: obj if isinstance(obj, str) else json.dumps(obj)}


def params(rec: dict) -> dict[str, str]:
    """The provenance a tracker shows next to the metrics: resolved config, identity, code, packages, data, model."""
    model_extra = {k: v for k, v in rec["model"].items() if k not in ("name", "kind", "params")}
    return {
        **flatten(rec["config"], "config"),
        "seed": str(rec["seed"]),
        "fingerprint": rec["fingerprint"],
        "git_commit": str(rec["git"]["commit"]),
        "git_dirty": str(rec["git"]["dirty"]),
        **flatten(rec["packages"], "package"),
        **flatten(rec["data_checksums"], "data_sha256"),
        **flatten(model_extra, "model"),
    }


def metrics(rec: dict) -> dict[str, float]:
    """{"test/main": ..., "test/pooled/f_avg": ..., "test/russia/macro_f1": ...} for every split."""
    out = {}
    for split, m in rec["metrics"].items():
        if m.get("main") is not None:
            out[f"{split}/main"] = m["main"]
        for group, scores in [("pooled", m["pooled"]), *m["per_target"].items()]:
            out.update({f"{split}/{group}/{s}": scores[s] for s in METRICS if scores.get(s) is not None})
    return out


def log_run(logger_cfg, rec: dict) -> None:
    """Send one stored run record to the chosen tracker; a tracker failure is logged, the record stays."""
    if logger_cfg is None:
        return
    try:
        {"mlflow": _mlflow, "tensorboard": _tensorboard}[logger_cfg.kind](logger_cfg, rec)
    except Exception as e:  # the run is complete and stored; tracking is a copy of it
        log.error(
            "logging run %s to %s failed (%s: %s); run.json and the store hold it",
            rec["run_id"],
            logger_cfg.kind,
            type(e).__name__,
            e,
        )


def _mlflow(cfg, rec: dict) -> None:
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.utils.time import get_current_time_millis

    uri = cfg.tracking_uri
    artifacts = cfg.artifact_location
    if uri and uri.startswith("sqlite:///"):
        db = Path(unquote(urlparse(uri).path[1:]))  # sqlite:///rel/x.db -> rel/x.db, sqlite:////abs -> /abs
        db.parent.mkdir(parents=True, exist_ok=True)
        artifacts = artifacts or (db.parent / "mlartifacts").resolve().as_uri()
    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name(cfg.experiment)
    if exp is None:
        try:
            exp_id = client.create_experiment(cfg.experiment, artifact_location=artifacts)
        except Exception:  # created meanwhile by a parallel job
            exp_id = client.get_experiment_by_name(cfg.experiment).experiment_id
    else:
        exp_id = exp.experiment_id
    tags = {"task": rec["task"]["name"], "model": rec["model"]["name"], "run_id": rec["run_id"]}
    run = client.create_run(exp_id, run_name=rec["run_id"], tags=tags)
    rid, now = run.info.run_id, get_current_time_millis()
    client.log_batch(
        rid,
        metrics=[Metric(_key(k), float(v), now, 0) for k, v in metrics(rec).items()],
        params=[Param(_key(k), v[:6000]) for k, v in params(rec).items()],
        tags=[RunTag("fingerprint", rec["fingerprint"]), RunTag("status", rec["status"])],
    )
    for path in (rec["record_path"], rec["predictions_path"]):
        if Path(path).is_file():
            client.log_artifact(rid, path)
    client.set_terminated(rid)
    log.info("mlflow: run %s in experiment %r at %s", rid, cfg.experiment, uri or "the default tracking URI")


def _key(name: str) -> str:
    """MLflow keys allow letters, digits, _ - . space / only."""
    return re.sub(r"[^\w\-. /]", "_", name)[:250]


def _tensorboard(cfg, rec: dict) -> None:
    from torch.utils.tensorboard import SummaryWriter

    provenance = {k: rec[k] for k in ("run_id", "fingerprint", "git", "packages", "data_checksums", "seed")}
    provenance.update(model=rec["model"], task=rec["task"]["name"], config=rec["config"])
    with SummaryWriter(log_dir=cfg.log_dir) as w:
        for k, v in metrics(rec).items():
            w.add_scalar(k, v, 0)
        for tag in ("run_id", "task", "model"):
            w.add_text(tag, provenance[tag] if tag != "model" else rec["model"]["name"], 0)
        w.add_text("provenance", "```json\n" + json.dumps(provenance, indent=1) + "\n```", 0)
    log.info("tensorboard: run %s written to %s", rec["run_id"], cfg.log_dir)
