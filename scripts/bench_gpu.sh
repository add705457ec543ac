#!/usr/bin/env bash
# GPU throughput of mpnet (all-mpnet-base-v2's architecture, 110M params) in fp32 and bf16: scripts/bench_perf.py's
# A/B/C comparison on tweets (ruw) and articles (geostance) with model FLOP utilisation against the card's measured
# matmul peak, then `python -m bench.run` with and without train.torch_compile. Random weights (model=mpnet_random)
# give the same speed as the real ones and need only the tokenizer: BENCH_MPNET_DIR=<folder> (scripts/install_mpnet.py)
#
#   BENCH_DATA_DIR=../shared/datasets BENCH_MPNET_DIR=<folder> scripts/bench_gpu.sh results/gpu
#
# Sizes: TWEETS, ARTICLES (training examples), REPEATS, BATCH, STEPS (steps of each torch.compile comparison run).
set -euo pipefail
out=${1:-results/gpu}
mkdir -p "$out"
py=${PYTHON:-python}
model=${MODEL:-mpnet_random}
common=(--model "$model" --batch-size "${BATCH:-32}" --repeats "${REPEATS:-2}" --bf16 --skip-extras)
$py -c "import torch; print(torch.__version__, torch.cuda.get_device_name() if torch.cuda.is_available() else 'no GPU')"
$py scripts/bench_perf.py "${common[@]}" --task ruw --examples "${TWEETS:-2048}" --json "$out/perf_ruw.json"
$py scripts/bench_perf.py "${common[@]}" --task geostance --examples "${ARTICLES:-512}" --json "$out/perf_geostance.json"
for compile in false true; do
  $py -m bench.run model="$model" task=ruw train.precision=bf16 train.torch_compile=$compile \
    train.batch_size="${BATCH:-32}" train.max_steps="${STEPS:-200}" train.max_eval_examples=512 \
    hydra.run.dir="$out/compile_$compile" results_db="$out/results.sqlite" force=true print_table=false
  $py - "$out/compile_$compile/run.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"torch_compile={r['config']['train']['torch_compile']}: timing_s {json.dumps(r['timing_s'])}")
PY
done
