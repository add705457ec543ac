#!/usr/bin/env python
"""Training and evaluation throughput of StanceBench against two reference pipelines (docs/PERFORMANCE.md).

On the same model, hyper-parameters, examples and threads, in one process, side by side:

  A  this project's training: bench.train.FineTuner (the code path of `python -m bench.run`), composed from
     the real Hydra config: dynamic padding, length grouping, class-balanced loss, per-epoch dev evaluation
  B  the run_classification.py-style pipeline: HF Trainer, every example padded to max length, random sampler
  C  a minimal PyTorch loop over length-sorted, dynamically padded batches (the limit)

Figures are real (non-padding) tokens per second, padding waste, peak RSS of each phase, model FLOP
utilisation against a measured matmul peak, and the ratios A/B and A/C (median and spread over --repeats).
On a machine with a CUDA GPU everything runs there (memory is then peak GPU memory; the matmul peak is the card's,
measured); CUDA_VISIBLE_DEVICES="" keeps it on the CPU. Also: sorted vs unsorted evaluation, the fixed cost of a
run, second-run data preparation, peak RSS at batch 16 x 512 tokens and (--scaling) time as examples and max
length grow.

    python scripts/bench_perf.py --smoke                       # seconds, tiny random model, demo task
    python scripts/bench_perf.py --repeats 3 --json perf.json  # minilm on ruw (tweets) and geostance (articles)
"""

import argparse
import contextlib
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

TWEET_TASKS = {"ruw", "tweeteval_stance"}
GiB = 1024**3
# Where B and C run, and where A's Trainer puts the model: the GPU when there is one (CUDA_VISIBLE_DEVICES="" for CPU)
DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")


def sync() -> None:
    """Wait for queued GPU work, so that a timer read after it counts that work."""
    if DEVICE.type == "cuda":
        torch.cuda.synchronize()


# ---------------------------------------------------------------------------------------------- measurement helpers


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark of this process (Linux >= 4.0), and the GPU's peak-memory mark; False where
    the RSS mark cannot be reset."""
    if DEVICE.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_rss_bytes() -> int:
    """Peak resident set size: VmHWM (since the last reset) where /proc has it, else getrusage (process lifetime)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024


def peak_gpu_bytes() -> int | None:
    """Peak GPU memory held by tensors since the last reset_peak_rss (None without a GPU)."""
    return torch.cuda.max_memory_allocated() if DEVICE.type == "cuda" else None


def summary(values: list[float]) -> dict:
    """Median and spread of repeated measurements."""
    med = statistics.median(values)
    return {
        "median": med,
        "min": min(values),
        "max": max(values),
        "spread": (max(values) - min(values)) / med if med else 0.0,
        "runs": values,
    }


def matmul_peak_gflops(dtype: torch.dtype, n: int, reps: int) -> float:
    """Best-of-reps GFLOP/s of an n x n matmul: the practical peak model FLOP utilisation is measured against."""
    a, b = torch.randn(n, n, device=DEVICE).to(dtype), torch.randn(n, n, device=DEVICE).to(dtype)
    torch.matmul(a, b)  # warm-up
    sync()
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        torch.matmul(a, b)
        sync()
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best / 1e9


class TrainerProbe:
    """Counts the tokens each Trainer step sees and times the in-training evaluation and checkpoint saves.

    It patches methods of transformers.Trainer (wrapping them, changing nothing they do) so that A, the
    project's unmodified FineTuner, can be measured from outside.
    """

    METHODS = ("train", "training_step", "prediction_step", "evaluate", "_save_checkpoint", "_load_best_model")

    def __init__(self):
        self.reset()

    def reset(self):
        self.c = {"train_real": 0, "train_total": 0, "train_steps": 0, "pred_real": 0, "pred_total": 0}
        self.max_shape = (0, 0)
        self.t = {"train": 0.0, "evaluate": 0.0, "_save_checkpoint": 0.0, "_load_best_model": 0.0}

    def _count(self, kind, inputs):
        mask = inputs.get("attention_mask")
        ids = inputs["input_ids"]
        self.c[f"{kind}_real"] += int(mask.sum()) if mask is not None else ids.numel()
        self.c[f"{kind}_total"] += ids.numel()
        if kind == "train":
            self.c["train_steps"] += 1
            self.max_shape = max(self.max_shape, tuple(ids.shape))

    @contextlib.contextmanager
    def patched(self):
        from transformers import Trainer

        orig = {m: getattr(Trainer, m) for m in self.METHODS if hasattr(Trainer, m)}
        probe = self

        def timed(name):
            def wrapper(trainer, *a, **k):
                t = time.perf_counter()
                try:
                    return orig[name](trainer, *a, **k)
                finally:
                    probe.t[name] += time.perf_counter() - t

            return wrapper

        def training_step(trainer, model, inputs, *a, **k):
            probe._count("train", inputs)
            return orig["training_step"](trainer, model, inputs, *a, **k)

        def prediction_step(trainer, model, inputs, *a, **k):
            probe._count("pred", inputs)
            return orig["prediction_step"](trainer, model, inputs, *a, **k)

        new = {"training_step": training_step, "prediction_step": prediction_step}
        new |= {m: timed(m) for m in ("train", "evaluate", "_save_checkpoint", "_load_best_model") if m in orig}
        for m, f in new.items():
            setattr(Trainer, m, f)
        try:
            yield self
        finally:
            for m, f in orig.items():
                setattr(Trainer, m, f)

    def loop_seconds(self) -> float:
        """Time in Trainer.train() less in-training evaluation, checkpoint saves and loading the best model."""
        return self.t["train"] - self.t["evaluate"] - self.t["_save_checkpoint"] - self.t["_load_best_model"]


