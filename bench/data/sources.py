"""Find a task's files: the repository's own data, a local copy under $BENCH_DATA_DIR, or the public source."""

import hashlib
import os
import shutil
import stat
import tarfile
import urllib.request
import zipfile
from pathlib import Path

from bench.cache import cache_dir
from bench.errors import BenchError, DataError

REPO_ROOT = Path(__file__).resolve().parents[2]


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


MAX_EXTRACT_BYTES = 4 * 1024**3


def _archive_members(path: Path) -> list[tuple[str, str, int]]:
    """(name, kind, size) of every member: kind is file, dir or link (symlink, hard link, device: refused)."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            out = []
            for info in zf.infolist():
                mode = info.external_attr >> 16
                kind = "dir" if info.is_dir() else "link" if stat.S_ISLNK(mode) else "file"
                out.append((info.filename, kind, info.file_size))
            return out
    try:
        with tarfile.open(path) as tf:
            return [(m.name, "dir" if m.isdir() else "file" if m.isfile() else "link", m.size) for m in tf]
    except tarfile.TarError as e:
        raise DataError(path, f"is not a zip or tar archive ({e})", fix="re-download it") from None


def extract_archive(path: Path, dest: Path, max_bytes: int = MAX_EXTRACT_BYTES) -> list[Path]:
    """Unpack a zip or tar archive into dest, checking every member first: nothing is written unless no member
    has an absolute name, escapes dest with `..`, is a link or device, and the total size is under max_bytes."""
    path, dest = Path(path), Path(dest)
    members = _archive_members(path)
    total = 0
    for name, kind, size in members:
        if kind == "link":
            raise DataError(path, f"member {name!r} is a link or special file", fix="archives may hold files only")
        if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
            raise DataError(path, f"member {name!r} has an absolute path", fix="archives may hold relative paths only")
        try:
            safe_join(dest, name)
        except BenchError:
            raise DataError(path, f"member {name!r} escapes the extraction folder {dest}") from None
        total += size
    if total > max_bytes:
        raise DataError(path, f"unpacks to {total} bytes, more than the {max_bytes} allowed")
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                target = safe_join(dest, info.filename)
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(target, "wb") as out:
                    shutil.copyfileobj(src, out)
                written.append(target)
    else:
        with tarfile.open(path) as tf:
            tf.extractall(dest, filter="data")  # the stdlib's own checks on top of the ones above
            written = [safe_join(dest, m.name) for m in tf if m.isfile()]
    return written


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
