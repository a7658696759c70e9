"""Matplotlib figures. matplotlib is imported inside each function (Agg backend), never at start-up."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

# summary key -> (legend label, matplotlib style) for the theory curves of a simulation summary
_THEORY_STYLES: dict[str, tuple[str, dict[str, Any]]] = {
    "exact": ("exact", {"color": "black", "linestyle": "-", "linewidth": 1.0}),
    "bound_lower": ("lower bound (this paper)", {"color": "tab:green", "linestyle": "--"}),
    "bound_upper": ("upper bound (this paper)", {"color": "tab:red", "linestyle": "--"}),
    "seddik_lower": ("lower bound (Seddik et al.)", {"color": "tab:purple", "linestyle": ":"}),
    "seddik_upper": ("upper bound (Seddik et al.)", {"color": "tab:orange", "linestyle": ":"}),
}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def figure_survival_vs_theory(summaries: Sequence[Mapping[str, Any]], path: Path) -> None:
    """Simulated survival against theory, one panel per simulation summary (Figures 3, 4, 7, 9).

    Each panel shows the simulated mean with a band of +-2 standard errors, and every theory
    curve the summary carries (exact, the paper's bounds, Seddik et al.'s), on a log y axis if the
    summary asks for it (Figure 4).

    Args:
        summaries: dicts as returned by :func:`ngram_collapse.simulate.simulate`.
        path: the PNG to write.
    """
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(summaries), figsize=(5.0 * len(summaries), 4.0), squeeze=False)
    for ax, summary in zip(axes[0], summaries):
        rows = summary["generations"]
        k = np.array([r["generation"] for r in rows])
        sim = np.array([r["survival"] for r in rows])
        ax.plot(k, sim, color="tab:blue", marker="o", markersize=2.5, linewidth=1.0, label="simulation")
        if rows and rows[0]["stderr"] is not None:
            se = np.array([r["stderr"] for r in rows])
            ax.fill_between(k, sim - 2 * se, sim + 2 * se, color="tab:blue", alpha=0.2, linewidth=0)
        for key, (label, style) in _THEORY_STYLES.items():
            if rows and rows[0].get(key) is not None:
                ax.plot(k, [r[key] for r in rows], label=label, **style)
        if summary.get("log_y"):
            ax.set_yscale("log")
        ax.set_xlabel("generation k")
        ax.set_ylabel(summary["quantity"])
        ax.set_title(summary["label"])
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


def plot_survival(summary: Mapping[str, Any] | Sequence[Mapping[str, Any]], path: Path) -> None:
    """Distinct words / vocabulary size against generation for an n-gram run, with the theory
    (Corollary 1's bounds or Corollary 2's exact curve; like Figure 6).

    Args:
        summary: the ``summary.json`` content of a recursive n-gram run, or several (one panel each,
            e.g. one per order as in Figure 6).
        path: the PNG to write.
    """
    summaries = [summary] if isinstance(summary, Mapping) else list(summary)
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(summaries), figsize=(6 * len(summaries), 4), dpi=120, squeeze=False)
    for ax, one in zip(axes[0], summaries):
        draw_survival(ax, one)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def draw_survival(ax: Any, summary: Mapping[str, Any]) -> None:
    """Draw :func:`plot_survival`'s content (simulation mean +- sd and the theory) on ``ax``."""
    rows = summary["generations"]
    m = summary["vocab_size"]
    k = [r["generation"] for r in rows]
    cfg = summary["config"]
    ax.errorbar(k, [r["distinct_mean"] / m for r in rows], yerr=[r["distinct_std"] / m for r in rows],
                fmt="o", ms=5, capsize=3, color="tab:blue", alpha=0.8,
                label=f"simulation ({cfg['trajectories']} trajectories, mean ± sd)")
    curves = {"expected": ("Corollary 2 (exact)", {"color": "black", "linestyle": "--"}),
              "bound_lower": ("Corollary 1 lower bound", _THEORY_STYLES["bound_lower"][1]),
              "bound_upper": ("Corollary 1 upper bound", _THEORY_STYLES["bound_upper"][1])}
    for key, (label, style) in curves.items():
        if key in rows[0]:
            ax.plot(k, [r[key] / m for r in rows], label=label, zorder=3, linewidth=1.5, **style)
    ax.set_xlabel("generation k")
    ax.set_ylabel("distinct words / original vocabulary")
    ax.set_title(f"{cfg.get('corpus', 'corpus')}: order {cfg['order']}, {cfg['sampling']} sampling")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
