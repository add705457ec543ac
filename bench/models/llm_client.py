"""The HTTP side of prompted models: an OpenAI-compatible `/v1/chat/completions` client with bounded retries,
a rate limit and worker threads, and a response cache in SQLite under $BENCH_CACHE_DIR/prepared/llm.

Responses are addressed by (served model, full messages, request parameters) -- never by the API key or the
endpoint URL -- and stored as each arrives, so a re-launched or re-scored run sends only what was never answered.
"""

import http.client
import json
import logging
import os
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import UTC, datetime

from bench import cache
from bench.errors import BenchError

log = logging.getLogger(__name__)
RETRYABLE = {408, 409, 425, 429}  # and every 5xx: the server is busy or failed, the request itself is fine
MAX_WAIT_S = 60.0  # cap of one backoff or Retry-After wait


class ResponseCache:
    """Chat responses by request digest, in one SQLite file shared by every served model and run."""

    def __init__(self):
        self.store = cache.KeyValueCache("llm/responses.sqlite")

    def get(self, keys: list[str]) -> dict[str, dict]:
        return {k: json.loads(v) for k, v in self.store.get(keys).items()}

    def put(self, key: str, entry: dict) -> None:
        self.store.put({key: json.dumps(entry)})


class RateLimit:
    """At most `per_s` request starts per second over all threads (None: no limit)."""

    def __init__(self, per_s: float | None):
        self.gap = 1.0 / per_s if per_s else 0.0
        self.next = 0.0
        self.lock = threading.Lock()

    def wait(self) -> None:
        if not self.gap:
            return
        with self.lock:
            now = time.monotonic()
            at = max(now, self.next)
            self.next = at + self.gap
        time.sleep(max(0.0, at - now))