# ----------------------------------------------------------------------------------------------------- setup


def compose_cfg(task: str, model: str, out: Path, overrides: list[str]):
    """The real Hydra config (as `python -m bench.run` composes it), writing only under `out`."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from bench import config

    config.register()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(ROOT / "configs"), version_base="1.3"):
        cfg = compose(
            config_name="config",
            overrides=[
                f"task={task}",
                f"model={model}",
                f"output_dir={out}",
                f"results_db={out / 'results.sqlite'}",
                "print_table=false",
                "force=true",
                *overrides,
            ],
        )
    GlobalHydra.instance().clear()
    return cfg


def train_overrides(p: dict, precision: str) -> list[str]:
    return [
        *p.get("set", []),
        f"model.max_length={p['max_length']}",
        f"train.batch_size={p['batch_size']}",
        f"train.eval_batch_size={p['eval_batch_size']}",
        f"train.epochs={p['epochs']}",
        "train.max_steps=-1",
        f"train.num_threads={p['threads']}",
        f"train.precision={precision}",
        f"seed={p['seed']}",
    ]


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


def non_embedding_params(model) -> int:
    emb = sum(p.numel() for n, p in model.named_parameters() if "embeddings" in n)
    return sum(p.numel() for p in model.parameters()) - emb


# ------------------------------------------------------------------------------------------------- pipelines


def run_a(cfg, train, dev, evals, out: Path, probe: TrainerProbe) -> dict:
    """The project's FineTuner, unmodified: fit (train + per-epoch dev eval + checkpoint) then predict."""
    from bench.train import FineTuner

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
    try:  # transformers 5 length-groups evaluation too when train_sampling_strategy="group_by_length"
        ds, _ = ft._dataset(evals[:2], cfg.train.long_document)
        eval_sampler = type(ft.trainer._get_eval_sampler(ds)).__name__
    except Exception:  # noqa: BLE001 - private helpers; unknown if they changed
        eval_sampler = None
    return {
        "train_s": loop_s,
        "fit_wall_s": fit_s,
        "in_training_eval_s": train_t["evaluate"],
        "checkpoint_save_s": train_t["_save_checkpoint"] + train_t["_load_best_model"],
        "steps": fit_info["steps"],
        "train_real_tokens": train_counts["train_real"],
        "train_total_tokens": train_counts["train_total"],
        "eval_s": eval_s,
        "eval_real_tokens": probe.c["pred_real"],
        "eval_total_tokens": probe.c["pred_total"],
        "peak_rss_bytes": rss,
        "peak_gpu_bytes": gpu,
        "prepare_inputs_s": ft.prepare_s,  # tokenizing or reading bench.cache (not in train_s or eval_s)
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


# ------------------------------------------------------------------------------------------------ aggregation


def pipeline_figures(runs: list[dict], params: int, peak: float) -> dict:
    """Tokens/s (median, spread), padding waste, peak RSS and model FLOP utilisation over repeated runs."""
    tr = [r["train_real_tokens"] / r["train_s"] for r in runs]
    ev = [r["eval_real_tokens"] / r["eval_s"] for r in runs]
    r0 = runs[0]
    fig = {
        "train_tokens_per_s": summary(tr),
        "eval_tokens_per_s": summary(ev),
        "train_s": summary([r["train_s"] for r in runs]),
        "eval_s": summary([r["eval_s"] for r in runs]),
        "steps": r0["steps"],
        "train_real_tokens": r0["train_real_tokens"],
        "train_total_tokens": r0["train_total_tokens"],
        "eval_real_tokens": r0["eval_real_tokens"],
        "eval_total_tokens": r0["eval_total_tokens"],
        "padding_waste_train": 1 - r0["train_real_tokens"] / max(r0["train_total_tokens"], 1),
        "padding_waste_eval": 1 - r0["eval_real_tokens"] / max(r0["eval_total_tokens"], 1),
        "peak_rss_bytes": max(r["peak_rss_bytes"] for r in runs),
        "peak_gpu_bytes": max((r.get("peak_gpu_bytes") or 0) for r in runs) or None,
        # useful FLOPs only: real tokens x non-embedding parameters (attention score FLOPs left out)
        "mfu_train": 6 * params * statistics.median(tr) / (peak * 1e9),
        "mfu_eval": 2 * params * statistics.median(ev) / (peak * 1e9),
    }
    for k in ("fit_wall_s", "in_training_eval_s", "checkpoint_save_s"):
        if k in r0:
            fig[k] = summary([r[k] for r in runs])
    return fig


def ratio(a: dict, b: dict, key: str) -> float:
    return a[key]["median"] / b[key]["median"]


# -------------------------------------------------------------------------------------------------- sections


def compare(task: str, p: dict, precision: str, peaks: dict, tmp: Path) -> dict:
    """A, B and C (and the two evaluation loops) on one task, interleaved per repeat."""
    from bench.data import load_task, subsample

    print(
        f"\n== {task} / {p['model']} / {precision}: {p['examples']} examples, max length {p['max_length']}, "
        f"batch {p['batch_size']}, {p['threads']} threads, {p['repeats']} repeat(s)",
        flush=True,
    )
    cfg = compose_cfg(task, p["model"], tmp / "a", train_overrides(p, precision))
    data = load_task(cfg.task)
    train = subsample(data.splits["train"], p["examples"], cfg.seed)
    evals = subsample(data.splits["dev"], p["examples"], cfg.seed)
    dev = evals[: min(len(evals), 64)]  # A's in-training dev evaluation (timed and set apart from its loop)
    probe = TrainerProbe()
    runs = {"A": [], "B": [], "C": [], "eval_sorted": [], "eval_unsorted": []}
    params = None
    if p["warmup"]:  # untimed: one-time costs (lazy imports, kernel set-up) must not fall on whichever runs first
        few = train[: 2 * p["batch_size"]]
        run_a(cfg, few, few[:8], few[:8], tmp / "warm_a", probe)
        run_b(cfg, few, few[:8], tmp / "warm_b", probe, precision)
        run_c(cfg, few, few[:8], precision)
    for rep in range(p["repeats"]):
        torch.set_num_threads(p["threads"])
        a = run_a(cfg, train, dev, evals, tmp / f"a{rep}", probe)
        params = a["n_params_non_embedding"]
        runs["A"].append(a)
        print(f"  A rep {rep}: train {a['train_s']:.2f}s  eval {a['eval_s']:.2f}s", flush=True)
        torch.set_num_threads(p["threads"])
        b = run_b(cfg, train, evals, tmp / f"b{rep}", probe, precision)
        runs["B"].append(b)
        print(f"  B rep {rep}: train {b['train_s']:.2f}s  eval {b['eval_s']:.2f}s", flush=True)
        torch.set_num_threads(p["threads"])
        c = run_c(cfg, train, evals, precision)
        model, tok = c.pop("model"), c.pop("tokenizer")
        runs["C"].append(c)
        print(f"  C rep {rep}: train {c['train_s']:.2f}s  eval {c['eval_s']:.2f}s", flush=True)
        for sort in (True, False):
            e = evaluate_minimal(model, tok, evals, cfg, precision, sort=sort)
            runs["eval_sorted" if sort else "eval_unsorted"].append(e)
        del model
    if len({r[0]["train_real_tokens"] for r in (runs["A"], runs["B"], runs["C"])}) != 1:
        print("  WARNING: A, B and C trained on different numbers of real tokens", flush=True)
    peak = peaks[precision]
    pipes = {k: pipeline_figures(runs[k], params, peak) for k in ("A", "B", "C")}
    ev = {}
    for k in ("eval_sorted", "eval_unsorted"):
        vals = [r["eval_real_tokens"] / r["eval_s"] for r in runs[k]]
        r0 = runs[k][0]
        ev[k] = {
            "eval_tokens_per_s": summary(vals),
            "padding_waste": 1 - r0["eval_real_tokens"] / max(r0["eval_total_tokens"], 1),
        }
    ratios = {
        "A/B": ratio(pipes["A"], pipes["B"], "train_tokens_per_s"),
        "A/C": ratio(pipes["A"], pipes["C"], "train_tokens_per_s"),
        "A/B_eval": ratio(pipes["A"], pipes["B"], "eval_tokens_per_s"),
        "A/C_eval": ratio(pipes["A"], pipes["C"], "eval_tokens_per_s"),
        "eval_sorted/unsorted": ratio(ev["eval_sorted"], ev["eval_unsorted"], "eval_tokens_per_s"),
    }
    return {
        "examples": {"train": len(train), "eval": len(evals)},
        "settings": {k: p[k] for k in ("max_length", "batch_size", "eval_batch_size", "epochs", "threads")},
        "params_non_embedding": params,
        "pipelines": pipes,
        "eval": ev,
        "ratios": ratios,
        # A's tokenization: first repeat (the cache may be cold) and later repeats (served by bench.cache)
        "A_prepare_inputs_s": [r["prepare_inputs_s"] for r in runs["A"]],
        "A_eval_sampler": runs["A"][0]["eval_sampler"],
        # the three pipelines must see the same real tokens, or the comparison is not like for like
        "same_real_tokens": len({r[0]["train_real_tokens"] for r in (runs["A"], runs["B"], runs["C"])}) == 1,
    }


def fixed_cost(task: str, runs: int, tmp: Path) -> dict:
    """Wall time of `python -m bench.run model=majority task=...` (a fresh interpreter each time), and the
    run record's data phase of the first run vs the later ones (same cache folder)."""
    env = {**os.environ, "BENCH_CACHE_DIR": str(tmp / "cache")}
    walls, data_s = [], []
    for i in range(runs):
        out = tmp / f"fixed{i}"
        cmd = [sys.executable, "-m", "bench.run", "model=majority", f"task={task}", f"hydra.run.dir={out}",
               f"results_db={tmp / 'fixed.sqlite'}", "force=true", "print_table=false"]  # fmt: skip
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        walls.append(time.perf_counter() - t0)
        if proc.returncode != 0:
            raise SystemExit(f"fixed-cost run failed ({' '.join(cmd)}):\n{proc.stderr[-2000:]}")
        rec = json.loads((out / "run.json").read_text())
        data_s.append(rec["timing_s"]["data"])
    return {
        "command": f"python -m bench.run model=majority task={task}",
        "wall_s": summary(walls),
        "data_s_first": data_s[0],
        "data_s_second": data_s[1] if len(data_s) > 1 else None,
        "data_second_over_first": data_s[1] / data_s[0] if len(data_s) > 1 and data_s[0] else None,
        "note": "timing_s['data']: load_task (bench.cache after the first run) and subsampling",
    }


def data_prep(task: str, model: str, tmp: Path, eval_examples: int) -> dict:
    """Data preparation of two identical `python -m bench.run` runs sharing one empty BENCH_CACHE_DIR: reading
    the task (timing_s['data']) plus tokenizing train, dev and test (timing_s['prepare_inputs']). One training
    step, and dev/test subsampled to `eval_examples`, keep the runs short; the data phases are the full ones."""
    env = {**os.environ, "BENCH_CACHE_DIR": str(tmp / "prep_cache")}
    phases = []
    for i in range(2):
        out = tmp / f"prep{i}"
        cmd = [sys.executable, "-m", "bench.run", f"model={model}", f"task={task}", "train.max_steps=1",
               f"train.max_eval_examples={eval_examples}", f"hydra.run.dir={out}",
               f"results_db={tmp / 'prep.sqlite'}", "force=true", "print_table=false"]  # fmt: skip
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"data-preparation run failed ({' '.join(cmd)}):\n{proc.stderr[-2000:]}")
        t = json.loads((out / "run.json").read_text())["timing_s"]
        phases.append({"data_s": t["data"], "prepare_inputs_s": t["prepare_inputs"],
                       "total_s": t["data"] + t["prepare_inputs"]})  # fmt: skip
    return {
        "command": f"python -m bench.run model={model} task={task} train.max_steps=1 "
        f"train.max_eval_examples={eval_examples} (twice, one cache folder)",
        "first": phases[0],
        "second": phases[1],
        "second_over_first": phases[1]["total_s"] / phases[0]["total_s"],
    }


