"""Prepared data kept between runs: validated task splits and tokenized model inputs, addressed by content.

A second run of the same task (and model) skips reading, validating and tokenizing. Keys are SHA-256 digests of
everything the result depends on: the task config, the SHA-256 of its data files, the source of the code that
reads them, and for model inputs the tokenizer (its full serialisation), the strategy, the length limit and the
texts themselves. A changed file, config, tokenizer or reader therefore misses the cache; nothing is invalidated
by time stamps. Entries live under $BENCH_CACHE_DIR/prepared (`rm -rf` it to reclaim space); `BENCH_CACHE=off`
turns the cache off.
"""

import contextlib
import hashlib
import inspect
import json
import logging
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)
FORMAT = 3  # bump when what is stored changes shape


def cache_dir() -> Path:
    """Downloads and prepared data: $BENCH_CACHE_DIR, else ~/.cache/stancebench."""
    return Path(os.environ.get("BENCH_CACHE_DIR", Path.home() / ".cache" / "stancebench"))


def enabled() -> bool:
    return os.environ.get("BENCH_CACHE", "on").lower() not in ("off", "0", "false", "no")


def root() -> Path:
    return cache_dir() / "prepared"


def digest(*parts) -> str:
    """SHA-256 of JSON-serialisable parts (strings hashed as UTF-8)."""
    h = hashlib.sha256(str(FORMAT).encode())
    for part in parts:
        data = part.encode("utf-8", "surrogatepass") if isinstance(part, str) else json.dumps(part, sort_keys=True)
        h.update(len(data).to_bytes(8, "little"))
        h.update(data if isinstance(data, bytes) else data.encode())
    return h.hexdigest()


def code_digest(*modules) -> str:
    """The source of the modules and packages (every .py file below a package) that produce an entry: editing a
    reader or a strategy, in any module of its package, misses the cache."""
    parts = []
    for m in modules:
        if hasattr(m, "__path__"):
            for folder in map(Path, m.__path__):
                for path in sorted(folder.rglob("*.py")):
                    parts += [f"{m.__name__}/{path.relative_to(folder)}", path.read_text(encoding="utf-8")]
        else:
            parts += [m.__name__, inspect.getsource(m)]
    return digest(*parts)


def tokenizer_digest(tokenizer) -> str:
    """A fast tokenizer's complete serialisation (vocabulary, normaliser, special tokens); else its files."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        return digest(type(tokenizer).__name__, backend.to_str(), str(tokenizer.padding_side))
    return digest(type(tokenizer).__name__, tokenizer.name_or_path, sorted(tokenizer.get_vocab().items()))


def _atomic_dir(path: Path, write: Callable[[Path], None]) -> None:
    """Write into a temporary folder next to `path`, then rename: a killed run never leaves half an entry."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}."))
    try:
        write(tmp)
        with contextlib.suppress(OSError):  # another process stored the same entry first: keep theirs
            tmp.rename(path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def json_entry(kind: str, key: str, build: Callable[[], dict]) -> dict:
    """A JSON-serialisable dict (e.g. a loaded task's splits) from the cache, or built and stored."""
    path = root() / kind / key / "entry.json"
    if enabled() and path.exists():
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            log.warning("cached %s %s unreadable (%s); building it again", kind, path, e)
            shutil.rmtree(path.parent, ignore_errors=True)
    value = build()
    if enabled():
        _atomic_dir(path.parent, lambda tmp: (tmp / path.name).write_text(json.dumps(value), encoding="utf-8"))
    return value


def tokenized(key: str, build: Callable[[], dict]):
    """Tokenized inputs as a datasets.Dataset (memory-mapped Arrow) from the cache, or built and stored."""
    from datasets import Dataset, load_from_disk

    path = root() / "tokens" / key
    if enabled() and (path / "dataset_info.json").exists():
        try:
            return load_from_disk(str(path))
        except (OSError, ValueError) as e:
            log.warning("cached inputs %s unreadable (%s); tokenizing again", path, e)
            shutil.rmtree(path, ignore_errors=True)
    from datasets.utils.tqdm import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars

    ds = Dataset.from_dict(build())
    if not enabled():
        return ds
    quiet = are_progress_bars_disabled()
    disable_progress_bars()  # a progress bar per save clutters the run log
    try:
        _atomic_dir(path, lambda tmp: ds.save_to_disk(str(tmp)))
    finally:
        if not quiet:
            enable_progress_bars()
    return load_from_disk(str(path)) if path.exists() else ds


class KeyValueCache:
    """Values by content-addressed key in one SQLite file under the prepared-data folder (embeddings, LLM
    responses): written one transaction at a time, read in chunks, shared by parallel jobs (WAL)."""

    def __init__(self, relative: str):
        self.path = root() / relative
        self.enabled = enabled()

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=60)
        con.execute("CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, value BLOB NOT NULL)")
        return con

    def get(self, keys: list[str]) -> dict[str, bytes]:
        if not self.enabled or not self.path.exists() or not keys:
            return {}
        con = self._connect()
        try:
            found = {}
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                rows = con.execute(f"SELECT key, value FROM entries WHERE key IN ({','.join('?' * len(chunk))})", chunk)
                found |= dict(rows)
            return found
        finally:
            con.close()

    def put(self, items: dict[str, bytes]) -> None:
        if not self.enabled or not items:
            return
        con = self._connect()
        try:
            with con:
                con.executemany("INSERT OR REPLACE INTO entries VALUES (?, ?)", list(items.items()))
        finally:
            con.close()
