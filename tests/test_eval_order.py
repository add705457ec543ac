"""Predictions must belong to the examples they are reported for, whatever order evaluation batches run in."""

import numpy as np

from bench.data import load_task
from bench.models.finetune import FineTuner


def test_predictions_follow_examples(make_cfg, tmp_path):
    cfg = make_cfg("experiment=smoke")
    data = load_task(cfg.task)
    dev = data.splits["dev"][:40]
    tuner = FineTuner(cfg, tmp_path / "run")
    tuner.fit(data.splits["train"][:32], dev)
    probs = tuner.predict(dev).probs
    probs_reversed = tuner.predict(dev[::-1]).probs
    probs_one = tuner.predict([dev[7]]).probs
    assert np.allclose(probs, probs_reversed[::-1], atol=1e-5)
    assert np.allclose(probs[7], probs_one[0], atol=1e-4)