def rss_probe_child(spec: dict) -> None:
    """(subprocess) A's real path, a few steps at batch x max_length on the longest articles; prints peak RSS."""
    from bench.data import load_task
    from bench.train import FineTuner

    out = Path(spec["out"])
    cfg = compose_cfg(spec["task"], spec["model"], out, [
        f"model.max_length={spec['max_length']}", f"train.batch_size={spec['batch_size']}",
        f"train.max_steps={spec['steps']}", "train.eval_batch_size=16", f"train.num_threads={spec['threads']}",
        *spec.get("overrides", []),
    ])  # fmt: skip
    data = load_task(cfg.task)
    train = sorted(data.splits["train"], key=lambda e: -len(e["text"]))[: spec["batch_size"] * spec["steps"]]
    dev = data.splits["dev"][:16]
    probe = TrainerProbe()
    with probe.patched():
        FineTuner(cfg, out).fit(train, dev)
    ru = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"peak_rss_bytes": ru if sys.platform == "darwin" else ru * 1024,
                      "max_batch_shape": list(probe.max_shape)}))  # fmt: skip


def rss_probe(p: dict, task: str, tmp: Path, overrides: tuple[str, ...] = ()) -> dict:
    spec = {"task": task, "model": p["model"], "out": str(tmp / f"rss{len(overrides)}"), "threads": p["threads"],
            "overrides": list(overrides), **p["rss"]}  # fmt: skip
    cmd = [sys.executable, __file__, "--rss-child", json.dumps(spec)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"peak-RSS probe failed:\n{proc.stderr[-2000:]}")
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    res |= {"task": task, "batch_size": spec["batch_size"], "max_length": spec["max_length"], "steps": spec["steps"],
            "overrides": list(overrides)}  # fmt: skip
    return res


