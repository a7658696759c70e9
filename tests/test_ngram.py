"""NgramModel against NLTK's MLE, and its sampler against its own probabilities."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from ngram_collapse.errors import InputError
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


def brute_ngram_counts(order, sequences, vocab):
    """Every padded n-gram (order-1 <s>, the words, </s>) of the sequences and its count, by brute force."""
    from collections import Counter

    counts = Counter()
    for s in sequences:
        ids = [1] * (order - 1) + [vocab.lookup(w) for w in s] + [0]
        counts.update(tuple(ids[i:i + order]) for i in range(len(ids) - order + 1))
    return counts


@pytest.mark.parametrize("order", [1, 2, 3, 8, 16])
def test_counts_equal_a_brute_force_count(order, small):
    """The compiled count (hash tables, contexts compared id by id) is exact at every order."""
    model = NgramModel(order).fit(small)
    ids, counts = model.ngrams.ngrams()
    expected = brute_ngram_counts(order, small, model.vocab)
    assert dict(zip(map(tuple, ids.tolist()), counts.tolist())) == dict(expected)


@pytest.mark.parametrize("order", [1, 2, 3, 8, 16])
def test_refit_equals_fresh_fit_over_generations(order, small):
    """Two generations deep on the generation-0 table, the fast refit is exactly the model a count from
    scratch gives on the same sample's words."""
    rng = np.random.default_rng(100 + order)
    model = NgramModel(order).fit(small)
    for _ in range(2):
        sample = model.sample(20_000, rng)
        refit = NgramModel(order).fit(sample)
        fresh = NgramModel(order).fit(Sequences(sample.ids, sample.offsets, sample.vocab))
        assert refit.ngrams.table is model.ngrams.table  # one table for every generation
        assert_same_counts(refit, fresh)
        assert refit.distinct_ngrams == fresh.distinct_ngrams
        assert refit.ngrams.words == fresh.ngrams.words == 20_000
        assert refit.ngrams.sequences == fresh.ngrams.sequences == len(sample)
        model = refit


def snapshot(data):
    counts = data.ngram_counts
    return (data.ids.tobytes(), data.offsets.tobytes(), list(data.vocab.words), counts,
            None if counts is None else counts.counts.tobytes())


def test_fit_leaves_its_argument_unchanged(small):
    model = NgramModel(3).fit(small)
    sample = model.sample(5000, np.random.default_rng(0))
    plain = Sequences(sample.ids, sample.offsets, sample.vocab)
    for data in (sample, plain, model.data):
        before = snapshot(data)
        NgramModel(3).fit(data)
        NgramModel(2).fit(data)  # another order: counted anew from the ids
        assert snapshot(data) == before
    lists = [list(s) for s in small[:20]]
    copy = [list(s) for s in lists]
    NgramModel(2).fit(lists)
    assert lists == copy


def test_fitted_arrays_are_read_only(small):
    model = NgramModel(2).fit(small)
    sample = model.sample(100, np.random.default_rng(0))
    t = model.ngrams.table
    for a in (t.links, t.first, t.all_words, model.ngrams.counts, sample.ngram_counts.counts):
        assert not a.flags.writeable


def test_an_unfitted_model_says_so():
    model = NgramModel(2)
    for call in (lambda: model.prob("a"), lambda: model.sample(5, np.random.default_rng(0)), lambda: model.vocab):
        with pytest.raises(InputError, match="not fitted"):
            call()


@pytest.mark.parametrize("kwargs, error", [
    ({"num_tokens": 2.5}, TypeError),
    ({"num_tokens": "5"}, TypeError),
    ({"num_tokens": True}, TypeError),
    ({"num_tokens": -1}, InputError),
    ({"rng": None}, TypeError),
    ({"rng": 0}, TypeError),
    ({"temperature": 0}, InputError),
    ({"temperature": -1.0}, InputError),
    ({"temperature": float("inf")}, InputError),
    ({"temperature": float("nan")}, InputError),
    ({"temperature": "hot"}, TypeError),
    ({"top_k": 0}, InputError),
    ({"top_k": 2.5}, TypeError),
    ({"top_p": 0.0}, InputError),
    ({"top_p": 1.5}, InputError),
    ({"top_p": float("nan")}, InputError),
    ({"top_p": "0.5"}, TypeError),
])
def test_sample_rejects_bad_arguments_before_drawing(kwargs, error, small):
    model = NgramModel(2).fit(small)
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    args = {"num_tokens": 5, "rng": rng, **kwargs}
    with pytest.raises(error):
        model.sample(**args)
    assert rng.bit_generator.state == state  # nothing was drawn


