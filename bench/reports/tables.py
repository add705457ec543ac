"""Plain-text tables of scores for the terminal."""

from bench.evaluation.metrics import METRICS


def table(rows: list[dict], columns: list[str]) -> str:
    """A fixed-width table; floats as percentages with one decimal."""

    def cell(v):
        if isinstance(v, float):
            return f"{100 * v:.1f}"
        return "" if v is None else str(v)

    body = [[cell(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(b[i]) for b in body)) if body else len(c) for i, c in enumerate(columns)]
    line = lambda vals: "  ".join(v.ljust(w) for v, w in zip(vals, widths, strict=True))  # noqa: E731
    return "\n".join([line(columns), line(["-" * w for w in widths]), *(line(b) for b in body)])


def split_rows(metrics: dict) -> tuple[list[dict], list[str]]:
    """One row per split and target (pooled first) from a run's metrics, and the metric columns present."""
    rows, names = [], [m for m in METRICS]
    for split, m in metrics.items():
        for target, s in [("pooled", m["pooled"]), *m["per_target"].items()]:
            rows.append({"split": split, "target": target, "n": s["n"], **{k: s.get(k) for k in names}})
    present = [k for k in names if any(r.get(k) is not None for r in rows)]
    return rows, present


def print_run(cfg, rec: dict, db) -> None:
    """The per-split, per-target table printed at the end of `python -m bench.run`."""
    rows, metric_columns = split_rows(rec["metrics"])
    print(f"\n{cfg.task.name} / {cfg.model.name} / seed {cfg.seed}  (main score: {cfg.task.main_score})")
    print(table(rows, ["split", "target", "n", *metric_columns]))
    print(f"run record: {rec['record_path']}  results store: {db}")