def scaling(task: str, p: dict, precision: str, tmp: Path) -> dict:
    """A's training-loop and evaluation time at 1x, 2x, 4x examples, and at growing max length."""
    from bench.data import load_task, subsample

    probe = TrainerProbe()
    points = []
    grid = [(p["examples"] * f, p["max_length"]) for f in (1, 2, 4)]
    grid += [(p["examples"], n) for n in p["scaling_lengths"] if n != p["max_length"]]
    for n, L in grid:
        q = {**p, "max_length": L}
        cfg = compose_cfg(task, p["model"], tmp / "s", train_overrides(q, precision))
        data = load_task(cfg.task)
        train = subsample(data.splits["train"], n, cfg.seed)
        evals = subsample(data.splits["dev"], n, cfg.seed)
        train_s, eval_s = [], []
        for rep in range(p["repeats"]):
            torch.set_num_threads(p["threads"])
            a = run_a(cfg, train, evals[: min(len(evals), 64)], evals, tmp / f"s{n}_{L}_{rep}", probe)
            train_s.append(a["train_s"])
            eval_s.append(a["eval_s"])
        points.append({
            "examples": len(train), "eval_examples": len(evals), "max_length": L,
            "train_s": summary(train_s), "eval_s": summary(eval_s),
            "train_real_tokens": a["train_real_tokens"], "eval_real_tokens": a["eval_real_tokens"],
        })  # fmt: skip
        print(f"  scaling {task}: {len(train)} examples, max length {L}: train {statistics.median(train_s):.2f}s "
              f"eval {statistics.median(eval_s):.2f}s", flush=True)  # fmt: skip
    return {"task": task, "precision": precision, "pipeline": "A", "points": points}


