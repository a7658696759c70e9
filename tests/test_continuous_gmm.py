"""joint_ml against scipy references, approx_ml against Algorithm 1 worked by hand, the GMM model."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import brentq, fsolve

from ngram_collapse.continuous.gmm import SymmetricGMM, approx_kappa, approx_ml, joint_ml


def mixture(rng: np.random.Generator, mu: float, sigma: float, rows: int, n: int) -> np.ndarray:
    return np.where(rng.random((rows, n)) < 0.5, mu, -mu) + sigma * rng.standard_normal((rows, n))


def h(t: float | np.ndarray, x: np.ndarray) -> float:
    """h(t) = sum_i x_i tanh(t x_i / (m2 - t^2)) - n t (FORMULAS.md, symmetric Gaussian mixture)."""
    t = float(np.ravel(t)[0])
    m2 = float(np.mean(x * x))
    return float(np.sum(x * np.tanh(t * x / (m2 - t * t))) - x.size * t)


def loglik(x: np.ndarray, mu: float, sigma: float) -> float:
    """Log-likelihood of the symmetric mixture, computed directly."""
    z = -0.5 * np.log(2 * np.pi * sigma**2)
    return float(np.sum(np.logaddexp(z - (x - mu) ** 2 / (2 * sigma**2), z - (x + mu) ** 2 / (2 * sigma**2)) - np.log(2)))


@pytest.mark.parametrize("mu0", [0.3, 0.7, 1.0, 2.0])
def test_joint_ml_equals_fsolve_started_at_true_mean(mu0: float) -> None:
    rng = np.random.default_rng(int(mu0 * 10))
    x = mixture(rng, mu0, 1.0, 400, 10)
    mu, sigma = joint_ml(x)
    nonzero = 0
    for row, m, s in zip(x, mu, sigma):
        m2 = float(np.mean(row * row))
        root, _, ier, _ = fsolve(h, mu0, args=(row,), full_output=True, xtol=1e-12)
        r = abs(float(root[0]))
        if ier != 1 or r >= math.sqrt(m2):
            continue
        if r > 1e-6 * math.sqrt(m2):
            nonzero += 1
            assert m == pytest.approx(r, rel=1e-8)
            assert s == pytest.approx(math.sqrt(m2 - r * r), rel=1e-8)
        else:  # fsolve fell into the trivial root t = 0: ours is 0 or a better maximum
            assert m == 0 or (abs(h(m, row)) < 1e-9 and loglik(row, m, s) >= loglik(row, 0.0, math.sqrt(m2)))
    assert nonzero >= 20  # fsolve falls into t = 0 for most samples when mu0 is small


def test_joint_ml_near_zero_roots() -> None:
    """Samples with kurtosis just below 3 (m4 < 3 m2^2): h ~ c t^3 near 0 and the root is close to 0."""
    rng = np.random.default_rng(5)
    x = mixture(rng, 0.3, 1.0, 20000, 10)
    m2, m4 = np.mean(x**2, axis=1), np.mean(x**4, axis=1)
    x = x[np.abs(1 - m4 / (3 * m2**2)) < 0.01][:40]
    assert len(x) >= 20
    mu, _ = joint_ml(x)
    small = 0
    for row, m in zip(x, mu):
        m2 = float(np.mean(row * row))
        ts = math.sqrt(m2) * np.geomspace(1e-6, 1 - 1e-9, 20000)
        hs = np.array([h(t, row) for t in ts])
        down = np.nonzero((hs[:-1] > 0) & (hs[1:] <= 0))[0]
        if down.size == 0:
            assert m == 0
            continue
        ref = brentq(h, ts[down[0]], ts[down[0] + 1], args=(row,), xtol=1e-15, rtol=1e-13)
        assert m == pytest.approx(ref, rel=1e-8)
        small += ref < 0.3 * math.sqrt(m2)
    assert small >= 10


def test_joint_ml_without_positive_root_fits_one_gaussian() -> None:
    """Heavy-tailed samples (m4 > 3 m2^2) where h < 0 on all of (0, sqrt(m2)): mu = 0, sigma^2 = m2."""
    rng = np.random.default_rng(6)
    x = rng.standard_t(3, size=(2000, 10))
    m2, m4 = np.mean(x**2, axis=1), np.mean(x**4, axis=1)
    x = x[m4 > 3.3 * m2**2][:60]
    mu, sigma = joint_ml(x)
    checked = 0
    for row, m, s in zip(x, mu, sigma):
        m2 = float(np.mean(row * row))
        ts = math.sqrt(m2) * np.linspace(0, 1, 4001)[1:-1]
        if all(h(t, row) < 0 for t in ts):
            checked += 1
            assert m == 0.0 and s == pytest.approx(math.sqrt(m2), rel=1e-14)
            root = abs(float(fsolve(h, 0.5 * math.sqrt(m2), args=(row,), full_output=True)[0][0]))
            assert root < 1e-4 * math.sqrt(m2)  # fsolve too ends at the trivial root
    assert checked >= 40


def test_joint_ml_is_a_maximum_of_the_likelihood() -> None:
    rng = np.random.default_rng(7)
    x = mixture(rng, 1.0, 1.0, 200, 10)
    mu, sigma = joint_ml(x)
    for row, m, s in zip(x, mu, sigma):
        best = loglik(row, m, s)
        for dm, ds in [(1e-4, 0), (-1e-4, 0), (0, 1e-4), (0, -1e-4)]:
            if m + dm >= 0:
                assert loglik(row, m + dm, s + ds) <= best + 1e-12


def test_joint_ml_shapes_and_edge_cases() -> None:
    rng = np.random.default_rng(8)
    x = mixture(rng, 1.0, 1.0, 5, 10)
    mu, sigma = joint_ml(x)
    assert mu.shape == sigma.shape == (5,)
    m0, s0 = joint_ml(x[2])
    assert np.ndim(m0) == 0 and m0 == mu[2] and s0 == sigma[2]
    assert joint_ml(np.zeros(4)) == (0.0, 0.0)
    m, s = joint_ml(np.array([1.5, -1.5, 1.5, 1.5]))
    assert m == pytest.approx(1.5) and s == pytest.approx(0.0, abs=1e-6)
    assert joint_ml(2 * x)[0] == pytest.approx(2 * mu, rel=1e-10)


def test_approx_ml_hand_worked_cases() -> None:
    # x = (1, -1, 2, -2), n = 4, eta = 2: m1 = 3/2, m2 = 5/2, s2 = 1/4.
    # kappa = exp(1 * (3/2 + 8) / (2 * 3 * 11)) - 1 = exp(19/132) - 1 = 0.15482...
    # (1 + kappa) m1^2 = 2.598 >= m2, so a = 50; m2 = 2.5 <= (100/48) * 9/4 = 4.6875, so
    # sigma^2 = 50 * 5/2 * 1/4 / (50 * 9/4 + 5) = 31.25 / 117.5 = 25/94, mu^2 = 5/2 - 25/94 = 105/47.
    assert approx_kappa(4, 2.0) == pytest.approx(math.exp(19 / 132) - 1, rel=1e-15)
    mu, sigma = approx_ml(np.array([1.0, -1.0, 2.0, -2.0]))
    assert sigma == pytest.approx(math.sqrt(25 / 94), rel=1e-13)
    assert mu == pytest.approx(math.sqrt(105 / 47), rel=1e-13)

    # x = (0, 0, 3, -1), n = 4, eta = 2: m1 = 1, m2 = 5/2, s2 = 3/2; m2 > (1 + kappa) m1^2, so
    # a = 2 (1+kappa) (5/2) / (5/2 - (1+kappa)) = 4.29240...; 2a/(a-2) = 3.7449 >= 5/2, so
    # sigma^2 = a (5/2)(3/2) / (a + 5) = 1.73222..., mu = sqrt(5/2 - sigma^2) = 0.87623...
    c = math.exp(19 / 132)
    a = 5 * c / (2.5 - c)
    assert a == pytest.approx(4.29240, abs=1e-5)
    mu, sigma = approx_ml(np.array([0.0, 0.0, 3.0, -1.0]))
    assert sigma**2 == pytest.approx(3.75 * a / (a + 5), rel=1e-13)
    assert sigma**2 == pytest.approx(1.73222, abs=1e-5)
    assert mu == pytest.approx(0.87623, abs=1e-5)

    # x = (0, 0, 3), n = 3, eta = 50: kappa = exp(49 * 201 / (50 * 2 * 202)) - 1 = 0.62836;
    # m1 = 1, m2 = 3 > (1+kappa) so a = 2 (1.62836)(3) / (3 - 1.62836) = 7.1230; 2a/(a-2) = 2.7808 < 3,
    # so sigma^2 = m2 = 3 and mu = 0.
    assert approx_kappa(3, 50.0) == pytest.approx(math.exp(9849 / 20200) - 1, rel=1e-15)
    mu, sigma = approx_ml(np.array([0.0, 0.0, 3.0]), eta=50.0)
    assert mu == 0.0 and sigma == pytest.approx(math.sqrt(3), rel=1e-15)


def test_approx_ml_batch_matches_rows_and_is_close_to_joint_ml() -> None:
    """Figure 11/12's setting (n = 10, mu0 = 2, sigma0 = 1). Both estimators fit the sample's second
    moment exactly (mu^2 + sigma^2 = m2), and Algorithm 1 stays close to joint ML: the mean absolute
    difference of mu and of sigma is below 0.1 by at least 4 standard errors."""
    rng = np.random.default_rng(9)
    x = mixture(rng, 2.0, 1.0, 2000, 10)
    mu, sigma = approx_ml(x)
    for i in (0, 17, 1999):
        assert approx_ml(x[i]) == (mu[i], sigma[i])
    jm, js = joint_ml(x)
    m2 = np.mean(x * x, axis=1)
    np.testing.assert_allclose(mu**2 + sigma**2, m2, rtol=1e-12)
    np.testing.assert_allclose(jm**2 + js**2, m2, rtol=1e-12)
    for diff in (np.abs(mu - jm), np.abs(sigma - js)):
        assert diff.mean() + 4 * diff.std() / math.sqrt(diff.size) < 0.1
    with pytest.raises(ValueError):
        approx_ml(x, eta=1.0)


@pytest.mark.parametrize("estimator", ["joint-ml", "approx-ml"])
def test_gmm_model_samples_the_mixture_and_refits(estimator: str) -> None:
    rng = np.random.default_rng(10)
    model = SymmetricGMM(np.full(4000, 2.0), np.full(4000, 0.5), estimator)
    x = model.sample(10, rng)
    assert x.shape == (4000, 10)
    # |x| is |N(2, 0.5^2)| (folded normal): E|x| = mu (1 - 2 Phi(-mu/s)) + s sqrt(2/pi) exp(-mu^2 / (2 s^2))
    folded_mean = 2.0 * math.erf(4.0 / math.sqrt(2)) + 0.5 * math.sqrt(2 / math.pi) * math.exp(-8.0)
    assert abs(np.mean(np.abs(x)) - folded_mean) < 4 * math.sqrt(np.var(np.abs(x)) / x.size)
    assert abs(np.mean(x)) < 4 * math.sqrt(np.var(x) / x.size)
    fitted = SymmetricGMM(model.mu, model.sigma, estimator).fit(x)
    assert model.mu[0] == 2.0  # the refit rebinds, never mutates
    expected = joint_ml(x) if estimator == "joint-ml" else approx_ml(x, model.eta)
    np.testing.assert_array_equal(fitted.mu, expected[0])
    np.testing.assert_array_equal(fitted.sigma, expected[1])
    with pytest.raises(ValueError):
        SymmetricGMM([1.0], [1.0], "em")
