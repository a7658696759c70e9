"""Gaussian sufficient-statistic sampler, the bounds of Theorems 3 and 4, and the simulations."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats
from scipy.special import gammaln

from ngram_collapse.continuous import (
    Gaussian,
    GaussianStats,
    alpha,
    bertrand_bound,
    best_fractional_bound,
    expected_sigma,
    fractional_moment_bound,
    log_beta,
    simulate_gaussian,
    simulate_gmm,
    theorem3_bound,
    theorem4_bound,
)
from ngram_collapse.errors import InputError


def test_sufficient_statistics_match_brute_force() -> None:
    """One generation drawn through (mean, var) has the law of n raw samples' statistics."""
    rows, n, mu, sigma = 20000, 5, 0.5, 2.0
    model = Gaussian(np.full(rows, mu), np.full(rows, sigma))
    fast = model.sample(n, np.random.default_rng(1))
    brute = GaussianStats.from_samples(np.random.default_rng(2).normal(mu, sigma, (rows, n)))
    for a, b in [(fast.mean, brute.mean), (np.sqrt(fast.var), np.sqrt(brute.var))]:
        se = math.sqrt((a.var() + b.var()) / rows)
        assert abs(a.mean() - b.mean()) < 4 * se
        for q in (0.1, 0.5, 0.9):  # quantile SE: sqrt(q (1-q) / rows) / density, density from the pooled sample
            both = np.concatenate([a, b])
            x = np.quantile(both, q)
            density = np.mean(np.abs(both - x) < 0.05) / 0.1
            assert abs(np.quantile(a, q) - np.quantile(b, q)) < 4 * math.sqrt(2 * q * (1 - q) / rows) / density
    assert stats.ks_2samp(fast.var, brute.var).pvalue > 1e-3
    assert abs(np.mean(np.sqrt(fast.var)) - sigma * alpha(n)) < 4 * np.std(np.sqrt(fast.var)) / math.sqrt(rows)


@pytest.mark.parametrize("n", [3, 10])
def test_simulated_moments_match_exact_values(n: int) -> None:
    """E[Sigma_k] = sigma0 alpha(n)^k and E[Sigma_k^{2s}] = sigma0^{2s} beta_s(n)^k within 4 SE."""
    rows, sigma0 = 20000, 1.5
    results = simulate_gaussian(n, 0.0, sigma0, 0.1, 30, rows, seed=3)
    sig = results.per_trajectory("sigma")
    assert sig.shape == (rows, 31) and np.all(sig[:, 0] == sigma0)
    for k in (1, 5, 10, 20, 30):
        assert results.generations[k]["sigma_mean"] == pytest.approx(sig[:, k].mean(), rel=1e-12)
        assert abs(sig[:, k].mean() - expected_sigma(k, n, sigma0)) < 4 * sig[:, k].std() / math.sqrt(rows)
        moment = sig[:, k] ** 0.7
        exact = sigma0**0.7 * math.exp(k * log_beta(0.35, n))
        assert abs(moment.mean() - exact) < 4 * moment.std() / math.sqrt(rows)


def test_alpha_and_log_beta_against_scipy() -> None:
    ns = np.arange(2, 1001)
    exact = np.sqrt(2 / (ns - 1)) * np.exp(gammaln(ns / 2) - gammaln((ns - 1) / 2))
    ours = np.array([alpha(int(n)) for n in ns])
    assert ours == pytest.approx(exact, rel=1e-10)  # lgamma differences at n ~ 1000 lose ~4 digits
    assert np.all(ours <= np.exp(-1 / (4 * ns - 1)))
    assert math.exp(log_beta(0.5, 10)) == pytest.approx(alpha(10), rel=1e-14)
    s = np.array([0.1, 0.35, 2.0])
    assert np.exp(log_beta(s, 7)) == pytest.approx(np.exp(gammaln(s + 3) - gammaln(3)) / 3.0**s, rel=1e-12)
    with pytest.raises(ValueError):
        alpha(1)


def test_bounds_order_and_values() -> None:
    k = np.arange(0, 501)
    n, sigma0, eps = 10, 1.0, 0.1
    paper, bertrand, best = theorem3_bound(k, n, sigma0, eps), bertrand_bound(k, n, sigma0, eps), best_fractional_bound(k, n, sigma0, eps)
    assert paper[0] == bertrand[0] == 10.0 and paper[40] == pytest.approx(10 * math.exp(-40 / 39))
    assert theorem4_bound(40, n, sigma0, eps) == pytest.approx(10 * math.exp(-1))
    assert np.all(bertrand <= paper * (1 + 1e-12))
    assert np.all(bertrand == pytest.approx(fractional_moment_bound(k, n, sigma0, eps, s=0.5), rel=1e-12))
    assert np.all(best <= fractional_moment_bound(k, n, sigma0, eps, 0.35) * (1 + 1e-12))
    assert np.all(best <= bertrand * (1 + 1e-12)) and np.all(best <= 1 + 1e-15)
    assert best[200] < 0.8 * bertrand[200]  # strictly tighter where it matters
    grid = np.linspace(0, 4, 40001)
    brute = np.exp(np.min(2 * grid[:, None] * math.log(sigma0 / eps) + k * log_beta(grid, n)[:, None], axis=0))
    assert np.all(best <= brute * (1 + 1e-12)) and best == pytest.approx(brute, rel=1e-5)
    assert best_fractional_bound(np.array([[3, 4]]), n, 1.0, 2.0).shape == (1, 2)


