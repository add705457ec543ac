"""scripts/bench_perf.py --smoke: every pipeline runs and the JSON holds the figures (no timing assertions)."""

import json
import subprocess
import sys

from conftest import ROOT


def test_bench_perf_smoke_writes_figures(tmp_path):
    out = tmp_path / "perf.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench_perf.py"), "--smoke", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads(out.read_text())
    r = res["tasks"]["demo"]["fp32"]
    for name in ("A", "B", "C"):
        fig = r["pipelines"][name]
        assert fig["train_tokens_per_s"]["median"] > 0
        assert fig["eval_tokens_per_s"]["median"] > 0
        assert 0 <= fig["padding_waste_train"] < 1
        assert fig["peak_rss_bytes"] > 0
    for key in ("A/B", "A/C", "A/B_eval", "A/C_eval", "eval_sorted/unsorted"):
        assert r["ratios"][key] > 0
    assert r["same_real_tokens"]
    assert res["fixed_cost"]["wall_s"]["median"] > 0
    prep = res["data_prep"]["demo"]
    assert prep["first"]["prepare_inputs_s"] > 0 and prep["second_over_first"] > 0
    assert res["rss"]["peak_rss_bytes"] > 0
    assert res["peak_gflops"]["fp32"] > 0
    assert "Ratios" in proc.stdout
