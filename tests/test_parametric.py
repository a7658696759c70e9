"""Parametric models on the shared loop, and the simulations against exact theory (4 standard errors)."""
import numpy as np
import pytest
from scipy.stats import binomtest, norm

from ngram_collapse import bounds
from ngram_collapse.errors import InputError
from ngram_collapse.loop import recursive_training
from ngram_collapse.parametric import Bernoulli, Categorical, Counts, Poisson, zipf_mandelbrot
from ngram_collapse.simulate import SIMULATIONS, simulate


FOUR_SIGMA = 2 * norm.sf(4)  # two-sided tail probability of 4 standard errors


def worst_z(summary, exact=None):
    """Largest |simulated - exact| in units of the standard error of a mean of T draws.

    For indicator measurements the standard error is the binomial one of the exact probability,
    sqrt(p (1 - p) / T), which is not 0 where the simulation happens to be 0 or 1. Where fewer than
    10 events (or non-events) are expected the normal approximation fails - one extinction among
    5,000 trajectories is then many "standard errors" away - so there the exact binomial test at the
    same level as 4 standard errors decides, and a generation that passes it counts as z = 0.
    """
    rows = summary.generations
    trajectories = summary.config["trajectories"]
    sim = np.array([r["survival"] for r in rows])
    exact = np.array([r["exact"] for r in rows]) if exact is None else exact
    expected = trajectories * np.minimum(exact, 1 - exact)
    z = np.zeros(len(rows))
    for i in range(len(rows)):
        if expected[i] >= 10:
            z[i] = abs(sim[i] - exact[i]) / np.sqrt(exact[i] * (1 - exact[i]) / trajectories)
        else:
            observed = round(sim[i] * trajectories)
            z[i] = 0.0 if binomtest(observed, trajectories, exact[i]).pvalue > FOUR_SIGMA else np.inf
    return z.max()


def test_models_fit_by_rebinding_and_sample_shapes():
    rng = np.random.default_rng(0)
    for model, data in [(Bernoulli(np.full(4, 0.3)), Counts(np.array([1, 2, 3, 4]), 10)),
                        (Poisson(np.full(4, 2.0)), Counts(np.array([1, 2, 3, 4]), 10)),
                        (Categorical(np.full((4, 3), 1 / 3)), Counts(np.array([[1, 2, 7]] * 4), np.full(4, 10)))]:
        before = next(iter(vars(model).values()))
        fitted = model.fit(data)
        assert fitted is model
        after = next(iter(vars(model).values()))
        assert after is not before and np.all(before == before[(0,) * before.ndim])  # old array untouched
        new = model.sample(data.size, rng)
        assert new.counts.shape == data.counts.shape


def test_fits_are_maximum_likelihood():
    assert np.allclose(Bernoulli([0.0]).fit(Counts(np.array([3, 0]), 12)).p, [0.25, 0.0])
    assert np.allclose(Poisson([0.0]).fit(Counts(np.array([30]), 12)).lam, [2.5])
    cat = Categorical([[1.0]]).fit(Counts(np.array([[1, 3], [0, 0]]), np.array([4, 0])))
    assert np.allclose(cat.p, [[0.25, 0.75], [0.0, 0.0]])  # an emptied trajectory stays empty


def test_loop_runs_batches_and_keeps_generation_zero():
    model = Bernoulli(np.full(100, 0.5))
    gens = list(recursive_training(model, Counts(np.full(100, 5.0), 10), 10, 3, np.random.default_rng(1)))
    assert [g.k for g in gens] == [0, 1, 2, 3]
    assert np.all(gens[0].model.p == 0.5)
    assert np.allclose(gens[3].model.p, gens[3].data.counts / 10)


def test_zipf_mandelbrot():
    p = zipf_mandelbrot(1000, 1.0, 2.7)
    assert p.sum() == pytest.approx(1.0) and np.all(np.diff(p) < 0)
    assert p[0] / p[1] == pytest.approx((2 + 2.7) / (1 + 2.7))


@pytest.mark.parametrize("p0, n, both_sides", [(0.01, 100, False), (0.001, 10_000, False),
                                               (0.2, 10, True), (0.05, 100, True)])
