#!/usr/bin/env bash
# Compare the long-document strategies (docs/LONG_DOCUMENTS.md) on GeoStance with MiniLM: one run per strategy
# and seed, on the same data, model and training settings, into their own results store; then print test scores
# with what each cost (training and test tokens, seconds).
# Needs BENCH_DATA_DIR pointing at local copies of the GeoStance source corpora (or internet access).
#   SEEDS=1,2,3 scripts/compare_long_document.sh          # default: seed 1
#   EXPERIMENT=geostance_minilm_cpu (default) sets max_length 128 and one epoch for a CPU.
#   EXTRA="train.max_train_examples=4000" scripts/compare_long_document.sh   # further overrides (the published table)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python}"
export BENCH_RESULTS_DB="${BENCH_RESULTS_DB:-results/long_document.sqlite}"
SEEDS="${SEEDS:-1}"
EXPERIMENT="${EXPERIMENT:-geostance_minilm_cpu}"

"$PYTHON" -m bench.run -m "experiment=$EXPERIMENT" "seed=$SEEDS" print_table=false ${EXTRA:-} \
    model.long_document=head,head_tail,target_sentences,chunks_mean,chunks_max

"$PYTHON" -m bench.results --cost --task geostance
