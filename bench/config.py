"""Typed config schemas, registered with Hydra so that a misspelt key fails loudly."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING


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
    description: str = ""
    loader: str = MISSING  # demo | ruw | tweeteval | geostance | newsmtsc
    source: SourceConfig = field(default_factory=SourceConfig)
    text_field: str = "text"
    target_field: str | None = "target"  # None: a plain single-label task (no target in the input)
    targets: list[str] = field(default_factory=list)
    label_field: str = "label"
    labels: list[str] = MISSING
    label_map: dict[str, str] = field(default_factory=dict)  # raw label in the files -> label
    splits: dict[str, str] = field(default_factory=lambda: {"train": "train", "dev": "dev", "test": "test"})
    main_score: str = "f_avg"  # f_avg | macro_f1 | accuracy
    overlap: str = "drop"  # texts of test (and dev) also in train: drop | keep | error
    license: str = ""
    citation: str = ""
    card: str = ""  # path of the data card
    extra: dict[str, Any] = field(default_factory=dict)  # loader-specific settings


@dataclass
class ModelConfig:
    name: str = MISSING
    kind: str = "transformer"  # transformer | majority | tfidf_svm
    # transformer: pairs (one (target, text) input per target) | joint (one pass per article, a head per target)
    formulation: str = "pairs"
    pretrained: str | None = None  # hub id
    revision: str = "main"
    offline_package: str | None = None  # a Python package whose get_model_path() returns local weights
    random_init: dict[str, Any] | None = None  # architecture of a randomly initialised model (tiny)
    tokenizer_from: str | None = None  # offline package or hub id to take the tokenizer from
    max_length: int = 256
    # dropout on attention probabilities (None: the checkpoint's). 0 lets PyTorch's fused attention run on CPU
    # instead of materialising every attention matrix (docs/PERFORMANCE.md); BERT-style configs only
    attention_dropout: float | None = None
    params: int | None = None  # parameter count, for the leaderboard
    trust_remote_code: bool = False
    use_safetensors: bool = True
    majority_by: str | None = None  # majority: also condition on this metadata field (e.g. outlet_bias)
    svm: dict[str, Any] = field(default_factory=dict)


@dataclass
class TrainConfig:
    epochs: float = 3.0
    max_steps: int = -1
    batch_size: int = 16
    eval_batch_size: int = 64
    learning_rate: float = 5e-5
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    early_stopping_patience: int = 2
    group_by_length: bool = True
    class_weights: str = "balanced"  # balanced (inverse label frequency in train) | none
    # how articles longer than max_length are read: head | head_tail | chunks_mean | chunks_max | target_sentences
    long_document: str = "head"
    precision: str = "fp32"  # fp32 | bf16 | fp16
    torch_compile: bool = False
    # recompute activations in the backward pass: far less memory for long inputs, about a third more compute
    gradient_checkpointing: bool = False
    num_threads: int | None = None
    max_train_examples: int | None = None  # subsample for smoke tests (deterministic)
    max_eval_examples: int | None = None
    save_model: bool = False  # keep the best model in <run dir>/model for `python -m bench.predict`
    save_checkpoints: bool = False  # keep the best checkpoint in the run directory


@dataclass
class LoggerConfig:
    """Experiment tracking of the final run record (`logger=mlflow` or `logger=tensorboard`; bench/tracking.py)."""

    kind: str = MISSING  # mlflow | tensorboard
    tracking_uri: str | None = None  # mlflow: sqlite:///path/mlflow.db, file:/path/mlruns or http(s)://server
    artifact_location: str | None = None  # mlflow: where new experiments keep artifacts (None: next to a sqlite db)
    log_dir: str | None = None  # tensorboard: event file folder
    experiment: str = "stancebench"  # mlflow experiment name


@dataclass
class Config:
    task: TaskConfig = MISSING
    model: ModelConfig = MISSING
    train: TrainConfig = MISSING
    logger: LoggerConfig | None = None  # None: no tracking beyond run.json and the results store
    seed: int = 42
    results_db: str = "results/results.sqlite"
    output_dir: str = MISSING
    print_table: bool = True
    force: bool = False  # re-run even if a complete run with the same fingerprint is already recorded
    tags: list[str] = field(default_factory=list)
    # also score on this task's test set (shared targets, mapped labels) as metrics["cross:<task>"]; a list
    # (eval_task=[ruw,geostance]) scores one trained model on each; bench/cross.py
    eval_task: Any = None


def register() -> None:
    cs = ConfigStore.instance()
    cs.store(name="base_config", node=Config)
    cs.store(group="task", name="base_task", node=TaskConfig)
    cs.store(group="model", name="base_model", node=ModelConfig)
    cs.store(group="train", name="base_train", node=TrainConfig)
    cs.store(group="logger", name="base_logger", node=LoggerConfig)


CHOICES = {
    ("task", "main_score"): ("f_avg", "macro_f1", "accuracy"),
    ("task", "overlap"): ("drop", "keep", "error"),
    ("model", "kind"): ("transformer", "majority", "tfidf_svm"),
    ("model", "formulation"): ("pairs", "joint"),
    ("train", "precision"): ("fp32", "bf16", "fp16"),
    ("train", "class_weights"): ("balanced", "none"),
}


CONFIG_DIR = Path(__file__).resolve().parents[1] / "configs"


def compose_task(name: str):
    """The task config `name`, composed and checked against the schema exactly as `task=<name>` would be."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import MissingConfigException

    from bench.errors import BenchError

    try:
        if GlobalHydra.instance().is_initialized():  # inside @hydra.main: the run's own config search path
            return compose(config_name="config", overrides=[f"task={name}"]).task
        with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
            return compose(config_name="config", overrides=[f"task={name}"]).task
    except MissingConfigException:
        known = sorted(p.stem for p in (CONFIG_DIR / "task").glob("*.yaml"))
        raise BenchError(f"eval_task={name!r} is not a task; use one of {known}") from None


def check_choices(cfg) -> None:
    """Options that take one of a few values (the schema types them as str): fail before anything runs."""
    from bench.encoding import STRATEGIES
    from bench.errors import BenchError

    for (group, key), allowed in {**CHOICES, ("train", "long_document"): STRATEGIES}.items():
        value = cfg[group][key]
        if value not in allowed:
            raise BenchError(f"{group}.{key}={value!r} is not an option; use one of {list(allowed)}")
