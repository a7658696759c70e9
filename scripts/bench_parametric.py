"""Sections bernoulli, poisson and continuous of scripts/bench.py: this project's runs of the paper's
parametric figures (Figures 3, 4, 13 and 5, theory included) beside notebook-style loops that fit one
trajectory and one generation at a time, as the authors' published notebook does. The loop is
timed on a subset of the trajectories and extrapolated linearly to the full count (trajectories are
independent and identical in cost), as every line says."""
from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np
from bench_timing import timed

from ngram_collapse.output import format_table
from ngram_collapse.paper import FIGURES, Panel
from ngram_collapse.simulate import simulate


def _notebook_bernoulli(p0: float, n: int, generations: int, trajectories: int, rng: np.random.Generator) -> None:
    for _ in range(trajectories):
        p = p0
        for _ in range(generations):
            p = rng.binomial(1, p, n).mean()


def _notebook_poisson(lam0: float, n: int, generations: int, trajectories: int, rng: np.random.Generator) -> None:
    for _ in range(trajectories):
        lam = lam0
        for _ in range(generations):
            lam = rng.poisson(lam, n).mean()


def _notebook_gaussian(n: int, mu0: float, sigma0: float, generations: int, trajectories: int,
                       rng: np.random.Generator) -> None:
    for _ in range(trajectories):
        mu, sigma = mu0, sigma0
        for _ in range(generations):
            x = rng.normal(mu, sigma, n)
            mu, sigma = float(np.mean(x)), float(np.std(x, ddof=1))


def _notebook_gmm(n: int, mu0: float, sigma0: float, generations: int, trajectories: int, estimator: str,
                  rng: np.random.Generator) -> None:
    """Joint ML by ``scipy.optimize.fsolve`` from the previous generation's mu, as in the authors'
    notebook; approximate ML (Algorithm 1) by this project's ``approx_ml`` on one sample at a time."""
    from scipy.optimize import fsolve

    from ngram_collapse.continuous import approx_ml

    for _ in range(trajectories):
        mu, sigma = mu0, sigma0
        for _ in range(generations):
            x = np.where(rng.random(n) < 0.5, mu, -mu) + sigma * rng.standard_normal(n)
            if estimator == "joint-ml":
                m2 = float(np.mean(x * x))
                h = lambda t: np.sum(x * np.tanh(t * x / (m2 - t * t))) - n * t  # noqa: E731
                mu = abs(float(fsolve(h, mu, full_output=True)[0][0]))
                sigma = float(np.sqrt(max(m2 - mu * mu, 0.0)))
            else:
                mu, sigma = (float(v) for v in approx_ml(x))


def _compare(rows: list[list[object]], setting: str, trajectories: int, subset: int,
             ours: Callable[[], object], notebook: Callable[[int], None]) -> None:
    """Time ``ours`` (full run) and ``notebook`` on ``subset`` trajectories, extrapolated to ``trajectories``."""
    t_ours = timed(ours)
    subset = min(subset, trajectories)
    t_nb = timed(lambda: notebook(subset)) * trajectories / subset
    rows.append([setting, f"{t_ours:.3f}", f"{t_nb:.1f}", f"{subset}/{trajectories}", f"{t_nb / t_ours:.0f}x"])


_HEADER = ["setting (generations x trajectories)", "ours s", "notebook s (extrap.)", "notebook timed on", "speed-up"]


def _simulated(panel: Panel) -> Callable[[], object]:
    """Our run of a figure's panel (theory included), as a function to time."""
    return lambda: simulate(panel.model, panel.generations, panel.trajectories, **panel.parameters)


def _size(panel: Panel) -> str:
    return f"({panel.generations} x {panel.trajectories})"


def bench_bernoulli(args: argparse.Namespace) -> None:
    """Figure 3's settings: (p0, n) in {(0.001, 10000), (0.01, 100)}, 50 generations x 5,000 trajectories.
    Ours includes the theory (Theorem 1 and the exact Wright-Fisher chain)."""
    rows: list[list[object]] = []
    rng = np.random.default_rng(0)
    for panel in FIGURES["fig3"]:
        p0, n = panel.parameters["p0"], panel.parameters["n"]
        _compare(rows, f"Bernoulli p0={p0:g} n={n} {_size(panel)}", panel.trajectories, args.notebook_trajectories,
                 _simulated(panel), lambda t: _notebook_bernoulli(p0, n, panel.generations, t, rng))
    print("== bernoulli (Figure 3; the authors' notebook: 71 s for both settings)")
    print(format_table(_HEADER, rows))


def bench_poisson(args: argparse.Namespace) -> None:
    """Figure 4's settings: lambda0 in {1, 10}, n = 10, 500 generations x 5,000 trajectories.
    Ours includes the theory (Theorem 2)."""
    rows: list[list[object]] = []
    rng = np.random.default_rng(0)
    for panel in FIGURES["fig4"]:
        lam0, n = panel.parameters["lam0"], panel.parameters["n"]
        _compare(rows, f"Poisson lambda0={lam0:g} n={n} {_size(panel)}", panel.trajectories,
                 args.notebook_trajectories, _simulated(panel),
                 lambda t: _notebook_poisson(lam0, n, panel.generations, t, rng))
    print("== poisson (Figure 4; the authors' notebook: 53 s for lambda0 = 1)")
    print(format_table(_HEADER, rows))


def bench_continuous(args: argparse.Namespace) -> None:
    """Figure 13's setting (symmetric mixture, Theorem 4: n = 10, mu0 = 1, 200 generations x 500
    trajectories, joint ML and approximate ML) and Figure 5's (Gaussian, Theorem 3: n = 10, 200 x 1,000),
    beside the per-trajectory loop. Ours includes the bounds."""
    rows: list[list[object]] = []
    rng = np.random.default_rng(0)
    for panel in (*FIGURES["fig13"], *FIGURES["fig5"]):
        p = panel.parameters
        if panel.model == "gmm":
            name, notebook = f"mixture {p['estimator']}", lambda t: _notebook_gmm(
                p["n"], p["mu0"], p["sigma0"], panel.generations, t, p["estimator"], rng)
        else:
            name, notebook = "Gaussian", lambda t: _notebook_gaussian(p["n"], p["mu0"], p["sigma0"], panel.generations,
                                                                    t, rng)
        _compare(rows, f"{name} n={p['n']} {_size(panel)}", panel.trajectories, args.notebook_trajectories,
                 _simulated(panel), notebook)
    print("== continuous (Figure 13, both estimators; Figure 5. The loop fits one trajectory and one "
          "generation at a time, joint ML by scipy's fsolve)")
    print(format_table(_HEADER, rows))