def profile(task: str, p: dict, tmp: Path, steps: int) -> dict:
    """Where A's training time goes: torch.profiler over `steps` optimisation steps of FineTuner.fit (no dev
    evaluation), operators grouped into matmul, attention, other forward/backward ops, optimizer, and the rest of
    the step (Python, data collation, Trainer bookkeeping = wall time not spent inside a profiled operator)."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    from bench.data import load_task, subsample

    cfg = compose_cfg(task, p["model"], tmp / "prof", [*train_overrides(p, "fp32"), f"train.max_steps={steps}"])
    data = load_task(cfg.task)
    train = subsample(data.splits["train"], p["batch_size"] * steps, cfg.seed)
    from bench.train import FineTuner

    ft = FineTuner(cfg, tmp / "prof")
    ft._dataset(train, "head")  # tokenize outside the profile
    probe = TrainerProbe()
    from transformers import Trainer

    paused = {m: getattr(Trainer, m) for m in ("evaluate", "_save_checkpoint", "_load_best_model")}

    def unprofiled(name):  # dev evaluation and checkpoints are not training steps: keep them out of the profile
        def wrapper(trainer, *a, **k):
            prof.toggle_collection_dynamic(False, [ProfilerActivity.CPU])
            try:
                return paused[name](trainer, *a, **k)
            finally:
                prof.toggle_collection_dynamic(True, [ProfilerActivity.CPU])

        return wrapper

    with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
        for m in paused:
            setattr(Trainer, m, unprofiled(m))
        try:
            with probe.patched():
                ft.fit(train, train[:8])
        finally:
            for m, f in paused.items():
                setattr(Trainer, m, f)
    loop = probe.loop_seconds()
    groups = {"matmul": 0.0, "attention": 0.0, "optimizer": 0.0, "other ops": 0.0}
    top = []
    for ev in sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total):
        sec = ev.self_cpu_time_total / 1e6
        name = ev.key
        if any(k in name for k in ("addmm", "aten::mm", "bmm", "matmul", "linear")):
            groups["matmul"] += sec
        elif "attention" in name or "softmax" in name:
            groups["attention"] += sec
        elif "foreach" in name or "adam" in name.lower() or "Optimizer" in name:
            groups["optimizer"] += sec
        else:
            groups["other ops"] += sec
        if len(top) < 12:
            top.append({"op": name, "self_cpu_s": sec, "calls": ev.count})
    # shares of the training loop's wall time; what no operator accounts for is Python, collation, bookkeeping
    share = {k: v / loop for k, v in groups.items()}
    share["outside operators"] = max(0.0, 1 - sum(share.values()))
    return {"task": task, "steps": steps, "loop_s": loop, "share": share, "top_ops": top}


# -------------------------------------------------------------------------------------------------- report


def targets(res: dict, smoke: bool) -> list[dict]:
    """The issue's targets, checked against what was measured (informative only in --smoke)."""
    out = []

    def add(name, value, op, goal):
        if value is None:
            return
        met = value >= goal if op == ">=" else value <= goal if op == "<=" else value < goal
        out.append({"name": name, "value": value, "target": f"{op} {goal}", "met": met})

    for task, per in res["tasks"].items():
        fp = per.get("fp32")
        if fp:
            kind = "tweets" if task in TWEET_TASKS else "articles"
            add(f"{task}: A/B train tokens/s ({kind})", fp["ratios"]["A/B"], ">=", 2.8 if kind == "tweets" else 1.2)
            add(f"{task}: A/C train tokens/s", fp["ratios"]["A/C"], ">=", 0.95)
            add(f"{task}: sorted/unsorted eval tokens/s", fp["ratios"]["eval_sorted/unsorted"], ">=", 3.0)
        if fp and "bf16" in per and task not in TWEET_TASKS:
            for k in ("A", "C"):
                v = ratio(per["bf16"]["pipelines"][k], fp["pipelines"][k], "train_tokens_per_s")
                add(f"{task}: {k} bf16/fp32 train tokens/s (dev score: see docs)", v, ">=", 1.4)
    fc = res.get("fixed_cost")
    if fc:
        add("fixed cost of a majority run (s)", fc["wall_s"]["median"], "<", 8.0)
    for task, dp in res.get("data_prep", {}).items():
        add(f"{task}: second-run data preparation / first", dp["second_over_first"], "<=", 0.10)
    for key, how in (("rss", ""), ("rss_checkpointing", ", gradient checkpointing")):
        if res.get(key):
            add(f"peak RSS GiB, training at {res[key]['batch_size']} x {res[key]['max_length']}{how}",
                res[key]["peak_rss_bytes"] / GiB, "<", 4.0)  # fmt: skip
    return out


