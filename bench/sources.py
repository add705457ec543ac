"""Find a task's files: the repository's own data, a local copy under $BENCH_DATA_DIR, or the public source."""

import hashlib
import os
import urllib.request
from pathlib import Path

from bench.errors import BenchError, DataError

REPO_ROOT = Path(__file__).resolve().parents[1]


def cache_dir() -> Path:
    return Path(os.environ.get("BENCH_CACHE_DIR", Path.home() / ".cache" / "stancebench"))


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def safe_join(base: Path, relative: str) -> Path:
    """Join a relative name from a config or archive to base, refusing anything that escapes base."""
    target = (base / relative).resolve()
    if not target.is_relative_to(base.resolve()):
        raise BenchError(f"path {relative!r} escapes {base}; data file names must stay inside their folder")
    return target


def _download(url: str, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(dest.suffix + ".part")
    try:
        with urllib.request.urlopen(url, timeout=60) as r, open(tmp, "wb") as f:
            f.write(r.read())
    except OSError as e:
        raise BenchError(
            f"could not download {url} ({e}); without internet, set BENCH_DATA_DIR to a folder holding a "
            "local copy of the dataset"
        ) from e
    tmp.replace(dest)


def task_dir(task) -> Path:
    """The folder holding the task's files, downloading them from the pinned public source if needed."""
    src = task.source
    if src.embedded:
        return REPO_ROOT / src.embedded
    root = os.environ.get("BENCH_DATA_DIR")
    if root and src.local_dir and (Path(root) / src.local_dir).is_dir():
        return Path(root) / src.local_dir
    if not src.url:
        raise BenchError(
            f"task {task.name!r}: no local copy found (looked for {src.local_dir!r} under BENCH_DATA_DIR="
            f"{root!r}) and no source.url to download from; set BENCH_DATA_DIR to the datasets folder"
        )
    dest = cache_dir() / task.name / (src.revision or "latest")
    for rel in src.files:
        path = safe_join(dest, rel)
        if not path.exists():
            _download(src.url.format(revision=src.revision) + "/" + rel, path)
    return dest


def fetch(local_dir: str, url: str, relative: str, cache_name: str) -> Path | None:
    """One file of a public dataset: from the local copy if present, else downloaded once into the cache.

    Returns None when the local copy exists but lacks the file (so the caller can name what is missing).
    """
    root = os.environ.get("BENCH_DATA_DIR")
    if root and (Path(root) / local_dir).is_dir():
        path = safe_join(Path(root) / local_dir, relative)
        return path if path.exists() else None
    path = safe_join(cache_dir() / cache_name, relative)
    if not path.exists():
        _download(f"{url}/{relative}", path)
    return path


def checksums(task, folder: Path) -> dict[str, str]:
    """SHA-256 of every declared file, verified against the pinned value where the card gives one."""
    sums = {}
    for rel, expected in task.source.files.items():
        path = safe_join(folder, rel)
        if not path.exists():
            raise DataError(path, "declared data file is missing", fix="restore the file or fix source.files")
        got = sha256_file(path)
        if expected and got != expected:
            raise DataError(
                path,
                f"SHA-256 is {got}, the task card pins {expected}",
                fix="the file changed upstream or locally; restore the pinned version",
            )
        sums[rel] = got
    return sums
