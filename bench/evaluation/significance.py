"""Bootstrap confidence intervals and paired bootstrap tests over test examples.

Both resample example *indices* with replacement (``numpy.random.default_rng(seed)``), so a paired test scores the
two systems on exactly the same resampled examples. With ``groups`` (a cluster key per example, e.g. the article
of each (target, article) pair) whole clusters are resampled instead (cluster bootstrap), since the pairs of one
article share its text and are not independent. ``score_fn(gold, pred) -> float`` is any metric; the registered
metrics of ``bench.evaluation.metrics`` (``score_function(name, labels)``) are recognised and computed for all
resamples at once from per-label counts with numpy (a mean over targets from per-target masks); any other callable
is called once per resample.
"""

import functools
from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple

import numpy as np

from bench.evaluation.metrics import METRICS, STANCE_POLES, accuracy, f_avg, macro_f1

ScoreFn = Callable[[list, list], float]
_CHUNK = 250  # resamples scored per numpy batch: bounds memory at _CHUNK * n indices


class CI(NamedTuple):
    low: float
    high: float
    estimate: float  # the score on the original (not resampled) examples


class Paired(NamedTuple):
    diff: float  # score(pred_a) - score(pred_b) on the original examples
    p_value: float  # two-sided
    ci_low: float  # percentile bootstrap interval of the difference (95%)
    ci_high: float


def score_function(name: str, labels: Sequence[str] | None = None) -> ScoreFn:
    """The registered metric `name` as score_fn(gold, pred, targets=None), over the task's full label set."""
    if name not in METRICS:
        raise ValueError(f"unknown metric {name!r}; registered: {sorted(METRICS)}")
    return functools.partial(METRICS[name].fn, labels=None if labels is None else list(labels))


def _fast(score_fn, gold, preds, targets=None) -> tuple[Callable, Callable] | None:
    """(encode, score) for a registered metric: encode labels to int codes; score(g, p, w) -> (B,) scores, where g
    and p are (n,) codes and w is (B, n): how many times each example is in each resample."""
    fn, kw = (score_fn.func, score_fn.keywords) if isinstance(score_fn, functools.partial) else (score_fn, {})
    metric = next((m for m in METRICS.values() if m.fn is fn), None)
    if metric is None or set(kw) - {"labels"}:
        return None
    if metric.per_target_mean_of is not None:
        if targets is None:
            return None
        base = _fast(functools.partial(METRICS[metric.per_target_mean_of].fn, **kw), gold, preds)
        if base is None:
            return None
        encode, base_score = base
        masks = [(np.asarray(targets) == t).astype(float) for t in sorted(set(targets))]

        def mean_over_targets(g, p, w):
            per_target = np.stack([base_score(g, p, w * m) for m in masks])
            present = np.stack([(w @ m) > 0 for m in masks])  # a target a resample does not draw is not averaged
            return (per_target * present).sum(axis=0) / np.maximum(present.sum(axis=0), 1)

        return encode, mean_over_targets
    if fn is accuracy:
        codes = {lab: i for i, lab in enumerate(sorted(set(gold).union(*map(set, preds))))}
        return (lambda labels: np.array([codes[lab] for lab in labels])), (
            lambda g, p, w: (w @ (g == p)) / np.maximum(w.sum(axis=1), 1)
        )
    if fn is f_avg:
        scored = list(STANCE_POLES)
    elif fn is macro_f1 and kw.get("labels") is not None:
        scored = list(kw["labels"])  # labels=None means "labels present in this resample": left to sklearn
    else:
        return None
    codes = {lab: i for i, lab in enumerate(scored)}

    def score(g, p, w):
        f1 = []
        for k in range(len(scored)):
            gk, pk = (g == k).astype(float), (p == k).astype(float)
            denom = w @ gk + w @ pk  # F1 = 2tp / (2tp + fp + fn); 0 when undefined, as sklearn
            f1.append(np.divide(2 * (w @ (gk * pk)), denom, out=np.zeros(len(w)), where=denom > 0))
        return np.mean(f1, axis=0) if f1 else np.zeros(len(w))

    return (lambda labels: np.array([codes.get(lab, -1) for lab in labels])), score


def _cluster_index(n: int, groups: Sequence | None) -> tuple[np.ndarray, int]:
    """Each example's cluster number (0..C-1) and C; without groups every example is its own cluster."""
    if groups is None:
        return np.arange(n), n
    if len(groups) != n:
        raise ValueError(f"groups and gold differ in length ({len(groups)} vs {n})")
    numbers: dict = {}
    return np.array([numbers.setdefault(g, len(numbers)) for g in groups]), len(numbers)


