"""Where A's training time goes: torch.profiler over a few of FineTuner.fit's optimisation steps."""

from pathlib import Path

from bench.perf.measure import TrainerProbe
from bench.perf.sections import compose_cfg, train_overrides


def profile(task: str, p: dict, tmp: Path, steps: int) -> dict:
    """Where A's training time goes: torch.profiler over `steps` optimisation steps of FineTuner.fit (no dev
    evaluation), operators grouped into matmul, attention, other forward/backward ops, optimizer, and the rest of
    the step (Python, data collation, Trainer bookkeeping = wall time not spent inside a profiled operator)."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile
    from transformers import Trainer

    from bench.data import load_task, subsample
    from bench.inputs.encoding import train_strategy
    from bench.models.finetune import FineTuner

    cfg = compose_cfg(task, p["model"], tmp / "prof", [*train_overrides(p, "fp32"), f"train.max_steps={steps}"])
    data = load_task(cfg.task)
    train = subsample(data.splits["train"], p["batch_size"] * steps, cfg.seed)
    ft = FineTuner(cfg, tmp / "prof")
    ft._dataset(train, train_strategy(ft.strategy))  # tokenize outside the profile, as fit() will ask for it
    probe = TrainerProbe()
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
