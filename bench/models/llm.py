"""Prompted LLMs as benchmark rows (`model.kind=llm`): each example becomes a chat prompt (configs/prompts/, zero- or
few-shot) sent to any OpenAI-compatible `/v1/chat/completions` server -- a local `transformers serve`, vLLM, or a
hosted API -- and the answer becomes a label by constrained choice where the server supports it, else by a strict
parser: an answer that names no label, or two, is predicted as INVALID and counted, never guessed.

Scored with the same tasks, metrics, records and leaderboard as every other kind; see docs/LLM.md.
"""

import json
import logging
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from omegaconf import MISSING, OmegaConf

from bench.cache import digest
from bench.config import ModelConfig
from bench.errors import BenchError
from bench.models import prompts
from bench.models.contract import INVALID, Cost, FitInfo, Predictions
from bench.models.llm_client import ChatClient
from bench.models.registry import register_model

log = logging.getLogger(__name__)


def protocol(shots) -> str:
    """The evaluation protocol a number of shots means: zero_shot or few_shot_<k>."""
    return "zero_shot" if int(shots) == 0 else f"few_shot_{int(shots)}"


if not OmegaConf.has_resolver("llm_protocol"):
    OmegaConf.register_new_resolver("llm_protocol", protocol)  # model.protocol follows model.shots in sweeps


class Guided(StrEnum):
    none = "none"  # plain answer, strict parser
    json_schema = "json_schema"  # response_format with a JSON schema whose `label` is an enum (OpenAI, vLLM, ...)
    choice = "choice"  # vLLM: structured_outputs={"choice": labels} (the field that replaced guided_choice)
    guided_choice = "guided_choice"  # vLLM before 0.12: guided_choice=labels in the request body


@dataclass
class LlmConfig(ModelConfig):
    kind: str = "llm"
    protocol: str = "${llm_protocol:${.shots}}"
    endpoint: str = "http://127.0.0.1:8000/v1"  # base URL of the OpenAI-compatible API, ending in /v1
    served_model: str = MISSING  # the model name the server expects in requests (listed by GET /v1/models)
    api_key_env: str | None = None  # name of the environment variable holding the API key (null: send none)
    prompt: str | None = None  # configs/prompts/<prompt>.yaml; null: stance for targeted tasks, tone otherwise
    shots: int = 0  # k few-shot demonstrations per target, drawn from train
    shot_seed: int | None = None  # seed of the shot draw (null: the run's seed)
    max_chars: int | None = None  # cut texts (prompt and shots) to this many characters; null: whole texts
    temperature: float = 0.0
    max_tokens: int = 8  # enough for one label word; raise for models that explain first
    guided: Guided = Guided.none  # constrained choice of a label; none for servers that reject unknown fields
    logprobs: bool = False  # probabilities over labels from the answer token's top log-probabilities
    top_logprobs: int = 10
    concurrency: int = 1  # requests in flight (threads)
    rate_limit: float | None = None  # requests started per second, all threads together (null: no limit)
    timeout_s: float = 120.0  # per request
    retries: int = 4  # extra tries after 429, 5xx, timeouts or dropped connections, with exponential backoff
    backoff_s: float = 1.0  # first backoff wait; doubles with each retry


