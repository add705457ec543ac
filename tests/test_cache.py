"""Prepared data kept between runs (bench.cache): a second run reads neither the task files nor the tokenizer
again, and any change to what the data depends on misses the cache."""

import shutil

import pytest

from bench import cache, data
from bench.data import readers as loaders
from bench.models.finetune import FineTuner


def _fail(*args, **kwargs):
    raise AssertionError("the cache should have served this")


def test_second_load_of_a_task_comes_from_the_cache(make_cfg, monkeypatch):
    task = make_cfg().task
    first = data.load_task(task)
    monkeypatch.setattr(loaders, "jsonl_records", _fail)  # the reader cannot read the file again
    second = data.load_task(task)
    assert second.checksums == first.checksums and second.report == first.report
    for split, examples in first.splits.items():
        got = second.splits[split]
        assert [(e["id"], e["target"], e["text"], e["label"]) for e in got] == [
            (e["id"], e["target"], e["text"], e["label"]) for e in examples
        ]
        path, line = got[0]["where"]  # error messages still name the file and line
        assert (str(path), line) == (str(examples[0]["where"][0]), examples[0]["where"][1])


def test_a_changed_data_file_misses_the_cache(make_cfg, tmp_path):
    cfg = make_cfg()
    folder = tmp_path / "demo_copy"
    shutil.copytree(data.sources.task_dir(cfg.task), folder)
    cfg.task.source.embedded = str(folder)  # absolute: used as is
    before = data.load_task(cfg.task)
    path = folder / "articles.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[0] = lines[0].replace('"split": "train"', '"split": "test"', 1)
    assert '"split": "test"' in lines[0]
    path.write_text("".join(lines), encoding="utf-8")
    after = data.load_task(cfg.task)
    assert len(after.splits["test"]) == len(before.splits["test"]) + len(cfg.task.targets)


def test_cache_off_writes_nothing(make_cfg, monkeypatch):
    monkeypatch.setenv("BENCH_CACHE", "off")
    data.load_task(make_cfg().task)
    assert not cache.root().exists()


@pytest.fixture
def tiny(make_cfg, tmp_path):
    cfg = make_cfg("experiment=smoke")
    examples = data.load_task(cfg.task).splits["dev"][:12]
    return cfg, examples


def test_tokenized_inputs_are_reused_and_identical(tiny, tmp_path, monkeypatch):
    cfg, examples = tiny
    ds1, rows1, _ = FineTuner(cfg, tmp_path / "a")._dataset(examples, "head", by_length=True)
    monkeypatch.setattr("bench.models.formulations.encode", _fail)
    ds2, rows2, _ = FineTuner(cfg, tmp_path / "b")._dataset(examples, "head", by_length=True)
    assert rows1 == rows2
    assert ds1.to_dict() == ds2.to_dict()


@pytest.mark.parametrize("change", ["max_length", "strategy", "text"])
def test_tokenized_inputs_miss_the_cache_when_anything_changes(tiny, tmp_path, change):
    cfg, examples = tiny
    ft = FineTuner(cfg, tmp_path / "a")
    ft._dataset(examples, "head")
    before = sorted(p.name for p in (cache.root() / "tokens").iterdir())
    strategy = "head"
    if change == "max_length":
        cfg.model.max_length = 64
    elif change == "strategy":
        strategy = "head_tail"
    else:
        examples = [{**examples[0], "text": examples[0]["text"] + " More."}, *examples[1:]]
    FineTuner(cfg, tmp_path / "b")._dataset(examples, strategy)
    after = sorted(p.name for p in (cache.root() / "tokens").iterdir())
    assert len(after) == len(before) + 1


def test_an_unreadable_entry_is_rebuilt(tiny, tmp_path):
    cfg, examples = tiny
    ds1, _, _ = FineTuner(cfg, tmp_path / "a")._dataset(examples, "head")
    expected = [list(x) for x in ds1["input_ids"]]  # ds1 maps the file corrupted below
    (entry,) = (cache.root() / "tokens").iterdir()
    for f in entry.glob("*.arrow"):
        f.write_bytes(b"not arrow")
    ds2, _, _ = FineTuner(cfg, tmp_path / "b")._dataset(examples, "head")
    assert [list(x) for x in ds2["input_ids"]] == expected
