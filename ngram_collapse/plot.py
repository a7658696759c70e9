"""Matplotlib figures. matplotlib is imported inside each function (Agg backend), never at start-up."""
from __future__ import annotations

from pathlib import Path
from typing import Any


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_survival(summary: dict[str, Any], path: Path) -> None:
    """Distinct words / vocabulary size against generation, with the theory (like Figure 6).

    Args:
        summary: the ``summary.json`` content of a recursive n-gram run.
        path: the PNG to write.
    """
    plt = _pyplot()
    rows = summary["generations"]
    m = summary["vocab_size"]
    k = [r["generation"] for r in rows]
    mean = [r["distinct_mean"] / m for r in rows]
    std = [r["distinct_std"] / m for r in rows]
    cfg = summary["config"]
    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    ax.errorbar(k, mean, yerr=std, fmt="o-", ms=4, capsize=3,
                label=f"simulation ({cfg['trajectories']} trajectories, mean ± sd)")
    if "expected" in rows[0]:
        ax.plot(k, [r["expected"] / m for r in rows], "k--", label="Corollary 2 (exact)")
    else:
        ax.plot(k, [r["bound_lower"] / m for r in rows], "g--", label="Corollary 1 lower bound")
        ax.plot(k, [r["bound_upper"] / m for r in rows], "r:", label="Corollary 1 upper bound")
    ax.set_xlabel("generation k")
    ax.set_ylabel("distinct words / original vocabulary")
    ax.set_title(f"{cfg.get('corpus', 'corpus')}: order {cfg['order']}, {cfg['sampling']} sampling")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