def print_tables(res: dict) -> None:
    line = "-" * 104
    gpu = res["meta"].get("device", "cpu") != "cpu"  # memory column: peak GPU memory there, else peak RSS
    print(f"\n{line}\nThroughput: real (non-padding) tokens/s, median over {res['meta']['repeats']} repeat(s) "
          f"[spread = (max-min)/median]\n{line}")  # fmt: skip
    print(f"{'task/prec':<18}{'pipe':<5}{'train tok/s':>14}{'spread':>8}{'eval tok/s':>14}{'spread':>8}"
          f"{'pad train':>10}{'pad eval':>9}{'GPU GiB' if gpu else 'RSS GiB':>9}{'MFU tr':>8}")  # fmt: skip
    for task, per in res["tasks"].items():
        for prec, r in per.items():
            rows_ = [(k, r["pipelines"][k]) for k in ("A", "B", "C")]
            rows_ += [("Es", r["eval"]["eval_sorted"]), ("Eu", r["eval"]["eval_unsorted"])]
            for k, f in rows_:
                tr = f.get("train_tokens_per_s")
                cells = ["-"] * 5
                if tr:
                    cells = [
                        f"{tr['median']:,.0f}",
                        f"{tr['spread']:.0%}",
                        f"{f['padding_waste_train']:.0%}",
                        f"{(f['peak_gpu_bytes'] if gpu else f['peak_rss_bytes']) / GiB:.2f}",
                        f"{f['mfu_train']:.1%}",
                    ]
                ev, pad_ev = f["eval_tokens_per_s"], f.get("padding_waste_eval", f.get("padding_waste"))
                print(f"{task + '/' + prec:<18}{k:<5}{cells[0]:>14}{cells[1]:>8}{ev['median']:>14,.0f}"
                      f"{ev['spread']:>8.0%}{cells[2]:>10}{pad_ev:>9.0%}{cells[3]:>9}{cells[4]:>8}")  # fmt: skip
    print(
        "A = bench.train.FineTuner (project)  B = run_classification-style  C = minimal sorted loop  "
        "Es/Eu = sorted+dynamic / unsorted max-length eval"
    )
    print(f"\n{line}\nRatios (medians)\n{line}")
    print(f"{'task/prec':<18}{'A/B train':>11}{'A/C train':>11}{'A/B eval':>11}{'A/C eval':>11}{'Es/Eu eval':>12}")
    for task, per in res["tasks"].items():
        for prec, r in per.items():
            q = r["ratios"]
            print(f"{task + '/' + prec:<18}{q['A/B']:>10.2f}x{q['A/C']:>10.2f}x{q['A/B_eval']:>10.2f}x"
                  f"{q['A/C_eval']:>10.2f}x{q['eval_sorted/unsorted']:>11.2f}x")  # fmt: skip
    fc = res.get("fixed_cost")
    if fc:
        print(f"\nfixed cost: {fc['command']}: {fc['wall_s']['median']:.2f} s (median of {len(fc['wall_s']['runs'])})"
              f"; data phase first {fc['data_s_first']:.3f} s, second {fc['data_s_second']:.3f} s")  # fmt: skip
    for task, dp in res.get("data_prep", {}).items():
        a, b = dp["first"], dp["second"]
        print(f"data preparation, {task} (read task + tokenize): first run {a['data_s']:.2f} + "
              f"{a['prepare_inputs_s']:.2f} s, second run {b['data_s']:.2f} + {b['prepare_inputs_s']:.2f} s "
              f"= {dp['second_over_first']:.1%} of the first")  # fmt: skip
    for key in ("rss", "rss_checkpointing"):
        if res.get(key):
            r = res[key]
            print(f"peak RSS, {res['meta']['model']} training at batch {r['batch_size']} x {r['max_length']} "
                  f"{' '.join(r['overrides'])} (largest batch seen {r['max_batch_shape']}): "
                  f"{r['peak_rss_bytes'] / GiB:.2f} GiB")  # fmt: skip
    peaks = ", ".join(f"{k} {v:,.1f}" for k, v in res["peak_gflops"].items())
    print(f"matmul peak GFLOP/s ({res['meta'].get('device', 'cpu')}): {peaks}")
    for pr in res.get("profile", []):
        print(f"\nprofile of A's training ({pr['task']}, {pr['steps']} steps, training loop {pr['loop_s']:.1f} s):")
        print("  " + ", ".join(f"{k} {v:.0%}" for k, v in pr["share"].items()))
        for op in pr["top_ops"][:8]:
            print(f"  {op['op']:<45}{op['self_cpu_s']:8.2f} s  {op['calls']:>7} calls")
    for s in res.get("scaling", []):
        print(f"\nscaling ({s['task']}, A, {s['precision']}):")
        for q in s["points"]:
            print(f"  {q['examples']:>6} examples  max length {q['max_length']:>4}: "
                  f"train {q['train_s']['median']:8.2f} s  eval {q['eval_s']['median']:8.2f} s")  # fmt: skip
    print(f"\n{line}\nTargets{' (smoke run: tiny model, figures are not meaningful)' if res['meta']['smoke'] else ''}"
          f"\n{line}")  # fmt: skip
    for t in res["targets"]:
        print(f"  [{'met' if t['met'] else 'MISSED'}] {t['name']}: {t['value']:.3f} (target {t['target']})")


