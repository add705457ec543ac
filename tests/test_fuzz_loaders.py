"""Property-based tests: malformed files against every reader either load into valid examples or fail with the
project's own error (BenchError / DataError, one sentence naming the file), never a raw traceback.

Each test writes a small valid dataset, lets Hypothesis corrupt it (bad JSON, values of the wrong JSON type,
unknown or non-string labels, missing columns, broken CSV quoting, bytes that are not valid in the encoding,
empty text, duplicate ids, empty splits) and loads it with bench.data.load_task, the path every run takes.
Run with `pytest tests/test_fuzz_loaders.py --hypothesis-show-statistics` to see how many examples loaded and how
many failed cleanly.
"""

import collections
import csv
import hashlib
import io
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from omegaconf.errors import ValidationError

from bench.data import load_task
from bench.errors import BenchError

EXAMPLES = 300
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,  # no .hypothesis/ folder in the repository
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=8), st.just("")
)
json_values = st.recursive(
    json_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
)
# lone surrogates, control characters, U+2028 and friends (str.splitlines splits on them)
odd_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=12)
garbage_bytes = st.binary(max_size=12)


OUTCOMES: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)


def _check_loaded(task, data) -> None:
    """What a successful load promises: known labels, non-empty text, unique ids, every split non-empty."""
    event("loaded")
    OUTCOMES[task.loader]["loaded"] += 1
    for split, examples in data.splits.items():
        assert examples, split
        assert len({e["id"] for e in examples}) == len(examples)
        for e in examples:
            assert e["label"] in task.labels and e["text"].strip()
            assert isinstance(e["text"], str) and isinstance(e["id"], str)


def _load(task) -> None:
    try:
        data = load_task(task)
    except BenchError as e:
        msg = str(e)
        assert "\n" not in msg and "Traceback" not in msg, msg  # one sentence
        event(f"{type(e).__name__}: {msg.split(': ', 1)[-1].split(' (')[0].split(' —')[0][:40]}")
        OUTCOMES[task.loader][type(e).__name__] += 1
        return
    _check_loaded(task, data)


def _report(outcomes) -> None:
    """Both branches were exercised: some fuzzed files loaded, some failed with a bench error."""
    for loader, counts in outcomes.items():
        print(f"{loader}: {dict(counts)}")
    (counts,) = [c for c in outcomes.values() if c]
    assert counts["loaded"] > 0 and sum(counts.values()) - counts["loaded"] > 0, dict(counts)
    outcomes.clear()


# ---------------------------------------------------------------- jsonl_wide (demo task)

TARGETS = ["russia", "ukraine", "china", "west"]


def _wide_record(i: int, split: str) -> dict:
    rec = {"id": f"a{i}", "split": split, "headline": f"headline {i}", "text": f"text number {i}"}
    rec.update({t: ["favor", "against", "neutral", "none"][(i + k) % 4] for k, t in enumerate(TARGETS)})
    return rec


def _valid_wide_lines() -> list[str]:
    return [json.dumps(_wide_record(i, s)) for i, s in enumerate(["train"] * 4 + ["dev"] * 4 + ["test"] * 4)]


wide_edit = st.one_of(
    st.tuples(st.just("set"), st.sampled_from(["id", "split", "headline", "text", *TARGETS, "extra"]), json_values),
    st.tuples(st.just("set"), st.sampled_from(["text", "id", "russia"]), odd_text),
    st.tuples(st.just("drop"), st.sampled_from(["id", "split", "text", *TARGETS]), st.none()),
    st.tuples(st.just("line"), st.just(""), st.one_of(odd_text, json_values.map(json.dumps))),
    st.tuples(st.just("copy"), st.just(""), st.none()),  # duplicate a record (same id)
)


@pytest.fixture
def demo_task(make_cfg):
    return make_cfg("task=demo").task


def test_jsonl_wide_fuzz(demo_task):
    @SETTINGS
    @given(
        edits=st.lists(st.tuples(st.integers(0, 11), wide_edit), max_size=4),
        tail=st.one_of(st.just(b""), garbage_bytes),
    )
    def check(edits, tail):
        lines = _valid_wide_lines()
        for index, (op, key, value) in edits:
            try:
                rec = json.loads(lines[index])
            except ValueError:
                rec = {}
            rec = rec if isinstance(rec, dict) else {}
            if op == "set":
                rec[key] = value
                lines[index] = json.dumps(rec)
            elif op == "drop":
                rec.pop(key, None)
                lines[index] = json.dumps(rec)
            elif op == "line":
                lines[index] = value
            else:
                lines.append(lines[index])
        with tempfile.TemporaryDirectory() as d:
            (Path(d) / "articles.jsonl").write_bytes("\n".join(lines).encode("utf-8", "surrogatepass") + tail)
            demo_task.source.embedded = d
            _load(demo_task)

    check()
    _report(OUTCOMES)


