"""The numbers behind the paper's continuous-model figures, with the paper's parameters
(FORMULAS.md, experiments table). Each function returns arrays or summary dicts ready for a CSV
and for ``continuous.plots``; none draws anything.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .gaussian import Gaussian
from .gmm import SymmetricGMM, approx_ml, joint_ml
from .simulate import sigma_trajectories, simulate_gaussian, simulate_gmm

FIGURE_2A = {"n": 100, "mu0": 0.0, "sigma0": 1.0, "trajectories": 25, "generations": 2500}
FIGURE_5 = {"n": 10, "mu0": 0.0, "sigma0": 1.0, "eps": 0.1, "trajectories": 1000, "generations": 200}
FIGURE_11_12 = {"n": 10, "mu0": 2.0, "sigma0": 1.0, "trials": 100}
FIGURE_13 = {"n": 10, "mu0": 1.0, "sigma0": 1.0, "eps": 0.1, "trajectories": 500, "generations": 200}


def figure2a_data(seed: int | None = 0) -> NDArray[np.float64]:
    """Figure 2a: Sigma_k of 25 Gaussian trajectories, n = 100, k = 0..2500. Shape (25, 2501)."""
    p = FIGURE_2A
    model = Gaussian(np.full(p["trajectories"], p["mu0"]), np.full(p["trajectories"], p["sigma0"]))
    return sigma_trajectories(model, p["n"], p["generations"], seed)


def figure5_data(seed: int | None = 0) -> dict[str, Any]:
    """Figure 5: Pr(Sigma_k > 0.1) of the Gaussian (n = 10, 1,000 x 200) vs Theorem 3, Bertrand and
    the best fractional-moment bound: the :func:`simulate.simulate_gaussian` summary."""
    return simulate_gaussian(seed=seed, **FIGURE_5)


def figure13_data(seed: int | None = 0) -> dict[str, dict[str, Any]]:
    """Figure 13: Pr(Sigma_k > 0.1) of the symmetric mixture (n = 10, mu0 = 1, 500 x 200) vs Theorem 4,
    for both estimators: ``{"joint-ml": summary, "approx-ml": summary}`` (:func:`simulate.simulate_gmm`)."""
    return {e: simulate_gmm(estimator=e, seed=seed, **FIGURE_13) for e in ("joint-ml", "approx-ml")}


def figure11_12_data(seed: int | None = 0) -> dict[str, NDArray[np.float64]]:
    """Figures 11/12: joint ML vs approximate ML (Algorithm 1) on 100 samples of n = 10 from the
    mixture with mu0 = 2, sigma0 = 1. Returns arrays of shape (100,): ``joint_mu``, ``joint_sigma``,
    ``approx_mu``, ``approx_sigma``."""
    p = FIGURE_11_12
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    x = SymmetricGMM(np.full(p["trials"], p["mu0"]), np.full(p["trials"], p["sigma0"])).sample(p["n"], rng)
    joint, approx = joint_ml(x), approx_ml(x)
    return {"joint_mu": joint[0], "joint_sigma": joint[1], "approx_mu": approx[0], "approx_sigma": approx[1]}
