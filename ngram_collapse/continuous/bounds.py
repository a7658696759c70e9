"""Bounds on Pr(Sigma_k > eps) for recursively trained Gaussians and symmetric mixtures.

Every function is vectorised over the generations ``k`` (any shape; the result has that shape).
Bounds are returned raw: Markov-type bounds can exceed 1 for small k, and plots clip them at 1.
Only :func:`best_fractional_bound` never exceeds 1, because its minimisation includes s -> 0.
Derivations: docs/theory.md §9 (Gaussian) and §10 (symmetric mixture).
"""
from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..bounds import log_gamma

_GOLDEN_ITERATIONS = 100
_MAX_DOUBLINGS = 64


def _k(k: ArrayLike) -> NDArray[np.float64]:
    k = np.asarray(k, dtype=float)
    if np.any(k < 0):
        raise ValueError("k must be >= 0")
    return k


def alpha(n: int) -> float:
    """alpha(n) = E[Sigma_1] / sigma0 = sqrt(2/(n-1)) Gamma(n/2) / Gamma((n-1)/2), for n >= 2 (Theorem 3).

    Satisfies alpha(n) <= exp(-1/(4n-1)) <= exp(-1/(4n)).
    """
    if n < 2:
        raise ValueError(f"n must be >= 2, not {n}")
    return math.sqrt(2 / (n - 1)) * math.exp(math.lgamma(n / 2) - math.lgamma((n - 1) / 2))


def expected_sigma(k: ArrayLike, n: int, sigma0: float) -> NDArray[np.float64]:
    """Exact E[Sigma_k] = sigma0 alpha(n)^k for the recursively trained Gaussian (Theorem 3's proof)."""
    return sigma0 * alpha(n) ** _k(k)


def theorem3_bound(k: ArrayLike, n: int, sigma0: float, eps: float) -> NDArray[np.float64]:
    """Theorem 3: Pr(Sigma_k > eps) <= (sigma0/eps) exp(-k/(4n-1)) for the Gaussian (raw, may exceed 1)."""
    return sigma0 / eps * np.exp(-_k(k) / (4 * n - 1))


def bertrand_bound(k: ArrayLike, n: int, sigma0: float, eps: float) -> NDArray[np.float64]:
    """Markov's inequality on the exact E[Sigma_k]: Pr(Sigma_k > eps) <= (sigma0/eps) alpha(n)^k.

    This is the bound of Bertrand et al. (2024), who evaluated alpha(n) only by simulation; it is
    :func:`fractional_moment_bound` at s = 1/2. Raw, may exceed 1.
    """
    return expected_sigma(k, n, sigma0) / eps


def log_beta(s: ArrayLike, n: int) -> NDArray[np.float64]:
    """log beta_s(n), beta_s(n) = E[(chi2_{n-1}/(n-1))^s] = Gamma(s + (n-1)/2) / (((n-1)/2)^s Gamma((n-1)/2)).

    Vectorised over s >= 0 (any shape).
    """
    if n < 2:
        raise ValueError(f"n must be >= 2, not {n}")
    s = np.asarray(s, dtype=float)
    m = (n - 1) / 2
    return log_gamma(s + m) - s * math.log(m) - math.lgamma(m)


def _log_fractional(s: NDArray, k: NDArray, n: int, sigma0: float, eps: float) -> NDArray[np.float64]:
    return 2 * s * math.log(sigma0 / eps) + k * log_beta(s, n)


def fractional_moment_bound(k: ArrayLike, n: int, sigma0: float, eps: float, s: float = 0.35) -> NDArray[np.float64]:
    """Markov's inequality on Sigma_k^{2s}: Pr(Sigma_k > eps) <= (sigma0/eps)^{2s} beta_s(n)^k, any s > 0.

    The paper's Figure 5 uses s = 0.35 (docs/theory.md §9.5). Raw, may exceed 1.
    """
    if not s > 0:
        raise ValueError(f"s must be > 0, not {s}")
    k = _k(k)
    return np.exp(_log_fractional(np.full(k.shape, float(s)), k, n, sigma0, eps))


def best_fractional_exponent(k: ArrayLike, n: int, sigma0: float, eps: float) -> NDArray[np.float64]:
    """The s >= 0 minimising :func:`fractional_moment_bound` for each k (shape of ``k``).

    log of the bound is convex in s (lgamma is convex), and 0 at s = 0. For each k a vectorised
    doubling finds hi with the minimiser in [0, 2 hi], then golden-section search narrows it.
    """
    k = _k(k)
    f = lambda s: _log_fractional(s, k, n, sigma0, eps)  # noqa: E731
    hi = np.ones(k.shape)
    for _ in range(_MAX_DOUBLINGS):
        grow = f(2 * hi) < f(hi)
        if not grow.any():
            break
        hi = np.where(grow, 2 * hi, hi)
    a, b = np.zeros(k.shape), 2 * hi
    ratio = (math.sqrt(5) - 1) / 2
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = f(c), f(d)
    for _ in range(_GOLDEN_ITERATIONS):
        left = fc <= fd
        a, b = np.where(left, a, c), np.where(left, d, b)
        c, d = b - ratio * (b - a), a + ratio * (b - a)
        fc, fd = f(c), f(d)
    candidates = np.stack([np.zeros(k.shape), a, b, c, d])
    return np.take_along_axis(candidates, np.argmin(np.stack([f(s) for s in candidates]), axis=0)[None], 0)[0]


def best_fractional_bound(k: ArrayLike, n: int, sigma0: float, eps: float) -> NDArray[np.float64]:
    """The tightest fractional-moment bound, min over s >= 0 of (sigma0/eps)^{2s} beta_s(n)^k.

    Beyond the paper: it is never above :func:`bertrand_bound` (s = 1/2) nor the bound at the paper's
    s = 0.35, and never above 1 (s -> 0). Shape of ``k``.
    """
    k = _k(k)
    return np.exp(_log_fractional(best_fractional_exponent(k, n, sigma0, eps), k, n, sigma0, eps))


def theorem4_bound(k: ArrayLike, n: int, sigma0: float, eps: float) -> NDArray[np.float64]:
    """Theorem 4: Pr(Sigma_k > eps) <= (sigma0/eps) exp(-k/(4n)) for the symmetric mixture retrained
    with approximate joint ML (Algorithm 1). Raw, may exceed 1."""
    return sigma0 / eps * np.exp(-_k(k) / (4 * n))
