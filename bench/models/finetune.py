"""Fine-tune a transformer encoder with the Hugging Face Trainer (`model.kind=transformer`): dynamic padding, length
grouping, early stopping on the dev main score, a learning curve in the fit info; either formulation (pairs, joint)."""

import logging
import shutil
import time
from pathlib import Path

import numpy as np
import torch

import bench.inputs
from bench import cache
from bench.inputs.encoding import train_strategy
from bench.models import checkpoints
from bench.models.contract import Cost, FitInfo, Predictions
from bench.models.formulations import formulation
from bench.models.registry import register_model
from bench.models.trainer import (
    class_weighted_loss,
    dev_scorer,
    learning_curve,
    resolved_precision,
    trainer_class,
    training_args,
)
from bench.models.transformer import EncoderConfig, load_tokenizer

log = logging.getLogger(__name__)


@register_model("transformer", config=EncoderConfig)
class FineTuner:
    """Train on train, keep the checkpoint with the best dev main score, predict with it."""

    def __init__(self, cfg, run_dir=None, checkpoint_dir=None, model_dir: Path | None = None):
        self.cfg = cfg
        self.run_dir = Path(run_dir) if run_dir is not None else None
        # per-fingerprint folder (bench.models.checkpoints): a re-launched killed run resumes from it; the caller
        # removes it once the run is recorded. None: checkpoints in the run folder, removed after training.
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir is not None else None
        self.labels = list(cfg.task.labels)
        self.targets = list(cfg.task.targets or [])
        self.has_target = cfg.task.target_field is not None
        self.strategy = cfg.model.long_document
        self.form = formulation(cfg.model)
        self.form.check(cfg)
        if cfg.train.num_threads:
            torch.set_num_threads(cfg.train.num_threads)
        self.tokenizer = load_tokenizer(cfg.model, model_dir)
        self.tokenizer_digest = cache.tokenizer_digest(self.tokenizer)
        self.prepare_s = 0.0  # tokenizing (or reading cached inputs), over fit and predict
        self.trainer = None
        if model_dir is None:
            self.model, self.provenance = self.form.build(cfg.model, self.targets, self.labels, cfg.seed)
        else:
            self.model = self.form.load_saved(Path(model_dir), self.targets, self.labels).eval()
            self.provenance = {"source": "saved", "path": str(model_dir), "formulation": cfg.model.formulation}

    def _dataset(self, examples: list[dict], strategy: str, labelled: bool = True, by_length: bool = False):
        """Model inputs (several rows per example for the chunk strategies), each row's example index, and the
        cost of reading them. Tokenized inputs are kept in bench.cache, keyed by the tokenizer, formulation,
        strategy, length limit, the bench.inputs code and the texts, so a second run does not tokenize again."""
        start = time.perf_counter()
        key = cache.digest(
            "inputs",
            self.form.name,
            self.form.input_key,
            self.tokenizer_digest,
            self.cfg.model.max_length,
            strategy,
            self.has_target,
            dict(self.cfg.task.aliases or {}) if strategy == "target_sentences" else None,
            cache.code_digest(bench.inputs),
            [[e.get("group", e["id"]), e["target"] or "", e["text"]] for e in examples],
        )
        ds = cache.tokenized(key, lambda: _with_lengths(self._encode(examples, strategy)))
        rows = ds.data.column("example").to_pylist()  # Arrow columns: far faster than iterating the Dataset
        lengths = ds.data.column("length").to_pylist()
        if by_length:  # evaluation: sorted so batches carry little padding; `rows` keeps the mapping to examples
            order = sorted(range(len(rows)), key=lengths.__getitem__)
            ds = ds.select(order, new_fingerprint=f"{key[:40]}-sorted")
            rows = [rows[i] for i in order]
        ds = ds.remove_columns(["example", "length"], new_fingerprint=f"{key[:40]}-inputs-{by_length}")
        if labelled:
            labels = self.form.row_labels(examples, rows, self.targets, self.labels)
            ds = ds.add_column("labels", labels, new_fingerprint=cache.digest(key, by_length, labels)[:40])
        seconds = time.perf_counter() - start
        self.prepare_s += seconds
        return ds, rows, Cost(len(examples), len(rows), sum(lengths), round(seconds, 3))

    def _encode(self, examples: list[dict], strategy: str) -> dict:
        aliases = dict(self.cfg.task.aliases or {})
        return self.form.encode(self.tokenizer, examples, self.cfg.model.max_length, strategy, self.has_target, aliases)

    def _logits(self, examples, rows, raw):
        return self.form.example_logits(raw, rows, examples, self.targets, self.strategy)

    def fit(self, train: list[dict], dev: list[dict]) -> FitInfo:
        from transformers import DataCollatorWithPadding, EarlyStoppingCallback

        train_ds, _, train_cost = self._dataset(train, train_strategy(self.strategy))
        dev_ds, dev_rows, _ = self._dataset(dev, self.strategy, by_length=True)  # read as the test split is read
        score = dev_scorer(self.cfg.task, dev)
        collate = DataCollatorWithPadding(self.tokenizer)
        resume = checkpoints.latest(self.checkpoint_dir) if self.checkpoint_dir is not None else None
        head_init = None
        if self.cfg.model.head_init == "probe" and resume is None:  # a resumed run's heads come from its checkpoint
            head_init = self.form.init_heads(self.model, train_ds, dev_ds, collate, self.cfg)
        self.trainer = trainer_class(self.cfg.train)(
            compute_loss_func=class_weighted_loss(self.cfg.train.class_weights, train, self.labels),
            model=self.model,
            args=training_args(self.cfg, self.checkpoint_dir or self._scratch()),
            data_collator=collate,
            train_dataset=train_ds,
            eval_dataset=dev_ds,
            processing_class=self.tokenizer,
            compute_metrics=lambda p: {"main": score(self._logits(dev, dev_rows, p.predictions), self.labels)},
            callbacks=[EarlyStoppingCallback(early_stopping_patience=self.cfg.train.early_stopping_patience)],
        )
        if resume is not None:
            log.info("resuming from %s (an earlier launch of this run was interrupted)", resume)
        out = self.trainer.train(resume_from_checkpoint=str(resume) if resume else None)
        self.trainer.compute_metrics = None  # dev-only; predict() serves other splits
        state = self.trainer.state
        if self.checkpoint_dir is None and not self.cfg.train.save_checkpoints and self.run_dir is not None:
            self.trainer.accelerator.wait_for_everyone()  # torchrun / accelerate: no rank still reads a checkpoint
            if self.trainer.is_world_process_zero():
                shutil.rmtree(self._scratch(), ignore_errors=True)
        details = {
            "train_loss": out.training_loss,
            "steps": state.global_step,
            "epochs": state.epoch,
            "best_dev_main": state.best_metric,
            "best_checkpoint_step": _step_of(state.best_model_checkpoint),
            "resumed_from_step": _step_of(str(resume)) if resume else None,
            "learning_curve": learning_curve(state.log_history),
            "precision": resolved_precision(self.cfg.train.precision),  # what `auto` ran as on this machine
            "head_init": head_init,  # LP-FT: the C chosen per target and its dev macro-F1 before fine-tuning
        }
        train_cost.tokens = int(state.num_input_tokens_seen)  # non-padding tokens fed over all steps and epochs
        train_cost.prepare_s = round(self.prepare_s, 3)  # train and dev inputs
        return FitInfo(details, train_cost)

    def _scratch(self) -> Path:
        return (self.run_dir or Path(".")) / "checkpoints"

    def predict(self, examples: list[dict]) -> Predictions:
        ds, rows, cost = self._dataset(examples, self.strategy, labelled=False, by_length=True)
        trainer = self.trainer or self._predictor()
        logits = self._logits(examples, rows, trainer.predict(ds).predictions)
        probs = torch.softmax(torch.from_numpy(np.asarray(logits)).float(), dim=-1).numpy()
        return Predictions([self.labels[i] for i in probs.argmax(-1)], probs.round(6).tolist(), cost)

    def _predictor(self):
        """A Trainer for prediction only, for a model loaded from a saved run."""
        import tempfile

        from transformers import DataCollatorWithPadding, TrainingArguments

        args = TrainingArguments(
            output_dir=tempfile.mkdtemp(prefix="bench-predict-"),
            per_device_eval_batch_size=self.cfg.train.eval_batch_size,
            use_cpu=not torch.cuda.is_available(),
            report_to="none",
        )
        return trainer_class(self.cfg.train)(
            model=self.model, args=args, data_collator=DataCollatorWithPadding(self.tokenizer)
        )

    def save(self, folder: Path) -> None:
        """The fitted (best) model and its tokenizer, loadable with `load(folder, cfg)`."""
        self.trainer.save_model(str(folder))
        self.form.save_extra(self.model, Path(folder))

    @classmethod
    def load(cls, folder: Path, cfg) -> "FineTuner":
        return cls(cfg, model_dir=Path(folder))


def _with_lengths(enc: dict) -> dict:
    return {**enc, "length": [len(x) for x in enc["input_ids"]]}


def _step_of(checkpoint: str | None) -> int | None:
    return int(checkpoint.rsplit("-", 1)[-1]) if checkpoint else None
