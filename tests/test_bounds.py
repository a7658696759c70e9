"""The bounds of ngram_collapse.bounds against hand-computed values (FORMULAS.md), against each other,
and the exact Wright-Fisher chain against a dense transition matrix and against Theorem 1."""
import numpy as np
import pytest
from scipy.stats import binom

from ngram_collapse import bounds

G10 = 0.172254625  # g_10 = g applied 10 times to +inf; FORMULAS.md: 10 g_10 = 1.7225


def test_g_k_hand_values():
    assert bounds.g_k(1) == 1.0
    assert bounds.g_k(2) == pytest.approx(1 - np.exp(-1))
    assert bounds.g_k(3) == pytest.approx(0.46853639, rel=1e-7)  # 1 - exp(-(1 - 1/e))
    k = np.array([10, 100, 1000])
    np.testing.assert_allclose(k * bounds.g_k(k), [1.7225, 1.9543, 1.9938], atol=6e-5)


def test_g_k_inside_lemma1_envelope():
    k = np.arange(1, 100_001)
    gk = bounds.g_k(k)
    assert np.all(gk >= 1 / k) and np.all(gk <= 3 / k)
    assert np.all(np.diff(gk) < 0)


def test_theorem1_hand_values():
    # p0 = 0.01, n = 100, k = 10: n p0 g_10 = g_10; factor max(1 - 3*100*1e-4 - 3*10*0.01, 0) = 0.67
    lower, upper = bounds.theorem1_bounds(0.01, 100, 10)
    assert lower == pytest.approx(1 - np.exp(-G10), rel=1e-7)
    assert lower == pytest.approx(0.158235188, rel=1e-7)
    assert upper == pytest.approx(0.436017576, rel=1e-7)


def test_theorem1_two_sided_hand_values():
    # p0 = 0.01, n = 100, k = 2: g_2 = 1 - 1/e; p-side factor 1 - 0.03 - 0.06 = 0.91, q-side factor 0,
    # exp(-n q0 g_2) = exp(-62.6) negligible.
    lower, upper = bounds.theorem1_two_sided_bounds(0.01, 100, 2)
    assert lower == pytest.approx(0.468536395, rel=1e-7)
    assert upper == pytest.approx(0.516368119, rel=1e-7)


def test_seddik_hand_values():
    # p0 = 0.001, n = 100, k = 10: p0 q0 (1 - 1/n)^k = 0.000999 * 0.99^10
    lower, upper = bounds.seddik_bounds(0.001, 100, 10)
    assert lower == pytest.approx(0.0036139108, rel=1e-7)
    assert upper == pytest.approx(0.1806955386, rel=1e-7)
    assert bounds.seddik_bounds(0.2, 10, 3)[1] == 1.0  # 2 n p0 q0 0.9^3 = 2.33 is capped at 1


def test_theorem2_hand_values_and_envelope():
    assert bounds.theorem2_survival(1.0, 10, 1) == pytest.approx(0.99995460, rel=1e-8)  # 1 - e^-10
    assert bounds.theorem2_survival(0.1, 10, 10) == pytest.approx(0.158235188, rel=1e-7)
    assert bounds.theorem2_survival(0.1, 10, 0) == pytest.approx(1.0)  # g_0 = inf
    lower, upper = bounds.theorem2_envelope(0.1, 10, 10)
    assert (lower, upper) == (pytest.approx(0.0951625820), pytest.approx(0.2591817793))
    k = np.arange(1, 501)
    lam0 = np.array([[0.01], [1.0], [10.0]])
    exact = bounds.theorem2_survival(lam0, 10, k)
    lower, upper = bounds.theorem2_envelope(lam0, 10, k)
    assert exact.shape == (3, 500)
    assert np.all(lower <= exact) and np.all(exact <= upper)


def test_corollary1_hand_values():
    # counts (1, 1, 2), n = 4, k = 1: lower 2(1 - e^-1) + (1 - e^-2); every upper factor is 0
    lower, upper = bounds.corollary1_bounds([1, 1, 2, 0], 1)
    assert lower == pytest.approx(2.1289058344)
    assert upper == pytest.approx(3.0)


def test_bounds_broadcast_over_parameters_and_k():
    p0 = np.array([0.001, 0.01, 0.3])[:, None]
    n = np.array([10_000, 100, 20])[:, None]
    k = np.arange(1, 51)[None, :]
    for f in (bounds.theorem1_bounds, bounds.theorem1_two_sided_bounds, bounds.seddik_bounds):
        lower, upper = f(p0, n, k)
        assert lower.shape == upper.shape == (3, 50)
        assert np.all(lower <= upper + 1e-15)


@pytest.mark.parametrize("bad", [-0.1, 1.5, np.nan])
def test_bad_probability_rejected(bad):
    with pytest.raises(ValueError):
        bounds.theorem1_bounds(bad, 10, 1)
    with pytest.raises(ValueError):
        bounds.bernoulli_absorption_exact(bad, 10, 1)