def test_sample_accepts_numpy_integers(small):
    model = NgramModel(2).fit(small)
    assert model.sample(np.int64(7), np.random.default_rng(0), top_k=np.int32(2)).num_tokens == 7


@pytest.mark.parametrize("data", ["a b c", ["a b", "c d"], [["a", 1]], 5, [b"ab"], [None]])
def test_fit_rejects_data_of_the_wrong_type(data):
    with pytest.raises(TypeError):
        NgramModel(2).fit(data)


def test_fit_rejects_ids_outside_the_vocabulary():
    vocab = Sequences.encode([["a", "b"]]).vocab
    for ids in ([2, 7], [2, 0], [1, 2]):  # unknown id, </s>, <s> inside a sequence
        with pytest.raises(ValueError):
            NgramModel(2).fit(Sequences(np.array(ids), np.array([0, 2]), vocab))


@pytest.mark.parametrize("n_words, budget", [(40_000, 400_000), (200_000, 1_000_000)])
def test_long_sequences_keep_their_order_and_cut(n_words, budget):
    """Sequences far longer than a lane may run ahead (16,384 draws), or than the first unfinished
    one keeps before writing its words out (65,536), are still drawn one after another.

    A unigram model ends a sequence with probability q = 1/(N+1) at every draw, so the number of
    sequences completed before a budget of B words is negative binomial (mean B q/(1-q), variance
    B q/(1-q)**2) and the sample has one more, cut. Tolerance: 4 standard errors over 60 samples.
    """
    reps = 60
    model = NgramModel(1).fit([["a"] * (n_words // 2) + ["b"] * (n_words // 2)])
    rng = np.random.default_rng(4)
    samples = [model.sample(budget, rng) for _ in range(reps)]
    counts = np.array([len(s) for s in samples])
    q = 1 / (n_words + 1)
    mean, sd = 1 + budget * q / (1 - q), np.sqrt(budget * q / (1 - q) ** 2)
    assert abs(counts.mean() - mean) < 4 * sd / np.sqrt(reps)
    for s in samples[:5]:
        refit = NgramModel(1).fit(s)
        assert_same_counts(refit, NgramModel(1).fit(Sequences(s.ids, s.offsets, s.vocab)))


def test_one_long_line_samples_exactly(small):
    """A corpus that is one long line: next-word frequencies after the most frequent contexts follow
    prob() (chi-square, combined p > 1e-4), and the refit equals a fresh fit."""
    line = [w for s in small for w in s]
    model = NgramModel(2).fit([line])
    sample = model.sample(400_000, np.random.default_rng(21))
    assert_same_counts(NgramModel(2).fit(sample), NgramModel(2).fit(Sequences(sample.ids, sample.offsets, sample.vocab)))
    vocab = model.vocab
    pvalues = []
    for context, drawn in transitions(sample, 20).items():
        p = np.array([model.prob(w, (vocab.words[context],)) for w in vocab.words])
        p[1] = 0.0  # <s> is never a next word
        pvalues.append(chi_square_pvalue(drawn, p))
    assert stats.combine_pvalues(pvalues).pvalue > 1e-4


def transitions(sample, contexts):
    """Next-id counts after the ``contexts`` most frequent context ids of an order-2 sample, leaving
    out the cut sequence's end (its </s> was not drawn): {context id: counts of shape (len(vocab),)}."""
    stream = np.full(sample.num_tokens + 2 * len(sample), 0, np.int64)
    starts = sample.offsets[:-1] + 2 * np.arange(len(sample))
    stream[starts] = 1  # <s>
    word_pos = np.arange(sample.num_tokens) + np.repeat(starts - sample.offsets[:-1] + 1, sample.lengths)
    stream[word_pos] = sample.ids  # </s> (0) closes every sequence
    prev, nxt = stream[:-1], stream[1:]
    keep = prev != 0  # not across sequences
    keep[-1] = False
    prev, nxt = prev[keep], nxt[keep]
    size = len(sample.vocab)
    top = np.argsort(-np.bincount(prev, minlength=size), kind="stable")[:contexts]
    return {int(c): np.bincount(nxt[prev == c], minlength=size) for c in top}


def chi_square_pvalue(observed, p):
    """Chi-square p-value of counts against probabilities, pooling cells expected below 5."""
    n = observed.sum()
    assert observed[p == 0].sum() == 0, "drew an impossible word"
    support = p > 0
    obs, exp = observed[support], p[support] / p[support].sum() * n
    small_cells = exp < 5
    obs = np.append(obs[~small_cells], obs[small_cells].sum())
    exp = np.append(exp[~small_cells], exp[small_cells].sum())
    if exp[-1] == 0:
        obs, exp = obs[:-1], exp[:-1]
    if obs.size < 2:
        return 1.0
    return stats.chisquare(obs, exp).pvalue


def decoded(p, ids, temperature=1.0, top_k=None, top_p=None):
    """The documented decoding transforms, computed independently in exact rational arithmetic where
    temperature is 1 (Fractions), in floats otherwise: returns the transformed probabilities."""
    from fractions import Fraction

    exact = temperature == 1.0
    q = [Fraction(x).limit_denominator(10**9) if exact else x ** (1 / temperature) if x > 0 else 0.0 for x in p]
    ranking = sorted((i for i in range(len(p)) if p[i] > 0), key=lambda i: (-q[i], ids[i]))
    if top_k is not None:
        ranking = ranking[:top_k]
    if top_p is not None:
        total = sum(q[i] for i in ranking)
        kept, mass = [], 0
        for i in ranking:
            kept.append(i)
            mass += q[i]
            if mass >= (Fraction(top_p) if exact else top_p) * total:
                break
        ranking = kept
    out = np.zeros(len(p))
    total = sum(q[i] for i in ranking)
    for i in ranking:
        out[i] = float(q[i] / total)
    return out


@pytest.mark.parametrize("transform", [{"temperature": 0.5}, {"top_k": 3}, {"top_p": 0.8},
                                       {"temperature": 2.0, "top_k": 5, "top_p": 0.9}])
def test_decoding_transforms_against_nltk(transform, small):
    """At least 10**6 next words drawn in the five most frequent contexts of an order-2 model follow
    the transformed probabilities computed from NLTK's MLE scores (chi-square per context, combined
    p > 1e-4; nothing outside the kept set is ever drawn)."""
    model = NgramModel(2).fit(small)
    reference = nltk_mle(2, small)
    vocab = model.vocab
    words = [EOS] + vocab.words[2:]  # every possible next word, </s> included
    ids = [vocab.lookup(w) for w in words]
    sample = model.sample(4_000_000, np.random.default_rng(7), **transform)
    observed = transitions(sample, 5)
    assert sum(drawn.sum() for drawn in observed.values()) >= 10**6
    pvalues = []
    for c in observed:
        p = [reference.score(w, [vocab.words[c]]) for w in words]
        expected = decoded(p, ids, **transform)
        pvalues.append(chi_square_pvalue(observed[c][ids], expected))
    assert stats.combine_pvalues(pvalues).pvalue > 1e-4, pvalues


def test_truncation_ties_are_broken_by_word_id():
    """After "x" the next words a, b, c, d are equally likely: top-k 1 keeps a (the smallest id), top-p
    0.5 keeps exactly a and b (their probability reaches 0.5 exactly; c, tied with b, is dropped)."""
    model = NgramModel(2).fit([["x", "a"], ["x", "b"], ["x", "c"], ["x", "d"]])
    rng = np.random.default_rng(0)
    assert {tuple(s) for s in model.sample(1000, rng, top_k=1)} == {("x", "a")}
    drawn = {tuple(s) for s in model.sample(1000, rng, top_p=0.5)[:-1]}
    assert drawn == {("x", "a"), ("x", "b")}
    assert {tuple(s) for s in model.sample(1000, rng, top_p=0.5000001)[:-1]} == {("x", "a"), ("x", "b"), ("x", "c")}
    assert {tuple(s) for s in model.sample(1000, rng, temperature=0.1, top_k=2)[:-1]} == {("x", "a"), ("x", "b")}


def test_samples_are_reproducible_with_transforms(small):
    model = NgramModel(3).fit(small)
    for kwargs in ({}, {"temperature": 0.7}, {"top_k": 4}, {"top_p": 0.6}):
        a = model.sample(3000, np.random.default_rng(9), **kwargs)
        b = model.sample(3000, np.random.default_rng(9), **kwargs)
        assert np.array_equal(a.ids, b.ids) and np.array_equal(a.offsets, b.offsets)


def test_counts_beyond_32_bits_draw_exactly(small):
    """Counts too large for the 32-bit draws (every count times 2**33) take the 64-bit path and give
    the same next-word distribution (chi-square against prob(), combined p > 1e-4)."""
    from ngram_collapse.table import NgramCounts

    model = NgramModel(2).fit(small)
    big = NgramCounts(model.ngrams.table, model.ngrams.counts << 33, model.ngrams.words, model.ngrams.sequences)
    sample = big.sample(300_000, np.random.default_rng(12))
    vocab = model.vocab
    pvalues = []
    for context, drawn in transitions(sample, 10).items():
        p = np.array([model.prob(w, (vocab.words[context],)) for w in vocab.words])
        p[1] = 0.0
        pvalues.append(chi_square_pvalue(drawn, p))
    assert stats.combine_pvalues(pvalues).pvalue > 1e-4
