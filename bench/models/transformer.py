"""Load a transformer classifier and its tokenizer: offline package, hub id at a revision, or random init."""

import importlib
import logging
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from bench.config import ModelConfig
from bench.data.sources import sha256_file
from bench.errors import BenchError

log = logging.getLogger(__name__)


class Formulation(StrEnum):
    pairs = "pairs"  # one (target, text) input per target
    joint = "joint"  # one pass per text, a classification head per target


class HeadInit(StrEnum):
    random = "random"
    probe = "probe"  # LP-FT: heads start from a logistic regression on the frozen encoder (joint formulation)


class TargetSegment(StrEnum):
    first = "first"  # pairs: [CLS] target [SEP] text [SEP]
    second = "second"  # pairs: [CLS] text [SEP] target [SEP] (the head strategy only)


class Pooling(StrEnum):
    mean = "mean"  # masked mean of the last hidden states
    cls = "cls"  # the first token's hidden state
    pooler = "pooler"  # the encoder's pooler output (BERT's trained CLS projection); cls where there is none


@dataclass
class ProbeConfig:
    """Frozen-encoder probe (`model.kind=probe`; also the heads' start for train.head_init=probe): a logistic
    regression per target over pooled embeddings (model.pooling)."""

    c_grid: list[float] = field(default_factory=lambda: [0.01, 0.1, 1.0, 10.0, 100.0])  # chosen on dev
    batch_size: int = 32
    query_prefix: str = ""  # E5-style models: "query: " (classification inputs are queries)
    endpoint: str | None = None  # an OpenAI-compatible /v1 base URL: embeddings from there, not local weights
    endpoint_model: str | None = None  # the served model name
    api_key_env: str | None = None  # environment variable holding the endpoint's API key


@dataclass
class EncoderConfig(ModelConfig):
    """A transformer encoder: fine-tuned (`kind: transformer`) or probed frozen (`kind: probe`)."""

    kind: str = "transformer"
    formulation: Formulation = Formulation.pairs
    pretrained: str | None = None  # hub id or local folder
    revision: str = "main"
    offline_package: str | None = None  # a Python package whose get_model_path() returns local weights
    random_init: dict[str, Any] | None = None  # architecture of a randomly initialised model (tiny)
    tokenizer_from: str | None = None  # offline package or hub id to take the tokenizer from
    max_length: int = 256
    long_document: str = "head"  # a registered strategy (bench.inputs.strategies): how long texts are read
    # dropout on attention probabilities (None: the checkpoint's). 0 lets PyTorch's fused attention run on CPU
    # instead of materialising every attention matrix (docs/PERFORMANCE.md); BERT-style configs only
    attention_dropout: float | None = None
    pooling: Pooling = Pooling.mean  # the text vector of the probe and of the joint formulation's heads
    head_init: HeadInit = HeadInit.random  # fine-tuning: how the classification heads start
    # pairs: the first segment, from the target's name (e.g. "What stance does the text take toward {target}?")
    target_template: str = "{target}"
    target_segment: TargetSegment = TargetSegment.first  # pairs: which segment of the input holds the target
    trust_remote_code: bool = False
    use_safetensors: bool = True
    probe: ProbeConfig = field(default_factory=ProbeConfig)


def _package_path(package: str) -> Path | None:
    try:
        return Path(importlib.import_module(package).get_model_path())
    except ImportError:
        return None


def resolve_weights(mcfg) -> tuple[str, dict]:
    """Where to load weights from and the provenance to record (local hash, or hub id and revision)."""
    if mcfg.offline_package:
        path = _package_path(mcfg.offline_package)
        if path is not None:
            weights = path / "model.safetensors"
            return str(path), {
                "source": f"package:{mcfg.offline_package}",
                "path": str(path),
                "weights_sha256": sha256_file(weights) if weights.exists() else None,
            }
        log.info("package %s not installed; falling back to hub id %s", mcfg.offline_package, mcfg.pretrained)
    if mcfg.pretrained and Path(mcfg.pretrained).is_dir():
        weights = Path(mcfg.pretrained) / "model.safetensors"
        return mcfg.pretrained, {
            "source": "local",
            "path": mcfg.pretrained,
            "weights_sha256": sha256_file(weights) if weights.exists() else None,
        }
    if not mcfg.pretrained:
        raise BenchError(f"model {mcfg.name!r}: set model.pretrained (hub id) or model.offline_package")
    return mcfg.pretrained, {"source": "hub", "hub_id": mcfg.pretrained, "revision": mcfg.revision}


