"""The self-contained HTML page of a vocabulary-survival report (plots as base64 PNG data URIs).

matplotlib is imported lazily (through :mod:`ngram_collapse.plot`).
"""
from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np

from ..plot import _pyplot, draw_drift, draw_novel, draw_perplexity, draw_survival, label, survivors
from .analysis import CellData, chosen_generations, regime_label, survival_by_count

_PANEL = (4.6, 3.4)  # inches per cell panel
T = TypeVar("T")


def _figure(data: Sequence[T], draw: Callable[[Any, T], None]) -> str:
    """One panel per item (a cell, or a group of cells) drawn by ``draw(ax, item)``, as a PNG data URI."""
    plt = _pyplot()
    cols = min(3, len(data))
    rows = math.ceil(len(data) / cols)
    width, height = _PANEL[0] * cols, _PANEL[1] * rows
    fig, axes = plt.subplots(rows, cols, figsize=(width, height), squeeze=False)
    # fixed margins in inches: tight_layout would cost seconds on a large grid
    fig.subplots_adjust(left=0.75 / width, right=1 - 0.15 / width, bottom=0.6 / height,
                        top=1 - 0.55 / height, wspace=0.4, hspace=0.6)
    for ax, cell in zip(axes.flat, data):
        draw(ax, cell)
    for ax in axes.flat[len(data):]:
        ax.set_visible(False)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _title(cell: CellData) -> str:
    return label(cell.results)


def _draw_distinct(ax: Any, cell: CellData) -> None:
    draw_survival(ax, cell.results)
    ax.set_title(_title(cell), fontsize=9)
    ax.legend(fontsize=6)


def _draw_novel(ax: Any, cell: CellData) -> None:
    draw_novel(ax, cell.results)
    ax.legend(fontsize=6)


def _draw_drift(ax: Any, cell: CellData) -> None:
    draw_drift(ax, cell.results)


def _draw_survival_vs_count(ax: Any, cell: CellData) -> None:
    """Survival fraction per count bucket (+-2 SE) and 1 - exp(-c g_k), for chosen generations."""
    result = survival_by_count(cell.counts, cell.forgotten, chosen_generations(cell.generations))
    x = result["buckets"].mean_count
    for i, k in enumerate(result["generations"]):
        color = f"C{i}"
        ax.errorbar(x, result["survival"][i], yerr=2 * result["stderr"][i], fmt="o", ms=3, capsize=2,
                    color=color, label=f"k = {k}")
        ax.plot(x, result["theory"][i], "--", color=color, linewidth=1)
    ax.plot([], [], "--", color="gray", label="1 - exp(-c g_k)")
    ax.set_xscale("log")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("original count c (bucket mean)")
    ax.set_ylabel("fraction of words still present")
    ax.set_title(_title(cell), fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6)


def _draw_effective(ax: Any, group: Sequence[CellData]) -> None:
    """Survival at the last generation against effective count, one series per order of a corpus and
    sampling scheme, over the prediction 1 - exp(-e g_K): the curves of all orders fall on it."""
    from ..bounds import g_k

    last = group[0].generations
    for i, cell in enumerate(sorted(group, key=lambda c: c.results.config["order"])):
        result = survival_by_count(cell.effective, cell.forgotten, [last])
        ax.errorbar(result["buckets"].mean_count, result["survival"][0], yerr=2 * result["stderr"][0], fmt="o",
                    ms=3, capsize=2, color=f"C{i}", label=f"order {cell.results.config['order']}")
    top = max(float(cell.effective.max()) for cell in group)
    e = np.geomspace(0.1, max(top, 1.0), 200)
    ax.plot(e, -np.expm1(-e * g_k(last)), "--", color="black", linewidth=1, label=f"1 - exp(-e g_{last})")
    ax.set_xscale("log")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("effective count e (bucket mean)")
    ax.set_ylabel(f"fraction still present at k = {last}")
    config = group[0].results.config
    ax.set_title(f"{config['corpus']}, {config['sampling']}", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6)


def _grouped(data: Sequence[CellData], *keys: str) -> list[list[CellData]]:
    """The cells grouped by the values of these config keys, in the order they first appear."""
    groups: dict[tuple[Any, ...], list[CellData]] = {}
    for cell in data:
        groups.setdefault(tuple(cell.results.config[key] for key in keys), []).append(cell)
    return list(groups.values())


