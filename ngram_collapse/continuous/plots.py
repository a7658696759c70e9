"""Figures for the continuous models (matplotlib, Agg backend, imported only when drawing).

Bounds are drawn clipped at 1 (a probability bound above 1 says nothing); the summaries keep them raw.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

from ..plot import _pyplot
from ..results import Results

BOUND_LABELS = {
    "bound_paper": "paper: Theorem {theorem}",
    "bound_bertrand": "Bertrand et al. (Markov on exact E[Sigma_k])",
    "bound_best": "best fractional-moment bound",
}


def plot_prob_above_eps(runs: Results | Sequence[Results], path: str | Path) -> None:
    """Like Figures 5 and 13: simulated Pr(Sigma_k > eps) for k >= 1 with 1-SE error bars against the
    bounds, log y.

    Args:
        runs: results of ``simulate_gaussian`` / ``simulate_gmm``, one or several with the same
            (n, sigma0, eps) (e.g. both GMM estimators); the bounds are taken from the first.
        path: the PNG to write.
    """
    runs = [runs] if isinstance(runs, Results) else list(runs)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    first = runs[0]
    k = first.column("generation")[1:]
    for r in runs:
        name = "simulated" + (f" ({r.config['estimator']})" if "estimator" in r.config else "")
        ax.errorbar(k, r.column("prob_above_eps")[1:], yerr=r.column("stderr")[1:], fmt=".", ms=3, capsize=0,
                    label=name)
    for key, name in BOUND_LABELS.items():
        if first.generations and key in first.generations[0]:
            theorem = 3 if first.kind == "gaussian" else 4
            ax.plot(k, np.minimum(first.column(key)[1:], 1.0), label=name.format(theorem=theorem))
    c = first.config
    ax.set(yscale="log", xlabel="generation k", ylabel=f"Pr(Sigma_k > {c['eps']:g})",
           title=f"{first.kind}: n = {c['n']}, sigma0 = {c['sigma0']:g}, {c['trajectories']} trajectories")
    ax.set_ylim(bottom=0.5 / c["trajectories"], top=1.5)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_estimator_scatter(joint: tuple[ArrayLike, ArrayLike], approx: tuple[ArrayLike, ArrayLike], path: str | Path) -> None:
    """Like Figures 11 (mu) and 12 (sigma): approximate ML (Algorithm 1) against joint ML, one point
    per trial, with the diagonal. ``joint`` and ``approx`` are (mu, sigma) pairs of arrays of one shape."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9, 4.2))
    for ax, name, j, a in zip(axes, ("mu", "sigma"), joint, approx):
        j, a = np.asarray(j, dtype=float), np.asarray(a, dtype=float)
        lo, hi = min(j.min(), a.min()), max(j.max(), a.max())
        ax.plot([lo, hi], [lo, hi], color="grey", lw=0.8)
        ax.scatter(j, a, s=10)
        ax.set(xlabel=f"joint ML {name}", ylabel=f"approximate ML {name}", aspect="equal")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
