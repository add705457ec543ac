import json

import pytest
from conftest import needs_shared

from bench.data import load_task
from bench.errors import BenchError, DataError


def _demo_copy(tmp_path, make_cfg, mutate):
    """The demo task pointed at a copy of its file, with one line changed by mutate(lines)."""
    src = make_cfg().task
    from bench.data.sources import REPO_ROOT

    lines = (REPO_ROOT / "data/demo/articles.jsonl").read_text(encoding="utf-8").splitlines()
    mutate(lines)
    folder = tmp_path / "demo_copy"
    folder.mkdir()
    (folder / "articles.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    src.source.embedded = str(folder)
    return src, folder / "articles.jsonl"


def test_demo_loads_every_split_and_target(make_cfg):
    data = load_task(make_cfg().task)
    for split in ("train", "dev", "test"):
        assert {e["target"] for e in data.splits[split]} == {"russia", "ukraine", "china", "west"}
    assert set(data.checksums) == {"articles.jsonl"}


def test_demo_tone_is_single_label(make_cfg):
    data = load_task(make_cfg("task=demo_tone").task)
    assert all(e["target"] is None for e in data.splits["train"])
    assert {e["label"] for e in data.splits["train"]} <= {"positive", "negative", "neutral"}


def test_malformed_json_line_names_file_and_line(make_cfg, tmp_path):
    task, path = _demo_copy(tmp_path, make_cfg, lambda lines: lines.__setitem__(2, "{not json"))
    with pytest.raises(DataError, match=r"articles\.jsonl:3: malformed JSON"):
        load_task(task)


def test_unknown_label_names_line_and_known_labels(make_cfg, tmp_path):
    def bad(lines):
        rec = json.loads(lines[4])
        rec["russia"] = "pro"
        lines[4] = json.dumps(rec)

    task, _ = _demo_copy(tmp_path, make_cfg, bad)
    with pytest.raises(DataError, match=r"articles\.jsonl:5: unknown label 'pro'.*favor"):
        load_task(task)


def test_missing_text_field_names_line_and_key(make_cfg, tmp_path):
    def bad(lines):
        rec = json.loads(lines[0])
        del rec["text"]
        lines[0] = json.dumps(rec)

    task, _ = _demo_copy(tmp_path, make_cfg, bad)
    with pytest.raises(DataError, match=r"articles\.jsonl:1: missing field 'text'"):
        load_task(task)


def test_missing_local_copy_and_no_url_is_one_clear_error(make_cfg, monkeypatch, tmp_path):
    task = make_cfg("task=ruw").task
    task.source.local_dir = "nowhere"
    task.source.url = None
    with pytest.raises(BenchError, match="BENCH_DATA_DIR"):
        load_task(task)


@needs_shared("ruw")
def test_ruw_decodes_cp1252_and_drops_train_overlap(make_cfg):
    data = load_task(make_cfg("task=ruw").task)
    r = data.report
    assert r["train_texts"] == 4200 and r["dev_texts"] == 600 and r["test_texts"] == 1200
    assert r["train_duplicate_texts"] >= 99 and r["test_duplicate_texts"] >= 13
    assert r["test_overlap_with_train"] >= 4 and r["dev_overlap_with_train"] >= 2
    # every remaining test tweet is new, and each tweet yields one pair per target
    assert r["test_examples"] == 2 * (1200 - r["test_overlap_with_train"])
    # the file is not valid UTF-8; decoded as cp1252, its high bytes become characters, not errors
    assert any(any(ord(ch) > 127 for ch in e["text"]) for e in data.splits["train"])


@needs_shared("ruw")
def test_changed_file_fails_checksum(make_cfg, tmp_path):
    import shutil

    task = make_cfg("task=ruw").task

    copy = tmp_path / "ruw"
    shutil.copytree(task_dir_of(task), copy)
    (copy / "raw_val_Russia_Ukraine.csv").chmod(0o644)
    with open(copy / "raw_val_Russia_Ukraine.csv", "ab") as f:
        f.write(b"extra,Russia,NONE,Ukraine,NONE,Dev\n")
    task.source.local_dir = str(copy)
    with pytest.raises(DataError, match="SHA-256"):
        load_task(task)


def task_dir_of(task):
    from bench.data.sources import task_dir

    return task_dir(task)


@needs_shared("tweeteval")
def test_tweeteval_stance_sizes(make_cfg):
    data = load_task(make_cfg("task=tweeteval_stance").task)
    assert [len(data.splits[s]) for s in ("train", "dev", "test")] == [2620, 294, 1249]
    assert {e["label"] for e in data.splits["test"]} == {"favor", "against", "none"}
