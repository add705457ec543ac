"""What bench.perf measures with: the device, peak RSS and GPU memory, the matmul peak, a Trainer probe that counts
tokens and times phases, and the per-pipeline figures (tokens/s, padding waste, model FLOP utilisation)."""

import contextlib
import resource
import statistics
import sys
import time

import torch

TWEET_TASKS = {"ruw", "tweeteval_stance"}
GiB = 1024**3
# Where B and C run, and where A's Trainer puts the model: the GPU when there is one (CUDA_VISIBLE_DEVICES="" for CPU)
DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")


def sync() -> None:
    """Wait for queued GPU work, so that a timer read after it counts that work."""
    if DEVICE.type == "cuda":
        torch.cuda.synchronize()


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


def non_embedding_params(model) -> int:
    emb = sum(p.numel() for n, p in model.named_parameters() if "embeddings" in n)
    return sum(p.numel() for p in model.parameters()) - emb


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
