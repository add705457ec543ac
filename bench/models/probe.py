"""Frozen-encoder probe (`model.kind=probe`, MTEB's classification protocol): pooled text embeddings from a frozen
encoder -- local weights, or any OpenAI-compatible `/v1/embeddings` endpoint -- and a logistic regression per
target whose C is chosen on dev. Any encoder YAML runs as a probe with `model.kind=probe`.

Embeddings are cached per text (bench.models.embeddings), so other seeds, C values and tasks sharing texts re-use
them; long documents are read through the model's long-document strategy, window embeddings averaged.
"""

import json
import time
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from bench.evaluation.metrics import score_split
from bench.models.contract import Cost, FitInfo, Predictions
from bench.models.embeddings import EndpointEmbedder, LocalEmbedder
from bench.models.linear import load_linear, save_linear
from bench.models.registry import register_model
from bench.models.transformer import EncoderConfig


def _by_target(examples: list[dict]) -> dict:
    groups: dict = {}
    for i, e in enumerate(examples):
        groups.setdefault(e["target"], []).append(i)
    return groups


@register_model("probe", config=EncoderConfig)
class Probe:
    """Logistic-regression heads (one per target) over frozen, pooled, L2-normalised text embeddings."""

    def __init__(self, cfg, run_dir=None, checkpoint_dir=None):
        self.cfg = cfg
        self.labels = list(cfg.task.labels)
        self.has_target = cfg.task.target_field is not None
        p = cfg.model.probe
        self.embedder = EndpointEmbedder(cfg.model) if p.endpoint else LocalEmbedder(cfg.model, cfg.seed)
        self.provenance = {**self.embedder.provenance, "protocol": "probe", "pooling": str(cfg.model.pooling)}
        self.heads: dict = {}  # target -> fitted LogisticRegression, or the one label its training data has

    def _embed(self, examples: list[dict]) -> tuple[np.ndarray, Cost]:
        start = time.perf_counter()
        targets = [e["target"] or "" for e in examples]
        aliases = dict(self.cfg.task.aliases or {})
        vectors, stats = self.embedder.embed([e["text"] for e in examples], targets, self.has_target, aliases)
        seconds = round(time.perf_counter() - start, 3)
        return vectors, Cost(len(examples), stats.pop("inputs"), stats.pop("tokens"), seconds, stats)

    def _fit_heads(self, x, examples, c) -> dict:
        heads = {}
        for target, idx in _by_target(examples).items():
            y = [examples[i]["label"] for i in idx]
            if len(set(y)) == 1:
                heads[target] = y[0]
                continue
            lr = LogisticRegression(C=c, class_weight="balanced", max_iter=2000, random_state=self.cfg.seed)
            heads[target] = lr.fit(x[idx], y)
        return heads

    def _probs(self, heads, x, examples) -> np.ndarray:
        probs = np.zeros((len(examples), len(self.labels)))
        for target, idx in _by_target(examples).items():
            head = heads[target]
            if isinstance(head, str):
                probs[idx, self.labels.index(head)] = 1.0
                continue
            cols = [self.labels.index(str(c)) for c in head.classes_]
            probs[np.ix_(idx, cols)] = head.predict_proba(x[idx])
        return probs

    def fit(self, train: list[dict], dev: list[dict]) -> FitInfo:
        x_train, cost = self._embed(train)
        x_dev, dev_cost = self._embed(dev)
        best, grid = None, {}
        for c in self.cfg.model.probe.c_grid:
            heads = self._fit_heads(x_train, train, c)
            pred = [self.labels[i] for i in self._probs(heads, x_dev, dev).argmax(-1)]
            grid[str(c)] = main = score_split(dev, pred, self.labels, self.cfg.task.main_score)["main"]
            if best is None or main > best[0]:
                best = (main, c, heads)
        self.heads, self.c = best[2], best[1]
        cost.prepare_s += dev_cost.prepare_s
        cost.extra = {k: cost.extra.get(k, 0) + dev_cost.extra.get(k, 0) for k in cost.extra}
        return FitInfo({"selected_C": self.c, "dev_main_at_selection": best[0], "dev_main_per_C": grid}, cost)

    def predict(self, examples: list[dict]) -> Predictions:
        x, cost = self._embed(examples)
        probs = self._probs(self.heads, x, examples)
        return Predictions([self.labels[i] for i in probs.argmax(-1)], probs.round(6).tolist(), cost)

    def save(self, folder: Path) -> None:
        """Each head's weights as .npy files and an index; the encoder is the one the config names."""
        folder.mkdir(parents=True, exist_ok=True)
        index = {}
        for n, (target, head) in enumerate(self.heads.items()):
            if isinstance(head, str):
                index[target] = {"constant": head}
                continue
            index[target] = save_linear(folder, n, head)
        (folder / "probe.json").write_text(json.dumps({"C": self.c, "heads": index}), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, cfg) -> "Probe":
        folder = Path(folder)
        clf = cls(cfg)
        saved = json.loads((folder / "probe.json").read_text(encoding="utf-8"))
        clf.c = saved["C"]
        for target, entry in saved["heads"].items():
            if "constant" in entry:
                clf.heads[target] = entry["constant"]
                continue
            clf.heads[target] = load_linear(folder, entry, LogisticRegression)
        return clf
