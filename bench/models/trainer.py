"""The Hugging Face Trainer as fine-tuning uses it: arguments from the train config, class-weighted loss, dev
scoring for checkpoint selection, and the learning curve read back from the Trainer's log."""

import numpy as np
import torch

from bench.evaluation.metrics import score_split


def trainer_class(train_cfg):
    """A Trainer that evaluates in dataset order and, with train.head_learning_rate, trains the new head faster."""
    from torch.utils.data import SequentialSampler
    from transformers import Trainer

    class BenchTrainer(Trainer):
        """transformers 5 also length-groups evaluation batches when training groups by length, and returns
        predictions in that shuffled order; ours are mapped back to examples by position, so evaluation is
        sequential."""

        def _get_eval_sampler(self, eval_dataset):
            if eval_dataset is None:
                return None
            # several processes: no sampler, so the data is sharded in order and gathered back in order
            return SequentialSampler(eval_dataset) if self.args.world_size <= 1 else None

        def create_optimizer(self, *args, **kwargs):
            fresh = self.optimizer is None
            optimizer = super().create_optimizer(*args, **kwargs)
            if fresh and train_cfg.head_learning_rate is not None:
                _split_head_groups(optimizer, self.model, train_cfg.head_learning_rate)
            return optimizer

    return BenchTrainer


def _split_head_groups(optimizer, model, head_lr: float) -> None:
    """Move the head's parameters into groups of their own with learning rate head_lr (same other settings)."""
    head = {id(p) for name, p in model.named_parameters() if _is_head(name)}
    groups = []
    for group in optimizer.param_groups:
        mine = [p for p in group["params"] if id(p) in head]
        group["params"] = [p for p in group["params"] if id(p) not in head]
        if mine:
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": mine, "lr": head_lr})
    for g in groups:
        optimizer.add_param_group(g)


def _is_head(name: str) -> bool:
    """The randomly initialised classification layers (not the pretrained encoder)."""
    return name.startswith(("classifier.", "heads.", "score."))


def resolved_precision(precision: str) -> str:
    """`auto` as this machine runs it: bf16 only where it is native (emulated bf16 on a CPU without AMX or
    AVX512-BF16 runs several times slower than fp32; measured in docs/PERFORMANCE.md)."""
    if precision != "auto":
        return str(precision)
    if torch.cuda.is_available():
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    native = (
        getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)()
        or getattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)()
    )
    return "bf16" if native else "fp32"


def training_args(cfg, output_dir):
    from transformers import TrainingArguments

    t = cfg.train
    precision = resolved_precision(t.precision)
    # the same switch under its current name (transformers 5.x renamed gradient_checkpointing; both are accepted
    # until v6, the old one with a warning)
    fields = TrainingArguments.__dataclass_fields__
    checkpointing = "activation_checkpointing" if "activation_checkpointing" in fields else "gradient_checkpointing"
    by_steps = t.max_steps > 0
    return TrainingArguments(
        output_dir=str(output_dir),
        num_train_epochs=t.epochs,
        max_steps=t.max_steps,
        per_device_train_batch_size=t.batch_size,
        per_device_eval_batch_size=t.eval_batch_size,
        learning_rate=t.learning_rate,
        weight_decay=t.weight_decay,
        warmup_steps=t.warmup_ratio,
        eval_strategy="steps" if by_steps else "epoch",
        save_strategy="steps" if by_steps else "epoch",
        eval_steps=max(t.max_steps // 2, 1) if by_steps else None,
        save_steps=max(t.max_steps // 2, 1) if by_steps else None,
        save_total_limit=1,
        load_best_model_at_end=True,
        metric_for_best_model="main",
        greater_is_better=True,
        train_sampling_strategy="group_by_length" if t.group_by_length else "random",
        seed=cfg.seed,
        data_seed=cfg.seed,
        bf16=precision == "bf16",
        fp16=precision == "fp16",
        use_cpu=not torch.cuda.is_available(),
        torch_compile=t.torch_compile,
        **{checkpointing: t.gradient_checkpointing},
        logging_steps=10,
        include_num_input_tokens_seen="non_padding",  # training cost, recorded in the fit info
        report_to="none",
        disable_tqdm=False,
        save_only_model=False,  # optimizer, scheduler and RNG states too: a killed run resumes exactly
    )


def dev_scorer(task, dev: list[dict]):
    """score(logits, labels) -> the task's main score on dev, for checkpoint selection and early stopping."""

    def score(logits, labels) -> float:
        pred = [labels[i] for i in np.argmax(logits, axis=-1)]
        return score_split(dev, pred, labels, task.main_score)["main"]

    return score


def class_weighted_loss(mode, train: list[dict], labels: list[str]):
    """Cross-entropy, weighted by inverse label frequency so rare stances are not drowned by `none`."""
    if mode == "none":
        return None
    counts = np.bincount([labels.index(e["label"]) for e in train], minlength=len(labels))
    weights = torch.tensor(len(train) / (len(labels) * np.maximum(counts, 1)), dtype=torch.float32)

    def loss(outputs, target, num_items_in_batch=None):
        logits = outputs["logits"]  # (batch, labels), or (batch, targets, labels) for the joint formulation
        target = target.reshape(-1)
        total = torch.nn.functional.cross_entropy(
            logits.reshape(target.numel(), -1).float(),
            target,
            weight=weights.to(logits.device),
            ignore_index=-100,  # joint: a target the article has no label for
            reduction="sum",
        )
        n = num_items_in_batch if num_items_in_batch is not None else (target != -100).sum()
        return total / n

    return loss


def learning_curve(log_history: list[dict]) -> list[dict]:
    """Dev main score (and the mean training loss since the previous evaluation) at every evaluation."""
    curve, losses = [], []
    for entry in log_history:
        if "loss" in entry:
            losses.append(entry["loss"])
        if "eval_main" in entry:
            curve.append(
                {
                    "epoch": round(entry.get("epoch", 0.0), 3),
                    "step": entry.get("step"),
                    "dev_main": entry["eval_main"],
                    "train_loss": round(float(np.mean(losses)), 4) if losses else None,
                }
            )
            losses = []
    return curve
