"""Joint formulation: one encoder pass per article, one classification head per target.

The pair formulation (bench.models.formulations.Pairs) reads every (target, article) pair: an article with four
targets is encoded four times. Here the article alone is encoded once and a linear head per target reads its pooled
representation, so training and prediction cost a quarter as much on a four-target task. Select it with a model
config whose `formulation` is `joint` (configs/model/minilm_joint.yaml); docs/LONG_DOCUMENTS.md compares the two.
"""

import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

from bench.errors import BenchError
from bench.inputs.encoding import aggregate, encode
from bench.inputs.strategies import get
from bench.models.transformer import load_encoder

IGNORE = -100  # label of a target the article has no example for (not counted in the loss)


class JointClassifier(nn.Module):
    """Encoder + dropout + one linear layer per target over the pooled article (logits: batch x targets x labels).

    pooling: `mean` of the last hidden states over real tokens (what sentence encoders are trained for), `cls` the
    first token's, or `pooler` the encoder's pooler output (as AutoModelForSequenceClassification uses for BERT).
    """

    def __init__(self, encoder, targets: list[str], labels: list[str], pooling: str = "mean"):
        super().__init__()
        self.encoder = encoder
        self.pooling = str(pooling)
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
        pooled = self.dropout(self.pool(input_ids, attention_mask, **kwargs))
        logits = torch.stack([self.heads[t](pooled) for t in self.targets], dim=1)
        loss = None
        if labels is not None:
            loss = nn.functional.cross_entropy(
                logits.reshape(-1, len(self.labels)).float(), labels.reshape(-1), ignore_index=IGNORE
            )
        return SequenceClassifierOutput(loss=loss, logits=logits)

    def pool(self, input_ids, attention_mask=None, **kwargs):
        """The article vector the heads read."""
        out = self.encoder(input_ids=input_ids, attention_mask=attention_mask, **kwargs)
        if self.pooling == "pooler" and getattr(out, "pooler_output", None) is not None:
            return out.pooler_output
        if self.pooling == "mean":
            mask = (attention_mask if attention_mask is not None else torch.ones_like(input_ids)).unsqueeze(-1)
            mask = mask.to(out.last_hidden_state.dtype)
            return (out.last_hidden_state * mask).sum(1) / mask.sum(1).clamp(min=1)
        return out.last_hidden_state[:, 0]

    def init_heads_from_probe(self, train: tuple, dev: tuple, c_grid, seed: int) -> dict:
        """LP-FT (Kumar et al. 2022): fit a logistic regression per target on the frozen encoder's pooled inputs,
        C chosen per target on dev (macro-F1), and start each head from it. train/dev: (vectors, label table)."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import f1_score

        (x, y), (dx, dy) = train, dev
        chosen = {}
        for t, target in enumerate(self.targets):
            keep, dkeep = y[:, t] != IGNORE, dy[:, t] != IGNORE
            if len(set(y[keep, t])) < 2:
                continue
            fits = []
            for c in c_grid:
                lr = LogisticRegression(C=c, class_weight="balanced", max_iter=2000, random_state=seed)
                lr.fit(x[keep], y[keep, t])
                score = f1_score(dy[dkeep, t], lr.predict(dx[dkeep]), average="macro") if dkeep.any() else 0.0
                fits.append((score, c, lr))
            score, c, lr = max(fits, key=lambda f: f[0])
            self._load_head(self.heads[target], lr)
            chosen[target] = {"C": c, "dev_macro_f1": round(float(score), 4)}
        return chosen

    @staticmethod
    def _load_head(head: nn.Linear, lr) -> None:
        """Copy a fitted logistic regression into a linear head (labels it never saw get a very low logit)."""
        weight = torch.zeros_like(head.weight)
        bias = torch.full_like(head.bias, -10.0)
        coef, intercept = torch.tensor(lr.coef_, dtype=weight.dtype), torch.tensor(lr.intercept_, dtype=weight.dtype)
        if len(lr.classes_) == 2:  # one weight row: logit(b) - logit(a); split it evenly between the two
            coef, intercept = torch.cat([-coef / 2, coef / 2]), torch.cat([-intercept / 2, intercept / 2])
        for row, label in enumerate(lr.classes_):
            weight[int(label)], bias[int(label)] = coef[row], intercept[row]
        with torch.no_grad():
            head.weight.copy_(weight)
            head.bias.copy_(bias)


def pooled_inputs(model: JointClassifier, ds, collate, batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """The frozen encoder's pooled vector for every input row of a tokenized dataset, and its label table."""
    vectors, labels = [], []
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(ds), batch_size):
            batch = collate([ds[i] for i in range(start, min(start + batch_size, len(ds)))])
            labels.append(batch.pop("labels").numpy())
            vectors.append(
                model.pool(**{k: v.to(model.encoder.device) for k, v in batch.items()}).float().cpu().numpy()
            )
    model.train()
    return np.concatenate(vectors), np.concatenate(labels)


class Joint:
    """The joint formulation for bench.models.finetune.FineTuner: inputs per article, labels per target head."""

    name = "joint"
    input_key = None  # no options change the joint inputs beyond the strategy and length

    def check(self, cfg) -> None:
        if cfg.task.target_field is None or not cfg.task.targets:
            raise BenchError(
                f"model {cfg.model.name!r} (formulation=joint) needs a task with targets; task {cfg.task.name!r} has "
                "none: use the pair formulation (e.g. model=minilm)"
            )
        if get(cfg.model.long_document).per_target_text:
            raise BenchError(
                f"model.long_document={cfg.model.long_document} selects text per target, which the joint formulation "
                "cannot do with one pass per article; use head, head_tail, chunks_mean or chunks_max"
            )

    def build(self, mcfg, targets, labels, seed):
        encoder, provenance = load_encoder(mcfg, seed)
        model = JointClassifier(encoder, targets, labels, mcfg.pooling)
        return model, {**provenance, "formulation": "joint", "pooling": str(mcfg.pooling)}

    def load_saved(self, folder: Path, targets, labels):
        return load_saved(folder, targets, labels)

    def save_extra(self, model, folder: Path) -> None:
        model.encoder.config.save_pretrained(folder)  # load_saved rebuilds the encoder from it
        (folder / "joint.json").write_text(json.dumps({"pooling": model.pooling}), encoding="utf-8")

    def init_heads(self, model, train_ds, dev_ds, collate, cfg) -> dict:
        """model.head_init=probe: heads start from logistic regressions on the frozen encoder (LP-FT)."""
        train, dev = pooled_inputs(model, train_ds, collate), pooled_inputs(model, dev_ds, collate)
        return model.init_heads_from_probe(train, dev, list(cfg.model.probe.c_grid), cfg.seed)

    def encode(self, tokenizer, examples, max_length, strategy, has_target, aliases):
        return encode_articles(tokenizer, examples, max_length, strategy)

    def row_labels(self, examples, rows, targets, labels):
        return row_labels(examples, rows, targets, labels)

    def example_logits(self, logits, rows, examples, targets, strategy):
        return example_logits(logits, rows, examples, targets, strategy)


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
    from safetensors.torch import load_file
    from transformers import AutoConfig, AutoModel

    encoder = AutoModel.from_config(AutoConfig.from_pretrained(model_dir))
    saved = Path(model_dir) / "joint.json"
    pooling = json.loads(saved.read_text(encoding="utf-8"))["pooling"] if saved.exists() else "pooler"
    model = JointClassifier(encoder, targets, labels, pooling)
    model.load_state_dict(load_file(Path(model_dir) / "model.safetensors"))
    return model
