"""Collapse regimes: workflows and decoding, against the theory of docs/theory.md §12.

Statistical tolerance: 4 standard errors of the mean over trajectories (binomial for survival
indicators of the parametric models), fixed seeds.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from ngram_collapse import bounds, cli, regimes
from ngram_collapse.decoding import Decoding, transform
from ngram_collapse.experiment import run_experiment
from ngram_collapse.simulate import simulate
from helpers import mean_and_se


def z_scores(run, key):
    mean, se = mean_and_se(run.per_trajectory("distinct_words"))
    return (mean[1:] - run.column(key)[1:]) / se[1:]


def test_closed_form_at_zero_is_corollary2(valid):
    counts, k = valid.counts(), np.arange(30)
    np.testing.assert_allclose(regimes.mix_fresh_expected_distinct(counts, k, 0.0),
                               bounds.corollary2_expected_distinct(counts, k), rtol=1e-12)
    np.testing.assert_allclose(regimes.mix_fixed_expected_distinct(counts, counts, k, 0.0),
                               bounds.corollary2_expected_distinct(counts, k), rtol=1e-12)
    np.testing.assert_allclose(regimes.mix_fresh_rate(k[1:], 0.0), bounds.g_k(k[1:]), rtol=1e-12)
    assert np.all(regimes.mix_fresh_rate(k[1:], 1.0) == 1.0)
    assert regimes.mix_fresh_survival(1.0, k, 0.0) == pytest.approx(bounds.theorem2_survival(0.1, 10, k), rel=1e-12)


def test_mix_fresh_matches_the_closed_form_on_wikitext(valid):
    """Done-when: order 1, Poisson sampling, mix-fresh with L = 0.1, 20 generations x 10 trajectories on
    wikitext-2:valid: the mean distinct words is within 4 standard errors of the closed form at every
    generation; and the check can fail: the closed form of L = 0.2 is rejected."""
    run = run_experiment(valid, order=1, generations=20, trajectories=10, sampling="poisson", seed=5,
                         workflow="mix-fresh", real_fraction=0.1)
    assert np.abs(z_scores(run, "expected")).max() < 4
    wrong = regimes.mix_fresh_expected_distinct(valid.counts(), np.arange(21), 0.2)
    distinct = run.per_trajectory("distinct_words").astype(float)
    se = distinct.std(0, ddof=1)[1:] / np.sqrt(10)
    assert np.abs((distinct.mean(0)[1:] - wrong[1:]) / se).max() > 4


def test_multinomial_mix_fresh_above_its_lower_bound():
    run = simulate("zipf", generations=10, trajectories=400, seed=2, workflow="mix-fresh", real_fraction=0.3)
    survival, lower, se = run.column("survival"), run.column("bound_lower"), run.column("stderr")
    assert np.all(survival[1:] >= lower[1:] - 4 * se[1:])


def test_poisson_model_mix_fresh_is_exact():
    run = simulate("poisson", generations=30, trajectories=20000, seed=3, lam0=0.1, n=10, workflow="mix-fresh",
                   real_fraction=0.2)
    exact = run.column("exact")
    se = np.sqrt(exact * (1 - exact) / 20000)
    assert np.abs(run.column("survival")[1:] - exact[1:]).max() < 4 * se[1:].max()


def test_bernoulli_mix_fresh_above_its_lower_bound():
    run = simulate("bernoulli", generations=30, trajectories=20000, seed=4, p0=0.01, n=100, workflow="mix-fresh",
                   real_fraction=0.2)
    lower = run.column("bound_lower")
    se = np.sqrt(lower * (1 - lower) / 20000)
    assert np.all(run.column("survival")[1:] >= lower[1:] - 4 * se[1:])


def test_mix_fixed_matches_the_closed_form(valid):
    """Poisson sampling: a categorical model (every token a unit) and an order-1 model of WikiText
    (every sequence a unit) against sum_i 1 - (1 - L)^{s_i} (1 - u_k)^{c_i}."""
    zipf = simulate("zipf", generations=10, trajectories=400, seed=6, sampling="poisson", workflow="mix-fixed",
                    real_fraction=0.3)
    z = (zipf.column("survival") - zipf.column("exact"))[1:] / zipf.column("stderr")[1:]
    assert np.abs(z).max() < 4
    run = run_experiment(valid, order=1, generations=10, trajectories=10, sampling="poisson", seed=7,
                         workflow="mix-fixed", real_fraction=0.3)
    assert np.abs(z_scores(run, "expected")).max() < 4


def test_accumulate_never_loses_a_word(valid):
    data = valid
    run = run_experiment(data, order=2, generations=4, trajectories=2, seed=8, workflow="accumulate")
    m = np.count_nonzero(data.counts())
    assert np.all(run.per_trajectory("distinct_words") == m)
    assert np.all(run.column("expected") == m)
    sample = run.per_trajectory("sample_distinct_words")
    assert np.all(sample[:, 0] == m) and np.all(sample[:, 1:] < m)  # each sample alone forgets
    assert np.all(run.per_trajectory("tokens") == data.num_tokens * (np.arange(5) + 1))
    assert all(row[3] == "" for row in run.tables["words"].rows())
    sub = run_experiment(data, order=2, generations=3, trajectories=2, seed=8, workflow="accumulate-subsample")
    assert np.all(sub.per_trajectory("tokens") == data.num_tokens) and "expected" not in sub.generations[0]


def test_replace_reports_the_new_metrics(valid):
    run = run_experiment(valid, order=1, generations=3, trajectories=2, seed=9)
    np.testing.assert_array_equal(run.per_trajectory("sample_distinct_words"), run.per_trajectory("distinct_words"))
    assert np.all(run.per_trajectory("tv_from_original")[:, 0] == 0)
    assert np.all(np.diff(run.per_trajectory("entropy_bits"), axis=1) < 0)  # forgetting lowers the entropy
    p = valid.counts()[valid.counts() > 0] / valid.num_tokens
    assert run.per_trajectory("entropy_bits")[0, 0] == pytest.approx(-(p * np.log2(p)).sum(), rel=1e-12)


def _reference(row, decoding):
    """The decoding rule of docs/theory.md §12.4, one row at a time, in plain Python."""
    w = [x ** (1 / decoding.temperature) if x > 0 else 0.0 for x in row]
    ranked = sorted((i for i in range(len(w)) if w[i] > 0), key=lambda i: (-w[i], i))
    if decoding.top_k is not None:
        ranked = ranked[:decoding.top_k]
    kept, mass, total = [], 0.0, sum(w[i] for i in ranked)
    for i in ranked:
        if decoding.top_p is not None and mass >= decoding.top_p * total:
            break
        kept.append(i)
        mass += w[i]
    out = [0.0] * len(w)
    for i in kept:
        out[i] = w[i] / sum(w[j] for j in kept)
    return out


@pytest.mark.parametrize("decoding", [Decoding(0.5), Decoding(top_k=3), Decoding(top_p=0.8), Decoding(2.0, 4, 0.6),
                                      Decoding(top_p=0.5)])
def test_decoding_transform_reference(decoding):
    rng = np.random.default_rng(0)
    rows = rng.integers(0, 6, size=(50, 12)).astype(float)  # many ties and zeros
    rows[0] = [4, 4, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0]  # top-p 0.5 stops exactly at the first 4
    got = transform(rows, decoding)
    for row, out in zip(rows, got):
        np.testing.assert_allclose(out, _reference(row, decoding), atol=1e-12)


def test_zipf_decoding_against_its_limits():
    run = simulate("zipf", generations=5, trajectories=50, seed=1, top_k=20)
    present = run.generations[0]["distinct_mean"]
    assert np.all(run.per_trajectory("distinct_words")[:, 1:] <= 20)
    assert np.all(run.column("support_limit")[1:] == 20 / present)
    p = np.array([0.5, 0.3, 0.1, 0.1])
    assert list(regimes.truncation_support(p, Decoding(top_p=0.6), np.arange(4))) == [4, 2, 1, 1]
    assert regimes.tempered_exponent(1.5, 0.5, 3) == pytest.approx(12.0)
    tempered = simulate("zipf", generations=3, trajectories=20, seed=1, temperature=0.7)
    assert tempered.generations[3]["exponent_limit"] == pytest.approx(1 / 0.7**3)
    assert tempered.generations[1]["exponent"] > tempered.generations[0]["exponent"]  # sharper


@pytest.mark.parametrize("argv, flag", [
    (["--workflow", "mix-fresh", "--real-fraction", "1.5"], "--real-fraction"),
    (["--workflow", "mix-fixed", "--real-fraction", "-0.1"], "--real-fraction"),
    (["--real-fraction", "0.1"], "--real-fraction"),
    (["--workflow", "mix-fresh"], "--real-fraction"),
    (["--temperature", "0"], "--temperature"),
    (["--temperature", "-1"], "--temperature"),
    (["--top-k", "0"], "--top-k"),
    (["--top-p", "0"], "--top-p"),
    (["--top-p", "1.5"], "--top-p"),
    (["--workflow", "keep-half"], "--workflow"),
    (["simulate", "zipf", "--top-p", "2"], "--top-p"),
    (["simulate", "poisson", "--workflow", "mix-fixed"], "--workflow"),
    (["report", "--real-fractions", "0.1"], "--real-fraction"),
    (["report", "--workflows", "mix-fresh,replace"], "--real-fraction"),
    (["report", "--temperatures", "0"], "--temperature"),
])
def test_bad_regime_values_are_one_line_and_exit_2(argv, flag, tmp_path, capsys):
    out = tmp_path / "o"
    assert cli.main([*argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and flag in err[0], err
    assert not out.exists()


def test_summary_names_the_theory_it_draws(tmp_path):
    """Each regime's summary carries only the theory that exists for it (README's table)."""
    found = {}
    for workflow, fraction, sampling in (("replace", None, "poisson"), ("mix-fresh", "0.2", "multinomial"),
                                         ("mix-fresh", "0.2", "poisson"), ("mix-fixed", "0.2", "multinomial"),
                                         ("accumulate-subsample", None, "poisson")):
        out = tmp_path / f"{workflow}-{sampling}"
        extra = ["--real-fraction", fraction] if fraction else []
        assert cli.main(["--workflow", workflow, *extra, "--sampling", sampling, "--generations", "2",
                         "--trajectories", "1", "--no-plot", "--quiet", "--out", str(out)]) == 0
        row = json.loads((out / "summary.json").read_text())["generations"][1]
        found[workflow, sampling] = sorted({"expected", "bound_lower", "bound_upper", "predicted"} & set(row))
    assert found == {("replace", "poisson"): ["expected", "predicted"],
                     ("mix-fresh", "multinomial"): ["bound_lower"], ("mix-fresh", "poisson"): ["expected"],
                     ("mix-fixed", "multinomial"): [], ("accumulate-subsample", "poisson"): []}


def test_joined_samples_carry_the_counts_a_fresh_count_gives(valid):
    """Mixing joins samples of one trajectory's models: their summed n-gram counts are exactly what
    counting the joined sequences from scratch gives, so the refit needs no count."""
    from ngram_collapse.ngram import NgramModel
    from ngram_collapse.table import count_ngrams
    from ngram_collapse.workflows import OPERATIONS
    from ngram_collapse.vocab import Sequences

    model = NgramModel(3).fit(valid)
    rng = np.random.default_rng(0)
    joined = OPERATIONS[Sequences].join([model.sample(50_000, rng), model.sample(70_000, rng)])
    fresh = count_ngrams(joined, 3)
    assert joined.ngram_counts is not None
    for got, want in zip(joined.ngram_counts.ngrams(), fresh.ngrams()):
        np.testing.assert_array_equal(got, want)
    assert (joined.ngram_counts.words, joined.ngram_counts.sequences) == (fresh.words, fresh.sequences)
