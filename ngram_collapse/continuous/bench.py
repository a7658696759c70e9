"""Timing the batch simulations against a per-trajectory Python loop, measured in the same run.

The reference loop is what the authors' notebook did (``shared/reference/REFERENCE.md``): one
trajectory and one generation at a time, drawing all n samples, and for the mixture solving the
joint ML equation with ``scipy.optimize.fsolve`` started at the previous generation's mu. It is
timed on a subset of the trajectories and extrapolated linearly to the full count (its cost is the
same for every trajectory). Needs scipy (a test/bench dependency, not a runtime one).
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from .figures import FIGURE_5, FIGURE_13
from .gmm import approx_ml
from .simulate import simulate_gaussian, simulate_gmm


def _seconds(run: Callable[[], Any], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def _gaussian_trajectory(n: int, mu: float, sigma: float, generations: int, rng: np.random.Generator) -> None:
    for _ in range(generations):
        x = rng.normal(mu, sigma, n)
        mu, sigma = float(np.mean(x)), float(np.std(x, ddof=1))


def _gmm_trajectory(n: int, mu: float, sigma: float, generations: int, estimator: str, rng: np.random.Generator) -> None:
    from scipy.optimize import fsolve

    for _ in range(generations):
        x = np.where(rng.random(n) < 0.5, mu, -mu) + sigma * rng.standard_normal(n)
        m2 = float(np.mean(x * x))
        if estimator == "joint-ml":
            h = lambda t: np.sum(x * np.tanh(t * x / (m2 - t * t))) - n * t  # noqa: E731
            t = abs(float(fsolve(h, mu, full_output=True)[0][0]))
            mu, sigma = t, float(np.sqrt(max(m2 - t * t, 0.0)))
        else:
            mu, sigma = (float(v) for v in approx_ml(x))


def bench_continuous(loop_trajectories: int = 20, repeat: int = 3, seed: int = 0) -> dict[str, dict[str, float]]:
    """Time Figure 13's setting (n = 10, 500 x 200, both estimators) and Figure 5's (n = 10, 1,000 x 200).

    Each batch run (``simulate_gmm`` / ``simulate_gaussian``, bounds included) is timed as the best
    of ``repeat``; the per-trajectory loop runs ``loop_trajectories`` trajectories once and is
    extrapolated to the full trajectory count.

    Returns:
        ``{case: {"batch_s", "loop_s" (extrapolated), "loop_measured_s", "loop_trajectories",
        "trajectories", "speedup"}}`` for cases ``figure13 joint-ml``, ``figure13 approx-ml``, ``figure5``.
    """
    rng = np.random.default_rng(seed)
    f5, f13 = FIGURE_5, FIGURE_13
    cases: dict[str, tuple[Callable[[], Any], Callable[[], Any], int]] = {
        f"figure13 {e}": (
            lambda e=e: simulate_gmm(estimator=e, seed=seed, **f13),
            lambda e=e: _gmm_trajectory(f13["n"], f13["mu0"], f13["sigma0"], f13["generations"], e, rng),
            f13["trajectories"],
        )
        for e in ("joint-ml", "approx-ml")
    }
    cases["figure5"] = (
        lambda: simulate_gaussian(seed=seed, **f5),
        lambda: _gaussian_trajectory(f5["n"], f5["mu0"], f5["sigma0"], f5["generations"], rng),
        f5["trajectories"],
    )
    results = {}
    for name, (batch, one_trajectory, trajectories) in cases.items():
        measured = _seconds(lambda: [one_trajectory() for _ in range(loop_trajectories)], 1)
        batch_s = _seconds(batch, repeat)
        loop_s = measured * trajectories / loop_trajectories
        results[name] = {"batch_s": batch_s, "loop_s": loop_s, "loop_measured_s": measured,
                         "loop_trajectories": loop_trajectories, "trajectories": trajectories, "speedup": loop_s / batch_s}
    return results


def format_bench(results: dict[str, dict[str, float]]) -> str:
    """A plain-text table of :func:`bench_continuous`'s results."""
    lines = [f"{'case':<20} {'batch':>9} {'per-trajectory loop':>36} {'speedup':>8}"]
    for name, r in results.items():
        loop = f"{r['loop_s']:.2f} s ({r['loop_measured_s']:.2f} s for {r['loop_trajectories']}/{r['trajectories']})"
        lines.append(f"{name:<20} {r['batch_s']:>7.3f} s {loop:>36} {r['speedup']:>7.0f}x")
    return "\n".join(lines)
