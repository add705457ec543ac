import json

import pytest
from conftest import SHARED, needs_shared

from bench.data import load_task
from bench.data.readers import mark_target
from bench.errors import DataError


def test_mark_target_wraps_exactly_the_span():
    sentence = "Critics said Mayor Lind ignored the flood warnings."
    start = sentence.index("Mayor Lind")
    marked = mark_target(sentence, start, start + len("Mayor Lind"), "Mayor Lind", "[TGT]", "[/TGT]")
    assert marked == "Critics said [TGT] Mayor Lind [/TGT] ignored the flood warnings."
    assert mark_target(sentence, start + 1, start + 11, "Mayor Lind", "[TGT]", "[/TGT]") is None
    assert mark_target(sentence, 40, 999, "x", "[TGT]", "[/TGT]") is None


def _copy_task(make_cfg, tmp_path, rows_by_split):
    """newsmtsc_rw pointed at a folder of invented rows (no checksums)."""
    task = make_cfg("task=newsmtsc_rw").task
    folder = tmp_path / "nm"
    folder.mkdir()
    for split, rows in rows_by_split.items():
        (folder / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    task.source.embedded = str(folder)
    task.source.files = {}
    return task


def _row(i, sentence, mention, polarity, shift=0):
    start = sentence.index(mention) + shift
    return {
        "mention": mention,
        "polarity": polarity,
        "from": start,
        "to": start + len(mention),
        "sentence": sentence,
        "id": f"x{i}",
    }


ROWS = [
    _row(1, "Governor Ames praised the volunteers.", "Governor Ames", 1),
    _row(2, "The council blamed Ames for the delay.", "Ames", -1),
    _row(3, "Ames will speak on Tuesday.", "Ames", 0),
]


def test_invented_rows_are_marked_and_mapped(make_cfg, tmp_path):
    task = _copy_task(make_cfg, tmp_path, {"train": ROWS, "dev": ROWS[:1], "test": ROWS[1:]})
    data = load_task(task)
    by_id = {e["id"]: e for e in data.splits["train"]}
    assert [by_id[i]["label"] for i in ("x1", "x2", "x3")] == ["positive", "negative", "neutral"]
    assert by_id["x2"]["text"] == "Ames | The council blamed [TGT] Ames [/TGT] for the delay."
    assert by_id["x2"]["target"] is None and by_id["x2"]["meta"] == {"mention": "Ames", "span": [19, 23]}


def test_span_mismatch_names_file_and_line(make_cfg, tmp_path):
    bad = [*ROWS[:2], _row(3, "Ames will speak on Tuesday.", "Ames", 0, shift=2)]
    task = _copy_task(make_cfg, tmp_path, {"train": bad, "dev": ROWS, "test": ROWS})
    with pytest.raises(DataError, match=r"train\.jsonl:3: span 2:6 of the sentence is 'es w', not the mention 'Ames'"):
        load_task(task)


def test_unknown_polarity_names_file_and_line(make_cfg, tmp_path):
    bad = [*ROWS[:1], {**ROWS[1], "polarity": 4.0}]
    task = _copy_task(make_cfg, tmp_path, {"train": ROWS, "dev": bad, "test": ROWS})
    with pytest.raises(DataError, match=r"dev\.jsonl:2: unknown label '4\.0'"):
        load_task(task)


@needs_shared("newsmtsc")
@pytest.mark.parametrize(
    ("task", "sizes"),
    [("newsmtsc_rw", [8739, 343, 803]), ("newsmtsc_mt", [8739, 442, 1034])],
)
def test_public_split_sizes_labels_and_markers(make_cfg, task, sizes):
    data = load_task(make_cfg(f"task={task}").task)
    assert [len(data.splits[s]) for s in ("train", "dev", "test")] == sizes
    assert set(data.checksums) == {"train.jsonl", "dev.jsonl", "test.jsonl"}
    for examples in data.splits.values():
        assert {e["label"] for e in examples} == {"negative", "neutral", "positive"}
        assert all(e["target"] is None for e in examples)
        for e in examples:
            mention = e["meta"]["mention"]
            assert e["text"].startswith(f"{mention} | ")
            assert f"[TGT] {mention} [/TGT]" in e["text"]


@needs_shared("newsmtsc")
def test_public_first_dev_row_is_marked_at_its_span(make_cfg):
    first = json.loads((SHARED / "newsmtsc/newsmtsc-rw-hf/dev.jsonl").read_text(encoding="utf-8").splitlines()[0])
    data = load_task(make_cfg("task=newsmtsc_rw").task)
    e = next(x for x in data.splits["dev"] if x["id"] == first["id"])
    s, a, b = first["sentence"], first["from"], first["to"]
    assert e["text"] == f"{first['mention']} | {s[:a]}[TGT] {s[a:b]} [/TGT]{s[b:]}"
    assert e["label"] == {-1: "negative", 0: "neutral", 1: "positive"}[first["polarity"]]