#: the theory drawn for a regime, the first its run has (docs/theory.md §12)
_REGIME_THEORY = ("expected", "bound_lower", "predicted")


def _draw_regimes(ax: Any, group: Sequence[CellData]) -> None:
    """Distinct words / vocabulary against k, one line per regime of a corpus, order and sampling
    scheme, each regime's theory dashed in its colour."""
    for i, cell in enumerate(group):
        run = cell.results
        m = run.generations[0][survivors(run)]
        k = run.column("generation")
        ax.plot(k, run.column(survivors(run)) / m, "o-", ms=3, color=f"C{i}", label=regime_label(run.config))
        theory = next((key for key in _REGIME_THEORY if key in run.generations[0]), None)
        if theory is not None:
            ax.plot(k, run.column(theory) / m, "--", color=f"C{i}", linewidth=1)
    ax.plot([], [], "--", color="gray", label="theory of each regime")
    config = group[0].results.config
    ax.set(xlabel="generation k", ylabel="distinct words / original vocabulary", ylim=(0, 1.02))
    ax.set_title(f"{config['corpus']}, order {config['order']}, {config['sampling']}", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6)


def _draw_time_to_forget(ax: Any, cell: CellData) -> None:
    """Median time to forget per count bucket, the theory median and the linear law 2c / ln 2."""
    result = cell.time_to_forget
    x = result["buckets"].mean_count
    shown = np.isfinite(result["median"])
    ax.plot(x[shown], result["median"][shown], "o", ms=4, label="simulation (median)")
    theory = np.isfinite(result["theory_median"])
    ax.plot(x[theory], result["theory_median"][theory], "s", ms=5, mfc="none", color="black",
            label="theory median (g_k)")
    if shown.any():
        line = np.linspace(0, x[shown].max() * 1.05, 50)
        ax.plot(line, 2 * line / np.log(2), "--", color="gray", label="2c / ln 2")
    slope, rho = cell.forget_fit
    ax.set_xlabel("original count c (bucket mean)")
    ax.set_ylabel("generations until forgotten")
    ax.set_title(f"{_title(cell)}\nslope {slope:.3g}, Spearman {rho:.3g}", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "-" if value == "" else str(value)


def _table(data: Sequence[CellData], rows: Sequence[dict[str, Any]]) -> str:
    columns = list(rows[0]) + ["spearman"] if rows else []
    head = "".join(f"<th>{html.escape(c)}</th>" for c in ["cell"] + columns)
    body = []
    for cell, row in zip(data, rows):
        _, rho = cell.forget_fit
        values = [row[c] for c in rows[0]] + ["" if math.isnan(rho) else rho]
        name = html.escape(cell.name)
        link = f'<a href="{name}/words.csv">{name}</a>'
        body.append("<tr><td>" + link + "</td>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in values)
                    + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


_STYLE = """
body { font-family: sans-serif; margin: 2em auto; max-width: 1400px; padding: 0 1em; color: #222; background: #fff; }
img { max-width: 100%; height: auto; border: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: right; }
th { background: #f0f0f0; } td:first-child { text-align: left; }
p.note { max-width: 60em; }
"""


def render_report(data: Sequence[CellData], rows: Sequence[dict[str, Any]]) -> str:
    """The report page: distinct words per generation against the theory, survival against
    original count with 1 - exp(-c g_k) (Corollary 2), median time to forget with the linear law
    2c / ln 2, and the table of cells (``rows`` as in ``cells.csv``); for subword cells also the
    invented words and the tokenizer drift per generation."""
    if not data:
        raise ValueError("a report needs at least one cell")
    config = data[0].results.config
    seed = config["seed"]["entropy"] if isinstance(config["seed"], dict) else config["seed"]
    subword = [cell for cell in data if cell.results.kind == "subword"]
    sections: list[tuple[str, str, Callable[[Any, Any], None], Sequence[Any]]] = [
        ("Distinct words per generation",
         "Mean ± sd over trajectories of the distinct words still present, as a fraction of the "
         "original vocabulary, against Corollary 2's exact expectation (Poisson sampling) or "
         "Corollary 1's bounds (multinomial sampling), the prediction from effective counts at every order "
         "and the sequence-level limit (docs/theory.md §11)." + (
             " Subword cells: the original words still present, against the theory of a word-level run of the "
             "same corpus and settings; dotted, every distinct word of the text, invented ones too "
             "(docs/theory.md §13)." if subword else ""), _draw_distinct, data),
        ("Survival against original count",
         "Fraction of (word, trajectory) pairs still present at generation k, words grouped by their "
         "count c in the original corpus (one bucket per count up to 10, then log-spaced), ± 2 "
         "standard errors; dashed: 1 - exp(-c g_k), exact for unigrams under Poisson sampling.",
         _draw_survival_vs_count, data),
        ("Median time to forget against original count",
         "Median first generation at which a word is absent, over (word, trajectory) pairs, shown "
         "only for buckets where at least half the pairs were forgotten within the run (survivors are "
         "censored); squares: the median implied by 1 - exp(-c g_k); dashed: the linear law 2c / ln 2.",
         _draw_time_to_forget, data),
    ]
    if data[0].generations:
        sections.append((
            "Survival against effective count, every order",
            "Fraction of (word, trajectory) pairs still present at the last generation, words grouped by "
            "their effective count e at the cell's order (the number of independent copies its model holds; "
            "docs/theory.md §11), one series per order, ± 2 standard errors; dashed: 1 - exp(-e g_K). "
            "Grouped by e, the survival of every order falls on the one curve.",
            _draw_effective, _grouped([c for c in data if regime_label(c.results.config) == "replace"],
                                      "corpus", "sampling")))
    evaluated = [cell for cell in data if "perplexity" in cell.results.trajectories]
    if evaluated:
        sections.append((
            "Held-out perplexity",
            f"Perplexity of every generation's model on held-out text ({evaluated[0].results.config['eval_corpus']}), "
            "mean ± sd over trajectories (each trajectory faint), and the share of held-out words the generation "
            "has forgotten. A maximum-likelihood run is scored by a smoothed model fitted on the same data "
            "(kneser-ney with the unigram floor by default), a smoothed run by its own model; docs/theory.md §14.",
            lambda ax, cell: draw_perplexity(ax, cell.results), evaluated))
    if subword:
        sections[1:1] = [
            ("Invented words per generation",
             "Subword cells: distinct words of generation k's text that the original corpus never had (a subword "
             "model spells words from pieces), and every such word seen in generations 1..k (means over "
             "trajectories); novel_words.csv in each cell's folder lists them.", _draw_novel, subword),
            ("Tokenizer drift per generation",
             "Subword cells: the Jaccard overlap of generation k's learned vocabulary with generation 0's (1 for a "
             "frozen tokenizer) and the mean subword tokens per word (right axis), means over trajectories.",
             _draw_drift, subword)]
    regimes = [g for g in _grouped(data, "corpus", "order", "sampling") if len(g) > 1]
    if regimes:
        sections.insert(1, (
            "Regimes compared",
            "Distinct words of every generation's training data, as a fraction of the original vocabulary, for "
            "every workflow and decoding of one corpus, order and sampling scheme (mean over trajectories); dashed, "
            "in each regime's colour, the theory it has: the exact expectation, a lower bound, or the prediction "
            "(docs/theory.md §12; none is drawn where none is known).", _draw_regimes, regimes))
    parts = [f"<h2>{title}</h2><p class='note'>{html.escape(note)}</p>"
             f"<img alt='{html.escape(title)}' src='{_figure(panels, draw)}'>" for title, note, draw, panels in sections]
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Vocabulary survival report</title>
<style>{_STYLE}</style></head>
<body>
<h1>Vocabulary survival under recursive training</h1>
<p class="note">{len(data)} cells, {config['trajectories']} trajectories and {config['generations']}
generations each, root seed {html.escape(str(seed))}. Theory: Suresh,
Thangaraj, Khandavally, "Rate of Model Collapse in Recursive Training" (AISTATS 2025): a word seen c
times survives k generations with probability 1 - exp(-c g_k) &asymp; 1 - exp(-2c/k).</p>
{''.join(parts)}
<h2>Cells</h2>
{_table(data, rows)}
</body></html>
"""
