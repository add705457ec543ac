"""The sections of a bench.perf run: A, B and C compared on one task, the fixed cost of a run, second-run data
preparation, the peak-RSS probe (a subprocess: `python -m bench.perf.sections SPEC`) and scaling."""

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

from bench import config
from bench.data.sources import REPO_ROOT
from bench.perf.measure import TrainerProbe, pipeline_figures, ratio, summary
from bench.perf.pipelines import evaluate_minimal, run_a, run_b, run_c


def compose_cfg(task: str, model: str, out: Path, overrides: list[str]):
    """The real Hydra config (as `python -m bench.run` composes it), writing only under `out`."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    config.register()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(config.CONFIG_DIR), version_base="1.3"):
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
        proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True)
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
        proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True)
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
    from bench.models.finetune import FineTuner

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
    cmd = [sys.executable, "-m", "bench.perf.sections", json.dumps(spec)]  # runs rss_probe_child
    proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True)
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


if __name__ == "__main__":  # the peak-RSS probe's subprocess (see rss_probe)
    rss_probe_child(json.loads(sys.argv[1]))
