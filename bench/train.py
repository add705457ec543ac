"""Fine-tune a transformer with the Hugging Face Trainer: dynamic padding, length grouping, early stopping."""

import logging
import shutil
import time
from pathlib import Path

import numpy as np
import torch
from datasets import Dataset

from bench import cache, checkpoints, encoding, long_document
from bench.encoding import aggregate, encode, train_strategy
from bench.errors import BenchError
from bench.metrics import score_split
from bench.models.transformer import load_model, load_tokenizer

log = logging.getLogger(__name__)


def _trainer_class():
    from torch.utils.data import SequentialSampler
    from transformers import Trainer

    class OrderedEvalTrainer(Trainer):
        """Evaluates in dataset order. transformers 5 also length-groups evaluation batches when training groups
        by length, and returns predictions in that shuffled order; ours are mapped back to examples by position."""

        def _get_eval_sampler(self, eval_dataset):
            if eval_dataset is None:
                return None
            # several processes: no sampler, so the data is sharded in order and gathered back in order
            return SequentialSampler(eval_dataset) if self.args.world_size <= 1 else None

    return OrderedEvalTrainer


class FineTuner:
    """Train on train, keep the checkpoint with the best dev main score, predict with it."""

    def __init__(self, cfg, run_dir: Path, checkpoint_dir: Path | None = None):
        self.cfg = cfg
        self.run_dir = Path(run_dir)
        # per-fingerprint folder (bench.checkpoints): a re-launched killed run resumes from it; the caller
        # removes it once the run is recorded. None: checkpoints in the run folder, removed after training.
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir is not None else None
        self.labels = list(cfg.task.labels)
        self.has_target = cfg.task.target_field is not None
        if cfg.train.num_threads:
            torch.set_num_threads(cfg.train.num_threads)
        self.tokenizer = load_tokenizer(cfg.model)
        self.tokenizer_digest = cache.tokenizer_digest(self.tokenizer)
        self.prepare_s = 0.0  # tokenizing (or reading cached inputs), over fit and predict
        self.model, self.provenance = self._load_model()

    def _load_model(self):
        return load_model(self.cfg.model, self.labels, self.cfg.seed)

    def _encode(self, examples: list[dict], strategy: str) -> dict:
        """Model inputs for (target, text) pairs; `example` maps each input row to its example."""
        batch = {"text": [e["text"] for e in examples], "target": [e["target"] or "" for e in examples]}
        return encode(self.tokenizer, batch, self.cfg.model.max_length, strategy, self.has_target)

    def _row_labels(self, examples: list[dict], rows: list[int]) -> list:
        return [self.labels.index(examples[i]["label"]) for i in rows]

    def _example_logits(self, logits, rows: list[int], examples: list[dict], strategy: str):
        """One row of logits per example, from the model's rows (windows merged by the strategy)."""
        return aggregate(logits, rows, len(examples), strategy)

    def _dataset(
        self, examples: list[dict], strategy: str, labelled: bool = True, by_length: bool = False
    ) -> tuple[Dataset, list[int]]:
        """Model inputs (several rows per example for the chunk strategies) and each row's example index.

        Tokenized inputs are kept in bench.cache, keyed by the tokenizer, strategy, length limit and the texts,
        so a second run of the same task and model does not tokenize again.
        """
        start = time.perf_counter()
        key = cache.digest(
            "inputs",
            type(self).__name__,
            self.tokenizer_digest,
            self.cfg.model.max_length,
            strategy,
            self.has_target,
            cache.code_digest(encoding, long_document),
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
            labels = self._row_labels(examples, rows)
            ds = ds.add_column("labels", labels, new_fingerprint=cache.digest(key, by_length, labels)[:40])
        self.last_cost = {"inputs": len(rows), "tokens": sum(lengths)}  # no padding counted
        self.prepare_s += time.perf_counter() - start
        return ds, rows

    def _args(self):
        from transformers import TrainingArguments

        t = self.cfg.train
        # the same switch under its current name (transformers 5.x renamed gradient_checkpointing; both are accepted
        # until v6, the old one with a warning)
        fields = TrainingArguments.__dataclass_fields__
        checkpointing = "activation_checkpointing" if "activation_checkpointing" in fields else "gradient_checkpointing"
        return TrainingArguments(
            output_dir=str(self.checkpoint_dir or self.run_dir / "checkpoints"),
            num_train_epochs=t.epochs,
            max_steps=t.max_steps,
            per_device_train_batch_size=t.batch_size,
            per_device_eval_batch_size=t.eval_batch_size,
            learning_rate=t.learning_rate,
            weight_decay=t.weight_decay,
            warmup_steps=t.warmup_ratio,
            eval_strategy="epoch" if t.max_steps < 0 else "steps",
            save_strategy="epoch" if t.max_steps < 0 else "steps",
            eval_steps=max(t.max_steps // 2, 1) if t.max_steps > 0 else None,
            save_steps=max(t.max_steps // 2, 1) if t.max_steps > 0 else None,
            save_total_limit=1,
            load_best_model_at_end=True,
            metric_for_best_model="main",
            greater_is_better=True,
            train_sampling_strategy="group_by_length" if t.group_by_length else "random",
            seed=self.cfg.seed,
            data_seed=self.cfg.seed,
            bf16=t.precision == "bf16",
            fp16=t.precision == "fp16",
            use_cpu=not torch.cuda.is_available(),
            torch_compile=t.torch_compile,
            **{checkpointing: t.gradient_checkpointing},
            logging_steps=10,
            include_num_input_tokens_seen="non_padding",  # training cost, recorded in the fit info
            report_to="none",
            disable_tqdm=False,
            save_only_model=False,  # optimizer, scheduler and RNG states too: a killed run resumes exactly
        )

    def fit(self, train: list[dict], dev: list[dict]) -> dict:
        from transformers import DataCollatorWithPadding, EarlyStoppingCallback

        strategy = self.cfg.train.long_document
        train_ds, _ = self._dataset(train, train_strategy(strategy))
        train_cost = self.last_cost
        dev_ds, dev_rows = self._dataset(dev, strategy, by_length=True)  # read as the test split is read

        def compute_metrics(p):
            logits = self._example_logits(p.predictions, dev_rows, dev, strategy)
            pred = [self.labels[i] for i in np.argmax(logits, axis=-1)]
            return {"main": score_split(dev, pred, self.labels, self.cfg.task.main_score)["main"]}

        self.trainer = _trainer_class()(
            compute_loss_func=self._loss(train),
            model=self.model,
            args=self._args(),
            data_collator=DataCollatorWithPadding(self.tokenizer),
            train_dataset=train_ds,
            eval_dataset=dev_ds,
            processing_class=self.tokenizer,
            compute_metrics=compute_metrics,
            callbacks=[EarlyStoppingCallback(early_stopping_patience=self.cfg.train.early_stopping_patience)],
        )
        resume = checkpoints.latest(self.checkpoint_dir) if self.checkpoint_dir is not None else None
        if resume is not None:
            log.info("resuming from %s (an earlier launch of this run was interrupted)", resume)
        out = self.trainer.train(resume_from_checkpoint=str(resume) if resume else None)
        self.trainer.compute_metrics = None  # dev-only; predict() serves other splits
        state = self.trainer.state
        if self.cfg.train.save_model and self.trainer.is_world_process_zero():
            self.trainer.save_model(str(self.run_dir / "model"))  # the best checkpoint, for bench.predict
        if self.checkpoint_dir is None and not self.cfg.train.save_checkpoints:
            self.trainer.accelerator.wait_for_everyone()  # torchrun / accelerate: no rank still reads a checkpoint
            if self.trainer.is_world_process_zero():
                shutil.rmtree(self.run_dir / "checkpoints", ignore_errors=True)
        return {
            "train_loss": out.training_loss,
            "steps": state.global_step,
            "epochs": state.epoch,
            "best_dev_main": state.best_metric,
            "best_checkpoint_step": _step_of(state.best_model_checkpoint),
            "resumed_from_step": _step_of(str(resume)) if resume else None,
            "train_inputs": train_cost["inputs"],  # rows of the training set (one per example and target)
            "train_tokens": int(state.num_input_tokens_seen),  # non-padding tokens fed over all steps
        }

    def _loss(self, train: list[dict]):
        """Cross-entropy, weighted by inverse label frequency so rare stances are not drowned by `none`."""
        mode = self.cfg.train.class_weights
        if mode == "none":
            return None
        if mode != "balanced":
            raise BenchError(f"train.class_weights={mode!r} is unknown; use balanced or none")
        counts = np.bincount([self.labels.index(e["label"]) for e in train], minlength=len(self.labels))
        weights = torch.tensor(len(train) / (len(self.labels) * np.maximum(counts, 1)), dtype=torch.float32)

        def loss(outputs, labels, num_items_in_batch=None):
            logits = outputs["logits"]  # (batch, labels), or (batch, targets, labels) for the joint formulation
            labels = labels.reshape(-1)
            total = torch.nn.functional.cross_entropy(
                logits.reshape(labels.numel(), -1).float(),
                labels,
                weight=weights.to(logits.device),
                ignore_index=-100,  # joint: a target the article has no label for
                reduction="sum",
            )
            n = num_items_in_batch if num_items_in_batch is not None else (labels != -100).sum()
            return total / n

        return loss

    def predict(self, examples: list[dict]):
        strategy = self.cfg.train.long_document
        ds, rows = self._dataset(examples, strategy, labelled=False, by_length=True)  # also sets last_cost
        logits = self._example_logits(self.trainer.predict(ds).predictions, rows, examples, strategy)
        probs = torch.softmax(torch.from_numpy(logits).float(), dim=-1).numpy()
        return [self.labels[i] for i in probs.argmax(-1)], probs.round(6).tolist()


def _with_lengths(enc: dict) -> dict:
    return {**enc, "length": [len(x) for x in enc["input_ids"]]}


def _step_of(checkpoint: str | None) -> int | None:
    return int(checkpoint.rsplit("-", 1)[-1]) if checkpoint else None
