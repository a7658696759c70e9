"""Theory of Suresh, Thangaraj and Khandavally (2025), "Rate of Model Collapse in Recursive Training".

Every bound is vectorised over generations ``k`` and over parameters (probabilities, rates, counts),
by numpy broadcasting; none loops over symbols in Python. The derivations, and the tests that check
each formula, are in ``docs/theory.md`` (section numbers below).

Contents, with the paper's numbering:

* :func:`g`, :func:`g_k` - the function g and its iterates (Lemma 1: 1/k <= g_k <= 3/k; §2).
* :func:`theorem1_bounds`, :func:`theorem1_two_sided_bounds` - Bernoulli recursive training (Theorem 1; §4).
* :func:`seddik_bounds` - the comparison bounds of Seddik et al. (2024, Theorem 1; §4.4).
* :func:`theorem2_survival`, :func:`theorem2_envelope` - Poisson recursive training (Theorem 2, exact; §3).
* :func:`corollary1_bounds`, :func:`corollary2_expected_distinct` - whole count vectors (Corollaries 1, 2; §6).
* Beyond the paper, exact values for the Bernoulli process from its Wright-Fisher chain (§5):
  :class:`WrightFisher`, :func:`bernoulli_absorption_exact`, :func:`exact_expected_distinct`.
"""
from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray


def log_gamma(x: ArrayLike) -> NDArray[np.float64]:
    """log Gamma(x), elementwise for x > 0 (any shape): ``math.lgamma`` evaluated once per distinct value."""
    x = np.asarray(x, dtype=float)
    values, inverse = np.unique(x, return_inverse=True)
    return np.fromiter(map(math.lgamma, values.tolist()), float, values.size)[inverse].reshape(x.shape)


def _generations(k: ArrayLike) -> NDArray[np.int64]:
    """``k`` as an int64 array, after checking that it holds integers >= 0."""
    k = np.asarray(k)
    if np.any(k < 0) or not np.all(np.equal(np.mod(k, 1), 0)):
        raise ValueError("k must be integers >= 0")
    return k.astype(np.int64)


def g(x: ArrayLike) -> NDArray[np.float64]:
    """g(x) = 1 - exp(-x), elementwise (docs/theory.md §2)."""
    return -np.expm1(-np.asarray(x, dtype=float))


def g_k(k: ArrayLike) -> NDArray[np.float64]:
    """g_k = g composed k times applied to +infinity: g_1 = 1, g_{k+1} = g(g_k) (docs/theory.md §2).

    Args:
        k: generation numbers, integers >= 0, any shape (g_0 = +inf by the recursion's convention).

    Returns:
        Array of the shape of ``k``. Satisfies 1/k <= g_k <= 3/k (Lemma 1) and k g_k -> 2.
    """
    k = _generations(k)
    kmax = int(k.max()) if k.size else 0
    table = np.empty(kmax + 1)
    table[0] = np.inf
    if kmax >= 1:
        table[1] = 1.0
        for i in range(2, kmax + 1):  # a recursion over k, not over symbols
            table[i] = -np.expm1(-table[i - 1])
    return table[k]


def _scaled_gk(rate: NDArray[np.float64], k: ArrayLike) -> NDArray[np.float64]:
    """rate * g_k, with 0 * g_0 = 0 (a symbol or rate that starts at 0 stays at 0; g_0 = +inf)."""
    with np.errstate(invalid="ignore"):
        product = np.asarray(rate, dtype=float) * g_k(k)
    return np.where(np.asarray(rate) > 0, product, 0.0)


def _check_probability(p0: NDArray[np.float64]) -> None:
    if np.any((p0 < 0) | (p0 > 1)) or np.any(np.isnan(p0)):
        raise ValueError("p0 must be in [0, 1]")


def _check_size(n: NDArray[np.float64]) -> None:
    if np.any(n < 1):
        raise ValueError("n must be >= 1")