class ChatClient:
    """Sends chat-completion requests to model.endpoint as model.served_model; the key comes from the environment
    variable model.api_key_env and is sent only as a bearer header."""

    def __init__(self, mcfg):
        self.endpoint = str(mcfg.endpoint).rstrip("/")
        self.served_model = mcfg.served_model
        self.key_env = mcfg.api_key_env
        self.timeout_s, self.retries, self.backoff_s = float(mcfg.timeout_s), int(mcfg.retries), float(mcfg.backoff_s)
        self.concurrency = int(mcfg.concurrency)
        self.limit = RateLimit(mcfg.rate_limit)
        self.cache = ResponseCache()
        self.server: dict | None = None  # what /v1/models and the response headers said, once asked

    def _headers(self) -> dict:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.key_env:
            key = os.environ.get(self.key_env)
            if not key:
                raise BenchError(
                    f"model.api_key_env={self.key_env}: that environment variable is empty or unset; export it with "
                    "the API key, or set model.api_key_env=null for a server without keys"
                )
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def _http(self, method: str, url: str, body: dict | None, timeout: float) -> tuple[int, dict, bytes]:
        """(status, headers, body bytes) of one request; HTTP errors are returned, not raised."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data, self._headers(), method=method)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
        except urllib.error.HTTPError as e:
            return e.code, {k.lower(): v for k, v in (e.headers or {}).items()}, e.read() or b""

    def _refused(self, status: int) -> BenchError:
        sent = f"the key in ${self.key_env}" if self.key_env else "no key (model.api_key_env is null)"
        return BenchError(
            f"{self.endpoint} refused the request with HTTP {status} and {sent}; set model.api_key_env to the name "
            "of the environment variable that holds a valid API key for this server"
        )

    def check_server(self) -> dict:
        """GET /models once before the first request is sent: is the server up, does it serve model.served_model,
        and what it says about itself (recorded as provenance, without the key)."""
        if self.server is not None:
            return self.server
        try:
            status, headers, raw = self._http("GET", f"{self.endpoint}/models", None, min(self.timeout_s, 30.0))
        except (urllib.error.URLError, TimeoutError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise BenchError(
                f"no server answers at model.endpoint={self.endpoint} ({reason}); start one (docs/LLM.md) or point "
                "model.endpoint at a running OpenAI-compatible server"
            ) from None
        if status in (401, 403):
            raise self._refused(status)
        info: dict = {"server": headers.get("server")}
        if status == 200:
            listed = {m.get("id"): m for m in (_json(raw) or {}).get("data") or [] if isinstance(m, dict)}
            if listed and self.served_model not in listed:
                raise BenchError(
                    f"model.served_model={self.served_model!r} is not served at {self.endpoint}; it serves "
                    f"{sorted(listed)[:20]}"
                )
            entry = listed.get(self.served_model) or {}
            info |= {"served_model_id": entry.get("id"), "owned_by": entry.get("owned_by")}
            info |= {k: entry[k] for k in ("version", "revision", "root", "max_model_len") if k in entry}
        info |= self._version()
        self.server = {k: v for k, v in info.items() if v is not None}
        return self.server

    def _version(self) -> dict:
        """The server's version where it reports one (vLLM: GET /version beside /v1); nothing otherwise."""
        root = self.endpoint.removesuffix("/v1")
        try:
            status, _, raw = self._http("GET", f"{root}/version", None, 5.0)
        except (urllib.error.URLError, TimeoutError, OSError):
            return {}
        reply = _json(raw) if status == 200 else None
        return {"server_version": reply["version"]} if isinstance(reply, dict) and "version" in reply else {}

    def _send(self, body: dict) -> tuple[dict, dict]:
        """One request with bounded retries (429, 5xx, timeouts, dropped connections; exponential backoff):
        (cache entry, counts). A refused key or a rejected request is a BenchError at once."""
        counts = {"requests": 0, "retries": 0, "timeouts": 0, "server_errors": 0}
        url, last, wait_s = f"{self.endpoint}/chat/completions", "", 0.0
        for attempt in range(self.retries + 1):
            if attempt:
                counts["retries"] += 1
                time.sleep(min(MAX_WAIT_S, max(wait_s, self.backoff_s * 2 ** (attempt - 1))))
            self.limit.wait()
            counts["requests"] += 1
            wait_s = 0.0
            try:
                status, headers, raw = self._http("POST", url, body, self.timeout_s)
            except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
                reason = getattr(e, "reason", e)
                if isinstance(reason, TimeoutError):
                    counts["timeouts"] += 1
                    last = f"no answer within model.timeout_s={self.timeout_s:g}"
                else:
                    last = f"connection failed ({reason})"
                continue
            reply = _json(raw)
            if status == 200 and isinstance(reply, dict) and reply.get("choices"):
                return {"response": reply, "server": headers.get("server"), "at": _now()}, counts
            if status in (401, 403):
                raise self._refused(status)
            if status == 200 or status in RETRYABLE or status >= 500:
                counts["server_errors"] += 1
                last = f"HTTP {status}: {_detail(raw)}"
                wait_s = _retry_after(headers)
                continue
            raise BenchError(
                f"{url} rejected the request (HTTP {status}: {_detail(raw)}); check model.served_model, and set "
                "model.guided=none or model.logprobs=false if the server does not support them"
            )
        raise BenchError(
            f"{url} failed {self.retries + 1} times (last: {last}); every answer received so far is cached, so "
            "re-running resumes -- raise model.retries or model.timeout_s if the server is slow"
        )

    def answer_all(self, requests: list[tuple[str, dict]]) -> tuple[dict[str, dict], set, dict]:
        """Cache entries for every (key, body), the keys answered now, and counts: cached ones read, the rest sent
        by model.concurrency threads and stored one by one as they arrive, so a failure loses nothing answered."""
        keys = list(dict.fromkeys(k for k, _ in requests))
        found = self.cache.get(keys)
        todo = {k: b for k, b in requests if k not in found}
        stats = {"requests": 0, "retries": 0, "timeouts": 0, "server_errors": 0, "cache_hits": len(found)}
        if not todo:
            return found, set(), stats
        self.check_server()
        log.info("llm: %d prompts cached, sending %d to %s", len(found), len(todo), self.endpoint)
        error, done = None, 0
        with ThreadPoolExecutor(self.concurrency) as pool:
            futures = {pool.submit(self._send, body): key for key, body in todo.items()}
            for fut in as_completed(futures):
                if fut.cancelled():
                    continue
                try:
                    entry, counts = fut.result()
                except BenchError as e:
                    error = error or e
                    for other in futures:
                        other.cancel()  # stop starting new requests; those in flight are still stored
                    continue
                self.cache.put(futures[fut], entry)
                found[futures[fut]] = entry
                stats = {k: v + counts.get(k, 0) for k, v in stats.items()}
                done += 1
                if done % max(10, len(todo) // 10) == 0:
                    log.info("llm: %d/%d answered", done, len(todo))
        if error is not None:
            raise error
        return found, set(todo), stats


def _json(raw: bytes):
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _detail(raw: bytes) -> str:
    """The server's error message, shortened for one line."""
    reply = _json(raw)
    if isinstance(reply, dict):
        err = reply.get("error", reply.get("detail", reply))
        msg = err.get("message", err) if isinstance(err, dict) else err
    else:
        msg = raw.decode("utf-8", "replace")
    return str(msg).strip()[:300] or "empty body"


def _retry_after(headers: dict) -> float:
    try:
        return float(headers.get("retry-after", 0))
    except ValueError:
        return 0.0


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
