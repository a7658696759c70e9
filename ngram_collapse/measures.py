"""What is measured of every generation's data, for n-gram runs and categorical models alike:
distinct symbols, unigram entropy, total-variation drift from the original distribution, and when each
symbol is forgotten (and, where it can come back, when it returns). All vectorised over symbols and over
leading axes (a batch of trajectories)."""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def distribution(counts: ArrayLike) -> NDArray[np.float64]:
    """Counts (..., V) as probabilities along the last axis (a row of zeros stays zeros)."""
    counts = np.asarray(counts, dtype=float)
    total = counts.sum(axis=-1, keepdims=True)
    return np.divide(counts, total, out=np.zeros_like(counts), where=total > 0)


def entropy_bits(counts: ArrayLike) -> NDArray[np.float64]:
    """Entropy in bits of the distribution of every row of ``counts`` (..., V), shape (...)."""
    p = distribution(counts)
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.where(p > 0, p * np.log2(np.where(p > 0, p, 1.0)), 0.0).sum(axis=-1)


def total_variation(counts: ArrayLike, reference: ArrayLike) -> NDArray[np.float64]:
    """Total-variation distance 1/2 sum_i |p_i - q_i| between the distributions of ``counts`` (..., V)
    and ``reference`` (V,), shape (...)."""
    return 0.5 * np.abs(distribution(counts) - distribution(reference)).sum(axis=-1)


class Forgetting:
    """When each symbol is first absent (``forgotten_at``) and, if it is present again later, when it
    first returns (``returned_at``); -1 where it never happened. Symbols absent from the original data
    are never forgotten. Arrays of the shape of the presence masks given to :meth:`update`."""

    def __init__(self, present: ArrayLike) -> None:
        present = np.asarray(present, dtype=bool)
        self.original = present
        self.forgotten_at = np.full(present.shape, -1, np.int32)
        self.returned_at = np.full(present.shape, -1, np.int32)

    def update(self, k: int, present: ArrayLike) -> None:
        """Record generation k's presence mask."""
        present = np.asarray(present, dtype=bool)
        forgotten = self.forgotten_at >= 0
        self.forgotten_at[self.original & ~present & ~forgotten] = k
        self.returned_at[forgotten & present & (self.returned_at < 0)] = k
