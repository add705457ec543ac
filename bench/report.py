"""Plain-text tables of scores for the terminal."""


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


def split_rows(metrics: dict) -> list[dict]:
    """One row per split and target (pooled first) from a run's metrics."""
    rows = []
    for split, m in metrics.items():
        for target, s in [("pooled", m["pooled"]), *m["per_target"].items()]:
            rows.append(
                {
                    "split": split,
                    "target": target,
                    "n": s["n"],
                    "f_avg": s.get("f_avg"),
                    "macro_f1": s["macro_f1"],
                    "accuracy": s["accuracy"],
                }
            )
    return rows
