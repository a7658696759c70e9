"""Matplotlib figures and their styling (labels, axes, colours): the results hold numbers only.
matplotlib is imported inside each function (Agg backend), never at start-up."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .results import Results

TRAJECTORIES_SHOWN = 25  # as many lines as Figure 2a draws

# summary key -> (legend label, matplotlib style) for the theory curves of a simulation
_THEORY_STYLES: dict[str, tuple[str, dict[str, Any]]] = {
    "exact": ("exact", {"color": "black", "linestyle": "-", "linewidth": 1.0}),
    "bound_lower": ("lower bound (this paper)", {"color": "tab:green", "linestyle": "--"}),
    "bound_upper": ("upper bound (this paper)", {"color": "tab:red", "linestyle": "--"}),
    "seddik_lower": ("lower bound (Seddik et al.)", {"color": "tab:purple", "linestyle": ":"}),
    "seddik_upper": ("upper bound (Seddik et al.)", {"color": "tab:orange", "linestyle": ":"}),
}
_LOG_Y = {"poisson"}  # Figure 4 is drawn on a log scale


def quantity(results: Results) -> str:
    """What a simulation's ``survival`` (or ``prob_above_eps``) measures, for axis labels."""
    config = results.config
    return {"bernoulli": "Pr(P_k not in {0,1})" if config.get("both_sides") else "Pr(P_k != 0)",
            "poisson": "Pr(Lambda_k != 0)",
            "zipf": "E[uniq_k] / m"}.get(results.kind, f"Pr(Sigma_k > {config.get('eps', 0):g})")


def label(results: Results) -> str:
    """A short title naming a simulation's model and parameters."""
    c = results.config
    return {
        "bernoulli": lambda: f"Bernoulli p0={c['p0']:g}, n={c['n']}",
        "poisson": lambda: f"Poisson lambda0={c['lam0']:g}, n={c['n']}",
        "zipf": lambda: f"Zipf-Mandelbrot a={c['a']:g}, b={c['b']:g}, m={c['m']}, n={c['n']}",
        "gaussian": lambda: f"Gaussian n={c['n']}, mu0={c['mu0']:g}, sigma0={c['sigma0']:g}",
        "gmm": lambda: f"symmetric GMM ({c['estimator']}) n={c['n']}, mu0={c['mu0']:g}, sigma0={c['sigma0']:g}",
        "ngram": lambda: f"{c.get('corpus', 'corpus')}: order {c['order']}, {c['sampling']} sampling",
        "subword": lambda: f"{c.get('corpus', 'corpus')}: order {c['order']}, {c['sampling']} sampling,\n"
                           f"{c['tokenizer'].upper()} {c['subword_vocab_size']} tokens, {c['tokenizer_policy']}",
    }[results.kind]()


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def figure_survival_vs_theory(runs: Sequence[Results], path: Path) -> None:
    """Simulated survival against theory, one panel per simulation (Figures 3, 4, 7, 9).

    Each panel shows the simulated mean with a band of +-2 standard errors, and every theory curve the
    results carry (exact, the paper's bounds, Seddik et al.'s), on a log y axis for the Poisson model
    (Figure 4). Generation 0 (no randomness yet) is left out, as in the paper's figures.

    Args:
        runs: results of :func:`ngram_collapse.simulate.simulate` (bernoulli, poisson or zipf).
        path: the PNG to write.
    """
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(runs), figsize=(5.0 * len(runs), 4.0), squeeze=False)
    for ax, results in zip(axes[0], runs):
        k = results.column("generation")[1:]
        sim = results.column("survival")[1:]
        ax.plot(k, sim, color="tab:blue", marker="o", markersize=2.5, linewidth=1.0, label="simulation")
        se = results.column("stderr")[1:]
        if np.isfinite(se).any():
            ax.fill_between(k, sim - 2 * se, sim + 2 * se, color="tab:blue", alpha=0.2, linewidth=0)
        for key, (name, style) in _THEORY_STYLES.items():
            values = results.column(key)[1:] if results.generations and key in results.generations[0] else None
            if values is not None and np.isfinite(values).any():
                ax.plot(k, values, label=name, **style)
        if results.kind in _LOG_Y:
            ax.set_yscale("log")
        ax.set_xlabel("generation k")
        ax.set_ylabel(quantity(results))
        ax.set_title(label(results))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_trajectories(values: ArrayLike, path: str | Path, ylabel: str, title: str | None = None) -> None:
    """Parameter trajectories over generations, one line per trajectory (Figure 2).

    Args:
        values: shape (trajectories, generations + 1), column k holding generation k.
        path: the PNG to write.
        ylabel: the parameter's name; title: default "<T> trajectories".
    """
    plt = _pyplot()
    values = np.asarray(values, dtype=float)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    ax.plot(np.arange(values.shape[1]), values.T, linewidth=0.7)
    ax.set(xlabel="generation k", ylabel=ylabel, title=title or f"{values.shape[0]} trajectories")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_survival(runs: Results | Sequence[Results], path: Path) -> None:
    """Distinct words / vocabulary size against generation for n-gram runs, with the theory
    (Corollary 1's bounds or Corollary 2's exact curve; like Figure 6), one panel per run.

    Args:
        runs: the results of a recursive n-gram run, or several (e.g. one per order as in Figure 6).
        path: the PNG to write.
    """
    runs = [runs] if isinstance(runs, Results) else list(runs)
    _row_of_panels(path, [(draw_survival, one) for one in runs])