def within_mc_error(p: np.ndarray, bound: np.ndarray, trajectories: int) -> bool:
    """p is never above the bound by more than 4 standard errors of a proportion equal to the bound."""
    b = np.minimum(bound, 1.0)
    return bool(np.all(p <= b + 4 * np.sqrt(b * (1 - b) / trajectories) + 1e-12))


@pytest.mark.parametrize("n, sigma0, eps, generations, trajectories", [(10, 1.0, 0.1, 200, 1000), (3, 1.0, 0.5, 100, 20000), (2, 1.0, 0.8, 50, 20000)])
def test_gaussian_probability_never_above_bounds(n: int, sigma0: float, eps: float, generations: int, trajectories: int) -> None:
    rows = simulate_gaussian(n, 0.0, sigma0, eps, generations, trajectories, seed=4).generations
    p = np.array([r["prob_above_eps"] for r in rows])
    assert p[0] > 0.4 and p[-1] < p[0]
    for key in ("bound_paper", "bound_bertrand", "bound_best"):
        assert within_mc_error(p, np.array([r[key] for r in rows]), trajectories), key


@pytest.mark.parametrize("estimator", ["approx-ml", "joint-ml"])
@pytest.mark.parametrize("n, mu0, eps, trajectories", [(10, 1.0, 0.1, 500), (10, 0.0, 0.5, 2000), (5, 1.0, 0.5, 4000)])
def test_gmm_probability_never_above_theorem4(estimator: str, n: int, mu0: float, eps: float, trajectories: int) -> None:
    """Theorem 4 is proved for approx-ml; the paper's Figure 13 shows joint ML below it too."""
    rows = simulate_gmm(n, mu0, 1.0, eps, 100, trajectories, estimator, seed=5).generations
    p = np.array([r["prob_above_eps"] for r in rows])
    assert p[0] > 0.3
    assert within_mc_error(p, np.array([r["bound_paper"] for r in rows]), trajectories)


def test_results_format_and_determinism() -> None:
    results = simulate_gaussian(10, 0.0, 1.0, 0.1, 5, 50, seed=6)
    assert results.kind == "gaussian"
    assert results.config == {"n": 10, "mu0": 0.0, "sigma0": 1.0, "eps": 0.1, "generations": 5, "trajectories": 50, "seed": 6}
    rows = results.generations
    assert [r["generation"] for r in rows] == [0, 1, 2, 3, 4, 5]
    assert set(rows[0]) == {"generation", "prob_above_eps", "stderr", "sigma_mean", "bound_paper", "bound_bertrand", "bound_best"}
    assert rows[0]["prob_above_eps"] == 1.0 and rows[0]["sigma_mean"] == 1.0
    sigma = results.per_trajectory("sigma")
    p = rows[3]["prob_above_eps"]
    assert p == np.mean(sigma[:, 3] > 0.1)
    assert rows[3]["stderr"] == pytest.approx(np.std(sigma[:, 3] > 0.1, ddof=1) / math.sqrt(50))
    json.dumps(results.summary(), allow_nan=False)
    again = simulate_gaussian(10, 0.0, 1.0, 0.1, 5, 50, seed=6)
    assert np.array_equal(again.per_trajectory("sigma"), sigma) and np.array_equal(again.per_trajectory("mu"), results.per_trajectory("mu"))
    gmm = simulate_gmm(10, 1.0, 1.0, 0.1, 3, 20, "approx-ml", seed=6)
    assert gmm.kind == "gmm" and gmm.config["estimator"] == "approx-ml" and gmm.config["eta"] == 2.0
    assert set(gmm.generations[0]) == {"generation", "prob_above_eps", "stderr", "sigma_mean", "bound_paper"}
    assert [r["generation"] for r in simulate_gmm(10, 1.0, 1.0, 0.1, 0, 20, "joint-ml", seed=6).generations] == [0]


@pytest.mark.parametrize(
    "kwargs",
    [{"n": 1}, {"n": 2.5}, {"sigma0": 0.0}, {"sigma0": -1.0}, {"eps": 0.0}, {"trajectories": 0}, {"generations": -1}, {"mu0": math.nan}],
)
def test_invalid_parameters_raise_input_error(kwargs: dict) -> None:
    args = {"n": 10, "mu0": 0.0, "sigma0": 1.0, "eps": 0.1, "generations": 3, "trajectories": 5, "seed": 0} | kwargs
    with pytest.raises(InputError):
        simulate_gaussian(**args)
    with pytest.raises(InputError):
        simulate_gmm(**args, estimator="approx-ml")


def test_gmm_rejects_unknown_estimator_and_eta() -> None:
    with pytest.raises(InputError, match="estimator"):
        simulate_gmm(10, 1.0, 1.0, 0.1, 3, 5, "em", seed=0)
    with pytest.raises(InputError, match="eta"):
        simulate_gmm(10, 1.0, 1.0, 0.1, 3, 5, "approx-ml", seed=0, eta=1.0)