# ---------------------------------------------------------------------------------------------------- main


def parse(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", action="append", help="task (repeatable; default ruw and geostance; demo in --smoke)")
    ap.add_argument("--model", default=None, help="model config (default minilm; tiny in --smoke)")
    ap.add_argument("--examples", type=int, default=None, help="train (and eval) examples (default 512)")
    ap.add_argument("--repeats", type=int, default=None, help="runs of each pipeline (default 3)")
    ap.add_argument("--max-length", type=int, default=None, help="truncation (and B's padding) length for all "
                    "pipelines (default 128 for tweet tasks, 512 for articles)")  # fmt: skip
    ap.add_argument("--batch-size", type=int, default=None, help="train batch size (default 16)")
    ap.add_argument("--eval-batch-size", type=int, default=None, help="eval batch size (default 64)")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--threads", type=int, default=None, help="torch threads for all (default: torch's default)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--bf16", action="store_true", help="also run everything under bf16 autocast (A, B: Trainer "
                    "bf16=True; C: torch.autocast(device, bfloat16)) and report bf16/fp32")  # fmt: skip
    ap.add_argument(
        "--scaling", action="store_true", help="also time A at 1x/2x/4x examples and max length 128/256/512"
    )
    ap.add_argument("--no-warmup", action="store_true", help="skip the untimed warm-up run of each pipeline")
    ap.add_argument("--skip-extras", action="store_true", help="skip fixed cost, data-prep and peak-RSS probes")
    ap.add_argument("--profile", type=int, default=0, metavar="STEPS", help="also profile STEPS training steps of A")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="config override for every pipeline, e.g. model.attention_dropout=0 (repeatable)")  # fmt: skip
    ap.add_argument("--smoke", action="store_true", help="tiny random model, demo task, 32 examples, 1 repeat")
    ap.add_argument("--json", type=Path, help="write every figure here")
    ap.add_argument("--rss-child", help=argparse.SUPPRESS)
    return ap.parse_args(argv)