def _row_of_panels(path: Path, panels: Sequence[tuple[Any, Results]]) -> None:
    """A PNG of one row of panels, each ``draw(ax, results)``."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4), dpi=120, squeeze=False)
    for ax, (draw, results) in zip(axes[0], panels):
        draw(ax, results)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def survivors(results: Results) -> str:
    """The summary key of the original words still present, the curve the theory is about:
    ``distinct_mean``, or ``original_words`` for a subword run (whose text also holds invented words)."""
    return "original_words" if results.kind == "subword" else "distinct_mean"


def draw_survival(ax: Any, results: Results) -> None:
    """Draw :func:`plot_survival`'s content (simulation mean +- sd and the theory) on ``ax``; for a
    subword run, the original words still present against the word-level theory, and dotted, every
    distinct word of the text (invented ones too)."""
    key = survivors(results)
    m = results.generations[0][key]
    k = results.column("generation")
    std = results.column(key.replace("_mean", "_std"))
    what = "original words, " if results.kind == "subword" else ""
    ax.errorbar(k, results.column(key) / m, yerr=None if np.isnan(std).all() else std / m,
                fmt="o", ms=5, capsize=3, color="tab:blue", alpha=0.8,
                label=f"simulation ({what}{results.config['trajectories']} trajectories, mean ± sd)")
    if results.kind == "subword":
        ax.plot(k, results.column("distinct_mean") / m, ":", color="tab:blue", label="every distinct word (invented too)")
    curves = {"expected": ("Corollary 2 (exact at order 1)", {"color": "black", "linestyle": "--"}),
              "bound_lower": ("Corollary 1 lower bound", _THEORY_STYLES["bound_lower"][1]),
              "bound_upper": ("Corollary 1 upper bound", _THEORY_STYLES["bound_upper"][1]),
              "predicted": ("prediction (effective counts)", {"color": "tab:orange", "linestyle": "-"}),
              "sequence_limit": ("sequence-level limit", {"color": "tab:gray", "linestyle": ":"})}
    for key, (name, style) in curves.items():
        if key in results.generations[0]:
            ax.plot(k, results.column(key) / m, label=name, zorder=3, linewidth=1.5, **style)
    ax.set_xlabel("generation k")
    ax.set_ylabel("distinct words / original vocabulary")
    ax.set_title(label(results))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)


def plot_perplexity(results: Results, path: Path) -> None:
    """Held-out perplexity of every generation's model: mean +- sd over trajectories, and every
    trajectory faintly (an infinite perplexity is left out), with the held-out OOV rate on a second axis."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    draw_perplexity(ax, results)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def draw_perplexity(ax: Any, results: Results) -> None:
    """Draw :func:`plot_perplexity`'s content on ``ax``."""
    k = results.column("generation")
    each = results.per_trajectory("perplexity")
    ax.plot(k, np.where(np.isfinite(each), each, np.nan).T, color="tab:blue", alpha=0.25, linewidth=0.8)
    std = results.column("perplexity_std") if "perplexity_std" in results.generations[0] else None
    ax.errorbar(k, results.column("perplexity"), yerr=std, fmt="o-", ms=4, capsize=3, color="tab:blue",
                label="perplexity (mean ± sd)")
    ax.set(xlabel="generation k", ylabel="held-out perplexity")
    ax.grid(alpha=0.3)
    oov = ax.twinx()
    oov.plot(k, results.column("heldout_oov_rate"), "s--", ms=3, color="tab:red", label="held-out OOV rate")
    oov.set_ylabel("share of held-out words forgotten", color="tab:red")
    c = results.config
    ax.set_title(f"{label(results)}, {c.get('estimator', 'mle')}; held-out: {c.get('eval_corpus')}", fontsize=9)
    lines = ax.get_legend_handles_labels()[0] + oov.get_legend_handles_labels()[0]
    ax.legend(lines, [line.get_label() for line in lines], fontsize=8)


def draw_novel(ax: Any, results: Results) -> None:
    """Invented words of a subword run against k: those in generation k's text, and every one seen
    in generations 1..k (means over trajectories)."""
    k = results.column("generation")
    ax.plot(k, results.column("novel_words"), "o-", ms=4, label="in generation k's text")
    ax.plot(k, results.column("novel_seen"), "s--", ms=4, label="seen in generations 1..k")
    ax.set(xlabel="generation k", ylabel="distinct invented words (mean)")
    ax.set_title(label(results), fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)


def draw_drift(ax: Any, results: Results) -> None:
    """Tokenizer drift of a subword run against k: the Jaccard overlap of generation k's learned
    vocabulary with generation 0's (means over trajectories); the legend gives the mean subword
    tokens per word at k = 0 and K."""
    k = results.column("generation")
    per_word = results.column("subwords_per_word")
    ax.plot(k, results.column("vocabulary_overlap"), "o-", ms=4, color="tab:purple",
            label=f"overlap with k = 0 (subwords per word {per_word[0]:.3f} -> {per_word[-1]:.3f})")
    ax.set(xlabel="generation k", ylabel="Jaccard overlap of learned vocabularies", ylim=(0, 1.02))
    ax.set_title(label(results), fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")


def plot_run(results: Results, path: Path) -> None:
    """The figure of a run: :func:`plot_survival` for an n-gram run; for a subword run three panels,
    word survival against the word-level theory, invented words and tokenizer drift."""
    draws = (draw_survival, draw_novel, draw_drift) if results.kind == "subword" else (draw_survival,)
    _row_of_panels(path, [(draw, results) for draw in draws])
