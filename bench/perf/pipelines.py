"""The three pipelines compared on one task: A (the project's FineTuner), B (run_classification.py-style) and
C (a minimal loop over length-sorted, dynamically padded batches), and the sorted / unsorted evaluation loops."""

import contextlib
import random
import time
from pathlib import Path

import torch

from bench.perf.measure import (
    DEVICE,
    TrainerProbe,
    non_embedding_params,
    peak_gpu_bytes,
    peak_rss_bytes,
    reset_peak_rss,
    sync,
)


def encode_plain(tok, examples, max_length, has_target, pad_to_max):
    """Tokenize (target, text) pairs like the "head" strategy; pad_to_max: every row padded to max_length (B)."""
    texts = [e["text"] for e in examples]
    pad = "max_length" if pad_to_max else False
    if has_target:
        targets = [e["target"] or "" for e in examples]
        return tok(targets, texts, truncation="only_second", max_length=max_length, padding=pad)
    return tok(texts, truncation=True, max_length=max_length, padding=pad)


def rows(enc) -> list[dict]:
    keys = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in enc]
    return [{k: enc[k][i] for k in keys} for i in range(len(enc["input_ids"]))]


def pad_batch(feats: list[dict], pad_id: int, length: int | None = None) -> dict:
    """Tensors for one batch, padded to its longest row (or to `length`)."""
    n = length or max(len(f["input_ids"]) for f in feats)
    out = {}
    for k in feats[0]:
        fill = pad_id if k == "input_ids" else 0
        t = torch.full((len(feats), n), fill, dtype=torch.long)
        for i, f in enumerate(feats):
            t[i, : len(f[k])] = torch.tensor(f[k][:n], dtype=torch.long)
        out[k] = t
    return out