def test_bernoulli_simulation_matches_exact_chain(p0, n, both_sides):
    summary = simulate("bernoulli", generations=50, trajectories=5000, seed=3, p0=p0, n=n, both_sides=both_sides)
    assert worst_z(summary) < 4
    exact = 1 - bounds.bernoulli_absorption_exact(p0, n, np.arange(51), both_sides=both_sides)
    assert np.allclose(summary.column("exact"), exact)


def test_the_four_standard_error_check_detects_a_wrong_parameter():
    # the same simulation compared with the exact curve of a slightly different p0 must fail
    summary = simulate("bernoulli", generations=50, trajectories=5000, seed=3, p0=0.01, n=100)
    wrong = 1 - bounds.bernoulli_absorption_exact(0.012, 100, np.arange(51))
    assert worst_z(summary, wrong) > 4


@pytest.mark.parametrize("lam0", [1.0, 10.0])
def test_poisson_simulation_matches_theorem2(lam0):
    summary = simulate("poisson", generations=500, trajectories=5000, seed=4, lam0=lam0, n=10)
    assert worst_z(summary) < 4
    assert np.allclose(summary.column("exact"), bounds.theorem2_survival(lam0, 10, np.arange(501)))


@pytest.mark.parametrize("sampling", ["multinomial", "poisson"])
def test_zipf_simulation_matches_exact_expected_distinct(sampling):
    summary = simulate("zipf", generations=10, trajectories=200, seed=5, sampling=sampling)
    rows = summary.generations
    sim, exact, se = summary.column("survival"), summary.column("exact"), summary.column("stderr")
    assert sim[0] == exact[0] == 1 and se[0] == 0  # generation 0: every symbol of the original sample
    assert np.all(se[1:] > 0)
    assert np.max(np.abs(sim[1:] - exact[1:]) / se[1:]) < 4
    if sampling == "multinomial":
        assert all(r["bound_lower"] <= r["exact"] <= r["bound_upper"] for r in rows)


def test_simulate_is_deterministic_per_seed():
    a = simulate("poisson", generations=20, trajectories=300, seed=7)
    again = simulate("poisson", generations=20, trajectories=300, seed=7)
    assert a.generations == again.generations and np.array_equal(a.trajectories["count"], again.trajectories["count"])
    assert a.generations != simulate("poisson", generations=20, trajectories=300, seed=8).generations


def test_results_layout():
    s = simulate("bernoulli", generations=3, trajectories=10, both_sides=True)
    assert s.kind == "bernoulli" and [r["generation"] for r in s.generations] == [0, 1, 2, 3]
    assert set(s.generations[0]) == {"generation", "survival", "stderr", "bound_lower", "bound_upper",
                                     "exact", "seddik_lower", "seddik_upper"}
    assert s.per_trajectory("count").shape == (10, 4) and np.all(s.per_trajectory("count")[:, 0] == 1)
    assert [r["generation"] for r in simulate("bernoulli", generations=0, trajectories=10).generations] == [0]
    assert simulate("poisson", generations=2, trajectories=1).generations[1]["stderr"] is None
    zipf = simulate("zipf", generations=2, trajectories=3)
    assert zipf.generations[0]["distinct_mean"] == zipf.per_trajectory("distinct_words")[0, 0]
    assert np.all(zipf.per_trajectory("tokens") == zipf.config["n"])


@pytest.mark.parametrize("model, options", [
    ("bernoulli", {"p0": 1.5}), ("bernoulli", {"p0": -0.1}), ("bernoulli", {"n": 0}),
    ("poisson", {"lam0": -1.0}), ("zipf", {"m": 0}), ("zipf", {"b": -1.0}), ("zipf", {"sampling": "x"}),
    ("poisson", {"generations": -1}), ("poisson", {"trajectories": 0}), ("poisson", {"nope": 1}),
    ("gaussian-typo", {}),
])
def test_impossible_parameters_raise_input_error(model, options):
    with pytest.raises(InputError):
        simulate(model, **options)


def test_registry_lists_the_three_models():
    assert {"bernoulli", "poisson", "zipf"} <= set(SIMULATIONS)
