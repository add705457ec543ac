#!/usr/bin/env python
"""Training and evaluation throughput of StanceBench against two reference pipelines (docs/PERFORMANCE.md).

On the same model, hyper-parameters, examples and threads, in one process, side by side:

  A  this project's training: bench.models.finetune.FineTuner (the code path of `python -m bench.run`), composed from
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
import json
from pathlib import Path

from bench.perf.runner import run
from bench.perf.sections import rss_probe_child


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
    if args.rss_child:  # the peak-RSS probe's subprocess; bench.perf now starts it as `python -m bench.perf.sections`
        rss_probe_child(json.loads(args.rss_child))
        return {}
    return run(args)


if __name__ == "__main__":
    main()
