"""Training and evaluation throughput of StanceBench against two reference pipelines (docs/PERFORMANCE.md).

scripts/bench_perf.py is the command line. The modules:

  measure    the device, peak RSS / GPU memory, the matmul peak, TrainerProbe, per-pipeline figures and MFU
  pipelines  A (bench.models.finetune.FineTuner), B (run_classification.py-style), C (minimal sorted loop), and
             the sorted / unsorted evaluation loops
  sections   A/B/C compared on one task, fixed cost of a run, second-run data preparation, peak-RSS probe, scaling
  profile    torch.profiler over A's training steps
  report     targets, tables, JSON
  runner     run(args): one whole run as the command line asks for it
"""
