"""The symmetric Gaussian mixture 0.5 N(mu, sigma^2) + 0.5 N(-mu, sigma^2) (Theorem 4; docs/theory.md §10).

Two estimators of (mu, sigma), both vectorised over a batch of samples (one row per trajectory):

* :func:`joint_ml`, the joint maximum-likelihood estimate;
* :func:`approx_ml`, the paper's approximate joint ML (Algorithm 1), the estimator of Theorem 4.

:class:`SymmetricGMM` is the model that ``loop.recursive_training`` retrains with either of them.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Self

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import _engine

GRID_POINTS = 24
"""Interior grid points on t / sqrt(m2) in (0, 1) where :func:`joint_ml` looks for sign changes."""


def _as_batch(x: ArrayLike) -> tuple[NDArray[np.float64], bool]:
    """x as a 2-D batch of rows, and whether it was a single 1-D sample."""
    x = np.asarray(x, dtype=float)
    if x.ndim not in (1, 2) or x.shape[-1] < 1:
        raise ValueError(f"x must be a non-empty 1-D sample or a 2-D batch of rows, not shape {x.shape}")
    return np.atleast_2d(x), x.ndim == 1


def joint_ml(x: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Joint maximum-likelihood (mu, sigma) of the symmetric mixture 0.5 N(mu, s^2) + 0.5 N(-mu, s^2).

    The ML equations are mu = mean(x tanh(mu x / sigma^2)) and sigma^2 + mu^2 = m2 = mean(x^2),
    i.e. h(t) = sum_i x_i tanh(t x_i / (m2 - t^2)) - n t = 0 for t = mu in (0, sqrt(m2)) (docs/theory.md §10.1-10.2).
    Along sigma^2 = m2 - t^2 the log-likelihood increases where h > 0, so its local maxima are
    t = 0 (when h < 0 just above 0) and the roots where h changes sign from + to -.

    Method, row by row: the sign of h just above 0 is that of 3 m2^2 - m4 (h ~ c t^3 there,
    since h(0) = h'(0) = 0), and h -> n (m1 - sqrt(m2)) <= 0 as t -> sqrt(m2). Between them h is
    evaluated on ``GRID_POINTS`` equally spaced points; every + to - sign change is refined by a
    bracketed Newton iteration with bisection safeguard, and the candidate (0 or a root) of highest
    likelihood is returned. Hence:

    * a sample with no positive root (e.g. heavier tails than Gaussian, m4 > 3 m2^2, and no sign
      change) gives mu = 0, sigma = sqrt(m2): the fit of a single Gaussian N(0, m2);
    * a sample whose positive roots all have lower likelihood than t = 0 also gives mu = 0;
    * two roots closer together than sqrt(m2) / (GRID_POINTS + 1) can be missed (both sign changes
      in one grid cell); this happens for a tiny fraction of samples and never makes the returned
      point a non-stationary one;
    * an all-zero sample gives (0, 0); a sample with all |x_i| equal gives (|x_1|, 0).

    The work is done row by row in compiled code (``ngram_collapse._engine.gmm_joint_ml``), where
    tanh is computed from one ``exp`` (to a few units in the last place); the Newton iteration
    stops when a step or the bracket is below 1e-14 (on the scaled t = mu / sqrt(m2)), or after 200 steps.

    Args:
        x: one sample, shape (n,), or a batch, shape (T, n) with one sample per row.

    Returns:
        (mu, sigma), each of shape () for a 1-D ``x`` or (T,) for a 2-D ``x``; mu >= 0.
    """
    x, single = _as_batch(x)
    m2 = (x * x).mean(axis=1)
    scale = np.sqrt(m2)
    y = np.ascontiguousarray(x / np.where(scale > 0, scale, 1.0)[:, None])
    t = np.empty(y.shape[0])
    _engine.gmm_joint_ml(y, GRID_POINTS, t)
    t[scale == 0] = 0.0
    mu = t * scale
    sigma = scale * np.sqrt(np.maximum(1.0 - t * t, 0.0))
    return (mu[0], sigma[0]) if single else (mu, sigma)


def approx_kappa(n: int, eta: float = 2.0) -> float:
    """kappa(n, eta) of Algorithm 1: exp((eta-1)((n-1)/2 + 4 eta) / (eta (n-1)(n + 4 eta - 1))) - 1."""
    return math.expm1((eta - 1) * ((n - 1) / 2 + 4 * eta) / (eta * (n - 1) * (n + 4 * eta - 1)))


