"""Non-neural baselines: per-target majority class and TF-IDF (word + character n-grams) with a linear SVM."""

from collections import Counter

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import make_union
from sklearn.svm import LinearSVC

from bench.metrics import score_split


def _by_target(examples):
    groups: dict = {}
    for i, e in enumerate(examples):
        groups.setdefault(e["target"], []).append(i)
    return groups


class Majority:
    """Predicts each target's most frequent training label (ties broken by label order); with `majority_by`,
    the most frequent label per target and metadata value (e.g. outlet leaning), else the target's."""

    def __init__(self, cfg):
        self.labels = list(cfg.task.labels)
        self.by = cfg.model.majority_by

    def _key(self, e):
        return (e["target"], e.get("meta", {}).get(self.by) if self.by else None)

    def _most_frequent(self, labels):
        counts = Counter(labels)
        return max(self.labels, key=lambda lab: (counts[lab], -self.labels.index(lab)))

    def fit(self, train, dev):
        groups = {}
        for e in train:
            groups.setdefault((e["target"], None), []).append(e["label"])
            if self.by:
                groups.setdefault(self._key(e), []).append(e["label"])
        self.majority = {k: self._most_frequent(v) for k, v in groups.items()}
        return {"groups": len(self.majority)}

    def predict(self, examples):
        pred = [self.majority.get(self._key(e), self.majority[(e["target"], None)]) for e in examples]
        probs = [[float(lab == p) for lab in self.labels] for p in pred]
        return pred, probs


class TfidfSvm:
    """One TF-IDF + LinearSVC model per target, C chosen on dev by the task's main score."""

    def __init__(self, cfg):
        self.cfg = cfg
        self.labels = list(cfg.task.labels)
        svm = dict(cfg.model.svm)
        self.c_grid = list(svm.get("c_grid", [1.0]))
        self.word_ngrams = tuple(svm.get("word_ngrams", [1, 2]))
        self.char_ngrams = tuple(svm.get("char_ngrams", [2, 5]))
        self.max_features = svm.get("max_features", 200000)

    def _features(self):
        return make_union(
            TfidfVectorizer(ngram_range=self.word_ngrams, sublinear_tf=True, max_features=self.max_features),
            TfidfVectorizer(
                analyzer="char_wb",
                ngram_range=self.char_ngrams,
                sublinear_tf=True,
                min_df=2,
                max_features=self.max_features,
            ),
        )

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

    def fit(self, train, dev):
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
        best = None
        for c in self.c_grid:
            svms = {
                t: LinearSVC(C=c, class_weight="balanced", random_state=self.cfg.seed).fit(x, y)
                for t, (x, y) in data.items()
            }
            dev_main = score_split(dev, self._predict_with(svms, dev, dev_x), self.labels, self.cfg.task.main_score)[
                "main"
            ]
            if best is None or dev_main > best[0]:
                best = (dev_main, c, svms)
        self.svms, self.c = best[2], best[1]
        return {"selected_C": self.c, "dev_main_at_selection": best[0]}

    def predict(self, examples):
        pred = self._predict_with(self.svms, examples, self._matrices(examples))
        probs = np.eye(len(self.labels))[[self.labels.index(p) for p in pred]].tolist()
        return pred, probs
