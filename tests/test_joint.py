"""Joint formulation (bench.models.joint): one encoder pass per article, one head per target."""

import numpy as np
import pytest
import torch

from bench import data
from bench.errors import BenchError
from bench.models.joint import IGNORE, Joint, JointClassifier, articles
from bench.run import run


def test_joint_run_reads_each_article_once(make_cfg):
    rec = run(make_cfg("experiment=smoke", "model=tiny_joint"))
    cfg = make_cfg("experiment=smoke")
    test = data.subsample(data.load_task(cfg.task).splits["test"], cfg.train.max_eval_examples, cfg.seed)
    articles = {e["group"] for e in test}
    assert len(articles) < len(test)  # several targets per article in this sample
    assert rec["cost"]["test"]["inputs"] == len(articles)  # one input per article, not per (target, article)
    assert rec["metrics"]["test"]["pooled"]["n"] == len(test)
    assert set(rec["metrics"]["test"]["per_target"]) == {"russia", "ukraine", "china", "west"}
    assert rec["model"]["formulation"] == "joint"
    assert rec["fit"]["steps"] > 0 and np.isfinite(rec["fit"]["train_loss"])


TARGETS, LABELS = ["russia", "west"], ["favor", "against", "none"]


EXAMPLES = [  # two articles; the second lacks a label for `west`
    {"id": "a:russia", "group": "a", "target": "russia", "text": "A", "label": "against", "where": ("f", 1)},
    {"id": "b:russia", "group": "b", "target": "russia", "text": "B", "label": "favor", "where": ("f", 2)},
    {"id": "a:west", "group": "a", "target": "west", "text": "A", "label": "none", "where": ("f", 1)},
]


def test_labels_per_article_and_target():
    assert Joint().row_labels(EXAMPLES, [0, 1], TARGETS, LABELS) == [[1, 2], [0, IGNORE]]
    assert Joint().row_labels(EXAMPLES, [1, 0], TARGETS, LABELS) == [
        [0, IGNORE],
        [1, 2],
    ]  # rows sorted by length: labels follow


@pytest.mark.parametrize("strategy", ["head", "chunks_mean", "chunks_max"])
def test_each_example_gets_its_articles_logits_from_its_targets_head(strategy):
    # logits[row, target, label] = 100 * article + 10 * target + label, rows in another order than articles
    rows = [1, 0] if strategy == "head" else [1, 0, 0]
    logits = np.array([[[100 * a + 10 * t + k for k in range(3)] for t in range(2)] for a in rows], dtype=float)
    out = Joint().example_logits(logits, rows, EXAMPLES, TARGETS, strategy)
    assert out.shape == (3, 3)
    assert out[:, 0].tolist() == [0.0, 100.0, 10.0]  # a:russia, b:russia, a:west


def test_an_example_whose_text_differs_from_its_article_is_an_error():
    bad = [*EXAMPLES, {**EXAMPLES[2], "id": "a:x", "text": "other"}]
    with pytest.raises(BenchError, match="another text"):
        articles(bad)


def test_loss_skips_targets_without_a_label():
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    enc = BertModel(BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64))
    model = JointClassifier(enc, ["russia", "west"], ["favor", "against", "none"]).eval()
    ids = torch.tensor([[101, 2000, 102], [101, 2001, 102]])
    logits = model(input_ids=ids).logits
    assert logits.shape == (2, 2, 3)
    labels = torch.tensor([[1, IGNORE], [0, 2]])
    expected = torch.nn.functional.cross_entropy(logits[[0, 1, 1], [0, 0, 1]], torch.tensor([1, 0, 2]))
    assert model(input_ids=ids, labels=labels).loss.item() == pytest.approx(expected.item(), rel=1e-6)


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["model.long_document=target_sentences"], "target_sentences"),
        (["task=demo_tone"], "needs a task with targets"),
    ],
)
def test_unsupported_combinations_fail_before_training(make_cfg, overrides, message):
    with pytest.raises(BenchError, match=message):
        run(make_cfg("experiment=smoke", "model=tiny_joint", *overrides))


@pytest.mark.parametrize("model", ["tiny", "tiny_joint"])
def test_gradient_checkpointing_trains_both_formulations(make_cfg, model, monkeypatch):
    import torch.utils.checkpoint
    import transformers.modeling_utils

    calls = []
    original = torch.utils.checkpoint.checkpoint
    counted = lambda *a, **k: calls.append(1) or original(*a, **k)  # noqa: E731
    monkeypatch.setattr(torch.utils.checkpoint, "checkpoint", counted)
    monkeypatch.setattr(transformers.modeling_utils, "checkpoint", counted)
    rec = run(make_cfg("experiment=smoke", f"model={model}", "train.gradient_checkpointing=true"))
    assert rec["config"]["train"]["gradient_checkpointing"] is True
    assert calls  # the encoder's layers really ran under activation checkpointing
    assert rec["fit"]["steps"] > 0 and np.isfinite(rec["fit"]["train_loss"])


@pytest.mark.parametrize("model", ["tiny", "tiny_joint"])
def test_attention_dropout_override_reaches_the_model(make_cfg, model, tmp_path):
    from bench.models import registry

    cfg = make_cfg("experiment=smoke", f"model={model}", "model.attention_dropout=0")
    clf = registry.build(cfg, tmp_path / "run")
    config = clf.model.encoder.config if model == "tiny_joint" else clf.model.config
    assert config.attention_probs_dropout_prob == 0.0 and config.hidden_dropout_prob == 0.1