def main(argv=None) -> dict:
    args = parse(argv)
    if args.rss_child:
        rss_probe_child(json.loads(args.rss_child))
        return {}
    os.environ.setdefault("BENCH_DATA_DIR", str(ROOT.parent / "shared" / "datasets"))
    smoke = args.smoke
    p = {
        "model": args.model or ("tiny" if smoke else "minilm"),
        "examples": args.examples or (32 if smoke else 512),
        "repeats": args.repeats or (1 if smoke else 3),
        "batch_size": args.batch_size or (8 if smoke else 16),
        "eval_batch_size": args.eval_batch_size or (16 if smoke else 64),
        "epochs": args.epochs,
        "threads": args.threads or torch.get_num_threads(),
        "seed": args.seed,
        "warmup": not args.no_warmup,
        "set": args.set,
        "scaling_lengths": (32, 64, 128) if smoke else (128, 256, 512),
        "rss": {"batch_size": 4, "max_length": 128, "steps": 2}
        if smoke
        else {"batch_size": 16, "max_length": 512, "steps": 4},  # fmt: skip
    }
    tasks = [t for spec in (args.task or (["demo"] if smoke else ["ruw", "geostance"])) for t in spec.split(",")]
    precisions = ["fp32", "bf16"] if args.bf16 else ["fp32"]
    torch.set_num_threads(p["threads"])
    n = 512 if smoke else 8192 if DEVICE.type == "cuda" else 2048
    peaks = {"fp32": matmul_peak_gflops(torch.float32, n, 5 if smoke else 10)}
    peaks["bf16"] = matmul_peak_gflops(torch.bfloat16, n, 5 if smoke else 10)
    res = {
        "meta": {
            **{k: v for k, v in p.items() if k != "rss"},
            "tasks": tasks,
            "precisions": precisions,
            "smoke": smoke,
            "torch": torch.__version__,
            "python": platform.python_version(),
            "cpu": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
            "device": torch.cuda.get_device_name() if DEVICE.type == "cuda" else "cpu",
            "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
        },
        "peak_gflops": peaks,
        "tasks": {},
    }
    with tempfile.TemporaryDirectory(prefix="bench_perf_") as d:
        tmp = Path(d)
        for task in tasks:
            q = {**p, "max_length": args.max_length or (128 if task in TWEET_TASKS else 512)}
            if smoke and not args.max_length:
                q["max_length"] = 128
            res["tasks"][task] = {prec: compare(task, q, prec, peaks, tmp / task / prec) for prec in precisions}
            if args.scaling:
                res.setdefault("scaling", []).append(scaling(task, q, "fp32", tmp / task / "scaling"))
        if args.profile:
            for task in tasks:
                q = {**p, "max_length": args.max_length or (128 if task in TWEET_TASKS or smoke else 512)}
                print(f"\n== profile of A ({task}, {args.profile} steps)", flush=True)
                res.setdefault("profile", []).append(profile(task, q, tmp / task / "profile", args.profile))
        if not args.skip_extras:
            print("\n== fixed cost and data preparation (subprocesses)", flush=True)
            res["fixed_cost"] = fixed_cost("demo" if smoke else "ruw", max(2, p["repeats"]), tmp)
            res["data_prep"] = {}
            for task in tasks:
                print(f"== data preparation, first and second run ({task}, subprocesses)", flush=True)
                res["data_prep"][task] = data_prep(task, p["model"], tmp / task, 32 if smoke else 256)
            article = next((t for t in tasks if t not in TWEET_TASKS), "demo" if smoke else "geostance")
            print(f"== peak RSS probe ({article}, subprocess)", flush=True)
            res["rss"] = rss_probe(p, article, tmp)
            print(f"== peak RSS probe with train.gradient_checkpointing=true ({article}, subprocess)", flush=True)
            res["rss_checkpointing"] = rss_probe(p, article, tmp, ("train.gradient_checkpointing=true",))
    res["targets"] = targets(res, smoke)
    print_tables(res)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(res, indent=2))
        print(f"\nfigures: {args.json}")
    return res


if __name__ == "__main__":
    main()
