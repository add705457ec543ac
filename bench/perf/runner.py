"""One bench.perf run as scripts/bench_perf.py asks for it: settings from the command line, the matmul peak, the
A/B/C comparison per task and precision, the optional sections, then the targets, tables and JSON."""

import os
import platform
import tempfile
import time
from pathlib import Path

import torch

from bench.data.sources import REPO_ROOT
from bench.perf.measure import DEVICE, TWEET_TASKS, matmul_peak_gflops
from bench.perf.profile import profile
from bench.perf.report import print_tables, targets, write_json
from bench.perf.sections import compare, data_prep, fixed_cost, rss_probe, scaling


def run(args) -> dict:
    """Every figure asked for by `args` (scripts/bench_perf.py's parsed flags), printed and written as JSON."""
    os.environ.setdefault("BENCH_DATA_DIR", str(REPO_ROOT.parent / "shared" / "datasets"))
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
        write_json(res, args.json)
    return res
