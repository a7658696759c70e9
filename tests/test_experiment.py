"""Recursive n-gram runs against Corollaries 1 and 2 (Suresh et al. 2025) on WikiText-2 validation.

Tolerance: 4 standard errors of the mean over trajectories, at every generation.
"""
from __future__ import annotations

import numpy as np
import pytest

from ngram_collapse.errors import InputError
from ngram_collapse.experiment import run_experiment
from ngram_collapse.settings import RunSettings
from ngram_collapse.loop import recursive_training
from ngram_collapse.ngram import NgramModel
from ngram_collapse.vocab import Sequences
from helpers import mean_and_se

TRAJECTORIES = 24
GENERATIONS = 8


@pytest.fixture(scope="module")
def poisson_run(valid):
    return run_experiment(valid, order=1, generations=GENERATIONS, trajectories=TRAJECTORIES,
                          sampling="poisson", seed=7)


def test_unigram_poisson_sampling_matches_corollary2(poisson_run, valid):
    """Order 1, Poisson sampling: each word's count is an independent Poisson(previous count), so
    E[uniq_k] = sum_i 1 - exp(-c_i g_k) exactly."""
    result = poisson_run
    mean, se = mean_and_se(result.per_trajectory("distinct_words"))
    expected = result.column("expected")
    assert mean[0] == expected[0] == np.count_nonzero(valid.counts())
    z = (mean[1:] - expected[1:]) / se[1:]
    assert np.all(np.abs(z) < 4), z


def test_unigram_multinomial_sampling_inside_corollary1(valid):
    result = run_experiment(valid, order=1, generations=GENERATIONS, trajectories=TRAJECTORIES,
                            sampling="multinomial", seed=8)
    mean, se = mean_and_se(result.per_trajectory("distinct_words"))
    assert np.all(mean[1:] >= result.column("bound_lower")[1:] - 4 * se[1:])
    assert np.all(mean[1:] <= result.column("bound_upper")[1:] + 4 * se[1:])
    assert np.all(result.per_trajectory("distinct_words") <= result.generations[0]["distinct_mean"])


def test_the_check_can_fail(poisson_run, valid):
    """The Corollary 2 check rejects a process that forgets faster: here, one generation more."""
    result = poisson_run
    mean, se = mean_and_se(result.per_trajectory("distinct_words"))
    from ngram_collapse.bounds import corollary2_expected_distinct

    wrong = corollary2_expected_distinct(valid.counts(), np.arange(GENERATIONS + 1) + 1)
    assert np.any(np.abs(mean[1:] - wrong[1:]) / se[1:] > 4)


def test_multinomial_keeps_the_size_and_poisson_draws_it(valid):
    for sampling in ("multinomial", "poisson"):
        result = run_experiment(valid, order=2, generations=3, trajectories=2, sampling=sampling, seed=1)
        tokens = result.per_trajectory("tokens")
        assert np.all(tokens[:, 0] == valid.num_tokens)
        if sampling == "multinomial":
            assert np.all(tokens == valid.num_tokens)
        else:
            # N_k ~ Poisson(N_{k-1}) is a critical Galton-Watson process: Var N_k = k N_0
            k = np.arange(1, tokens.shape[1])
            assert np.all(np.abs(tokens[:, 1:] - valid.num_tokens) < 4 * np.sqrt(k * valid.num_tokens))
            assert len(np.unique(tokens[:, 1:])) > 1


def words(result):
    """words.csv's rows as (count (V,), forgotten_at (V, T) with -1 for survivors)."""
    rows = list(result.tables["words"].rows())
    t = result.config["trajectories"]
    counts = np.array([r[1] for r in rows[::t]])
    forgotten = np.array([-1 if r[3] == "" else r[3] for r in rows]).reshape(-1, t)
    return counts, forgotten


def test_words_once_forgotten_never_return_and_are_counted(valid):
    result = run_experiment(valid, order=3, generations=4, trajectories=2, seed=3)
    counts, forgotten = words(result)
    assert counts.sum() == valid.num_tokens
    for t, distinct in enumerate(result.per_trajectory("distinct_words")):
        assert np.all(np.diff(distinct) <= 0)
        assert np.count_nonzero(forgotten[:, t] == -1) == distinct[-1]
        for k in range(1, 5):
            assert np.count_nonzero(forgotten[:, t] == k) == distinct[k - 1] - distinct[k]


def test_results_do_not_depend_on_jobs(valid):
    a = run_experiment(valid, order=2, generations=2, trajectories=3, seed=5, jobs=1)
    b = run_experiment(valid, order=2, generations=2, trajectories=3, seed=5, jobs=2)
    assert a.generations == b.generations
    for name in a.trajectories:
        assert np.array_equal(a.trajectories[name], b.trajectories[name])
    assert list(a.tables["words"].rows()) == list(b.tables["words"].rows())


def test_seeds_in_numpys_forms(valid):
    """An int, its SeedSequence and a Generator seeded with it give the same run."""
    data = Sequences.encode(valid[:200])
    runs = [run_experiment(data, order=2, generations=2, trajectories=2, seed=s)
            for s in (11, np.random.SeedSequence(11), np.random.default_rng(11))]
    assert runs[0].generations == runs[1].generations == runs[2].generations
    assert runs[0].config["seed"] == 11


@pytest.mark.parametrize("parameters, name", [
    ({"order": 0}, "order"), ({"order": 65}, "order"), ({"generations": -1}, "generations"),
    ({"trajectories": 0}, "trajectories"), ({"sampling": "bogus"}, "sampling"), ({"seed": -1}, "seed"),
    ({"order": 2.5}, "order"),
])
def test_settings_are_validated_and_name_the_parameter(parameters, name):
    with pytest.raises(InputError) as e:
        RunSettings(**parameters)
    assert e.value.parameter == name and str(e.value).startswith(name)


def test_run_experiment_refuses_lists_before_any_work(small):
    with pytest.raises(TypeError, match="Sequences"):
        run_experiment(small, order=1)


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


def test_generation_progress_bar_only_when_asked_and_on_a_terminal(monkeypatch):
    """A bar (tqdm, with its rate) when asked for and stderr is a terminal; otherwise nothing is shown
    and tqdm is not needed, but the stand-in is used the same way."""
    import io
    import sys

    from ngram_collapse.progress import progress_bar

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    for enabled, stderr, shown in ((True, Terminal(), True), (False, Terminal(), False), (True, io.StringIO(), False)):
        monkeypatch.setattr(sys, "stderr", stderr)
        assert list(progress_bar(3, enabled, iter("abc"))) == ["a", "b", "c"]
        with progress_bar(1000, enabled, unit="word") as bar:
            bar.update(1000)
        assert ("word/s" in stderr.getvalue()) == shown
