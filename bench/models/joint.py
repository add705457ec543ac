"""Joint formulation: one encoder pass per article, one classification head per target.

The pair formulation (bench.train.FineTuner) reads every (target, article) pair: an article with four targets is
encoded four times. Here the article alone is encoded once and a linear head per target reads its pooled
representation, so training and prediction cost a quarter as much on a four-target task. Select it with a model
config whose `formulation` is `joint` (configs/model/minilm_joint.yaml); docs/LONG_DOCUMENTS.md compares the two.
"""

import numpy as np
import torch
from torch import nn

from bench.encoding import aggregate, encode
from bench.errors import BenchError
from bench.models.transformer import load_encoder
from bench.train import FineTuner

IGNORE = -100  # label of a target the article has no example for (not counted in the loss)


class JointClassifier(nn.Module):
    """Encoder + dropout + one linear layer per target over the pooled article (logits: batch x targets x labels).

    The pooled vector is the encoder's pooler output where it has one (as AutoModelForSequenceClassification
    uses for BERT), else the first token's hidden state.
    """

    def __init__(self, encoder, targets: list[str], labels: list[str]):
        super().__init__()
        self.encoder = encoder
        self.targets, self.labels = list(targets), list(labels)
        hidden = encoder.config.hidden_size
        p = getattr(encoder.config, "classifier_dropout", None) or getattr(encoder.config, "hidden_dropout_prob", 0.1)
        self.dropout = nn.Dropout(p)
        self.heads = nn.ModuleDict({t: nn.Linear(hidden, len(labels)) for t in self.targets})
        for head in self.heads.values():
            nn.init.normal_(head.weight, std=getattr(encoder.config, "initializer_range", 0.02))
            nn.init.zeros_(head.bias)

    # train.gradient_checkpointing: the Trainer calls the first (transformers >= 5.x), or the second (older 5.x)
    def activation_checkpointing_enable(self, **kwargs):
        self.encoder.activation_checkpointing_enable(**kwargs)

    def gradient_checkpointing_enable(self, **kwargs):
        self.encoder.gradient_checkpointing_enable(**kwargs)

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, labels=None):
        from transformers.modeling_outputs import SequenceClassifierOutput

        kwargs = {"token_type_ids": token_type_ids} if token_type_ids is not None else {}
        out = self.encoder(input_ids=input_ids, attention_mask=attention_mask, **kwargs)
        pooled = getattr(out, "pooler_output", None)
        if pooled is None:
            pooled = out.last_hidden_state[:, 0]
        pooled = self.dropout(pooled)
        logits = torch.stack([self.heads[t](pooled) for t in self.targets], dim=1)
        loss = None
        if labels is not None:
            loss = nn.functional.cross_entropy(
                logits.reshape(-1, len(self.labels)).float(), labels.reshape(-1), ignore_index=IGNORE
            )
        return SequenceClassifierOutput(loss=loss, logits=logits)


class JointFineTuner(FineTuner):
    """FineTuner over articles instead of (target, article) pairs: the same Trainer, checkpoints and selection."""

    def __init__(self, cfg, run_dir, checkpoint_dir=None):
        if cfg.task.target_field is None or not cfg.task.targets:
            raise BenchError(
                f"model {cfg.model.name!r} (formulation=joint) needs a task with targets; task {cfg.task.name!r} has "
                "none: use the pair formulation (e.g. model=minilm)"
            )
        if cfg.train.long_document == "target_sentences":
            raise BenchError(
                "train.long_document=target_sentences selects sentences per target, which the joint formulation "
                "cannot do with one pass per article; use head, head_tail, chunks_mean or chunks_max"
            )
        self.targets = list(cfg.task.targets)
        super().__init__(cfg, run_dir, checkpoint_dir)

    def _load_model(self):
        encoder, provenance = load_encoder(self.cfg.model, self.cfg.seed)
        return JointClassifier(encoder, self.targets, self.labels), {**provenance, "formulation": "joint"}

    def fit(self, train: list[dict], dev: list[dict]) -> dict:
        info = super().fit(train, dev)
        if self.cfg.train.save_model and self.trainer.is_world_process_zero():
            self.model.encoder.config.save_pretrained(self.run_dir / "model")  # for load_saved (bench.predict)
        return info

    def _encode(self, examples: list[dict], strategy: str) -> dict:
        return encode_articles(self.tokenizer, examples, self.cfg.model.max_length, strategy)

    def _row_labels(self, examples: list[dict], rows: list[int]) -> list:
        return row_labels(examples, rows, self.targets, self.labels)

    def _example_logits(self, logits, rows: list[int], examples: list[dict], strategy: str):
        return example_logits(logits, rows, examples, self.targets, strategy)


def articles(examples: list[dict]) -> tuple[list[str], list[int]]:
    """The articles (one text per group) and, for every example, the index of its article."""
    index: dict[str, int] = {}
    texts: list[str] = []
    of_example = []
    for e in examples:
        group = e.get("group", e["id"])
        if group not in index:
            index[group] = len(texts)
            texts.append(e["text"])
        elif texts[index[group]] != e["text"]:
            path, line = e.get("where") or ("input", None)
            raise BenchError(f"{path}:{line}: example {e['id']!r} has another text than its article {group!r}")
        of_example.append(index[group])
    return texts, of_example


def encode_articles(tokenizer, examples: list[dict], max_length: int, strategy: str) -> dict:
    """Model inputs for each article once (no target segment); `example` maps input rows to articles."""
    texts, _ = articles(examples)
    return encode(tokenizer, {"text": texts, "target": [""] * len(texts)}, max_length, strategy, has_target=False)


def row_labels(examples: list[dict], rows: list[int], targets: list[str], labels: list[str]) -> list:
    """Per input row, one label id per target (IGNORE where the article has no example for the target)."""
    texts, of_example = articles(examples)
    table = np.full((len(texts), len(targets)), IGNORE, dtype=np.int64)
    for e, a in zip(examples, of_example, strict=True):
        table[a, targets.index(e["target"])] = labels.index(e["label"])
    return table[rows].tolist()


def example_logits(logits, rows: list[int], examples: list[dict], targets: list[str], strategy: str):
    """Each example's logits: its article's (windows merged per target by the strategy), from its target's head."""
    texts, of_example = articles(examples)
    logits = np.asarray(logits)
    per_target = [aggregate(logits[:, t], rows, len(texts), strategy) for t in range(len(targets))]
    return np.stack([per_target[targets.index(e["target"])][a] for e, a in zip(examples, of_example, strict=True)])


def load_saved(model_dir, targets: list[str], labels: list[str]) -> JointClassifier:
    """A joint model kept by `train.save_model=true`: encoder config plus the Trainer's safetensors weights."""
    from pathlib import Path

    from safetensors.torch import load_file
    from transformers import AutoConfig, AutoModel

    encoder = AutoModel.from_config(AutoConfig.from_pretrained(model_dir))
    model = JointClassifier(encoder, targets, labels)
    model.load_state_dict(load_file(Path(model_dir) / "model.safetensors"))
    return model