# ---------------------------------------------------------------- ruw CSV (cp1252)

RUW_HEADER = ["Tweet", "Target 1", "Stance 1", "Target 2", "Stance 2"]


def _ruw_rows(split: str) -> list[list[str]]:
    stances = ["FAVOR", "AGAINST", "NONE"]
    return [[f"{split} tweet {i}", "Russia", stances[i % 3], "Ukraine", stances[(i + 1) % 3]] for i in range(3)]


def _csv_bytes(header, rows) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    if header is not None:
        w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode("cp1252", "replace")


cell = st.one_of(st.text(max_size=10), st.sampled_from(["FAVOR", "favor", "", "Russia", "Ukraine", '"', "a,b"]))


def test_ruw_csv_fuzz(make_cfg):
    task = make_cfg("task=ruw").task
    task.source.files = {}

    @SETTINGS
    @given(
        split=st.sampled_from(["train", "val", "test"]),
        header=st.one_of(st.just(RUW_HEADER), st.lists(st.sampled_from(RUW_HEADER), max_size=5), st.none()),
        extra_rows=st.lists(st.lists(cell, max_size=7), max_size=3),
        raw=st.one_of(st.none(), garbage_bytes, st.binary(max_size=40).map(lambda b: b'"' + b)),
    )
    def check(split, header, extra_rows, raw):
        with tempfile.TemporaryDirectory() as d:
            for s in ("train", "val", "test"):
                data = _csv_bytes(RUW_HEADER, _ruw_rows(s))
                if s == split:
                    data = _csv_bytes(header, _ruw_rows(s) + extra_rows) + (raw or b"")
                (Path(d) / f"raw_{s}_Russia_Ukraine.csv").write_bytes(data)
            task.source.embedded = d
            _load(task)

    check()
    _report(OUTCOMES)


# ---------------------------------------------------------------- tweeteval text/label files


def test_tweeteval_fuzz(make_cfg):
    task = make_cfg("task=tweeteval_stance").task
    task.source.files = {}
    task.targets = ["abortion", "atheism"]

    @SETTINGS
    @given(
        where=st.tuples(st.sampled_from(["abortion", "atheism"]), st.sampled_from(["train", "val", "test"])),
        texts=st.lists(st.one_of(odd_text, st.text(max_size=10)), max_size=4),
        labels=st.lists(st.one_of(st.sampled_from(["0", "1", "2", " 2 ", "3", "", "favor"]), odd_text), max_size=4),
        tail=st.one_of(st.just(b""), garbage_bytes),
    )
    def check(where, texts, labels, tail):
        with tempfile.TemporaryDirectory() as d:
            for target in task.targets:
                (Path(d) / target).mkdir()
                for s in ("train", "val", "test"):
                    t = [f"{target} {s} tweet {i}" for i in range(3)]
                    lab = ["0", "1", "2"]
                    if (target, s) == where:
                        t, lab = t + texts, lab + labels
                    enc = lambda lines: "\n".join(lines).encode("utf-8", "surrogatepass")  # noqa: E731
                    (Path(d) / target / f"{s}_text.txt").write_bytes(enc(t) + tail)
                    (Path(d) / target / f"{s}_labels.txt").write_bytes(enc(lab))
            task.source.embedded = d
            _load(task)

    check()
    _report(OUTCOMES)


# ---------------------------------------------------------------- geostance labels file


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_geostance_labels_fuzz(make_cfg, monkeypatch, tmp_path):
    task = make_cfg("task=geostance").task
    task.source.files = {}
    data_dir = tmp_path / "data"
    (data_dir / "allsides-geo").mkdir(parents=True)
    (data_dir / "ukraine-crisis-2014" / "original_json").mkdir(parents=True)
    texts = {f"a{i}": f"article text {i}" for i in range(6)}
    (data_dir / "allsides-geo" / "articles.jsonl").write_text(
        "\n".join(json.dumps({"id": k, "text": v}) for k, v in texts.items()) + "\n"
    )
    monkeypatch.setenv("BENCH_DATA_DIR", str(data_dir))

    def valid(i, split):
        rec = {"id": f"as_a{i}", "split": split, "text_sha256": _sha(texts[f"a{i}"]), "outlet_bias": "left"}
        rec.update({t: ["favor", "against", "neutral", "none"][(i + k) % 4] for k, t in enumerate(TARGETS)})
        return rec

    keys = ["id", "split", "text_sha256", "outlet", *TARGETS]
    edit = st.one_of(
        st.tuples(st.sampled_from(keys), json_values),
        st.tuples(st.just("id"), st.sampled_from(["as_a1", "uc_1", "as_missing", "uc_../../x", "as_"])),
        st.tuples(st.sampled_from(["russia", "text_sha256"]), odd_text),
    )

    @SETTINGS
    @given(
        edits=st.lists(st.tuples(st.integers(0, 5), edit), max_size=3),
        junk=st.lists(st.one_of(odd_text, json_values.map(json.dumps)), max_size=2),
    )
    def check(edits, junk):
        recs = [valid(i, s) for i, s in enumerate(["train", "train", "dev", "dev", "test", "test"])]
        for index, (key, value) in edits:
            recs[index][key] = value
        lines = [json.dumps(r) for r in recs] + junk
        with tempfile.TemporaryDirectory() as d:
            (Path(d) / "labels.jsonl").write_bytes("\n".join(lines).encode("utf-8", "surrogatepass"))
            task.source.embedded = d
            _load(task)

    check()
    _report(OUTCOMES)


