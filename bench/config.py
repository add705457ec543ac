"""Typed config schemas, registered with Hydra so that a misspelt key or an unknown option fails loudly.

Fixed choices are enums (OmegaConf names the allowed values); choices that grow by registration -- a task's
reader and main score, a model kind, a long-document strategy -- are checked against their registries in
`check_choices`, before anything runs. Each model kind has its own schema (`base_<kind>`, from the kind's module).
"""

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, OmegaConf

from bench.errors import BenchError

CONFIG_DIR = Path(__file__).resolve().parents[1] / "configs"


class Overlap(StrEnum):
    drop = "drop"
    keep = "keep"
    error = "error"


class Precision(StrEnum):
    auto = (
        "auto"  # bf16 where the hardware computes it natively (CUDA with bf16, CPUs with AMX or AVX512-BF16), else fp32
    )
    fp32 = "fp32"
    bf16 = "bf16"
    fp16 = "fp16"


class ClassWeights(StrEnum):
    balanced = "balanced"
    none = "none"


@dataclass
class SourceConfig:
    """Where a task's data comes from: a public URL or hub id at a pinned revision, or a local copy."""

    url: str | None = None  # base URL of the public files, with {revision} filled in
    hub_id: str | None = None
    revision: str | None = None
    local_dir: str | None = None  # folder under $BENCH_DATA_DIR holding a local copy
    embedded: str | None = None  # folder inside this repository (data shipped with the benchmark)
    files: dict[str, str] = field(default_factory=dict)  # relative path -> sha256


@dataclass
class TaskConfig:
    name: str = MISSING
    version: str = "1"  # bumped whenever labels or splits change; recorded with every run
    description: str = ""
    loader: str = MISSING  # a registered reader (bench.data.readers)
    source: SourceConfig = field(default_factory=SourceConfig)
    text_field: str = "text"
    target_field: str | None = "target"  # None: a plain single-label task (no target in the input)
    targets: list[str] = field(default_factory=list)
    # names that refer to each target in text (case-sensitive whole words), for model.long_document=target_sentences
    aliases: dict[str, list[str]] = field(default_factory=dict)
    label_field: str = "label"
    labels: list[str] = MISSING
    label_map: dict[str, str] = field(default_factory=dict)  # raw label in the files -> label
    splits: dict[str, str] = field(default_factory=lambda: {"train": "train", "dev": "dev", "test": "test"})
    main_score: str = "f_avg"  # a registered metric (bench.evaluation.metrics)
    overlap: Overlap = Overlap.drop  # texts of test (and dev) also in train
    license: str = ""
    citation: str = ""
    card: str = ""  # path of the data card
    extra: dict[str, Any] = field(default_factory=dict)  # reader settings, checked against the reader's schema


@dataclass
class ModelConfig:
    """What every model kind has; each kind's schema (bench.models.*) adds its own fields."""

    name: str = MISSING
    kind: str = MISSING  # a registered model kind (bench.models.registry)
    params: int | None = None  # parameter count, for the leaderboard
    protocol: str = "default"  # how its settings were chosen: default | tuned | probe | zero_shot | few_shot_<k>


@dataclass
class TrainConfig:
    epochs: float = 3.0
    max_steps: int = -1
    batch_size: int = 16
    eval_batch_size: int = 64
    learning_rate: float = 5e-5
    head_learning_rate: float | None = None  # the new classification head's (None: learning_rate)
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    early_stopping_patience: int = 2
    group_by_length: bool = True
    class_weights: ClassWeights = ClassWeights.balanced  # balanced: inverse label frequency in train
    precision: Precision = Precision.auto
    torch_compile: bool = False
    # recompute activations in the backward pass: far less memory for long inputs, about a third more compute
    gradient_checkpointing: bool = False
    num_threads: int | None = None
    max_train_examples: int | None = None  # subsample for smoke tests (deterministic)
    max_eval_examples: int | None = None
    save_model: bool = False  # keep the fitted model in <run dir>/model for `python -m bench.predict`
    save_checkpoints: bool = False  # keep the best checkpoint in the run directory


@dataclass
class LoggerConfig:
    """Experiment tracking of the final run record (`logger=mlflow` or `logger=tensorboard`; bench/records)."""

    kind: str = MISSING  # mlflow | tensorboard
    tracking_uri: str | None = None  # mlflow: sqlite:///path/mlflow.db, file:/path/mlruns or http(s)://server
    artifact_location: str | None = None  # mlflow: where new experiments keep artifacts (None: next to a sqlite db)
    log_dir: str | None = None  # tensorboard: event file folder
    experiment: str = "stancebench"  # mlflow experiment name


@dataclass
class Config:
    task: TaskConfig = MISSING
    model: Any = MISSING  # the schema of the chosen kind (base_<kind>)
    train: TrainConfig = MISSING
    logger: LoggerConfig | None = None  # None: no tracking beyond run.json and the results store
    seed: int = 42
    results_db: str = MISSING  # configs/config.yaml: $BENCH_RESULTS_DB, else bench.records.store.DEFAULT_DB
    output_dir: str = MISSING
    print_table: bool = True
    force: bool = False  # re-run even if a complete run with the same fingerprint is already recorded
    tags: list[str] = field(default_factory=list)
    # also score on this task's test set (shared targets, mapped labels) as metrics["cross:<task>"]; a list
    # (eval_task=[ruw,geostance]) scores one trained model on each; bench/evaluation/cross.py
    eval_task: Any = None


def register() -> None:
    """The schemas as Hydra structured configs: base_config, task/base_task, model/base_<kind>, ..."""
    from bench.models.registry import discover
    from bench.records.store import default_db

    if not OmegaConf.has_resolver("bench.results_db"):
        OmegaConf.register_new_resolver("bench.results_db", default_db)
    cs = ConfigStore.instance()
    cs.store(name="base_config", node=Config)
    cs.store(group="task", name="base_task", node=TaskConfig)
    for kind in discover().values():
        cs.store(group="model", name=f"base_{kind.name}", node=kind.config)
    cs.store(group="train", name="base_train", node=TrainConfig)
    cs.store(group="logger", name="base_logger", node=LoggerConfig)


def compose_task(name: str):
    """The task config `name`, composed and checked against the schema exactly as `task=<name>` would be."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import MissingConfigException

    try:
        if GlobalHydra.instance().is_initialized():  # inside @hydra.main: the run's own config search path
            return compose(config_name="config", overrides=[f"task={name}"]).task
        with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
            return compose(config_name="config", overrides=[f"task={name}"]).task
    except MissingConfigException:
        known = sorted(p.stem for p in (CONFIG_DIR / "task").glob("*.yaml"))
        raise BenchError(f"eval_task={name!r} is not a task; use one of {known}") from None


def check_choices(cfg) -> None:
    """Options whose values come from a registry: fail before anything runs, listing what is registered."""
    from bench.data.readers import check_extra, discover
    from bench.evaluation.metrics import METRICS
    from bench.inputs.strategies import STRATEGIES
    from bench.models.registry import kind

    readers = discover()
    if cfg.task.loader not in readers:
        raise BenchError(f"task.loader={cfg.task.loader!r} is not a reader; use one of {sorted(readers)}")
    if cfg.task.main_score not in METRICS:
        raise BenchError(f"task.main_score={cfg.task.main_score!r} is not a metric; use one of {sorted(METRICS)}")
    check_extra(cfg.task)
    kind(cfg.model.kind)
    strategy = cfg.model.get("long_document")
    if strategy is not None and strategy not in STRATEGIES:
        raise BenchError(f"model.long_document={strategy!r} is not a strategy; use one of {sorted(STRATEGIES)}")
