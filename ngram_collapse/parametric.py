"""Parametric models of the paper, simulated through their sufficient statistics.

Each model holds a *batch* of trajectories as arrays and runs on :func:`ngram_collapse.loop.recursive_training`
unchanged: its data are :class:`Counts` (the sufficient statistic of every trajectory's data set, with
the data sets' sizes), ``fit`` is the maximum-likelihood estimate from them, and ``sample`` draws the
next generation's sufficient statistic directly (one Binomial, Poisson or multinomial draw per
trajectory instead of n individual samples).

* :class:`Bernoulli` - Theorem 1: n P_k ~ Binomial(n, P_{k-1}).
* :class:`Poisson` - Theorem 2: the sum of n Poisson(Lambda_{k-1}) samples is Poisson(n Lambda_{k-1}).
* :class:`Categorical` - Corollaries 1 and 2 (a unigram model; Figure 7 starts it from a Zipf-Mandelbrot law).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .decoding import Decoding, transform


@dataclass(frozen=True)
class Counts:
    """Sufficient statistics of a batch of data sets, one per trajectory.

    Attributes:
        counts: number of successes (Bernoulli) or sum of the observations (Poisson), shape (T,);
            or the count of every symbol (Categorical), shape (T, m).
        size: number of observations of each data set: an int, or an int array of shape (T,).
    """

    counts: NDArray[Any]
    size: Any


def _per_observation(counts: NDArray[Any], size: Any) -> NDArray[np.float64]:
    """counts / size along the trajectory axis; an empty data set (size 0) gives 0."""
    size = np.asarray(size, dtype=float)
    if counts.ndim == 2 and size.ndim == 1:
        size = size[:, None]
    return np.divide(counts, size, out=np.zeros(np.broadcast_shapes(counts.shape, size.shape)), where=size > 0)


class _MeanModel:
    """What the models below share: the maximum-likelihood parameter of every trajectory is its
    sufficient statistic per observation, held as ``mean`` (named ``p`` or ``lam`` by each model)."""

    def __init__(self, mean: ArrayLike) -> None:
        self.mean = np.asarray(mean, dtype=float)

    def fit(self, data: Counts) -> Self:
        """Maximum likelihood: the sufficient statistic / the data set's size (0 for an empty one)."""
        self.mean = _per_observation(np.asarray(data.counts), data.size)
        return self


class Bernoulli(_MeanModel):
    """Bernoulli recursive training (Theorem 1), T trajectories at once.

    Attributes:
        p: the success probability of every trajectory, shape (T,).
    """

    @property
    def p(self) -> NDArray[np.float64]:
        return self.mean

    def sample(self, size: Any, rng: np.random.Generator) -> Counts:
        """The number of successes among ``size`` draws, for every trajectory."""
        return Counts(rng.binomial(size, self.p), size)


class Poisson(_MeanModel):
    """Poisson recursive training (Theorem 2), T trajectories at once.

    Attributes:
        lam: the rate of every trajectory, shape (T,).
    """

    @property
    def lam(self) -> NDArray[np.float64]:
        return self.mean

    def sample(self, size: Any, rng: np.random.Generator) -> Counts:
        """The sum of ``size`` Poisson(lambda) draws, i.e. one Poisson(size lambda) draw per trajectory."""
        return Counts(rng.poisson(np.asarray(size) * self.lam), size)


class Categorical(_MeanModel):
    """A categorical (unigram) model over m symbols, T trajectories at once (Corollaries 1 and 2).

    Attributes:
        p: the probability of every symbol in every trajectory, shape (T, m).
        counts: after :meth:`fit`, the counts it was fitted on (what decoding ranks, exactly).
    """

    def __init__(self, mean: ArrayLike) -> None:
        super().__init__(mean)
        self.counts = self.mean

    @property
    def p(self) -> NDArray[np.float64]:
        return self.mean

    def fit(self, data: Counts) -> Self:
        """Maximum likelihood: every symbol's count / the data set's size."""
        self.counts = np.asarray(data.counts)
        return super().fit(data)

    def sample(self, size: Any, rng: np.random.Generator, temperature: float = 1.0, top_k: int | None = None,
               top_p: float | None = None) -> Counts:
        """Symbol counts of ``size`` draws, for every trajectory (one multinomial draw per trajectory),
        from p decoded by ``temperature``, ``top_k`` and ``top_p`` (:mod:`ngram_collapse.decoding`).

        Under the loop's ``poisson`` sampling ``size`` is Poisson(previous size), so every symbol's
        count is an independent Poisson(previous count) - the setting of Corollary 2.
        """
        decoding = Decoding(temperature, top_k, top_p)
        return Counts(rng.multinomial(size, self.p if decoding.plain else transform(self.counts, decoding)), size)


def zipf_mandelbrot(m: int, a: float, b: float) -> NDArray[np.float64]:
    """The Zipf-Mandelbrot law p_i proportional to 1 / (i + b)^a, i = 1..m (Figure 7)."""
    if m < 1:
        raise ValueError("m must be >= 1")
    if b <= -1:
        raise ValueError("b must be > -1")
    w = (np.arange(1, m + 1) + b) ** -float(a)
    return w / w.sum()
