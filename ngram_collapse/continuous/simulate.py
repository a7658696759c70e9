"""Monte Carlo of Pr(Sigma_k > eps) for the recursively trained Gaussian and symmetric mixture.

Both run every trajectory at once, as one batch model, on the one generation loop
(``ngram_collapse.loop.recursive_training``), with one ``numpy.random.Generator`` for the whole batch.
Generation 0 is the true distribution itself (Sigma_0 = sigma0, as in the paper's experiments), so it
has no data. Each returns :class:`~ngram_collapse.results.Results` (kind ``gaussian`` or ``gmm``):
summary rows k = 0..K with ``prob_above_eps`` (simulated Pr(Sigma_k > eps)), its ``stderr``,
``sigma_mean`` and the bounds (raw: they may exceed 1 for small k); per trajectory ``mu`` and ``sigma``.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import checks, seeding
from ..errors import InputError
from ..loop import recursive_training
from ..progress import progress_bar
from ..results import Results, rows, spread, trajectory_columns
from . import bounds
from .gaussian import Gaussian
from .gmm import ESTIMATORS, SymmetricGMM


#: the largest sum of fourth powers of a sample the estimators may form: approximate ML multiplies
#: second moments (double precision ends near 1.8e308)
MAX_SUM_OF_FOURTH_POWERS = 1e300
#: bytes per sample value while a generation is drawn and refitted (the samples and the estimators'
#: temporaries, joint ML's grid of candidate roots included)
_BYTES_PER_SAMPLE = 512


def _check(n: int, mu0: float, sigma0: float, eps: float, generations: int, trajectories: int) -> None:
    checks.integer("generations", generations, minimum=0)
    checks.integer("trajectories", trajectories, minimum=1)
    checks.integer("n", n, minimum=2)
    checks.real("mu0", mu0)
    checks.real("sigma0", sigma0, minimum=0.0, above=True)
    checks.real("eps", eps, minimum=0.0, above=True)
    if abs(mu0) + 40 * sigma0 > (MAX_SUM_OF_FOURTH_POWERS / n) ** 0.25:
        name = "sigma0" if 40 * sigma0 >= abs(mu0) else "mu0"
        raise InputError(f"{name} = {locals()[name]:g} is too large: the moments of n = {n} samples of scale "
                         f"{abs(mu0) + 40 * sigma0:g} overflow double precision", name)
    checks.memory("n", n, trajectories * n * _BYTES_PER_SAMPLE, f"the samples of {trajectories} trajectories")
    checks.run_size(generations, trajectories, 32, "mu and sigma of every trajectory")


def parameter_trajectories(model: Gaussian | SymmetricGMM, n: int, generations: int, rng: np.random.Generator,
                           progress: bool = False) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(mu_k, Sigma_k) of every trajectory of ``model`` (a batch set at generation 0) for k = 0..K.

    Runs ``loop.recursive_training`` with a fixed sample size n (``progress``: a bar over generations).
    Returns two arrays of shape (T, K + 1).
    """
    runs = progress_bar(generations + 1, progress, recursive_training(model, None, n, generations, rng))
    gens = [(g.model.mu, g.model.sigma) for g in runs]
    return np.stack([mu for mu, _ in gens], axis=1), np.stack([sigma for _, sigma in gens], axis=1)


def _results(kind: str, config: dict[str, Any], mu: NDArray[np.float64], sigma: NDArray[np.float64],
             bound_columns: dict[str, Any]) -> Results:
    n, sigma0, eps = config["n"], config["sigma0"], config["eps"]
    k = np.arange(sigma.shape[1])
    prob, _, stderr = spread(sigma > eps)
    summary_rows = rows({"generation": k, "prob_above_eps": prob, "stderr": stderr,
                         "sigma_mean": sigma.mean(axis=0),
                         **{name: bound(k, n, sigma0, eps) for name, bound in bound_columns.items()}})
    return Results(kind, config, summary_rows, trajectory_columns(mu=mu, sigma=sigma))


def simulate_gaussian(n: int, mu0: float, sigma0: float, eps: float, generations: int, trajectories: int,
                      seed: seeding.Seed, progress: bool = False) -> Results:
    """Simulate ``trajectories`` recursively trained Gaussians N(mu_k, Sigma_k^2) from N(mu0, sigma0^2).

    Each generation fits the sample mean and unbiased variance of n samples (drawn exactly through
    the sufficient statistics, :class:`Gaussian`). Bounds: ``bound_paper`` (Theorem 3),
    ``bound_bertrand`` (Markov on the exact E[Sigma_k]) and ``bound_best`` (the fractional-moment bound
    minimised over s); docs/theory.md §9.

    Raises:
        InputError: n < 2, sigma0 <= 0, eps <= 0, a non-finite parameter.
    """
    _check(n, mu0, sigma0, eps, generations, trajectories)
    seed = seeding.seed_sequence(seed)
    model = Gaussian(np.full(trajectories, float(mu0)), np.full(trajectories, float(sigma0)))
    mu, sigma = parameter_trajectories(model, n, generations, np.random.default_rng(seed), progress)
    config = {"n": n, "mu0": mu0, "sigma0": sigma0, "eps": eps, "generations": generations,
              "trajectories": trajectories, "seed": seeding.describe(seed)}
    return _results("gaussian", config, mu, sigma, {"bound_paper": bounds.theorem3_bound,
                                                    "bound_bertrand": bounds.bertrand_bound,
                                                    "bound_best": bounds.best_fractional_bound})


def simulate_gmm(n: int, mu0: float, sigma0: float, eps: float, generations: int, trajectories: int,
                 estimator: str, seed: seeding.Seed, eta: float = 2.0, progress: bool = False) -> Results:
    """Simulate recursively trained symmetric mixtures 0.5 N(mu, s^2) + 0.5 N(-mu, s^2) from (mu0, sigma0).

    Each generation draws n samples per trajectory and refits with ``estimator``: ``joint-ml`` or
    ``approx-ml`` (Algorithm 1 with parameter ``eta``). ``bound_paper`` is Theorem 4's bound (proved for
    ``approx-ml``); docs/theory.md §10.

    Raises:
        InputError: as :func:`simulate_gaussian`, or an unknown estimator, or eta <= 1.
    """
    _check(n, mu0, sigma0, eps, generations, trajectories)
    checks.choice("estimator", estimator, ESTIMATORS)
    checks.real("eta", eta, minimum=1.0, above=True)
    seed = seeding.seed_sequence(seed)
    model = SymmetricGMM(np.full(trajectories, float(mu0)), np.full(trajectories, float(sigma0)), estimator, eta)
    mu, sigma = parameter_trajectories(model, n, generations, np.random.default_rng(seed), progress)
    config = {"n": n, "mu0": mu0, "sigma0": sigma0, "eps": eps, "estimator": estimator, "eta": eta,
              "generations": generations, "trajectories": trajectories, "seed": seeding.describe(seed)}
    return _results("gmm", config, mu, sigma, {"bound_paper": bounds.theorem4_bound})