def test_bad_size_and_generations_rejected():
    with pytest.raises(ValueError):
        bounds.theorem1_bounds(0.1, 0, 1)
    with pytest.raises(ValueError):
        bounds.g_k(-1)
    with pytest.raises(ValueError):
        bounds.g_k(1.5)
    with pytest.raises(ValueError):
        bounds.theorem2_envelope(1.0, 10, -1)


def test_generation_zero_is_the_starting_point():
    """At k = 0 (g_0 = +inf) every survival bound is Pr(parameter != 0) itself, also for a start at 0."""
    assert bounds.theorem2_envelope(1.0, 10, 0) == (1.0, 1.0)
    assert bounds.theorem2_envelope(0.0, 10, 0) == (0.0, 0.0)
    assert bounds.theorem2_survival(0.0, 10, 0) == 0.0
    assert bounds.theorem1_bounds(0.0, 10, 0) == (0.0, 0.0)
    assert bounds.theorem1_bounds(0.3, 10, 0) == (1.0, 1.0)
    assert bounds.theorem1_two_sided_bounds(1.0, 10, 0) == (0.0, 0.0)


def _dense_absorption(p0, n, generations, both_sides):
    """Reference: the dense (n+1) x (n+1) Wright-Fisher matrix from scipy."""
    states = np.arange(n + 1)
    matrix = binom.pmf(states[None, :], n, states[:, None] / n)
    dist = binom.pmf(states, n, p0)
    out = []
    for _ in range(generations):
        out.append(dist[0] + (dist[n] if both_sides else 0.0))
        dist = dist @ matrix
    return np.array(out)


@pytest.mark.parametrize("p0, n", [(0.2, 30), (0.37, 41), (0.01, 100), (1.0, 7)])
@pytest.mark.parametrize("both_sides", [False, True])
def test_wright_fisher_matches_dense_matrix(p0, n, both_sides):
    exact = bounds.bernoulli_absorption_exact(p0, n, np.arange(1, 41), both_sides=both_sides)
    np.testing.assert_allclose(exact, _dense_absorption(p0, n, 40, both_sides), rtol=0, atol=1e-12)


def test_wright_fisher_generation_zero():
    assert bounds.bernoulli_absorption_exact(0.0, 10, 0) == 1.0
    assert bounds.bernoulli_absorption_exact(0.3, 10, 0) == 0.0
    assert bounds.bernoulli_absorption_exact(1.0, 10, 0, both_sides=True) == 1.0


@pytest.mark.parametrize("p0, n", [(0.001, 10_000), (0.01, 100), (0.2, 100), (0.05, 1000), (0.5, 50)])
def test_exact_chain_inside_theorem1_and_seddik(p0, n):
    k = np.arange(1, 51)
    survival = 1 - bounds.bernoulli_absorption_exact(p0, n, k)
    lower, upper = bounds.theorem1_bounds(p0, n, k)
    assert np.all(lower <= survival + 1e-12) and np.all(survival <= upper + 1e-12)
    both = 1 - bounds.bernoulli_absorption_exact(p0, n, k, both_sides=True)
    for lower, upper in (bounds.theorem1_two_sided_bounds(p0, n, k), bounds.seddik_bounds(p0, n, k)):
        assert np.all(lower <= both + 1e-12) and np.all(both <= upper + 1e-12)


def test_forward_and_backward_chains_agree_at_large_n():
    # two independent computations: forward iteration from each start vs the backward equation
    n = 3000
    counts = np.zeros(n, dtype=int)
    counts[:3] = [1, 40, 600]
    counts[3:3 + (n - 641)] = 1
    k = np.arange(0, 31)
    via_backward = bounds.exact_expected_distinct(counts, k)
    values, mult = np.unique(counts[counts > 0], return_counts=True)
    via_forward = sum(m * (1 - bounds.bernoulli_absorption_exact(c / n, n, k)) for c, m in zip(values, mult))
    np.testing.assert_allclose(via_backward, via_forward, rtol=0, atol=1e-9)
    assert via_backward[0] == np.count_nonzero(counts)


def test_exact_expected_distinct_inside_corollary1():
    rng = np.random.default_rng(5)
    counts = rng.multinomial(1000, rng.dirichlet(np.full(400, 0.3)))
    k = np.arange(1, 21)
    exact = bounds.exact_expected_distinct(counts, k)
    lower, upper = bounds.corollary1_bounds(counts, k)
    assert np.all(lower <= exact + 1e-9) and np.all(exact <= upper + 1e-9)
    assert np.all(np.diff(exact) < 0)


def test_wright_fisher_n_10000():
    exact = bounds.bernoulli_absorption_exact(0.5, 10_000, np.arange(51), both_sides=True)
    assert exact[50] < 1e-6  # fixation takes ~ 4n generations; nothing is absorbed after 50


def test_wright_fisher_accepts_integral_float_n():
    """n = 100.0 (as the CLI may pass it) is the chain on 0..100: same numbers as n = 100, both sides."""
    k = np.arange(11)
    for both_sides in (False, True):
        np.testing.assert_array_equal(bounds.bernoulli_absorption_exact(0.01, 100.0, k, both_sides=both_sides),
                                      bounds.bernoulli_absorption_exact(0.01, 100, k, both_sides=both_sides))
