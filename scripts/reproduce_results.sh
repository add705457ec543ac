#!/usr/bin/env bash
# Re-run every experiment behind docs/RESULTS.md into its own results store, then print the leaderboard.
# Needs BENCH_DATA_DIR pointing at local copies of the public datasets (or internet access). Runs already
# recorded in the store (same fingerprint) are skipped, so an interrupted script resumes where it stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
export BENCH_RESULTS_DB="${BENCH_RESULTS_DB:-results/leaderboard.sqlite}"
run() { python -m bench.run "$@" print_table=false; }

run -m task=demo,demo_tone,ruw,geostance,geostance_tone model=majority,tfidf_svm
run -m task=ruw model=majority,tfidf_svm seed=1,2,3
run -m task=geostance,geostance_tone model=outlet_prior
run task=tweeteval_stance model=tfidf_svm
run -m experiment=geostance_minilm_cpu seed=1,2,3
run -m task=demo model=minilm seed=1,2,3
run -m experiment=ruw_minilm seed=1,2,3

python -m bench.leaderboard --format markdown