def autocast(precision: str):
    if precision == "bf16":
        return torch.autocast(DEVICE.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def run_a(cfg, train, dev, evals, out: Path, probe: TrainerProbe) -> dict:
    """The project's FineTuner, unmodified: fit (train + per-epoch dev eval + checkpoint) then predict."""
    from bench.models.finetune import FineTuner

    ft = FineTuner(cfg, out)
    probe.reset()
    reset_peak_rss()
    t0 = time.perf_counter()
    with probe.patched():
        fit_info = ft.fit(train, dev)
    fit_s = time.perf_counter() - t0
    train_counts, train_t, loop_s = dict(probe.c), dict(probe.t), probe.loop_seconds()
    rss, gpu = peak_rss_bytes(), peak_gpu_bytes()
    probe.reset()
    t0 = time.perf_counter()
    with probe.patched():
        ft.predict(evals)
    eval_s = time.perf_counter() - t0
    prepare_s = ft.prepare_s  # read before the sampler check below tokenizes two more examples
    try:  # transformers 5 length-groups evaluation too when train_sampling_strategy="group_by_length"
        ds, _, _ = ft._dataset(evals[:2], cfg.model.long_document)
        eval_sampler = type(ft.trainer._get_eval_sampler(ds)).__name__
    except Exception:  # noqa: BLE001 - private helpers; unknown if they changed
        eval_sampler = None
    return {
        "train_s": loop_s,
        "fit_wall_s": fit_s,
        "in_training_eval_s": train_t["evaluate"],
        "checkpoint_save_s": train_t["_save_checkpoint"] + train_t["_load_best_model"],
        "steps": fit_info.details["steps"],
        "train_real_tokens": train_counts["train_real"],
        "train_total_tokens": train_counts["train_total"],
        "eval_s": eval_s,
        "eval_real_tokens": probe.c["pred_real"],
        "eval_total_tokens": probe.c["pred_total"],
        "peak_rss_bytes": rss,
        "peak_gpu_bytes": gpu,
        "prepare_inputs_s": prepare_s,  # tokenizing or reading bench.cache (not in train_s or eval_s)
        "eval_sampler": eval_sampler,
        "n_params_non_embedding": non_embedding_params(ft.model),
    }


def run_b(cfg, train, evals, out: Path, probe: TrainerProbe, precision: str) -> dict:
    """run_classification.py-style: pad to max length, default collator, random sampler, no eval during training."""
    from datasets import Dataset
    from transformers import Trainer, TrainingArguments, default_data_collator

    from bench.models.transformer import load_model, load_tokenizer

    t, labels = cfg.train, list(cfg.task.labels)
    has_target = cfg.task.target_field is not None
    tok = load_tokenizer(cfg.model)
    model, _ = load_model(cfg.model, labels, cfg.seed)

    def dataset(examples):
        enc = encode_plain(tok, examples, cfg.model.max_length, has_target, pad_to_max=True)
        return Dataset.from_dict({**enc, "labels": [labels.index(e["label"]) for e in examples]})

    args = TrainingArguments(
        output_dir=str(out / "b"),
        num_train_epochs=t.epochs,
        per_device_train_batch_size=t.batch_size,
        per_device_eval_batch_size=t.eval_batch_size,
        learning_rate=t.learning_rate,
        weight_decay=t.weight_decay,
        warmup_steps=t.warmup_ratio,
        eval_strategy="no",
        save_strategy="no",
        train_sampling_strategy="random",
        seed=cfg.seed,
        data_seed=cfg.seed,
        bf16=precision == "bf16",
        use_cpu=DEVICE.type == "cpu",
        logging_steps=10,
        report_to="none",
        disable_tqdm=True,
    )
    trainer = Trainer(model=model, args=args, data_collator=default_data_collator, train_dataset=dataset(train))
    probe.reset()
    reset_peak_rss()
    with probe.patched():
        trainer.train()
    train_counts, loop_s = dict(probe.c), probe.loop_seconds()
    rss, gpu = peak_rss_bytes(), peak_gpu_bytes()
    eval_ds = dataset(evals)
    probe.reset()
    t0 = time.perf_counter()
    with probe.patched():
        trainer.predict(eval_ds)
    return {
        "train_s": loop_s,
        "steps": trainer.state.global_step,
        "train_real_tokens": train_counts["train_real"],
        "train_total_tokens": train_counts["train_total"],
        "eval_s": time.perf_counter() - t0,
        "eval_real_tokens": probe.c["pred_real"],
        "eval_total_tokens": probe.c["pred_total"],
        "peak_rss_bytes": rss,
        "peak_gpu_bytes": gpu,
    }


def run_c(cfg, train, evals, precision: str) -> dict:
    """Minimal loop: length-sorted batches (shuffled in order), dynamic padding, AdamW, inference_mode eval."""
    from transformers import get_linear_schedule_with_warmup

    from bench.models.transformer import load_model, load_tokenizer

    t, labels = cfg.train, list(cfg.task.labels)
    has_target = cfg.task.target_field is not None
    tok = load_tokenizer(cfg.model)
    model, _ = load_model(cfg.model, labels, cfg.seed)
    model.to(DEVICE)
    feats = rows(encode_plain(tok, train, cfg.model.max_length, has_target, pad_to_max=False))
    y = torch.tensor([labels.index(e["label"]) for e in train], device=DEVICE)
    order = sorted(range(len(feats)), key=lambda i: len(feats[i]["input_ids"]))
    batches = [order[i : i + t.batch_size] for i in range(0, len(order), t.batch_size)]
    random.Random(cfg.seed).shuffle(batches)
    epochs = max(1, round(t.epochs))
    steps = epochs * len(batches)
    decay = [p for n, p in model.named_parameters() if not n.endswith("bias") and "LayerNorm" not in n]
    no_decay = [p for n, p in model.named_parameters() if n.endswith("bias") or "LayerNorm" in n]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": t.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=t.learning_rate,
    )
    warmup = int(t.warmup_ratio * steps) if t.warmup_ratio < 1 else int(t.warmup_ratio)
    sched = get_linear_schedule_with_warmup(opt, warmup, steps)
    real = total = 0
    model.train()
    reset_peak_rss()
    t0 = time.perf_counter()
    for _ in range(epochs):
        for b in batches:
            batch = pad_batch([feats[i] for i in b], tok.pad_token_id)
            real += int(batch["attention_mask"].sum())
            total += batch["input_ids"].numel()
            batch = {k: v.to(DEVICE, non_blocking=True) for k, v in batch.items()}
            with autocast(precision):
                logits = model(**batch).logits
            loss = torch.nn.functional.cross_entropy(logits.float(), y[b])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
    sync()
    train_s = time.perf_counter() - t0
    rss, gpu = peak_rss_bytes(), peak_gpu_bytes()
    ev = evaluate_minimal(model, tok, evals, cfg, precision, sort=True)
    return {
        "train_s": train_s,
        "steps": steps,
        "train_real_tokens": real,
        "train_total_tokens": total,
        "eval_s": ev["eval_s"],
        "eval_real_tokens": ev["eval_real_tokens"],
        "eval_total_tokens": ev["eval_total_tokens"],
        "peak_rss_bytes": rss,
        "peak_gpu_bytes": gpu,
        "model": model,
        "tokenizer": tok,
    }


def evaluate_minimal(model, tok, examples, cfg, precision: str, sort: bool) -> dict:
    """sort=True: length-sorted, dynamically padded batches under inference_mode (predictions put back in order).
    sort=False: the examples in their own order, every row padded to max length, under no_grad (the usual loop)."""
    has_target = cfg.task.target_field is not None
    L, bs = cfg.model.max_length, cfg.train.eval_batch_size
    feats = rows(encode_plain(tok, examples, L, has_target, pad_to_max=False))
    order = list(range(len(feats)))
    if sort:
        order.sort(key=lambda i: len(feats[i]["input_ids"]))
    logits = [None] * len(feats)
    real = total = 0
    model.eval()
    grad = torch.inference_mode() if sort else torch.no_grad()
    t0 = time.perf_counter()
    with grad, autocast(precision):
        for s in range(0, len(order), bs):
            idx = order[s : s + bs]
            batch = pad_batch([feats[i] for i in idx], tok.pad_token_id, None if sort else L)
            real += int(batch["attention_mask"].sum())
            total += batch["input_ids"].numel()
            out = model(**{k: v.to(DEVICE, non_blocking=True) for k, v in batch.items()}).logits.float()
            for i, row in zip(idx, out, strict=True):
                logits[i] = row
    sync()
    eval_s = time.perf_counter() - t0
    model.train()
    return {"eval_s": eval_s, "eval_real_tokens": real, "eval_total_tokens": total}
