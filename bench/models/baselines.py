"""Non-neural baselines: per-target majority class (optionally per outlet metadata) and TF-IDF (word + character
n-grams) with a linear SVM per target. Both save to JSON and NumPy files (no pickles) for `bench.predict`."""

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, make_union
from sklearn.svm import LinearSVC

from bench.config import ModelConfig
from bench.evaluation.metrics import score_split
from bench.models.contract import Cost, FitInfo, Predictions
from bench.models.linear import load_linear, save_linear
from bench.models.registry import register_model


def _by_target(examples):
    groups: dict = {}
    for i, e in enumerate(examples):
        groups.setdefault(e["target"], []).append(i)
    return groups


def _one_hot(pred: list[str], labels: list[str]) -> list[list[float]]:
    return np.eye(len(labels))[[labels.index(p) for p in pred]].tolist()


@dataclass
class MajorityConfig(ModelConfig):
    kind: str = "majority"
    majority_by: str | None = None  # also condition on this metadata field (e.g. outlet_bias, outlet)


@register_model("majority", config=MajorityConfig)
class Majority:
    """Predicts each target's most frequent training label (ties broken by label order); with `majority_by`,
    the most frequent label per target and metadata value (e.g. outlet leaning), else the target's."""

    provenance = {"source": "none (counts training labels)"}

    def __init__(self, cfg, run_dir=None, checkpoint_dir=None):
        self.labels = list(cfg.task.labels)
        self.by = cfg.model.majority_by
        self.majority: dict[tuple, str] = {}

    def _key(self, e):
        return (e["target"], e.get("meta", {}).get(self.by) if self.by else None)

    def _most_frequent(self, labels):
        counts = Counter(labels)
        return max(self.labels, key=lambda lab: (counts[lab], -self.labels.index(lab)))

    def fit(self, train, dev) -> FitInfo:
        groups = {}
        for e in train:
            groups.setdefault((e["target"], None), []).append(e["label"])
            if self.by:
                groups.setdefault(self._key(e), []).append(e["label"])
        self.majority = {k: self._most_frequent(v) for k, v in groups.items()}
        return FitInfo({"groups": len(self.majority)}, Cost(examples=len(train)))

    def predict(self, examples) -> Predictions:
        pred = [self.majority.get(self._key(e), self.majority[(e["target"], None)]) for e in examples]
        return Predictions(pred, _one_hot(pred, self.labels), Cost(examples=len(examples)))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        table = [[t, v, lab] for (t, v), lab in self.majority.items()]
        (folder / "majority.json").write_text(json.dumps({"by": self.by, "table": table}), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, cfg) -> "Majority":
        clf = cls(cfg)
        saved = json.loads((Path(folder) / "majority.json").read_text(encoding="utf-8"))
        clf.majority = {(t, v): lab for t, v, lab in saved["table"]}
        return clf


# what a fitted TfidfVectorizer needs besides its vocabulary and idf to transform text as it did in training
SAVED_PARAMS = ("analyzer", "ngram_range", "lowercase", "sublinear_tf", "norm", "use_idf", "smooth_idf", "min_df",
                "max_features", "strip_accents", "token_pattern")  # fmt: skip


@dataclass
class SvmConfig:
    c_grid: list[float] = field(default_factory=lambda: [1.0])  # C chosen on dev by the task's main score
    word_ngrams: list[int] = field(default_factory=lambda: [1, 2])
    char_ngrams: list[int] = field(default_factory=lambda: [2, 5])
    max_features: int = 200000


@dataclass
class TfidfSvmConfig(ModelConfig):
    kind: str = "tfidf_svm"
    svm: SvmConfig = field(default_factory=SvmConfig)