def _theorem1_terms(p0: ArrayLike, n: ArrayLike, k: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """exp(-n p0 g_k) and max(1 - 3 n p0^2 - 3 k p0, 0), the two ingredients of Theorem 1."""
    p0, n, k = (np.asarray(x, dtype=float) for x in (p0, n, k))
    _check_probability(p0)
    _check_size(n)
    return np.exp(-_scaled_gk(n * p0, k)), np.maximum(1.0 - 3.0 * n * p0**2 - 3.0 * k * p0, 0.0)


def theorem1_bounds(p0: ArrayLike, n: ArrayLike, k: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Bounds on Pr(P_k != 0) for Bernoulli recursive training (Theorem 1).

    P_0 = p0 and P_k = Binomial(n, P_{k-1}) / n. For k >= 1:
        1 - exp(-n p0 g_k) <= Pr(P_k != 0) <= 1 - max(1 - 3 n p0^2 - 3 k p0, 0) exp(-n p0 g_k);
    at k = 0 (g_0 = +inf) both are Pr(P_0 != 0) itself: 1 if p0 > 0, else 0.

    Args:
        p0: initial probabilities in [0, 1]; n: sample sizes >= 1; k: generations >= 0.
            All three broadcast against each other.

    Returns:
        (lower, upper), of the broadcast shape.
    """
    e, factor = _theorem1_terms(p0, n, k)
    return 1.0 - e, 1.0 - factor * e


def theorem1_two_sided_bounds(p0: ArrayLike, n: ArrayLike,
                              k: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Bounds on Pr(P_k not in {0, 1}) for Bernoulli recursive training (Theorem 1, both sides).

    With q0 = 1 - p0, applying Theorem 1 to P_k and to 1 - P_k:
        1 - [exp(-n p0 g_k) + exp(-n q0 g_k)] <= Pr(P_k not in {0,1})
            <= 1 - [max(1 - 3n p0^2 - 3k p0, 0) exp(-n p0 g_k) + max(1 - 3n q0^2 - 3k q0, 0) exp(-n q0 g_k)].

    Returns:
        (lower, upper), of the broadcast shape of ``p0``, ``n``, ``k``.
    """
    ep, fp = _theorem1_terms(p0, n, k)
    eq, fq = _theorem1_terms(1.0 - np.asarray(p0, dtype=float), n, k)
    return 1.0 - (ep + eq), 1.0 - (fp * ep + fq * eq)


def seddik_bounds(p0: ArrayLike, n: ArrayLike, k: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Seddik et al. (2024, Theorem 1) bounds on Pr(P_k not in {0, 1}), for comparison (Figure 9).

        4 p0 q0 (1 - 1/n)^k <= Pr(P_k not in {0,1}) <= min(1, 2 n p0 q0 (1 - 1/n)^k),  q0 = 1 - p0.

    Returns:
        (lower, upper), of the broadcast shape of ``p0``, ``n``, ``k``.
    """
    p0, n, k = (np.asarray(x, dtype=float) for x in (p0, n, k))
    _check_probability(p0)
    _check_size(n)
    decay = p0 * (1.0 - p0) * (1.0 - 1.0 / n) ** k
    return 4.0 * decay, np.minimum(1.0, 2.0 * n * decay)


def theorem2_survival(lam0: ArrayLike, n: ArrayLike, k: ArrayLike) -> NDArray[np.float64]:
    """Exact Pr(Lambda_k != 0) for Poisson recursive training (Theorem 2).

    Lambda_0 = lam0 and n Lambda_k ~ Poisson(n Lambda_{k-1}) (a critical Galton-Watson process):
        Pr(Lambda_k != 0) = 1 - exp(-n lam0 g_k)   exactly, for every k >= 0.

    Args:
        lam0: initial rates >= 0; n: sample sizes >= 1; k: generations >= 0; broadcast together.
    """
    lam0, n = np.asarray(lam0, dtype=float), np.asarray(n, dtype=float)
    if np.any(lam0 < 0) or np.any(np.isnan(lam0)):
        raise ValueError("lam0 must be >= 0")
    _check_size(n)
    return g(_scaled_gk(n * lam0, k))


def theorem2_envelope(lam0: ArrayLike, n: ArrayLike, k: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The envelope of Theorem 2 from 1/k <= g_k <= 3/k (Lemma 1), for k >= 1:

        1 - exp(-n lam0 / k) <= Pr(Lambda_k != 0) <= 1 - exp(-3 n lam0 / k);
    at k = 0 both are Pr(Lambda_0 != 0): 1 if lam0 > 0, else 0.

    Returns:
        (lower, upper), of the broadcast shape of ``lam0``, ``n``, ``k``.
    """
    lam0, n, k = (np.asarray(x, dtype=float) for x in (lam0, n, k))
    if np.any(lam0 < 0) or np.any(np.isnan(lam0)):
        raise ValueError("lam0 must be >= 0")
    _check_size(n)
    if np.any(k < 0):
        raise ValueError("k must be >= 0")
    rate = n * lam0
    with np.errstate(divide="ignore", invalid="ignore"):
        per_k = np.where(rate > 0, rate / k, 0.0)
    return g(per_k), g(3.0 * per_k)


def sum_over_counts(counts: ArrayLike, k: ArrayLike, term) -> NDArray[np.float64]:
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
    return sum_over_counts(counts, k, lambda c, gk, k, n: -np.expm1(-c * gk))


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

    Each symbol's count is a Bernoulli recursive-training process with p0 = c_i / n, so the two
    sums are :func:`theorem1_bounds` summed over symbols.
    """
    lower = corollary2_expected_distinct(counts, k)
    upper = sum_over_counts(counts, k, lambda c, gk, k, n: theorem1_bounds(c / n, n, k)[1])
    return lower, upper


class WrightFisher:
    """The Bernoulli recursive-training process as a Markov chain on the counts 0..n.

    Beyond the paper: the state is X_k = n P_k and X_k ~ Binomial(n, X_{k-1} / n) (the Wright-Fisher
    chain), so Pr(P_k = 0) and Pr(P_k in {0, 1}), which Theorem 1 only bounds, can be computed
    exactly by iterating the transition matrix.

    The matrix is never built dense. Row j is the Binomial(n, j/n) pmf, kept only on
    j +- (10 sd + 10) with sd = sqrt(j (1 - j/n)), which leaves out less than about 1e-19 of each
    row's mass; rows are built on demand for the range of states that carries probability, and
    probabilities below ``prune`` are dropped from the state distribution. The pmf is computed from
    log-factorials (:func:`log_gamma`), whose rounding dominates the error: relative error about 1e-14
    at n = 30, 1e-10 after 50 generations at n = 10^4 (checked against scipy's binomial pmf).
    """

    def __init__(self, n: int, prune: float = 1e-20) -> None:
        if n < 1 or int(n) != n:
            raise ValueError("n must be an integer >= 1")
        self.n = int(n)
        self.prune = prune
        self._logfact = log_gamma(np.arange(1, self.n + 2))
        self._lo, self._hi = 0, -1  # rows built so far: [lo, hi]
        self._indptr = np.zeros(1, dtype=np.int64)
        self._cols = np.zeros(0, dtype=np.int32)
        self._vals = np.zeros(0)

    def binomial_pmf(self, p: float) -> NDArray[np.float64]:
        """The Binomial(n, p) pmf over 0..n, computed from log-factorials."""
        i = np.arange(self.n + 1)
        return np.exp(self._log_pmf(i, np.full(i.shape, float(p))))

    def _log_pmf(self, i: NDArray[np.int64], p: NDArray[np.float64]) -> NDArray[np.float64]:
        n, lf = self.n, self._logfact
        with np.errstate(divide="ignore", invalid="ignore"):
            success = np.where(i > 0, i * np.log(p), 0.0)
            failure = np.where(i < n, (n - i) * np.log1p(-p), 0.0)
        return lf[n] - lf[i] - lf[n - i] + success + failure

    def _build(self, lo: int, hi: int) -> None:
        """Build the truncated rows lo..hi (CSR layout: indptr, cols, vals)."""
        n = self.n
        j = np.arange(lo, hi + 1)
        width = np.ceil(10.0 * np.sqrt(j * (1.0 - j / n))).astype(np.int64) + 10
        start, stop = np.maximum(j - width, 0), np.minimum(j + width, n)
        lengths = stop - start + 1
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        offsets = np.arange(indptr[-1]) - np.repeat(indptr[:-1], lengths)
        cols = np.repeat(start, lengths) + offsets
        vals = np.exp(self._log_pmf(cols, np.repeat(j / n, lengths)))
        self._lo, self._hi = lo, hi
        self._indptr, self._cols, self._vals = indptr, cols.astype(np.int32), vals

    def _rows(self, lo: int, hi: int) -> tuple[NDArray[np.int64], NDArray[np.int32], NDArray[np.float64]]:
        """Row lengths, columns and values of rows lo..hi, building (and widening) the cache if needed."""
        if lo < self._lo or hi > self._hi:
            a, b = (min(lo, self._lo), max(hi, self._hi)) if self._hi >= self._lo else (lo, hi)
            pad = (b - a + 1) // 2  # widen generously: a growing support rebuilds O(log n) times
            self._build(max(a - pad, 0), min(b + pad, self.n))
        a, b = self._indptr[lo - self._lo], self._indptr[hi + 1 - self._lo]
        return np.diff(self._indptr[lo - self._lo: hi + 2 - self._lo]), self._cols[a:b], self._vals[a:b]

    def forward(self, dist: NDArray[np.float64]) -> NDArray[np.float64]:
        """One generation: the distribution of X_k from that of X_{k-1} (both over 0..n)."""
        dist = np.where(dist < self.prune, 0.0, dist)
        live = np.flatnonzero(dist)
        lo, hi = int(live[0]), int(live[-1])
        lengths, cols, vals = self._rows(lo, hi)
        return np.bincount(cols, weights=np.repeat(dist[lo: hi + 1], lengths) * vals, minlength=self.n + 1)

    def backward(self, h: NDArray[np.float64]) -> NDArray[np.float64]:
        """One generation of the backward equation: (T h)(j) = E[h(X_1) | X_0 = j] for every j."""
        lengths, cols, vals = self._rows(0, self.n)
        return np.add.reduceat(vals * h[cols], np.concatenate([[0], np.cumsum(lengths)[:-1]]))


def bernoulli_absorption_exact(p0: float, n: int, k: ArrayLike, both_sides: bool = False) -> NDArray[np.float64]:
    """Exact Pr(P_k = 0), or Pr(P_k in {0, 1}) if ``both_sides``, for Bernoulli recursive training.

    Beyond the paper (compare Theorem 1, which bounds 1 minus these numbers): P_1 ~ Binomial(n, p0)/n,
    then the distribution is iterated on the Wright-Fisher chain (:class:`WrightFisher`), so ``n p0``
    need not be an integer. Fast for n up to 10^4 and beyond: the cost per generation is the number
    of states carrying probability times their binomial widths.

    Args:
        p0: initial probability in [0, 1]; n: sample size >= 1; k: generations >= 0, any shape.

    Returns:
        Array of the shape of ``k``.
    """
    _check_probability(np.asarray(p0, dtype=float))
    k = _generations(k)
    chain = WrightFisher(n)
    kmax = int(k.max()) if k.size else 0
    absorbed = np.empty(kmax + 1)
    absorbed[0] = float(p0 == 0 or (both_sides and p0 == 1))
    dist = chain.binomial_pmf(p0)
    for i in range(1, kmax + 1):  # a recursion over generations
        absorbed[i] = dist[0] + (dist[chain.n] if both_sides else 0.0)
        if i < kmax:
            dist = chain.forward(dist)
    return absorbed[k]


def exact_expected_distinct(counts: ArrayLike, k: ArrayLike) -> NDArray[np.float64]:
    """Exact E[uniq_k] under multinomial sampling (beyond the paper; Corollary 1 bounds it).

    Each symbol's count is marginally the Wright-Fisher chain started at c_i, so
    E[uniq_k] = sum_i (1 - Pr(X_k = 0 | X_0 = c_i)). The extinction probabilities of every start are
    computed together by the backward equation h_k = T h_{k-1}, h_0 = 1{0}, at a cost per generation
    of the whole banded matrix (about 8 n^1.5 entries): meant for small corpora (n up to ~10^4).

    Args:
        counts: original count of every symbol (zeros are ignored), shape (m,); n = sum of counts.
        k: generations >= 0, any shape.

    Returns:
        E[uniq_k], of the shape of ``k``.
    """
    c = np.asarray(counts).ravel()
    if np.any(c < 0) or not np.all(np.equal(np.mod(c, 1), 0)):
        raise ValueError("counts must be integers >= 0")
    values, multiplicity = np.unique(c[c > 0].astype(np.int64), return_counts=True)
    k = _generations(k)
    kmax = int(k.max()) if k.size else 0
    chain = WrightFisher(int(c.sum()))
    h = np.zeros(chain.n + 1)
    h[0] = 1.0
    distinct = np.empty(kmax + 1)
    for i in range(kmax + 1):  # a recursion over generations
        distinct[i] = (1.0 - h[values]) @ multiplicity
        if i < kmax:
            h = chain.backward(h)
    return distinct[k]