# ---------------------------------------------------------------- the specific cases, with their messages


def _demo_with(tmp_path, task, lines):
    folder = tmp_path / "demo_copy"
    folder.mkdir(exist_ok=True)
    (folder / "articles.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    task.source.embedded = str(folder)
    return task


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r.update(text=["a", "b"]), r"articles\.jsonl:2: field 'text' is a JSON list, not text"),
        (lambda r: r.update(russia={"x": 1}), r"articles\.jsonl:2: field 'russia' is a JSON object"),
        (lambda r: r.update(russia=2), r"articles\.jsonl:2: unknown label '2'"),
        (lambda r: r.update(text="   ", headline=None), r"articles\.jsonl:2: empty text for example 'a1:russia'"),
        (lambda r: r.update(id="a0"), r"articles\.jsonl:2: duplicate example id 'a0:russia' in split 'train' \(first"),
        (lambda r: r.pop("split"), r"articles\.jsonl:2: missing field 'split'"),
        (lambda r: r.update(text="\ud800"), r"articles\.jsonl:2: field 'text' holds an unpaired surrogate"),
    ],
)
def test_bad_record_names_file_line_and_field(demo_task, tmp_path, change, message):
    lines = _valid_wide_lines()
    rec = json.loads(lines[1])
    change(rec)
    lines[1] = json.dumps(rec)
    with pytest.raises(BenchError, match=message):
        load_task(_demo_with(tmp_path, demo_task, lines))


def test_mixed_encoding_names_line(demo_task, tmp_path):
    folder = tmp_path / "enc"
    folder.mkdir()
    lines = _valid_wide_lines()
    data = "\n".join(lines[:5]).encode() + "\n".join(["", *lines[5:]]).replace("text", "t\u00e9xt").encode("latin-1")
    (folder / "articles.jsonl").write_bytes(data)
    demo_task.source.embedded = str(folder)
    with pytest.raises(BenchError, match=r"articles\.jsonl:6: is not valid utf-8"):
        load_task(demo_task)


def test_test_text_repeating_train_is_reported_dropped_or_an_error(demo_task, tmp_path):
    lines = _valid_wide_lines()
    rec = json.loads(lines[9])
    rec.update(headline="HEADLINE 0", text="text   Number 0")  # train record 0's text, other case and spaces
    lines[9] = json.dumps(rec)
    data = load_task(_demo_with(tmp_path, demo_task, lines))
    assert data.report["test_overlap_with_train"] == 1 and data.report["test_examples"] == 3 * 4
    demo_task.overlap = "error"
    with pytest.raises(BenchError, match=r"articles\.jsonl:10: 4 test examples .* repeat a train text"):
        load_task(demo_task)
    with pytest.raises(ValidationError, match=r"Invalid value 'sometimes', expected one of \[drop, keep, error\]"):
        demo_task.overlap = "sometimes"  # the schema's enum refuses it at once, naming the allowed values


def test_empty_split_and_absent_target_are_named(demo_task, tmp_path):
    lines = [ln for ln in _valid_wide_lines() if '"dev"' not in ln]
    with pytest.raises(BenchError, match=r"split 'dev' has no examples"):
        load_task(_demo_with(tmp_path, demo_task, lines))
    demo_task.target_field = "target"
    demo_task.targets = [*TARGETS, "india"]
    with pytest.raises(BenchError, match=r"missing field 'india'"):
        load_task(_demo_with(tmp_path, demo_task, _valid_wide_lines()))


def test_malformed_csv_row_names_line(make_cfg, tmp_path):
    task = make_cfg("task=ruw").task
    task.source.files = {}
    for s in ("train", "val", "test"):
        rows = _ruw_rows(s)
        data = _csv_bytes(RUW_HEADER, rows if s != "val" else [r[:2] for r in rows])
        (tmp_path / f"raw_{s}_Russia_Ukraine.csv").write_bytes(data)
    task.source.embedded = str(tmp_path)
    with pytest.raises(BenchError, match=r"raw_val_Russia_Ukraine\.csv:2: missing field 'Stance 1'"):
        load_task(task)
