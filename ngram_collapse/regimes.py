"""Theory of the collapse regimes beyond the paper: real data mixed in, and truncated decoding
(docs/theory.md §12, where every formula is derived).

Mixing a fraction L of real data into every generation (workflows ``mix-fresh`` and ``mix-fixed`` of
:mod:`ngram_collapse.workflows`), with Poisson sampling, a symbol seen c times is absent from
generation k's training data with probability exp(-c G_k(L)) (fresh data) or
(1 - L)^s (1 - u_k)^c (a fixed subset; s units hold the symbol), where

    u_0 = 1,  u_{j+1} = 1 - exp(-(1 - L) u_j),    G_k(L) = L (u_0 + ... + u_{k-1}) + (1 - L) u_{k-1}.

At L = 0 both are Corollary 2 (u_j = g_{j+1}, G_k = g_k). Under multinomial sampling the mix-fresh
expectation is a lower bound, as Corollary 1's is. Truncated decoding has an infinite-sample limit:
the support left after k rounds of top-k / top-p truncation of the exact distribution, and Zipf's
exponent a turned into a / T^k by temperature T.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import checks
from .bounds import _generations, sum_over_counts
from .decoding import Decoding, transform


def descent(k: ArrayLike, real_fraction: float) -> NDArray[np.float64]:
    """u_k: 1 - u_k is the probability that the synthetic descent of one original symbol is extinct
    by generation k (a Galton-Watson process with Poisson(1 - L) offspring), shape of ``k``;
    u_0 = 1 and u_{j+1} = 1 - exp(-(1 - L) u_j)."""
    k = _generations(k)
    keep = 1.0 - checks.real("real_fraction", real_fraction, 0.0, 1.0)
    table = np.ones(int(k.max(initial=0)) + 1)
    for j in range(1, table.size):  # a recursion over generations
        table[j] = -np.expm1(-keep * table[j - 1])
    return table[k]


def mix_fresh_rate(k: ArrayLike, real_fraction: float) -> NDArray[np.float64]:
    """G_k(L) = L (u_0 + ... + u_{k-1}) + (1 - L) u_{k-1} for k >= 1, +inf at k = 0: a symbol seen c
    times is absent from generation k with probability exp(-c G_k) (mix-fresh, Poisson sampling).
    G_k(0) = g_k, G_k(1) = 1. Shape of ``k``."""
    k = _generations(k)
    kmax = int(k.max(initial=0))
    u = descent(np.arange(kmax + 1), real_fraction)
    rate = np.full(kmax + 1, np.inf)
    if kmax:
        L = real_fraction
        rate[1:] = L * np.cumsum(u)[:-1] + (1.0 - L) * u[:-1]
    return rate[k]


def mix_fresh_expected_distinct(counts: ArrayLike, k: ArrayLike, real_fraction: float) -> NDArray[np.float64]:
    """E[distinct symbols of generation k's training data] under ``mix-fresh`` with Poisson sampling:
    sum_i 1 - exp(-c_i G_k(L)), exact for a categorical (unigram) model; a lower bound under
    multinomial sampling (docs/theory.md §12.1-12.2). Equals Corollary 2 at L = 0.

    Args:
        counts: original count of every symbol (zeros ignored), shape (m,).
        k: generations >= 0, shape (G,).
        real_fraction: L in [0, 1].

    Returns:
        Shape (G,).
    """
    k = np.asarray(k)
    rate = mix_fresh_rate(k.ravel(), real_fraction)[:, None]
    with np.errstate(invalid="ignore"):
        return sum_over_counts(counts, k, lambda c, gk, kk, n: -np.expm1(-c * rate))


def mix_fixed_expected_distinct(counts: ArrayLike, units: ArrayLike, k: ArrayLike,
                                real_fraction: float) -> NDArray[np.float64]:
    """E[distinct symbols of generation k's training data] under ``mix-fixed`` with Poisson sampling:
    sum_i 1 - (1 - L)^{s_i} (1 - u_k)^{c_i} for k >= 1, exact for a categorical model when every unit
    (sequence, or token) of the original data is kept in the fixed part with probability L
    (docs/theory.md §12.3).

    Args:
        counts: original count c_i of every symbol, shape (m,).
        units: s_i, the number of units (sequences) holding each symbol, shape (m,).
        k: generations >= 0, shape (G,).
        real_fraction: L in [0, 1].

    Returns:
        Shape (G,); the number of symbols at k = 0.
    """
    k = _generations(k)
    c, s = np.asarray(counts, dtype=float), np.asarray(units, dtype=float)
    keep = c > 0
    # symbols with the same (count, units) pair are grouped: O(generations x distinct pairs)
    pairs, multiplicity = np.unique(np.stack([c[keep], s[keep]], axis=1), axis=0, return_counts=True)
    u = descent(k, real_fraction)
    with np.errstate(divide="ignore"):
        absent = (1.0 - real_fraction) ** pairs[None, :, 1] * (1.0 - u[:, None]) ** pairs[None, :, 0]
    absent[k == 0] = 0.0
    return (1.0 - absent) @ multiplicity.astype(float)


def mix_fresh_survival(rate0: ArrayLike, k: ArrayLike, real_fraction: float) -> NDArray[np.float64]:
    """1 - exp(-r G_k(L)) for a parameter of total rate r = n lam0 (Poisson model: exact) or n p0
    (Bernoulli model: a lower bound), under ``mix-fresh``; Theorem 2 / Theorem 1's lower bound at L = 0.
    Shape of the broadcast of ``rate0`` and ``k``."""
    rate = mix_fresh_rate(k, real_fraction)
    r = np.asarray(rate0, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.where(r > 0, -np.expm1(-r * rate), 0.0)


def truncation_support(p: ArrayLike, decoding: Decoding, k: ArrayLike) -> NDArray[np.int64]:
    """Symbols left after k rounds of decoding the exact distribution ``p`` (the infinite-sample limit:
    each generation is the decoded distribution itself), shape of ``k``."""
    k = _generations(k)
    q = np.asarray(p, dtype=float)
    support = [int(np.count_nonzero(q))]
    for _ in range(int(k.max(initial=0))):
        q = transform(q, decoding)
        support.append(int(np.count_nonzero(q)))
    return np.asarray(support)[k]


def tempered_exponent(a: float, temperature: float, k: ArrayLike) -> NDArray[np.float64]:
    """Zipf's exponent after k generations at temperature T in the infinite-sample limit: p^{1/T}
    turns 1/(i+b)^a into 1/(i+b)^(a/T), so a_k = a / T^k. Shape of ``k``."""
    return a / temperature ** _generations(k).astype(float)
