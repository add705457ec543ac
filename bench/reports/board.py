"""A leaderboard table in memory: one Board per task (and task version), one Row per model configuration, and the
formatted cells every output (terminal, Markdown, CSV, HTML) shows."""

import hashlib
import json
from dataclasses import dataclass, field

NOT_CONFIG = ("seed", "output_dir", "results_db", "print_table", "logger", "force", "tags", "eval_task")


# settings added to the schema after runs were recorded, at the value that does what those runs did: a config that
# holds one at this value hashes like one recorded before it existed, so old and new seeds share a row
ADDED_AT_DEFAULT = {"model": {"target_segment": "first"}}


def config_hash(config: dict) -> str:
    """Short hash of the resolved config without the keys that do not change the experiment."""
    kept = {k: v for k, v in config.items() if k not in NOT_CONFIG}
    for section, added in ADDED_AT_DEFAULT.items():
        if isinstance(kept.get(section), dict):
            kept[section] = {k: v for k, v in kept[section].items() if k not in added or added[k] != v}
    return hashlib.sha256(json.dumps(kept, sort_keys=True, default=str).encode()).hexdigest()[:8]


@dataclass
class Row:
    model: str
    config_hash: str
    records: list[dict]
    label: str = ""
    protocol: str = "default"  # how the settings were chosen: default | tuned | probe | zero_shot | few_shot_<k>
    second: float | None = None  # mean of the board's second headline score (e.g. f_avg_targets beside f_avg)
    second_std: float | None = None
    invalid_rate: float | None = None  # share of answers that named no label (prompted models)
    settings: str = ""  # tuned rows: the overrides chosen on dev
    scores: list[float] = field(default_factory=list)
    mean: float = 0.0
    std: float | None = None  # sample std over seeds; None with one run
    ci: tuple[float, float] = (0.0, 0.0)
    per_target: dict[str, float] = field(default_factory=dict)
    per_target_ci: dict[str, tuple[float, float]] = field(default_factory=dict)
    rank: int = 0
    p_vs_best: float | None = None  # None for the best row itself
    tied: bool = True  # not significantly different from the best row
    n_examples: int = 0  # split examples in the first run's predictions
    params: int | None = None
    train_s: float | None = None

    @property
    def seeds(self) -> list[int]:
        return [r["seed"] for r in self.records]


@dataclass
class Board:
    task: str
    split: str
    metric: str
    targets: list[str]
    n_examples: int
    rows: list[Row]
    n_clusters: int | None = None  # articles the bootstrap resamples (None: it resamples single examples)
    version: str = "1"  # the task version: runs on different versions never share a board
    second_metric: str | None = None

    @property
    def best(self) -> Row:
        return self.rows[0]

    @property
    def confusion(self) -> dict:
        """Pooled confusion matrix of the best row's first run on the split."""
        return self.best.records[0]["metrics"][self.split]["pooled"]["confusion"]


def pct(v: float | None) -> str:
    return "" if v is None else f"{100 * v:.1f}"


def display_rows(board: Board) -> list[dict]:
    """Rows of formatted cells (scores as percentages) for the terminal, Markdown and HTML tables."""
    return [
        {
            "rank": r.rank,
            "model": r.label,
            "n": len(r.records),
            "protocol": r.protocol,
            "score": pct(r.mean) + ("" if r.std is None else f" ± {pct(r.std)}"),
            "95% CI": f"[{pct(r.ci[0])}, {pct(r.ci[1])}]",
            **(
                {board.second_metric: pct(r.second) + ("" if r.second_std is None else f" ± {pct(r.second_std)}")}
                if board.second_metric
                else {}
            ),
            **({"invalid %": pct(r.invalid_rate)} if any(x.invalid_rate for x in board.rows) else {}),
            **({"settings": r.settings} if any(x.settings for x in board.rows) else {}),
            **{t: pct(r.per_target.get(t)) for t in board.targets},
            "p vs best": "" if r.p_vs_best is None else f"{r.p_vs_best:.3f}",
            "sig": "best" if r is board.best else ("*" if r.tied else ""),
        }
        for r in board.rows
    ]


def title(b: Board) -> str:
    name = f"{b.task} v{b.version}"
    if b.n_clusters and b.n_clusters < b.n_examples:
        return f"{name}: {b.metric} on {b.split} ({b.n_examples} examples from {b.n_clusters} texts; CI over texts)"
    return f"{name}: {b.metric} on {b.split} ({b.n_examples} examples)"
