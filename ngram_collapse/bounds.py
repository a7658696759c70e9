"""Theory of Suresh, Thangaraj and Khandavally (2025), "Rate of Model Collapse in Recursive Training".

Every function is vectorised over generations ``k`` and over parameters (counts, probabilities);
none loops over symbols in Python. Formulas: ``shared/paper/FORMULAS.md``.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def g(x: ArrayLike) -> NDArray[np.float64]:
    """g(x) = 1 - exp(-x), elementwise (Section 3)."""
    return -np.expm1(-np.asarray(x, dtype=float))


def g_k(k: ArrayLike) -> NDArray[np.float64]:
    """g_k = g composed k times applied to +infinity: g_1 = 1, g_{k+1} = g(g_k) (Section 3).

    Args:
        k: generation numbers, integers >= 0, any shape (g_0 = +inf by the recursion's convention).

    Returns:
        Array of the shape of ``k``. Satisfies 1/k <= g_k <= 3/k (Lemma 1) and k g_k -> 2.
    """
    k = np.asarray(k)
    if np.any(k < 0) or not np.all(np.equal(np.mod(k, 1), 0)):
        raise ValueError("k must be integers >= 0")
    k = k.astype(np.int64)
    kmax = int(k.max()) if k.size else 0
    table = np.empty(kmax + 1)
    table[0] = np.inf
    if kmax >= 1:
        table[1] = 1.0
        for i in range(2, kmax + 1):  # a recursion over k, not over symbols
            table[i] = -np.expm1(-table[i - 1])
    return table[k]


def _sum_over_counts(counts: ArrayLike, k: ArrayLike, term) -> NDArray[np.float64]:
    """sum_i term(c_i, g_k, k, n) for every k, with n = sum_i c_i.

    Equal counts are grouped (a real corpus has few distinct count values), so the cost is
    O(len(k) x distinct counts), not O(len(k) x symbols).
    """
    c = np.asarray(counts, dtype=float).ravel()
    if np.any(c < 0):
        raise ValueError("counts must be >= 0")
    values, multiplicity = np.unique(c[c > 0], return_counts=True)
    k = np.asarray(k)
    flat = k.ravel()[:, None]
    per_value = term(values[None, :], g_k(flat), flat, c.sum())
    return (per_value @ multiplicity.astype(float)).reshape(k.shape)


def corollary2_expected_distinct(counts: ArrayLike, k: ArrayLike) -> NDArray[np.float64]:
    """Exact E[uniq_k] under Poisson sampling (Corollary 2, Appendix B.3).

    E[uniq_k] = sum_i [1 - exp(-c_i g_k)], where c_i are the original counts.

    Args:
        counts: original count of every symbol (zeros are ignored), shape (m,).
        k: generations, any shape.

    Returns:
        E[uniq_k], of the shape of ``k`` (at k = 0, the number of symbols with c_i > 0).
    """
    return _sum_over_counts(counts, k, lambda c, gk, k, n: -np.expm1(-c * gk))


def corollary1_bounds(counts: ArrayLike, k: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Lower and upper bounds on E[uniq_k] under multinomial sampling (Corollary 1).

    With n = sum_i c_i:
        sum_i [1 - exp(-c_i g_k)] <= E[uniq_k]
            <= sum_i [1 - max(1 - 3 c_i^2 / n - 3 k c_i / n, 0) exp(-c_i g_k)].

    Args:
        counts: original count of every symbol (zeros are ignored), shape (m,).
        k: generations, any shape.

    Returns:
        (lower, upper), each of the shape of ``k``.
    """
    lower = corollary2_expected_distinct(counts, k)
    upper = _sum_over_counts(
        counts,
        k,
        lambda c, gk, k, n: 1.0 - np.maximum(1.0 - 3.0 * c**2 / n - 3.0 * k * c / n, 0.0) * np.exp(-c * gk),
    )
    return lower, upper
