"""The classifier contract every model kind implements, and what its methods return.

A kind is a class registered with `@register_model("name", config=...)` (bench.models.registry); `bench.run`,
`bench.evaluation` and `bench.predict` use only these methods, whatever the kind.
"""

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

INVALID = "<invalid>"  # the label of an answer that names no label (prompted models): always an error


@dataclass
class Cost:
    """What one fit or prediction read: examples, model inputs (pairs, windows, prompts), tokens, wall seconds."""

    examples: int = 0
    inputs: int | None = None
    tokens: int | None = None  # non-padding tokens (prompt and completion tokens for prompted models)
    prepare_s: float = 0.0  # of the wall time: tokenizing, embedding look-ups or reading cached inputs
    extra: dict[str, Any] = field(default_factory=dict)  # kind-specific counts (requests, cache hits, invalid)

    def as_record(self, wall_s: float | None = None) -> dict:
        out = {k: v for k, v in asdict(self).items() if k != "extra"}
        return {**out, **self.extra, **({"wall_s": round(wall_s, 3)} if wall_s is not None else {})}


@dataclass
class FitInfo:
    """What training chose and saw: kind-specific details (selected C, steps, learning curve) and its cost."""

    details: dict[str, Any] = field(default_factory=dict)
    cost: Cost = field(default_factory=Cost)


@dataclass
class Predictions:
    """One label and one probability row (over the task's labels) per example, and what predicting cost."""

    labels: list[str]
    probs: list[list[float]]
    cost: Cost = field(default_factory=Cost)

    def __post_init__(self):
        if len(self.labels) != len(self.probs):
            raise ValueError(f"{len(self.labels)} labels but {len(self.probs)} probability rows")


@runtime_checkable
class Classifier(Protocol):
    """fit on train (selecting on dev), predict any examples, save and load itself, say where its weights came from.

    Examples are dicts with `id`, `group` (the text they belong to), `text`, `target` (None for single-label
    tasks), `label` (absent for new texts) and `meta`.
    """

    provenance: dict

    def fit(self, train: list[dict], dev: list[dict]) -> FitInfo: ...

    def predict(self, examples: list[dict]) -> Predictions: ...

    def save(self, folder: Path) -> None: ...

    @classmethod
    def load(cls, folder: Path, cfg) -> "Classifier": ...