@register_model("tfidf_svm", config=TfidfSvmConfig)
class TfidfSvm:
    """One TF-IDF + LinearSVC model per target, C chosen on dev by the task's main score."""

    provenance = {"source": "none (trained from scratch)"}

    def __init__(self, cfg, run_dir=None, checkpoint_dir=None):
        self.cfg = cfg
        self.labels = list(cfg.task.labels)
        svm = cfg.model.svm
        self.c_grid = list(svm.c_grid)
        self.word_ngrams, self.char_ngrams = tuple(svm.word_ngrams), tuple(svm.char_ngrams)
        self.max_features = svm.max_features
        self.features: dict = {}  # target -> fitted FeatureUnion, or the one label a target's training data has
        self.svms: dict = {}

    def _features(self) -> FeatureUnion:
        return make_union(
            TfidfVectorizer(ngram_range=self.word_ngrams, sublinear_tf=True, max_features=self.max_features),
            TfidfVectorizer(
                analyzer="char_wb", ngram_range=self.char_ngrams, sublinear_tf=True, min_df=2,
                max_features=self.max_features,
            ),
        )  # fmt: skip

    def _matrices(self, examples):
        """Feature matrix per target, from the vectorizer fitted on that target's training texts."""
        return {
            t: self.features[t].transform([examples[i]["text"] for i in idx])
            for t, idx in _by_target(examples).items()
            if not isinstance(self.features[t], str)
        }

    def _predict_with(self, svms, examples, matrices):
        pred = [None] * len(examples)
        for target, idx in _by_target(examples).items():
            f = self.features[target]
            out = [f] * len(idx) if isinstance(f, str) else svms[target].predict(matrices[target])
            for i, p in zip(idx, out, strict=True):
                pred[i] = str(p)
        return pred

    def fit(self, train, dev) -> FitInfo:
        # features are fitted once per target; only the SVM is refitted for each C
        self.features, data = {}, {}
        for target, idx in _by_target(train).items():
            texts, y = [train[i]["text"] for i in idx], [train[i]["label"] for i in idx]
            if len(set(y)) == 1:
                self.features[target] = y[0]
                continue
            self.features[target] = self._features().fit(texts)
            data[target] = (self.features[target].transform(texts), y)
        dev_x = self._matrices(dev)
        best, grid = None, {}
        for c in self.c_grid:
            svms = {
                t: LinearSVC(C=c, class_weight="balanced", random_state=self.cfg.seed).fit(x, y)
                for t, (x, y) in data.items()
            }
            dev_pred = self._predict_with(svms, dev, dev_x)
            grid[str(c)] = dev_main = score_split(dev, dev_pred, self.labels, self.cfg.task.main_score)["main"]
            if best is None or dev_main > best[0]:
                best = (dev_main, c, svms)
        self.svms, self.c = best[2], best[1]
        details = {"selected_C": self.c, "dev_main_at_selection": best[0], "dev_main_per_C": grid}
        return FitInfo(details, Cost(examples=len(train)))

    def predict(self, examples) -> Predictions:
        pred = self._predict_with(self.svms, examples, self._matrices(examples))
        return Predictions(pred, _one_hot(pred, self.labels), Cost(examples=len(examples)))

    def save(self, folder: Path) -> None:
        """Per target: each vectorizer's vocabulary and idf, and the SVM's weights, as JSON and .npy files."""
        folder.mkdir(parents=True, exist_ok=True)
        index = {}
        for n, (target, f) in enumerate(self.features.items()):
            if isinstance(f, str):
                index[target] = {"constant": f}
                continue
            vecs = []
            for k, (_, vec) in enumerate(f.transformer_list):
                np.save(folder / f"idf_{n}_{k}.npy", vec.idf_)
                params = {k: vec.get_params()[k] for k in SAVED_PARAMS}
                vecs.append({"params": params, "vocabulary": {w: int(i) for w, i in vec.vocabulary_.items()}})
            index[target] = {**save_linear(folder, n, self.svms[target]), "vectorizers": vecs}
        (folder / "tfidf_svm.json").write_text(json.dumps({"C": self.c, "targets": index}), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, cfg) -> "TfidfSvm":
        folder = Path(folder)
        clf = cls(cfg)
        saved = json.loads((folder / "tfidf_svm.json").read_text(encoding="utf-8"))
        clf.c = saved["C"]
        for target, entry in saved["targets"].items():
            if "constant" in entry:
                clf.features[target] = entry["constant"]
                continue
            n, vecs = entry["n"], []
            for k, v in enumerate(entry["vectorizers"]):
                vec = TfidfVectorizer(**{**v["params"], "ngram_range": tuple(v["params"]["ngram_range"])})
                vec.vocabulary_ = v["vocabulary"]
                vec.idf_ = np.load(folder / f"idf_{n}_{k}.npy")
                vecs.append((f"tfidfvectorizer-{k + 1}", vec))
            clf.features[target] = FeatureUnion(vecs)
            clf.svms[target] = load_linear(folder, entry, LinearSVC)
        return clf
