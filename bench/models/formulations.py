"""How fine-tuning frames a multi-target task: `pairs` reads one (target, text) input per target with one
classifier; `joint` (bench.models.joint) reads each text once with a head per target. Both share the Trainer,
checkpoints and selection (bench.models.finetune)."""

from pathlib import Path

from bench.errors import BenchError
from bench.inputs.encoding import aggregate, encode
from bench.inputs.strategies import prepare_texts
from bench.models import joint
from bench.models.transformer import load_model


class Pairs:
    name = "pairs"

    def check(self, cfg) -> None:
        """Every task and strategy works in pairs; LP-FT needs a head per target."""
        if cfg.model.head_init == "probe":
            raise BenchError("model.head_init=probe needs model.formulation=joint (a head per target over pooled text)")
        if self.segment == "second" and cfg.model.long_document != "head":
            raise BenchError(
                f"model.target_segment=second reads the head of the text only; set model.long_document=head "
                f"(not {cfg.model.long_document!r}) or model.target_segment=first"
            )

    def build(self, mcfg, targets, labels, seed):
        return load_model(mcfg, labels, seed)

    def load_saved(self, folder: Path, targets, labels):
        from transformers import AutoModelForSequenceClassification

        return AutoModelForSequenceClassification.from_pretrained(folder, use_safetensors=True)

    def save_extra(self, model, folder: Path) -> None:
        """The Trainer's save_model writes everything a pair classifier needs."""

    def init_heads(self, model, train_ds, dev_ds, collate, cfg) -> dict:
        raise BenchError("model.head_init=probe needs model.formulation=joint")  # check() stops this earlier

    def __init__(self, template: str = "{target}", segment: str = "first"):
        self.template = template
        self.segment = segment

    @property
    def input_key(self):
        """What changes the inputs beyond the defaults (part of the tokenized-input cache key)."""
        if self.segment != "first":
            return [self.template, self.segment]
        return self.template if self.template != "{target}" else None

    def encode(self, tokenizer, examples, max_length, strategy, has_target, aliases):
        targets = [self.template.format(target=e["target"]) if e["target"] else "" for e in examples]
        batch = {"text": [e["text"] for e in examples], "target": targets}
        if strategy == "target_sentences":  # sentences are chosen by the target's name, not the template
            batch["text"] = prepare_texts(strategy, batch["text"], [e["target"] or "" for e in examples], has_target,
                                          aliases)  # fmt: skip
            strategy = "head"
        return encode(tokenizer, batch, max_length, strategy, has_target, aliases, self.segment)

    def row_labels(self, examples, rows, targets, labels):
        return [labels.index(examples[i]["label"]) for i in rows]

    def example_logits(self, logits, rows, examples, targets, strategy):
        return aggregate(logits, rows, len(examples), strategy)


def formulation(mcfg):
    """The model config's formulation."""
    if mcfg.formulation == "pairs":
        return Pairs(mcfg.target_template, mcfg.get("target_segment", "first"))
    return joint.Joint()
