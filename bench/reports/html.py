"""The leaderboard as one self-contained static HTML page: inline CSS, plots as inline SVG from matplotlib.

Every string taken from the results store (task, model, target, label names, paths) goes through html.escape;
matplotlib writes text into its SVG as glyph paths and escaped comments.
"""

import io
from datetime import UTC, datetime
from html import escape

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from bench.reports.board import Board, display_rows, title

CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; color: #222; padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { margin-top: 2.5rem; border-bottom: 1px solid #ccc; }
table.board { border-collapse: collapse; margin: 1rem 0; font-size: 0.9rem; }
table.board th, table.board td { border: 1px solid #ddd; padding: 0.3rem 0.6rem; text-align: right; }
table.board th { background: #f3f3f3; } table.board td.model { text-align: left; font-family: monospace; }
table.board tr.best td { background: #eaf6ea; font-weight: 600; } table.board tr.tied td { background: #f7fbf2; }
.plots { display: flex; flex-wrap: wrap; gap: 1rem; } .plots figure { margin: 0; }
.plots svg { max-width: 100%; height: auto; } figcaption, .note { font-size: 0.85rem; color: #555; }
"""


def _text(s) -> str:
    """A label for matplotlib: literal dollar signs, no mathtext."""
    return str(s).replace("$", r"\$")


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": "stancebench", "svg.fonttype": "path"}):
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    svg = buf.getvalue()
    return svg[svg.index("<svg") :]


def _bars(b: Board) -> str:
    """Per-target (and pooled) mean score of each row, with the row's bootstrap 95% interval."""
    groups = ["pooled", *b.targets]
    fig = Figure(figsize=(max(6, 1.2 * len(groups) * max(1, len(b.rows)) ** 0.5), 3.6))
    ax = fig.add_subplot()
    width = 0.8 / len(b.rows)
    x = np.arange(len(groups))
    for i, r in enumerate(b.rows):
        vals = [r.mean, *(r.per_target.get(t, np.nan) for t in b.targets)]
        cis = [r.ci, *(r.per_target_ci.get(t, (np.nan, np.nan)) for t in b.targets)]
        lows, highs = zip(*cis, strict=True)
        err = np.clip([np.subtract(vals, lows), np.subtract(highs, vals)], 0, None)
        ax.bar(x + (i - (len(b.rows) - 1) / 2) * width, vals, width, yerr=err, capsize=2, label=_text(r.label))
    ax.set_xticks(x, [_text(g) for g in groups])
    ax.set_ylabel(_text(b.metric))
    ax.set_ylim(
        0, min(1.0, 0.05 + max([r.ci[1] for r in b.rows] + [hi for r in b.rows for _, hi in r.per_target_ci.values()]))
    )
    ax.legend(fontsize=7, ncols=min(4, len(b.rows)), loc="upper center", bbox_to_anchor=(0.5, -0.12))
    return _svg(fig)


def _confusion(b: Board) -> str:
    conf = b.confusion
    m = np.array(conf["matrix"])
    fig = Figure(figsize=(1.2 + 0.7 * len(m), 1 + 0.7 * len(m)))
    ax = fig.add_subplot()
    ax.pcolormesh(np.arange(len(m) + 1) - 0.5, np.arange(len(m) + 1) - 0.5, m, cmap="Blues")  # vector, not PNG
    ax.invert_yaxis()
    for (i, j), v in np.ndenumerate(m):
        ax.text(j, i, str(v), ha="center", va="center", color="white" if v > m.max() / 2 else "black", fontsize=8)
    labels = [_text(lab) for lab in conf["labels"]]
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    return _svg(fig)


def _cost(b: Board) -> str:
    """Score against model size (parameters, symlog: baselines have 0) and against mean training time."""
    fig = Figure(figsize=(8, 3.2))
    for k, (attr, xlabel) in enumerate([("params", "parameters"), ("train_s", "train time (s)")]):
        ax = fig.add_subplot(1, 2, k + 1)
        for r in b.rows:
            xv = getattr(r, attr)
            if xv is not None:
                ax.errorbar([xv], [r.mean], yerr=[r.std or 0.0], fmt="o", capsize=3, label=_text(r.label))
        ax.set_xscale("symlog", linthresh=1e4 if attr == "params" else 1.0)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(_text(b.metric))
    fig.axes[0].legend(fontsize=7)
    return _svg(fig)


def _table(b: Board) -> str:
    rows = display_rows(b)
    cols = list(rows[0])
    head = "".join(f"<th>{escape(c)}</th>" for c in cols)
    body = []
    for row, r in zip(rows, b.rows, strict=True):
        cls = "best" if r is b.best else ("tied" if r.tied else "")
        cells = "".join(
            f'<td class="model" title="config {escape(r.config_hash)}; seeds {escape(", ".join(map(str, r.seeds)))}">'
            f"{escape(str(row[c]))}</td>"
            if c == "model"
            else f"<td>{escape(str(row[c]))}</td>"
            for c in cols
        )
        body.append(f'<tr class="{cls}">{cells}</tr>')
    return f'<table class="board"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _section(b: Board) -> str:
    heading = title(b)
    figures = [
        (_bars(b), "Score per target with 95% bootstrap intervals (mean of per-seed bounds)."),
        (_confusion(b), f"Confusion matrix of the best row, {b.best.label} (first seed, pooled over targets)."),
        (_cost(b), "Score (mean ± std over seeds) against model size and training time."),
    ]
    figs = "".join(f"<figure>{svg}<figcaption>{escape(cap)}</figcaption></figure>" for svg, cap in figures)
    return f'<section><h2>{escape(heading)}</h2>{_table(b)}<div class="plots">{figs}</div></section>'


def render_html(boards: list[Board], db: str = "", legend: str = "", title: str = "StanceBench leaderboard") -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        f"<h1>{escape(title)}</h1>"
        f'<p class="note">Results store: {escape(str(db))}; generated {escape(stamp)}.</p>'
        f'<p class="note">{escape(legend)}</p>' + "".join(_section(b) for b in boards) + "</body></html>\n"
    )
