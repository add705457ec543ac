"""Trainer checkpoints kept per fingerprint, so that a killed run resumes where it stopped when re-launched.

The run folder has the start time in its name and changes with every launch; the checkpoint folder is keyed by
the run's fingerprint instead (`<results store folder>/checkpoints/<fingerprint[:16]>/`), so a re-launch of the
same experiment finds it. It is deleted once the run is recorded, or moved into the run folder when
`train.save_checkpoints=true`.
"""

import json
import logging
import re
import shutil
from pathlib import Path

log = logging.getLogger(__name__)
_STEP = re.compile(r"^checkpoint-(\d+)$")


def folder(results_db: str | Path, fingerprint: str) -> Path:
    """Where the Trainer of the run with this fingerprint writes its checkpoints."""
    return Path(results_db).parent / "checkpoints" / fingerprint[:16]


def _complete(ckpt: Path) -> bool:
    """The Trainer writes trainer_state.json last (after weights, optimizer and RNG state): a valid one marks a
    finished checkpoint; a run killed while saving leaves none, or a truncated one."""
    try:
        json.loads((ckpt / "trainer_state.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return any(ckpt.glob("rng_state*.pth")) and any(ckpt.glob("optimizer.*"))


def latest(path: Path) -> Path | None:
    """The newest complete checkpoint under path (None if there is none); newer incomplete ones are removed."""
    if not path.is_dir():
        return None
    steps = sorted(
        ((int(m.group(1)), p) for p in path.iterdir() if p.is_dir() and (m := _STEP.match(p.name))),
        reverse=True,
    )
    for _, ckpt in steps:
        if _complete(ckpt):
            return ckpt
        log.warning("removing incomplete checkpoint %s (the run was killed while saving it)", ckpt)
        shutil.rmtree(ckpt, ignore_errors=True)
    return None


def finish(path: Path, run_dir: Path, keep: bool) -> None:
    """After the run is recorded: delete its checkpoints, or move them into the run folder if keep."""
    if not path.exists():
        return
    if keep:
        dest = Path(run_dir) / "checkpoints"
        shutil.rmtree(dest, ignore_errors=True)
        shutil.move(str(path), str(dest))
    else:
        shutil.rmtree(path, ignore_errors=True)
