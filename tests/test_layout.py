"""The package's shape: no import cycles between bench modules, no module past ~300 lines, registries read by
every consumer, and cache keys that cover a reader registered from a module of its own."""

import ast
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import ROOT

from bench import cache, data
from bench.data import readers

BENCH = ROOT / "bench"
MAX_LINES = 300


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, known: set[str]) -> set[str]:
    """The bench modules a module imports at module level (imports inside functions are deferred on purpose)."""
    found = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        found |= {n for n in names if n in known}
    return found


def test_no_import_cycles_between_bench_modules():
    files = {_module_name(p): p for p in BENCH.rglob("*.py")}
    graph = {m: _imports(p, set(files)) - {m} for m, p in files.items()}
    # a module importing a package's name also runs that package's __init__
    for m in graph:
        graph[m] |= {".".join(dep.split(".")[:k]) for dep in graph[m] for k in range(2, dep.count(".") + 1)}
        graph[m] = {d for d in graph[m] if d in files and d != m and not m.startswith(d + ".")}
    state, cycle = {}, []

    def visit(m, path):
        state[m] = "open"
        for d in sorted(graph[m]):
            if state.get(d) == "open":
                cycle.append(path[path.index(d) :] + [d] if d in path else [m, d])
            elif d not in state:
                visit(d, [*path, d])
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert cycle == [], f"import cycles: {cycle}"


def test_no_module_or_script_past_the_size_limit():
    files = [*BENCH.rglob("*.py"), *(ROOT / "scripts").glob("*.py")]
    long = {str(p.relative_to(ROOT)): n for p in files if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_every_registry_is_read_by_its_consumers():
    from bench.evaluation.metrics import METRICS
    from bench.inputs.strategies import STRATEGIES
    from bench.models.registry import discover

    assert {"f_avg", "f_avg_targets", "macro_f1", "accuracy"} <= set(METRICS)
    assert {"transformer", "probe", "majority", "tfidf_svm"} <= set(discover())
    assert {"head", "head_tail", "chunks_mean", "chunks_max", "target_sentences"} == set(STRATEGIES)
    consumers = {
        "bench/records/tracking.py": "METRICS",
        "bench/reports/tables.py": "METRICS",
        "bench/reports/leaderboard.py": "METRICS",
        "bench/evaluation/significance.py": "METRICS",
        "bench/config.py": "METRICS",
    }
    for path, name in consumers.items():
        assert name in (ROOT / path).read_text(), path


READER = """
from bench.data.readers import examples_of, jsonl_records, reader, field_of


@reader("plugin_wide")
def read(folder, task, split):
    path = folder / "items.jsonl"
    for n, rec in jsonl_records(path):
        if field_of(rec, "split", path, n) == split:
            yield from examples_of(task, rec, field_of(rec, "id", path, n), {text}, path, n)
"""


def test_a_change_in_a_reader_module_of_its_own_misses_the_task_cache(make_cfg, tmp_path, monkeypatch):
    rows = [
        {"id": f"{s}{i}", "split": s, "text": f"text {s} {i}", "russia": lab}
        for s in ("train", "dev", "test")
        for i, lab in enumerate(["favor", "against", "none"])
    ]
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "items.jsonl").write_text("".join(__import__("json").dumps(r) + "\n" for r in rows))
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    monkeypatch.syspath_prepend(str(plugins))
    task = make_cfg().task
    task.name, task.loader, task.targets = "plugin", "plugin_wide", ["russia"]
    task.source.embedded, task.source.files = str(folder), {"items.jsonl": ""}
    task.aliases = {}

    def load_with(text_expr: str):
        (plugins / "my_reader.py").write_text(textwrap.dedent(READER.format(text=text_expr)))
        sys.modules.pop("my_reader", None)
        __import__("my_reader")
        return data.load_task(task)

    def texts(task_data):
        return {s: [(e["id"], e["text"], e["label"]) for e in ex] for s, ex in task_data.splits.items()}

    first = load_with('rec["text"]')
    entries = len(list((cache.root() / "tasks").iterdir()))
    assert texts(load_with('rec["text"]')) == texts(first)  # unchanged reader: served from the cache
    assert len(list((cache.root() / "tasks").iterdir())) == entries
    changed = load_with('rec["text"].upper()')  # the reader changed: its cached splits are not used
    assert changed.splits["train"][0]["text"] == "TEXT TRAIN 0"
    assert len(list((cache.root() / "tasks").iterdir())) == entries + 1
    readers.READERS.pop("plugin_wide")


@pytest.mark.parametrize("command", ["run", "leaderboard"])
def test_a_results_store_that_is_not_sqlite_is_one_sentence_before_any_training(tmp_path, command):
    import subprocess

    bad = tmp_path / "r.sqlite"
    bad.write_text("x\n")
    env = {**__import__("os").environ, "BENCH_RESULTS_DB": str(bad), "HF_HUB_OFFLINE": "1"}
    args = (
        ["-m", "bench.run", "experiment=smoke", f"hydra.run.dir={tmp_path / 'run'}"]
        if command == "run"
        else ["-m", "bench.leaderboard", "--db", str(bad)]
    )
    out = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 2, out.stderr[-2000:]
    err = [line for line in out.stderr.splitlines() if line.startswith("error:")]
    assert len(err) == 1 and f"results store {bad} is not an SQLite results database" in err[0]
    assert "Traceback" not in out.stderr and "it/s" not in out.stderr  # nothing trained
    assert bad.read_text() == "x\n"  # the file is left as it was