@register_model("llm", config=LlmConfig)
class Llm:
    """One chat request per example (per target for targeted tasks), answers parsed into the task's labels."""

    def __init__(self, cfg, run_dir=None, checkpoint_dir=None):
        self.cfg, self.mcfg, self.task = cfg, cfg.model, cfg.task
        self.labels = list(cfg.task.labels)
        self._check()
        self.template = prompts.load(prompts.choose(self.mcfg.prompt, self.task))
        self.system = prompts.system_message(self.template, self.task)
        self.client = ChatClient(self.mcfg)
        self.shot_seed = cfg.seed if self.mcfg.shot_seed is None else int(self.mcfg.shot_seed)
        self.shots: dict = {}  # target (None for single-label tasks) -> its demonstrations
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.dev_ids: set | None = None
        self.example_written = False
        if self.run_dir is not None:
            (self.run_dir / "answers.jsonl").unlink(missing_ok=True)  # one run's answers, not a re-run's append
        self.provenance = {
            "source": "endpoint",
            "endpoint": _public(self.client.endpoint),
            "served_model": self.mcfg.served_model,
            "protocol": protocol(self.mcfg.shots),
            "prompt": self.template.name,
            "prompt_sha256": self.template.sha256,
            "guided": str(self.mcfg.guided),
        }

    def _check(self) -> None:
        m = self.mcfg
        if m.shots < 0 or m.concurrency < 1 or m.retries < 0 or m.max_tokens < 1:
            raise BenchError("model.shots and model.retries must be >= 0, model.concurrency and max_tokens >= 1")
        if m.protocol != protocol(m.shots):
            raise BenchError(
                f"model.protocol={m.protocol} disagrees with model.shots={m.shots}; leave model.protocol unset "
                f"(it follows shots: {protocol(m.shots)})"
            )

    def fit(self, train: list[dict], dev: list[dict]) -> FitInfo:
        """Nothing is trained: draw the few-shot demonstrations from train and record which they are."""
        self.dev_ids = {e["id"] for e in dev}
        k = self.mcfg.shots
        self.shots = prompts.select_shots(train, k, self.shot_seed, self.labels) if k else {}
        if self.task.target_field is None:  # single-label tasks: one list of demonstrations
            chosen = _ids(self.shots.get(None, []))
        else:
            chosen = {t: _ids(v) for t, v in self.shots.items()}
        details = {"prompt": self.template.name, "prompt_sha256": self.template.sha256, "shots": self.mcfg.shots,
                   "shot_seed": self.shot_seed, "shot_examples": chosen}  # fmt: skip
        return FitInfo(details, Cost(examples=len(train)))

    def _body(self, messages: list[dict]) -> dict:
        """The request: messages, sampling settings, and the constrained-choice fields model.guided asks for."""
        m = self.mcfg
        body = {"model": m.served_model, "messages": messages, "temperature": m.temperature, "max_tokens": m.max_tokens}
        if m.temperature > 0:
            body["seed"] = self.cfg.seed  # sampled answers differ per seed, so they are cached per seed
        if m.guided == Guided.json_schema:
            schema = {
                "type": "object",
                "properties": {"label": {"type": "string", "enum": self.labels}},
                "required": ["label"],
                "additionalProperties": False,
            }
            spec = {"name": "label", "schema": schema, "strict": True}
            body["response_format"] = {"type": "json_schema", "json_schema": spec}
        elif m.guided == Guided.choice:
            body["structured_outputs"] = {"choice": self.labels}
        elif m.guided == Guided.guided_choice:
            body["guided_choice"] = self.labels
        if m.logprobs:
            body |= {"logprobs": True, "top_logprobs": m.top_logprobs}
        return body

    def _key(self, body: dict) -> str:
        """The cache address of a request: served model, messages and every parameter (no key, no endpoint)."""
        return digest("llm-response", self.mcfg.served_model, {k: v for k, v in body.items() if k != "model"})

    def _messages(self, example: dict) -> list[dict]:
        shots = self.shots.get(example.get("target"), [])
        return prompts.messages(self.template, self.system, example, shots, self.labels, self.mcfg.max_chars)

    def _label(self, response: dict) -> tuple[str, list[float], str]:
        """(label, probability row, raw answer) of one response: INVALID with a uniform row when unparseable."""
        choice = response["choices"][0]
        answer = (choice.get("message") or {}).get("content") or ""
        label = prompts.parse(answer, self.labels)
        if label is None:
            return INVALID, [1.0 / len(self.labels)] * len(self.labels), answer
        content = (choice.get("logprobs") or {}).get("content")
        probs = prompts.logprob_scores(content, answer, label, self.labels) if self.mcfg.logprobs else None
        return label, probs or [float(lab == label) for lab in self.labels], answer

    def predict(self, examples: list[dict]) -> Predictions:
        start = time.perf_counter()
        messages = [self._messages(e) for e in examples]
        bodies = [self._body(m) for m in messages]
        keys = [self._key(b) for b in bodies]
        prepare_s = time.perf_counter() - start
        entries, fresh, stats = self.client.answer_all(list(zip(keys, bodies, strict=True)))
        labels, probs, rows = [], [], []
        tokens = {"prompt_tokens": 0, "completion_tokens": 0}
        sent = sum(_tokens(entries[k]["response"]) for k in fresh)  # what this run spent; the rest was cached
        for e, key in zip(examples, keys, strict=True):
            response = entries[key]["response"]
            label, row, answer = self._label(response)
            labels.append(label)
            probs.append(row)
            usage = response.get("usage") or {}
            tokens = {k: v + int(usage.get(k) or 0) for k, v in tokens.items()}
            rows.append({"id": e["id"], "target": e.get("target"), "pred": label, "answer": answer,
                         "finish_reason": response["choices"][0].get("finish_reason"), "usage": usage})  # fmt: skip
        self._note_server(entries.values())
        self._write(examples, messages, rows)
        extra = {**tokens, "tokens_sent": sent, **stats, "invalid": labels.count(INVALID)}
        cost = Cost(len(examples), len(examples), sum(tokens.values()), round(prepare_s, 3), extra)
        return Predictions(labels, probs, cost)

    def _note_server(self, entries) -> None:
        """Provenance of the answers: what the server said about itself (or, when every answer was cached, the
        server header stored with them), and the model ids its responses named."""
        entries = list(entries)
        cached = sorted({e["server"] for e in entries if e.get("server")})
        if self.client.server:
            self.provenance["server"] = self.client.server
        elif cached and "server" not in self.provenance:
            self.provenance["server"] = {"server": ", ".join(cached), "from": "cached answers"}
        seen = self.provenance.setdefault("response_models", [])
        seen += sorted({e["response"].get("model") for e in entries if e["response"].get("model")} - set(seen))

    def _write(self, examples, messages, rows) -> None:
        """Every raw answer (answers.jsonl) and, once, the full prompt of the first test example."""
        if self.run_dir is None:
            return
        self.run_dir.mkdir(parents=True, exist_ok=True)
        with open(self.run_dir / "answers.jsonl", "a", encoding="utf-8") as f:
            f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        is_dev = self.dev_ids is not None and {e["id"] for e in examples} <= self.dev_ids
        if examples and not is_dev and not self.example_written:
            text = "\n\n".join(f"### {m['role']}\n{m['content']}" for m in messages[0])
            (self.run_dir / "prompt_example.txt").write_text(text + "\n", encoding="utf-8")
            self.example_written = True

    def save(self, folder: Path) -> None:
        """The drawn demonstrations (with their texts) and the template's digest; the model lives on the server."""
        folder.mkdir(parents=True, exist_ok=True)
        shots = [[t, v] for t, v in self.shots.items()]
        saved = {"prompt": self.template.name, "prompt_sha256": self.template.sha256, "shots": shots}
        (folder / "llm.json").write_text(json.dumps(saved, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, cfg) -> "Llm":
        clf = cls(cfg)
        saved = json.loads((Path(folder) / "llm.json").read_text(encoding="utf-8"))
        if saved["prompt_sha256"] != clf.template.sha256:
            log.warning("configs/prompts/%s.yaml changed since the run; predicting with it as it is", saved["prompt"])
        clf.shots = {t: v for t, v in saved["shots"]}
        return clf


def _tokens(response: dict) -> int:
    usage = response.get("usage") or {}
    return int(usage.get("prompt_tokens") or 0) + int(usage.get("completion_tokens") or 0)


def _ids(shots: list[dict]) -> list[dict]:
    return [{"id": s["id"], "label": s["label"]} for s in shots]


def _public(url: str) -> str:
    """The endpoint as recorded: without any user:password@ or query string a URL might carry."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc.rsplit("@", 1)[-1], parts.path, "", ""))
