import functools

import numpy as np
import pytest
from scipy import stats

from bench.evaluation.metrics import classification_scores, f_avg
from bench.evaluation.significance import (
    accuracy,
    bootstrap_ci,
    macro_f1,
    paired_bootstrap,
    resampled_scores,
    score_function,
)

LABELS = ["favor", "against", "neutral", "none"]


def _noisy(n=200, p_correct=0.6, seed=1):
    rng = np.random.default_rng(seed)
    gold = list(rng.choice(LABELS, n))
    pred = [g if rng.random() < p_correct else str(rng.choice(LABELS)) for g in gold]
    return gold, pred


@pytest.mark.parametrize("score_fn", [f_avg, accuracy, score_function("macro_f1", LABELS)])
def test_all_correct_gives_degenerate_interval(score_fn):
    gold, _ = _noisy()
    ci = bootstrap_ci(gold, gold, score_fn, n_resamples=200)
    assert (ci.low, ci.high, ci.estimate) == (1.0, 1.0, 1.0)


def test_two_examples_by_hand():
    # one of two correct: resampled accuracy is 0, 1/2, 1 with probability 1/4, 1/2, 1/4 -> 95% interval [0, 1]
    ci = bootstrap_ci(["favor", "against"], ["favor", "none"], accuracy, n_resamples=2000)
    assert (ci.low, ci.high, ci.estimate) == (0.0, 1.0, 0.5)
    scores = resampled_scores(["favor", "against"], [["favor", "none"]], accuracy, n_resamples=4000)[0]
    assert set(scores) == {0.0, 0.5, 1.0}
    assert np.mean(scores == 0.5) == pytest.approx(0.5, abs=0.03)


def test_identical_systems_differ_by_zero_with_p_one():
    gold, pred = _noisy()
    res = paired_bootstrap(gold, pred, list(pred), f_avg, n_resamples=300)
    assert (res.diff, res.p_value, res.ci_low, res.ci_high) == (0.0, 1.0, 0.0, 0.0)


def test_clearly_better_system_is_significant_and_swap_is_symmetric():
    gold, pred = _noisy(n=150, p_correct=0.3)
    better = paired_bootstrap(gold, gold, pred, accuracy, n_resamples=500)
    assert better.diff == pytest.approx(1 - accuracy(gold, pred))
    assert better.p_value == pytest.approx(1 / 501)  # no resample comes near the null: the smallest p possible
    assert better.ci_low > 0
    worse = paired_bootstrap(gold, pred, gold, accuracy, n_resamples=500)
    assert worse.diff == -better.diff and worse.p_value == better.p_value


def test_paired_uses_the_same_indices_for_both_systems():
    # b is a with one prediction changed: every resample's difference is 0 or the changed example's weight
    gold, a = _noisy(n=40)
    b = list(a)
    b[0] = gold[0] if a[0] != gold[0] else next(lab for lab in LABELS if lab != gold[0])
    scores = resampled_scores(gold, [a, b], accuracy, n_resamples=500)
    deltas = np.round((scores[1] - scores[0]) * 40 * (1 if b[0] == gold[0] else -1))
    assert deltas.min() >= 0 and deltas.max() >= 1  # independent resamples would give negative differences


@pytest.mark.parametrize("name", ["f_avg", "macro_f1", "accuracy"])
def test_vectorised_path_equals_the_loop(name):
    gold, pred = _noisy(n=80)
    fn = score_function(name, LABELS)
    fast = resampled_scores(gold, [pred], fn, n_resamples=120, seed=3)
    slow = resampled_scores(gold, [pred], lambda g, p: fn(g, p), n_resamples=120, seed=3)  # unrecognised: loops
    np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-12)


def test_macro_f1_matches_the_run_metrics():
    gold, pred = _noisy(n=120)
    assert macro_f1(gold, pred, LABELS) == pytest.approx(classification_scores(gold, pred, LABELS)["macro_f1"])
    assert score_function("macro_f1", LABELS).func is macro_f1


@pytest.mark.parametrize("score_fn", [accuracy, f_avg])
def test_agrees_with_scipy_percentile_bootstrap(score_fn):
    gold, pred = _noisy(n=200)
    g, p = np.array(gold), np.array(pred)
    ref = stats.bootstrap(
        (np.arange(len(g)),),
        lambda i: score_fn(list(g[i]), list(p[i])),
        vectorized=False,
        n_resamples=2000,
        method="percentile",
        random_state=np.random.default_rng(7),
    ).confidence_interval
    ours = bootstrap_ci(gold, pred, score_fn, n_resamples=2000, seed=0)
    # different random streams: Monte Carlo error of a 2.5% quantile with 2000 resamples is well under 0.02
    assert ours.low == pytest.approx(ref.low, abs=0.02)
    assert ours.high == pytest.approx(ref.high, abs=0.02)
    assert ours.low < ours.estimate < ours.high