def approx_ml(x: ArrayLike, eta: float = 2.0) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Approximate joint ML of the symmetric mixture: the paper's Algorithm 1 (used in Theorem 4).

    With m1 = mean|x|, m2 = mean x^2, s2 = m2 - m1^2 and kappa = :func:`approx_kappa` (n, eta):
    a = 2 (1+kappa) m2 / (m2 - (1+kappa) m1^2) if m2 > (1+kappa) m1^2, else a = 50;
    sigma^2 = a m2 s2 / (a m1^2 + 2 m2) if m2 <= (2a / (a-2)) m1^2, else sigma^2 = m2;
    mu = sqrt(m2 - sigma^2).

    Args:
        x: one sample, shape (n,) with n >= 2, or a batch, shape (T, n) with one sample per row.
        eta: Algorithm 1's parameter, > 1 (the paper uses 2).

    Returns:
        (mu, sigma), each of shape () for a 1-D ``x`` or (T,) for a 2-D ``x``.
    """
    x, single = _as_batch(x)
    n = x.shape[1]
    if n < 2 or not eta > 1:
        raise ValueError(f"approx_ml needs n >= 2 and eta > 1, not n = {n}, eta = {eta}")
    kappa = approx_kappa(n, eta)
    m1 = np.abs(x).mean(axis=1)
    m2 = (x * x).mean(axis=1)
    s2 = np.maximum(m2 - m1 * m1, 0.0)
    spread = m2 > (1 + kappa) * m1 * m1
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(spread, 2 * (1 + kappa) * m2 / (m2 - (1 + kappa) * m1 * m1), 50.0)
        var = np.where(m2 <= 2 * a / (a - 2) * m1 * m1, a * m2 * s2 / (a * m1 * m1 + 2 * m2), m2)
    var = np.where(m2 > 0, var, 0.0)
    mu = np.sqrt(np.maximum(m2 - var, 0.0))
    sigma = np.sqrt(var)
    return (mu[0], sigma[0]) if single else (mu, sigma)


ESTIMATORS: dict[str, Callable[..., tuple[NDArray, NDArray]]] = {"joint-ml": joint_ml, "approx-ml": approx_ml}
"""The estimators :class:`SymmetricGMM` accepts, by name."""


class SymmetricGMM:
    """A batch of T symmetric mixtures 0.5 N(mu_t, sigma_t^2) + 0.5 N(-mu_t, sigma_t^2), one per
    trajectory, for ``loop.recursive_training``. Data are sample matrices of shape (T, n), so every
    trajectory has the same sample size: run it with the loop's ``multinomial`` (fixed-size) rule.

    Args:
        mu, sigma: the parameters (e.g. the true ones of generation 0), shape (T,).
        estimator: ``joint-ml`` (:func:`joint_ml`) or ``approx-ml`` (:func:`approx_ml`, Algorithm 1).
        eta: Algorithm 1's parameter (used by ``approx-ml`` only).
    """

    def __init__(self, mu: ArrayLike, sigma: ArrayLike, estimator: str = "joint-ml", eta: float = 2.0) -> None:
        if estimator not in ESTIMATORS:
            raise ValueError(f"estimator must be one of {', '.join(ESTIMATORS)}, not {estimator!r}")
        self.mu = np.atleast_1d(np.asarray(mu, dtype=float))
        self.sigma = np.atleast_1d(np.asarray(sigma, dtype=float))
        self.estimator = estimator
        self.eta = eta

    def fit(self, data: ArrayLike) -> Self:
        """Estimate (mu, sigma) of every row of ``data`` (shape (T, n)) with the chosen estimator."""
        if self.estimator == "approx-ml":
            self.mu, self.sigma = approx_ml(np.atleast_2d(data), self.eta)
        else:
            self.mu, self.sigma = joint_ml(np.atleast_2d(data))
        return self

    def sample(self, size: int, rng: np.random.Generator) -> NDArray[np.float64]:
        """``size`` samples from every trajectory's mixture: an array of shape (T, size)."""
        t = self.mu.shape[0]
        sign = np.where(rng.random((t, size)) < 0.5, 1.0, -1.0)
        return sign * self.mu[:, None] + self.sigma[:, None] * rng.standard_normal((t, size))


def compare_estimators(n: int, mu0: float, sigma0: float, trials: int,
                       rng: np.random.Generator) -> dict[str, NDArray[np.float64]]:
    """Figures 11 and 12: joint ML and approximate ML (Algorithm 1) fitted to the same ``trials``
    samples of size n from the mixture with (mu0, sigma0). Returns arrays of shape (trials,):
    ``joint_mu``, ``joint_sigma``, ``approx_mu``, ``approx_sigma``."""
    x = SymmetricGMM(np.full(trials, float(mu0)), np.full(trials, float(sigma0))).sample(n, rng)
    joint, approx = joint_ml(x), approx_ml(x)
    return {"joint_mu": joint[0], "joint_sigma": joint[1], "approx_mu": approx[0], "approx_sigma": approx[1]}