def _draws(n_clusters: int, n_resamples: int, seed: int) -> Iterator[np.ndarray]:
    """Chunks of resamples: (chunk, n_clusters) cluster numbers drawn with replacement."""
    rng = np.random.default_rng(seed)
    for start in range(0, n_resamples, _CHUNK):
        yield rng.integers(0, n_clusters, size=(min(_CHUNK, n_resamples - start), n_clusters))


def resampled_scores(
    gold, preds: Sequence[Sequence], score_fn: ScoreFn, n_resamples=1000, seed=0, groups=None, targets=None
) -> np.ndarray:
    """Scores of each prediction list on the same bootstrap resamples: array of shape (len(preds), n_resamples).

    groups: a cluster key per example (e.g. the article of each (target, article) pair). Whole clusters are then
    resampled, as examples of one article are not independent; without it every example is resampled on its own.
    targets: each example's target, for metrics that average over targets (passed to score_fn as `targets`).
    """
    gold = list(gold)
    n = len(gold)
    if n == 0:
        raise ValueError("cannot bootstrap an empty set of examples")
    if any(len(p) != n for p in preds):
        raise ValueError(f"predictions and gold differ in length ({[len(p) for p in preds]} vs {n})")
    cluster, n_clusters = _cluster_index(n, groups)
    fast = _fast(score_fn, gold, preds, targets)
    if fast is not None:
        encode, fast_score = fast
        g_codes, p_codes = encode(gold), [encode(p) for p in preds]
    else:
        g_codes, p_codes = np.asarray(gold, dtype=object), [np.asarray(p, dtype=object) for p in preds]
        t_codes = None if targets is None else np.asarray(targets, dtype=object)
        members = [np.flatnonzero(cluster == c) for c in range(n_clusters)]
    out = np.empty((len(preds), n_resamples))
    done = 0
    for draw in _draws(n_clusters, n_resamples, seed):
        b = len(draw)
        if fast is not None:  # times each cluster is drawn, then each example's weight in each resample
            counts = np.bincount((draw + n_clusters * np.arange(b)[:, None]).ravel(), minlength=b * n_clusters)
            weights = counts.reshape(b, n_clusters)[:, cluster].astype(float)
            for j, p in enumerate(p_codes):
                out[j, done : done + b] = fast_score(g_codes, p, weights)
        else:
            idx = [np.concatenate([members[c] for c in row]) for row in draw]
            for j, p in enumerate(p_codes):
                out[j, done : done + b] = [_call(score_fn, g_codes[i], p[i], t_codes, i) for i in idx]
        done += b
    return out


def _call(score_fn, gold, pred, targets, idx=None) -> float:
    """score_fn on (a resample of) the examples; targets go along only when there are any."""
    sub = (lambda a: list(a)) if idx is None else (lambda a: list(np.asarray(a, dtype=object)[idx]))
    if targets is None:
        return score_fn(list(gold), list(pred))
    return score_fn(list(gold), list(pred), targets=sub(targets))


def bootstrap_ci(gold, pred, score_fn: ScoreFn, n_resamples=1000, seed=0, alpha=0.05, groups=None, targets=None) -> CI:
    """Percentile bootstrap (1 - alpha) interval of score_fn over examples (or clusters of them: `groups`)
    resampled with replacement."""
    scores = resampled_scores(gold, [pred], score_fn, n_resamples, seed, groups, targets)[0]
    low, high = np.quantile(scores, [alpha / 2, 1 - alpha / 2])
    return CI(float(low), float(high), float(_call(score_fn, gold, pred, targets)))


def paired_bootstrap(
    gold, pred_a, pred_b, score_fn: ScoreFn, n_resamples=1000, seed=0, groups=None, targets=None
) -> Paired:
    """Paired bootstrap test of score(a) - score(b): both systems scored on the same resampled indices.

    Two-sided p-value by the shift method (Berg-Kirkpatrick et al. 2012; Koehn 2004): the bootstrap distribution
    of the difference, centred on the observed difference, approximates its null distribution, so
    p = (1 + #{|delta_b - delta| >= |delta|}) / (1 + n_resamples). Identical systems give delta = 0 and p = 1.
    """
    scores = resampled_scores(gold, [pred_a, pred_b], score_fn, n_resamples, seed, groups, targets)
    deltas = scores[0] - scores[1]
    diff = _call(score_fn, gold, pred_a, targets) - _call(score_fn, gold, pred_b, targets)
    extreme = int(np.sum(np.abs(deltas - diff) >= abs(diff) - 1e-12))
    low, high = np.quantile(deltas, [0.025, 0.975])
    return Paired(float(diff), (1 + extreme) / (1 + n_resamples), float(low), float(high))
