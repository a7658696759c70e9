"""NgramModel against NLTK's MLE, and its sampler against its own probabilities."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from ngram_collapse.ngram import NgramModel
from ngram_collapse.vocab import BOS, EOS, Sequences


def nltk_mle(order, sequences):
    from nltk.lm import MLE
    from nltk.lm.preprocessing import padded_everygram_pipeline

    train, vocab = padded_everygram_pipeline(order, sequences)
    model = MLE(order)
    model.fit(train, vocab)
    return model


def queries(order, sequences, rng, count=400):
    """(word, context) pairs: observed n-grams of every length up to order, plus unseen ones."""
    padded = [[BOS] * (order - 1) + list(s) + [EOS] * (order - 1) for s in sequences]
    words = sorted({w for s in padded for w in s})
    out = []
    for _ in range(count):
        s = padded[rng.integers(len(padded))]
        length = int(rng.integers(1, order + 1))
        if len(s) < length:
            continue
        i = int(rng.integers(len(s) - length + 1))
        gram = s[i:i + length]
        out.append((gram[-1], tuple(gram[:-1])))
        out.append((words[rng.integers(len(words))], tuple(gram[:-1])))  # mostly unseen n-grams
    out += [("never-seen-word", ()), (words[0], ("never-seen-word",) * min(order - 1, 1))]
    return out


@pytest.mark.parametrize("order", [1, 2, 3, 5])
def test_prob_equals_nltk(order, small):
    model = NgramModel(order).fit(small)
    reference = nltk_mle(order, small)
    rng = np.random.default_rng(order)
    for word, context in queries(order, small, rng):
        assert model.prob(word, context) == pytest.approx(reference.score(word, context or None), abs=1e-12), (word, context)


@pytest.mark.parametrize("order", [1, 3, 16])
def test_refit_on_a_sample_equals_nltk(order, small):
    """The fast refit (on what sample returns) gives NLTK's probabilities for the sample's text."""
    sample = NgramModel(order).fit(small).sample(5000, np.random.default_rng(0))
    assert sample.ngram_counts is not None
    refit = NgramModel(order).fit(sample)
    fresh = NgramModel(order).fit(Sequences(sample.ids, sample.offsets, sample.vocab))  # counted anew
    reference = nltk_mle(order, list(sample))
    assert refit.ngrams.table is sample.ngram_counts.table and fresh.ngrams.table is not refit.ngrams.table
    assert refit.distinct_ngrams == fresh.distinct_ngrams
    for word, context in queries(order, list(sample), np.random.default_rng(1), count=150):
        assert refit.prob(word, context) == pytest.approx(reference.score(word, context or None), abs=1e-12)
    assert_same_counts(refit, fresh)


def assert_same_counts(a, b):
    """The two models hold the same n-grams with the same counts (their tables may differ)."""
    (ids_a, counts_a), (ids_b, counts_b) = a.ngrams.ngrams(), b.ngrams.ngrams()
    assert np.array_equal(ids_a, ids_b) and np.array_equal(counts_a, counts_b)


def brute_distinct_ngrams(order, sequences):
    return len({tuple(s[i:i + order]) for s in sequences for i in range(len(s) - order + 1)})


@pytest.mark.parametrize("order", [1, 2, 4, 16])
def test_distinct_ngrams(order, small):
    assert NgramModel(order).fit(small).distinct_ngrams == brute_distinct_ngrams(order, small)


def test_sample_has_exact_size_and_is_reproducible(small):
    model = NgramModel(3).fit(small)
    for n in (0, 1, 7, 12345):
        a = model.sample(n, np.random.default_rng(5))
        b = model.sample(n, np.random.default_rng(5))
        assert sum(len(s) for s in a) == n == a.num_tokens
        assert list(a) == list(b)
        assert all(len(s) > 0 for s in a)  # order >= 2 never draws </s> right after <s>


def test_sampler_goodness_of_fit(small):
    """Next-word frequencies in the sample follow prob() in every frequent context (chi-square, p > 1e-4 overall)."""
    order = 2
    model = NgramModel(order).fit(small)
    sample = model.sample(300_000, np.random.default_rng(11))
    follow: dict[str, dict[str, int]] = {}
    for s in sample[:-1]:  # the last sequence is cut: its </s> was not drawn
        padded = [BOS] + s + [EOS]
        for a, b in zip(padded, padded[1:]):
            follow.setdefault(a, {}).setdefault(b, 0)
            follow[a][b] += 1
    contexts = sorted(follow, key=lambda c: -sum(follow[c].values()))[:30]
    pvalues = []
    for c in contexts:
        observed = follow[c]
        vocab = [w for w in model.vocab.words if w != BOS]
        p = np.array([model.prob(w, (c,)) for w in vocab])
        n = sum(observed.values())
        assert set(observed) <= {w for w, pw in zip(vocab, p) if pw > 0}  # nothing impossible drawn
        support = p > 0
        obs = np.array([observed.get(w, 0) for w in vocab])[support]
        exp = p[support] * n
        # pool cells with small expectations so the chi-square approximation holds
        small_cells = exp < 5
        obs = np.append(obs[~small_cells], obs[small_cells].sum())
        exp = np.append(exp[~small_cells], exp[small_cells].sum())
        if exp[-1] == 0:
            obs, exp = obs[:-1], exp[:-1]
        pvalues.append(stats.chisquare(obs, exp).pvalue)
    combined = stats.combine_pvalues(pvalues).pvalue
    assert combined > 1e-4, (combined, min(pvalues))


def test_sequence_order_is_exact():
    """Whole sequences are drawn in order and only the last one is cut.

    For a unigram model each draw is </s> with probability q = S/(N+S), so the number of sequences
    completed before the budget of B words is negative binomial with mean B q/(1-q) = B S/N; the
    sample has that many sequences plus the cut one. Cutting many parallel streams instead would
    give far more sequences. Tolerance: 4 standard errors over 400 samples.
    """
    train = [["a"] * 3, ["b"], ["a", "b"], ["c"] * 4]  # N = 10 words, S = 4 sequences
    model = NgramModel(1).fit(train)
    budget, reps = 50, 400
    rng = np.random.default_rng(2)
    counts = np.array([len(model.sample(budget, rng)) for _ in range(reps)])
    q = 4 / 14
    mean = 1 + budget * q / (1 - q)
    sd = np.sqrt(budget * q / (1 - q) ** 2)
    assert abs(counts.mean() - mean) < 4 * sd / np.sqrt(reps)


def test_order_validation():
    for bad in (0, -1, 65, 2.5, True):
        with pytest.raises(ValueError):
            NgramModel(bad)


@pytest.mark.parametrize("sequences", [[], [[]], [[], []]])
def test_a_model_of_no_words_samples_nothing(sequences):
    model = NgramModel(2).fit(sequences)
    assert model.sample(0, np.random.default_rng(0)).num_tokens == 0
    with pytest.raises(ValueError):
        model.sample(1, np.random.default_rng(0))


@pytest.mark.parametrize("order", [1, 2, 3])
def test_refit_from_a_sample_equals_fresh_fit_for_any_cut(order, small):
    """Whatever budget cuts the last sequence (or ends it exactly), the fast refit is the same model."""
    model = NgramModel(order).fit(small[:40])
    rng = np.random.default_rng(order)
    for budget in [1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233]:
        sample = model.sample(budget, rng)
        fresh = NgramModel(order).fit(Sequences(sample.ids, sample.offsets, sample.vocab))
        refit = NgramModel(order).fit(sample)
        assert refit.distinct_ngrams == fresh.distinct_ngrams
        assert_same_counts(refit, fresh)
        assert refit.sample(50, np.random.default_rng(0)).num_tokens == 50


def padded_ngrams(order, sequences):
    pad = max(order - 1, 1)
    out = set()
    for s in sequences:
        p = [BOS] * pad + list(s) + [EOS]
        out |= {tuple(p[i:i + order]) for i in range(pad - order + 1, len(p) - order + 1)}
    return out


@pytest.mark.parametrize("order", [2, 3, 6])
def test_samples_of_a_refitted_model_use_only_its_ngrams(order, small):
    """Two generations deep (each fit on the previous sample, by the fast path), every n-gram drawn
    is one of the training sample's: the walk's contexts stay consistent."""
    rng = np.random.default_rng(order)
    first = NgramModel(order).fit(small).sample(3000, rng)
    model = NgramModel(order).fit(first)
    second = model.sample(3000, rng)
    drawn = padded_ngrams(order, second[:-1])  # the last sequence is cut: its </s> was not drawn
    assert drawn and drawn <= padded_ngrams(order, first)
