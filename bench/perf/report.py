"""The figures of a bench.perf run checked against the targets, printed as tables, and written as JSON."""

import json
from pathlib import Path

from bench.perf.measure import TWEET_TASKS, GiB, ratio


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
        "A = bench.models.finetune.FineTuner (project)  B = run_classification-style  C = minimal sorted loop  "
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


def write_json(res: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(res, indent=2))
    print(f"\nfigures: {path}")
