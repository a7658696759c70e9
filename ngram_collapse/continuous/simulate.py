"""Monte Carlo of Pr(Sigma_k > eps) for the recursively trained Gaussian and symmetric mixture.

Both run every trajectory at once, as one batch model, on the one generation loop
(``ngram_collapse.loop.recursive_training``), with one ``numpy.random.Generator`` seeded by
``SeedSequence(seed)`` for the whole batch. Generation 0 is the true distribution itself
(Sigma_0 = sigma0, as in the paper's experiments), so it has no data.

Summary format (a dict, JSON-ready except ``sigma_trajectories``)::

    {"model": "gaussian" | "gmm", "label": e.g. "Gaussian n=10, mu0=0, sigma0=1",
     "quantity": "Pr(Sigma_k > eps)",
     "config": {"n", "mu0", "sigma0", "eps", "generations", "trajectories", "seed"
                [, "estimator", "eta"]  (gmm)},
     "generations": [{"generation": k, "prob_above_eps": Pr(Sigma_k > eps) simulated,
                      "stderr": sqrt(p (1 - p) / T), "sigma_mean": mean of Sigma_k,
                      "bound_paper": Theorem 3 (gaussian) / Theorem 4 (gmm),
                      "bound_bertrand", "bound_best" (gaussian only)} for k = 1..K],
     "sigma_trajectories": numpy array (T, K + 1) of Sigma_k, k = 0..K}

Bounds are raw (they may exceed 1 for small k; see ``bounds``).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import InputError
from ..loop import recursive_training
from . import bounds
from .gaussian import Gaussian
from .gmm import ESTIMATORS, SymmetricGMM


def _check(n: int, mu0: float, sigma0: float, eps: float, generations: int, trajectories: int) -> None:
    def integer(name: str, value: Any, least: int) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
            raise InputError(f"--{name} must be an integer >= {least}, not {value!r}")

    integer("n", n, 2)
    integer("generations", generations, 0)
    integer("trajectories", trajectories, 1)
    if not math.isfinite(mu0):
        raise InputError(f"--mu0 must be a finite number, not {mu0!r}")
    for name, value in (("sigma0", sigma0), ("eps", eps)):
        if not (math.isfinite(value) and value > 0):
            raise InputError(f"--{name} must be a finite number > 0, not {value!r}")


def sigma_trajectories(model: Gaussian | SymmetricGMM, n: int, generations: int, seed: int | None) -> NDArray[np.float64]:
    """Sigma_k of every trajectory of ``model`` (a batch fitted or set at generation 0) for k = 0..K.

    Runs ``loop.recursive_training`` with a fixed sample size n (multinomial rule) and one
    Generator from ``SeedSequence(seed)``. Returns shape (T, K + 1).
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    sigmas = [g.model.sigma for g in recursive_training(model, None, n, generations, rng)]
    return np.stack(sigmas, axis=1)


def _summary(
    model: str,
    label: str,
    config: dict[str, Any],
    sigmas: NDArray[np.float64],
    bound_columns: dict[str, Callable[..., NDArray[np.float64]]],
) -> dict[str, Any]:
    n, sigma0, eps, t = config["n"], config["sigma0"], config["eps"], config["trajectories"]
    k = np.arange(1, sigmas.shape[1])
    p = (sigmas[:, 1:] > eps).mean(axis=0)
    columns = {
        "generation": k,
        "prob_above_eps": p,
        "stderr": np.sqrt(p * (1 - p) / t),
        "sigma_mean": sigmas[:, 1:].mean(axis=0),
        **{name: bound(k, n, sigma0, eps) for name, bound in bound_columns.items()},
    }
    rows = [{name: values[i].item() for name, values in columns.items()} for i in range(k.size)]
    return {"model": model, "label": f"{label} n={n}, mu0={config['mu0']:g}, sigma0={sigma0:g}",
            "quantity": f"Pr(Sigma_k > {eps:g})", "config": config, "generations": rows,
            "sigma_trajectories": sigmas}


def simulate_gaussian(
    n: int, mu0: float, sigma0: float, eps: float, generations: int, trajectories: int, seed: int | None
) -> dict[str, Any]:
    """Simulate ``trajectories`` recursively trained Gaussians N(mu_k, Sigma_k^2) from N(mu0, sigma0^2).

    Each generation fits the sample mean and unbiased variance of n samples (drawn exactly through
    the sufficient statistics, :class:`Gaussian`). Returns the summary described in the module
    docstring, with bounds ``bound_paper`` (Theorem 3), ``bound_bertrand`` (Markov on the exact
    E[Sigma_k]) and ``bound_best`` (fractional-moment bound minimised over s).

    Raises:
        InputError: n < 2, sigma0 <= 0, eps <= 0, generations < 0, trajectories < 1, non-finite mu0.
    """
    _check(n, mu0, sigma0, eps, generations, trajectories)
    model = Gaussian(np.full(trajectories, float(mu0)), np.full(trajectories, float(sigma0)))
    config = {"n": n, "mu0": mu0, "sigma0": sigma0, "eps": eps, "generations": generations,
              "trajectories": trajectories, "seed": seed}
    bound_columns = {"bound_paper": bounds.theorem3_bound, "bound_bertrand": bounds.bertrand_bound,
                     "bound_best": bounds.best_fractional_bound}
    sigmas = sigma_trajectories(model, n, generations, seed)
    return _summary("gaussian", "Gaussian", config, sigmas, bound_columns)


def simulate_gmm(
    n: int,
    mu0: float,
    sigma0: float,
    eps: float,
    generations: int,
    trajectories: int,
    estimator: str,
    seed: int | None,
    eta: float = 2.0,
) -> dict[str, Any]:
    """Simulate recursively trained symmetric mixtures 0.5 N(mu, s^2) + 0.5 N(-mu, s^2) from (mu0, sigma0).

    Each generation draws n samples per trajectory and refits with ``estimator``: ``joint-ml``
    or ``approx-ml`` (Algorithm 1 with parameter ``eta``). Returns the summary described in the
    module docstring, with ``bound_paper`` = Theorem 4's bound (proved for ``approx-ml``).

    Raises:
        InputError: as :func:`simulate_gaussian`, or an unknown estimator, or eta <= 1.
    """
    _check(n, mu0, sigma0, eps, generations, trajectories)
    if estimator not in ESTIMATORS:
        raise InputError(f"--estimator must be one of {', '.join(ESTIMATORS)}, not {estimator!r}")
    if not (math.isfinite(eta) and eta > 1):
        raise InputError(f"--eta must be a finite number > 1, not {eta!r}")
    model = SymmetricGMM(np.full(trajectories, float(mu0)), np.full(trajectories, float(sigma0)), estimator, eta)
    config = {"n": n, "mu0": mu0, "sigma0": sigma0, "eps": eps, "generations": generations,
              "trajectories": trajectories, "seed": seed, "estimator": estimator, "eta": eta}
    sigmas = sigma_trajectories(model, n, generations, seed)
    return _summary("gmm", f"symmetric GMM ({estimator})", config, sigmas, {"bound_paper": bounds.theorem4_bound})