def load_tokenizer(mcfg, saved: Path | None = None):
    """The model's tokenizer (from a saved run's folder when given)."""
    from transformers import AutoTokenizer

    if saved is not None:
        return AutoTokenizer.from_pretrained(saved)
    name = mcfg.tokenizer_from or mcfg.offline_package or mcfg.pretrained
    path = _package_path(name) if name and "/" not in name else None
    source = str(path) if path else (mcfg.pretrained if name == mcfg.offline_package else name)
    try:
        return AutoTokenizer.from_pretrained(
            source, revision=None if path else mcfg.revision, trust_remote_code=mcfg.trust_remote_code
        )
    except OSError as e:
        raise BenchError(
            f"model {mcfg.name!r}: cannot load tokenizer from {source!r} ({e}); "
            "install its offline package or make the hub reachable"
        ) from e


def _check_weights_format(mcfg, where: str) -> None:
    if Path(where).exists() and mcfg.use_safetensors and not any(Path(where).glob("*.safetensors")):
        pickles = sorted(p.name for p in Path(where).glob("*.bin")) or ["no weights file"]
        raise BenchError(
            f"model {mcfg.name!r}: {where} has no .safetensors weights, only {', '.join(pickles)}; pickled weights can "
            "run code when loaded, so they are refused unless you trust them and set model.use_safetensors=false"
        )


def _from_pretrained(auto_class, mcfg, where: str, **kwargs):
    """`auto_class.from_pretrained` with the model config's revision, format and overrides; unreachable weights
    become one BenchError naming the ways to provide them."""
    try:
        return auto_class.from_pretrained(
            where,
            revision=None if Path(where).exists() else mcfg.revision,
            use_safetensors=mcfg.use_safetensors,
            trust_remote_code=mcfg.trust_remote_code,
            **_config_overrides(mcfg),
            **kwargs,
        )
    except OSError as e:
        raise BenchError(
            f"model {mcfg.name!r}: cannot load weights from {where!r} ({e}); install its "
            "offline package, point model.pretrained at a local folder, or make the hub reachable"
        ) from e


def _config_overrides(mcfg) -> dict:
    """Config values the model YAML overrides (BERT-family name: attention_probs_dropout_prob)."""
    return {} if mcfg.attention_dropout is None else {"attention_probs_dropout_prob": mcfg.attention_dropout}


def load_model(mcfg, labels: list[str], seed: int):
    """A sequence classifier with one output per label; safetensors only unless the config allows pickle."""
    from transformers import AutoConfig, AutoModelForSequenceClassification, set_seed

    id2label = dict(enumerate(labels))
    label2id = {lab: i for i, lab in id2label.items()}
    set_seed(seed)
    if mcfg.random_init:
        spec = dict(mcfg.random_init)
        config = AutoConfig.for_model(
            spec.pop("model_type"),
            **spec,
            num_labels=len(labels),
            id2label=id2label,
            label2id=label2id,
            **_config_overrides(mcfg),
        )
        model = AutoModelForSequenceClassification.from_config(config)
        return model, {"source": "random_init", "architecture": dict(mcfg.random_init), "seed": seed}
    where, provenance = resolve_weights(mcfg)
    _check_weights_format(mcfg, where)
    try:
        model = _from_pretrained(
            AutoModelForSequenceClassification,
            mcfg,
            where,
            num_labels=len(labels),
            id2label=id2label,
            label2id=label2id,
        )
    except (ValueError, RuntimeError) as e:  # e.g. a classification head saved with another number of labels
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise BenchError(
            f"model {mcfg.name!r}: the weights in {where!r} do not fit a {len(labels)}-label classifier ({first}); "
            "point model.pretrained at a base model or a checkpoint trained with the task's labels"
        ) from e
    return model, provenance


def load_encoder(mcfg, seed: int):
    """The pretrained encoder alone (AutoModel, with its pooler), for heads built here (bench.models.joint)."""
    from transformers import AutoConfig, AutoModel, set_seed

    set_seed(seed)
    if mcfg.random_init:
        spec = dict(mcfg.random_init)
        encoder = AutoModel.from_config(AutoConfig.for_model(spec.pop("model_type"), **spec, **_config_overrides(mcfg)))
        return encoder, {"source": "random_init", "architecture": dict(mcfg.random_init), "seed": seed}
    where, provenance = resolve_weights(mcfg)
    _check_weights_format(mcfg, where)
    return _from_pretrained(AutoModel, mcfg, where), provenance
