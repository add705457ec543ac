"""The `tuned` protocol: the same budget of trials on dev for every model, the choice made on dev only, then the
chosen setting evaluated on test with several seeds.

    python -m bench.tune task=demo model=minilm_joint hparams_search=grid_finetune
    python -m bench.tune task=demo model=tfidf_svm hparams_search=grid_linear --seeds 1,2,3

1. the hparams_search preset's grid runs as one Hydra multirun (seed 0, `model.protocol=tuning`): every trial is
   recorded like any run (re-launching skips recorded trials), and the leaderboard leaves tuning runs out;
2. the trial with the best dev main score is chosen (ties: the earlier trial);
3. the chosen overrides run with each seed and `model.protocol=tuned`; the leaderboard shows them as the row's
   settings. Nothing about test is looked at before step 3.
"""

import argparse
import json
import subprocess
import sys

from bench.errors import BenchError
from bench.records import store

TRIAL_SEED = 0


def _launch(overrides: list[str], multirun: bool) -> None:
    cmd = [sys.executable, "-m", "bench.run", *(["-m"] if multirun else []), *overrides]
    if subprocess.run(cmd).returncode != 0:
        raise BenchError(f"`{' '.join(cmd[1:])}` failed; see its log above")


def trials(db: str, task: str, model: str) -> list[dict]:
    """The recorded tuning trials of a task and model, oldest first."""
    recs = [json.loads(r["record"]) for r in store.runs(db, task)]
    return [r for r in recs if r["model"]["name"] == model and r["config"]["model"].get("protocol") == "tuning"]


def searched(rec: dict, keys: list[str]) -> list[str]:
    """The trial's values of the searched keys, as overrides."""
    out = []
    for key in keys:
        node = rec["config"]
        for part in key.split("."):
            node = node[part]
        out.append(f"{key}={json.dumps(node) if isinstance(node, list) else node}")
    return out


def choose(recs: list[dict], keys: list[str]) -> tuple[list[str], float]:
    """The searched overrides of the trial with the best dev main score, and that score."""
    if not recs:
        raise BenchError("no tuning trials recorded; the grid run recorded nothing")
    best = max(recs, key=lambda r: (r["metrics"]["dev"]["main"], -recs.index(r)))
    return searched(best, keys), best["metrics"]["dev"]["main"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("overrides", nargs="+", help="task=..., model=..., hparams_search=<grid preset> and any other")
    ap.add_argument("--seeds", default="1,2,3", help="seeds for the chosen setting (default 1,2,3)")
    ap.add_argument("--db", default=store.default_db())
    args = ap.parse_args(argv)
    try:
        base = [o for o in args.overrides if not o.startswith("hparams_search=")]
        grid = [o for o in args.overrides if o.startswith("hparams_search=")]
        if len(grid) != 1:
            raise BenchError("name one grid preset: hparams_search=grid_finetune (configs/hparams_search)")
        common = [*base, f"results_db={args.db}", "print_table=false"]
        _launch([*common, *grid, f"seed={TRIAL_SEED}", "model.protocol=tuning"], multirun=True)
        keys = _grid_keys(grid[0].split("=", 1)[1])
        task, model = _names(base)
        chosen, dev = choose(trials(args.db, task, model), keys)
        print(f"chosen on dev ({dev:.4f}): {' '.join(chosen)}")
        for seed in args.seeds.split(","):
            _launch([*common, *chosen, f"seed={seed}", "model.protocol=tuned"], multirun=False)
    except BenchError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


def _grid_keys(preset: str) -> list[str]:
    from omegaconf import OmegaConf

    from bench.config import CONFIG_DIR

    path = CONFIG_DIR / "hparams_search" / f"{preset}.yaml"
    if not path.exists():
        raise BenchError(f"hparams_search={preset}: no {path}")
    return list(OmegaConf.load(path).hydra.sweeper.params)


def _names(overrides: list[str]) -> tuple[str, str]:
    """The task and model names the overrides select (composed as bench.run would)."""
    from hydra import compose, initialize_config_dir

    from bench import config

    config.register()
    with initialize_config_dir(config_dir=str(config.CONFIG_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=overrides)
    return cfg.task.name, cfg.model.name


if __name__ == "__main__":
    sys.exit(main())