def test_alpha_widens_and_seed_reproduces():
    gold, pred = _noisy()
    ci95 = bootstrap_ci(gold, pred, f_avg, seed=5)
    assert bootstrap_ci(gold, pred, f_avg, seed=5) == ci95
    ci50 = bootstrap_ci(gold, pred, f_avg, seed=5, alpha=0.5)
    assert ci95.low < ci50.low < ci50.high < ci95.high


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="empty"):
        bootstrap_ci([], [], f_avg)
    with pytest.raises(ValueError, match="length"):
        paired_bootstrap(["favor"], ["favor"], ["favor", "none"], f_avg)
    assert functools.partial(macro_f1, labels=None)(["a", "b"], ["a", "a"]) == pytest.approx(
        macro_f1(["a", "b"], ["a", "a"])
    )


# --- cluster bootstrap: the (target, text) pairs of one text are resampled together ---


@pytest.mark.parametrize("name", ["f_avg", "macro_f1", "accuracy"])
def test_one_example_per_cluster_is_the_example_bootstrap(name):
    gold, pred = _noisy(n=90)
    fn = score_function(name, LABELS)
    plain = resampled_scores(gold, [pred], fn, n_resamples=200, seed=5)
    clustered = resampled_scores(gold, [pred], fn, n_resamples=200, seed=5, groups=[f"g{i}" for i in range(90)])
    np.testing.assert_array_equal(plain, clustered)


@pytest.mark.parametrize("name", ["f_avg", "macro_f1", "accuracy"])
def test_clustered_vectorised_path_equals_the_loop(name):
    gold, pred = _noisy(n=120)
    groups = [i // 4 for i in range(120)]  # 30 texts, 4 targets each
    fn = score_function(name, LABELS)
    fast = resampled_scores(gold, [pred], fn, n_resamples=150, seed=2, groups=groups)
    slow = resampled_scores(gold, [pred], lambda g, p: fn(g, p), n_resamples=150, seed=2, groups=groups)
    np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-12)


def test_copies_of_one_text_add_no_information():
    """Each example repeated 4 times, as if one text carried 4 identical pairs: the example bootstrap takes the
    copies for independent evidence and halves the interval; resampling texts gives the original interval."""
    gold, pred = _noisy(n=100, seed=4)
    gold4, pred4 = [g for g in gold for _ in range(4)], [p for p in pred for _ in range(4)]
    texts = [i for i in range(100) for _ in range(4)]
    original = bootstrap_ci(gold, pred, accuracy, n_resamples=1000, seed=7)
    by_text = bootstrap_ci(gold4, pred4, accuracy, n_resamples=1000, seed=7, groups=texts)
    by_pair = bootstrap_ci(gold4, pred4, accuracy, n_resamples=1000, seed=7)
    assert (by_text.low, by_text.high) == pytest.approx((original.low, original.high), abs=1e-12)
    assert (by_pair.high - by_pair.low) < 0.6 * (original.high - original.low)


def test_paired_cluster_bootstrap_resamples_the_same_texts_for_both():
    gold, a = _noisy(n=80)
    groups = [i // 4 for i in range(80)]
    res = paired_bootstrap(gold, a, list(a), f_avg, n_resamples=200, groups=groups)
    assert (res.diff, res.p_value) == (0.0, 1.0)
    with pytest.raises(ValueError, match="groups and gold differ in length"):
        resampled_scores(gold, [a], f_avg, n_resamples=10, groups=groups[:-1])


def test_mean_over_targets_vectorised_equals_the_loop_and_the_metric():
    gold, pred = _noisy(n=120)
    targets = [["russia", "ukraine", "china"][i % 3] for i in range(120)]
    groups = [i // 3 for i in range(120)]  # 40 texts, 3 targets each
    fn = score_function("f_avg_targets", LABELS)
    fast = resampled_scores(gold, [pred], fn, n_resamples=150, seed=2, groups=groups, targets=targets)
    slow = resampled_scores(
        gold, [pred], lambda g, p, targets: fn(g, p, targets=targets), n_resamples=150, seed=2, groups=groups,
        targets=targets,
    )  # fmt: skip
    np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-12)
    per_target = []
    for x in ("russia", "ukraine", "china"):
        idx = [i for i, t in enumerate(targets) if t == x]
        per_target.append(f_avg([gold[i] for i in idx], [pred[i] for i in idx]))
    assert bootstrap_ci(gold, pred, fn, n_resamples=50, targets=targets).estimate == pytest.approx(np.mean(per_target))
