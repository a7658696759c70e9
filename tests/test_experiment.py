"""Recursive n-gram runs against Corollaries 1 and 2 (Suresh et al. 2025) on WikiText-2 validation.

Tolerance: 4 standard errors of the mean over trajectories, at every generation.
"""
from __future__ import annotations

import numpy as np
import pytest

from ngram_collapse.experiment import run_experiment
from ngram_collapse.loop import recursive_training
from ngram_collapse.ngram import NgramModel

TRAJECTORIES = 24
GENERATIONS = 8


def mean_and_se(result):
    distinct = result.distinct_words().astype(float)
    return distinct.mean(0), distinct.std(0, ddof=1) / np.sqrt(distinct.shape[0])


@pytest.fixture(scope="module")
def poisson_run(valid):
    return run_experiment(valid, 1, generations=GENERATIONS, trajectories=TRAJECTORIES,
                          sampling="poisson", seed=7)


def test_unigram_poisson_sampling_matches_corollary2(poisson_run):
    """Order 1, Poisson sampling: each word's count is an independent Poisson(previous count), so
    E[uniq_k] = sum_i 1 - exp(-c_i g_k) exactly."""
    result = poisson_run
    mean, se = mean_and_se(result)
    expected = result.theory()["expected"]
    assert mean[0] == expected[0] == result.vocab_size
    z = (mean[1:] - expected[1:]) / se[1:]
    assert np.all(np.abs(z) < 4), z


def test_unigram_multinomial_sampling_inside_corollary1(valid):
    result = run_experiment(valid, 1, generations=GENERATIONS, trajectories=TRAJECTORIES,
                            sampling="multinomial", seed=8)
    mean, se = mean_and_se(result)
    theory = result.theory()
    assert np.all(mean[1:] >= theory["bound_lower"][1:] - 4 * se[1:])
    assert np.all(mean[1:] <= theory["bound_upper"][1:] + 4 * se[1:])
    assert np.all(result.distinct_words()[:, :] <= result.vocab_size)


def test_the_check_can_fail(poisson_run):
    """The Corollary 2 check rejects a process that forgets faster: here, one generation more."""
    result = poisson_run
    mean, se = mean_and_se(result)
    from ngram_collapse.bounds import corollary2_expected_distinct

    wrong = corollary2_expected_distinct(result.counts, np.arange(GENERATIONS + 1) + 1)
    assert np.any(np.abs(mean[1:] - wrong[1:]) / se[1:] > 4)


def test_multinomial_keeps_the_size_and_poisson_draws_it(valid):
    for sampling in ("multinomial", "poisson"):
        result = run_experiment(valid, 2, generations=3, trajectories=2, sampling=sampling, seed=1)
        tokens = np.stack([t.tokens for t in result.trajectories])
        assert np.all(tokens[:, 0] == valid.num_tokens)
        if sampling == "multinomial":
            assert np.all(tokens == valid.num_tokens)
        else:
            # N_k ~ Poisson(N_{k-1}) is a critical Galton-Watson process: Var N_k = k N_0
            k = np.arange(1, tokens.shape[1])
            assert np.all(np.abs(tokens[:, 1:] - valid.num_tokens) < 4 * np.sqrt(k * valid.num_tokens))
            assert len(np.unique(tokens[:, 1:])) > 1


def test_words_once_forgotten_never_return_and_are_counted(valid):
    result = run_experiment(valid, 3, generations=4, trajectories=2, seed=3)
    for t in result.trajectories:
        assert np.all(np.diff(t.distinct_words) <= 0)
        alive_at_end = np.count_nonzero((t.forgotten_at == -1) & (result.counts > 0))
        assert alive_at_end == t.distinct_words[-1]
        for k in range(1, 5):
            assert np.count_nonzero(t.forgotten_at == k) == t.distinct_words[k - 1] - t.distinct_words[k]


def test_results_do_not_depend_on_jobs(valid):
    a = run_experiment(valid, 2, generations=2, trajectories=3, seed=5, jobs=1)
    b = run_experiment(valid, 2, generations=2, trajectories=3, seed=5, jobs=2)
    assert a.generation_rows() == b.generation_rows()
    for ta, tb in zip(a.trajectories, b.trajectories):
        assert np.array_equal(ta.forgotten_at, tb.forgotten_at)


def test_loop_yields_every_generation_and_leaves_the_model_alone(small):
    model = NgramModel(2).fit(small)
    ngrams = model.ngrams
    gens = list(recursive_training(model, model.data, model.data.num_tokens, 3,
                                   np.random.default_rng(0), "multinomial"))
    assert [g.k for g in gens] == [0, 1, 2, 3]
    assert gens[0].model is model and model.ngrams is ngrams
    assert all(g.data.num_tokens == model.data.num_tokens for g in gens)
    with pytest.raises(ValueError):
        next(recursive_training(model, model.data, 1, -1, np.random.default_rng(0)))
