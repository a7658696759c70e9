"""Recursive training of a Gaussian through its sufficient statistics (Theorem 3; docs/theory.md §9.1).

Generation k fits N(mu_k, Sigma_k^2) by the sample mean and the unbiased (ddof = 1) sample
variance of n samples drawn from N(mu_{k-1}, Sigma_{k-1}^2). Those two statistics are independent
with mu_k ~ N(mu_{k-1}, Sigma_{k-1}^2 / n) and Sigma_k^2 ~ Sigma_{k-1}^2 chi2_{n-1} / (n - 1), so a
generation is simulated exactly with two draws per trajectory, whatever n is.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Self

import numpy as np
from numpy.typing import ArrayLike, NDArray


@dataclass(frozen=True)
class GaussianStats:
    """The sufficient statistics of one data set per trajectory.

    Attributes:
        mean: sample means, shape (T,).
        var: unbiased sample variances (ddof = 1), shape (T,).
        n: the number of samples each statistic summarises.
    """

    mean: NDArray[np.float64]
    var: NDArray[np.float64]
    n: int

    @classmethod
    def from_samples(cls, x: ArrayLike) -> GaussianStats:
        """Statistics of raw samples ``x`` of shape (T, n), one row per trajectory."""
        x = np.atleast_2d(np.asarray(x, dtype=float))
        return cls(x.mean(axis=1), x.var(axis=1, ddof=1), x.shape[1])


class Gaussian:
    """A batch of T Gaussian models N(mu_t, sigma_t^2), one per trajectory, for ``loop.recursive_training``.

    Data are :class:`GaussianStats`; ``fit`` takes mu = sample mean and sigma = sqrt(unbiased
    variance); ``sample(n, rng)`` draws the statistics of n new samples exactly (O(1) per trajectory).
    """

    def __init__(self, mu: ArrayLike, sigma: ArrayLike) -> None:
        """A model with given parameters (e.g. the true ones of generation 0), arrays of shape (T,)."""
        self.mu = np.atleast_1d(np.asarray(mu, dtype=float))
        self.sigma = np.atleast_1d(np.asarray(sigma, dtype=float))

    def fit(self, data: GaussianStats) -> Self:
        """Maximum-likelihood mean and unbiased standard deviation: mu = mean, sigma = sqrt(var)."""
        self.mu = data.mean
        self.sigma = np.sqrt(data.var)
        return self

    def sample(self, size: int, rng: np.random.Generator) -> GaussianStats:
        """Sufficient statistics of ``size`` >= 2 samples from each trajectory's N(mu, sigma^2).

        mean ~ N(mu, sigma^2 / size) and var ~ sigma^2 chi2_{size-1} / (size - 1), independent;
        both of shape (T,).
        """
        t = self.mu.shape[0]
        mean = self.mu + self.sigma * rng.standard_normal(t) / np.sqrt(size)
        var = self.sigma**2 * rng.chisquare(size - 1, t) / (size - 1)
        return GaussianStats(mean, var, int(size))
