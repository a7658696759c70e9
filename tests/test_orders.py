"""Effective counts and the prediction of Corollaries 1-2 at every n-gram order (ngram_collapse.orders)."""
from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from ngram_collapse import bounds
from ngram_collapse.errors import InputError
from ngram_collapse.experiment import run_experiment
from ngram_collapse.ngram import NgramModel
from ngram_collapse.orders import clumped_iterates, predicted_distinct, sequence_counts, word_units
from ngram_collapse.vocab import Sequences
from reference_orders import word_units as reference_units

# Two sequences, "a b a" and "b c"; the words a, b, c have ids 2, 3, 4.
HAND = [["a", "b", "a"], ["b", "c"]]


def units(order):
    u = word_units(Sequences.encode(HAND), order)
    return u.counts[2:], u.segments[2:], u.sequences[2:], u.effective[2:]


def test_units_by_hand_order1():
    # One context, followed by a, b, c and </s>: every position is a branch point, every
    # occurrence its own segment, and nothing is copied along with anything else: e = c.
    counts, segments, sequences, effective = units(1)
    assert counts.tolist() == [2, 2, 1]
    assert segments.tolist() == [2, 2, 1]
    assert sequences.tolist() == [1, 2, 1]  # a is twice in "a b a"
    assert effective.tolist() == [2.0, 2.0, 1.0]


def test_units_by_hand_order2():
    # Contexts and what follows them (standing positions 0-3 in "a b a", 4-6 in "b c"):
    #   <s> -> a, b      a -> b, </s>      b -> a, c      c -> </s>
    # <s>, a and b branch, so every word starts its own segment: segments = counts.
    # 7 standing positions; P(b | a) = P(a | b) = 1/2.
    # a (position 0): the walk may copy "b a" on to the next a: 1/2 * 1/2 = 1/4; its state after
    #   a is the context a (2 of the 7 positions), so the excess over chance is (1 - 2/7) * 1/4.
    # a (position 2): no later a in "a b a", but the context a recurs (positions 1 and 3, followed
    #   by b and </s>): standing at 3 the walk can take b, then a, and be back: a cycle through
    #   positions 1-2 of probability 1/4, which holds this a (and the b at position 1).
    #   Excess (1 - 2/7) * 1/4 again.  e(a) = 2 * (1 - 5/28) = 23/14.
    # b in "a b a": the same cycle, state b (2 of 7): 1 - 5/28. b in "b c": nothing: 1.
    # c: nothing: 1.
    counts, segments, sequences, effective = units(2)
    assert segments.tolist() == [2, 2, 1]
    assert sequences.tolist() == [1, 2, 1]
    expected = [Fraction(23, 14), Fraction(51, 28), Fraction(1)]
    np.testing.assert_allclose(effective, [float(x) for x in expected], rtol=1e-12)


@pytest.mark.parametrize("order", [4, 8])
def test_units_by_hand_memorising(order):
    # With 3 or more words of context every context inside a sequence is unique: only the start
    # (<s> ... <s>, followed by a and b) branches, so each sequence is one segment. The two a's of
    # "a b a" are copied together: the units are the sequences.
    counts, segments, sequences, effective = units(order)
    assert counts.tolist() == [2, 2, 1]
    assert segments.tolist() == [1, 2, 1]
    assert sequences.tolist() == [1, 2, 1]
    assert effective.tolist() == [1.0, 2.0, 1.0]


def test_shared_contexts_make_one_segment():
    # "x y z" twice and "w y z" (ids x 2, y 3, z 4, w 5): y always follows x or w and z always
    # follows y, so at orders 2 and 3 the only branch point is the start (x or w): each sequence is
    # one segment, each word is once in it, and the units are the sequences.
    data = Sequences.encode([["x", "y", "z"], ["x", "y", "z"], ["w", "y", "z"]])
    for order in (2, 3):
        u = word_units(data, order)
        assert u.segments[2:].tolist() == [2, 3, 3, 1]
        assert u.effective[2:].tolist() == [2.0, 3.0, 3.0, 1.0]


def test_sequence_counts():
    data = Sequences.encode([["a", "b", "a"], ["b", "c"], ["a"]])
    assert sequence_counts(data)[2:].tolist() == [2, 2, 1]
    assert sequence_counts(data)[:2].tolist() == [0, 0]  # the markers


def test_order1_prediction_is_corollary2(valid):
    k = np.arange(11)
    u = word_units(valid, 1)
    np.testing.assert_array_equal(u.effective, valid.counts())
    np.testing.assert_array_equal(predicted_distinct(u.effective, k),
                                  bounds.corollary2_expected_distinct(valid.counts(), k))
    np.testing.assert_array_equal(predicted_distinct(u.effective, k), bounds.corollary1_bounds(valid.counts(), k)[0])


def test_units_agree_with_a_direct_count(valid):
    # Segments and sequences counted word by word in Python on part of the validation split.
    data = Sequences(valid.ids[:valid.offsets[200]], valid.offsets[:201], valid.vocab)
    order = 3
    follow: dict[tuple, set] = {}
    padded = [["<s>"] * (order - 1) + seq + ["</s>"] for seq in data]
    for seq in padded:
        for i in range(order - 1, len(seq)):
            follow.setdefault(tuple(seq[i - order + 1:i]), set()).add(seq[i])
    segments: dict[str, set] = {}
    sequences: dict[str, set] = {}
    seg = -1
    for s, seq in enumerate(padded):
        for i in range(order - 1, len(seq) - 1):
            if i == order - 1 or len(follow[tuple(seq[i - order + 1:i])]) > 1:
                seg += 1
            segments.setdefault(seq[i], set()).add(seg)
            sequences.setdefault(seq[i], set()).add(s)
    u = word_units(data, order)
    for word, segs in segments.items():
        i = data.vocab.lookup(word)
        assert u.segments[i] == len(segs) and u.sequences[i] == len(sequences[word])
        assert u.effective[i] <= u.segments[i] + 1e-9
    assert u.segments.sum() == sum(len(s) for s in segments.values())


def test_units_do_not_depend_on_the_vocabulary_size():
    # The same sequences on a vocabulary of 200 words and on one padded with 2**12 unused ids.
    rng = np.random.default_rng(3)
    seqs = [[f"w{j}" for j in rng.zipf(1.3, size=rng.integers(3, 30)) % 200] for _ in range(400)]
    packed = Sequences.encode(seqs)
    padded = Sequences.encode(seqs)
    for i in range(2**12):
        padded.vocab.add(f"pad{i}")
    u, v = word_units(packed, 7), word_units(padded, 7)
    n = len(packed.vocab)
    assert not v.segments[n:].any()
    np.testing.assert_array_equal(u.segments, v.segments[:n])
    np.testing.assert_array_equal(u.sequences, v.sequences[:n])
    np.testing.assert_allclose(u.effective, v.effective[:n], rtol=1e-12)


def assert_same_units(u, r):
    """Equal to the bit: the same dtypes and bytes (a float that differs in its last bit fails)."""
    assert u.order == r.order
    for name in ("counts", "segments", "sequences", "effective"):
        a, b = getattr(u, name), getattr(r, name)
        assert a.dtype == b.dtype and a.shape == b.shape, name
        assert a.tobytes() == b.tobytes(), (name, np.flatnonzero(a != b)[:10])


@pytest.mark.parametrize("order", [1, 2, 3, 6, 16])
def test_units_equal_the_numpy_implementation(valid, order):
    """The compiled walk gives exactly what the earlier numpy implementation (sorts of all positions,
    tests/reference_orders.py) gives on wikitext-2:valid, with the table counted here or the fitted
    model's. Orders 2 and 3 have contexts searched linearly and contexts looked up in the hash."""
    reference = reference_units(valid, order)
    assert_same_units(word_units(valid, order), reference)
    assert_same_units(word_units(valid, order, NgramModel(order).fit(valid).ngrams), reference)
    if order > 1:
        assert 0 < reference.effective.sum() < reference.segments.sum()  # routes and cycles were found


def test_units_of_a_sample_over_the_generation0_table(valid):
    """A sample carries its counts over the table of the model it came from, entries it never drew
    included (count 0); the units computed over that table equal those of a fresh count and the
    numpy implementation's. Empty sequences and a corpus of one sequence too."""
    data = Sequences(valid.ids[:valid.offsets[400]], valid.offsets[:401], valid.vocab)
    sample = NgramModel(3).fit(data).sample(data.num_tokens, np.random.default_rng(0))
    assert (sample.ngram_counts.counts == 0).any()
    reference = reference_units(sample, 3)
    assert_same_units(word_units(sample, 3, sample.ngram_counts), reference)
    assert_same_units(word_units(sample, 3), reference)
    gaps = Sequences.encode([[], ["a", "b", "a"], [], ["b", "c", "a", "b"], [], []])
    one = Sequences(data.ids, np.array([0, data.num_tokens]), data.vocab)
    for corpus in (gaps, one):
        for order in (2, 3, 5):
            assert_same_units(word_units(corpus, order), reference_units(corpus, order))


def test_ngrams_must_be_the_counts_of_data(valid):
    data = Sequences(valid.ids[:valid.offsets[300]], valid.offsets[:301], valid.vocab)
    model = NgramModel(2).fit(valid)
    with pytest.raises(InputError, match="not the counts of the 2-grams of data: the counts differ") as error:
        word_units(data, 2, model.ngrams)  # every n-gram is in the table, with other counts
    assert error.value.parameter == "ngrams"
    with pytest.raises(InputError, match="has no entry in the table"):
        word_units(valid, 2, NgramModel(2).fit(data).ngrams)
    with pytest.raises(InputError, match="ngrams must be counted at order 3"):
        word_units(data, 3, model.ngrams)
    with pytest.raises(InputError, match="vocabulary"):
        word_units(Sequences.encode(list(data)), 2, model.ngrams)


def test_bad_order():
    with pytest.raises(InputError, match="order"):
        word_units(Sequences.encode(HAND), 0)


def _repeating_corpus(seed: int, sequences: int) -> Sequences:
    """Short sequences of Zipf-distributed words, each ending with a copy of one of its own words
    (made here), so that a word is often repeated inside one sequence."""
    rng = np.random.default_rng(seed)
    out = []
    for n in rng.integers(3, 10, size=sequences).tolist():
        words = [f"w{i}" for i in (rng.zipf(1.4, size=n) % 4000).tolist()]
        out.append(words + [words[int(rng.integers(n))]])
    return Sequences.encode(out)


@pytest.mark.parametrize("order, sampling", [(2, "multinomial"), (16, "multinomial"), (16, "poisson")])
def test_prediction_against_simulation(order, sampling):
    """The prediction is within 4 standard errors of the simulated mean distinct words at every
    generation (20 trajectories, fixed seed), where Corollary 1/2 with the plain counts is not
    (order 16 memorises the sequences: a word repeated in a sequence is one unit)."""
    data = _repeating_corpus(1, 3000)
    k = np.arange(11)
    result = run_experiment(data, order=order, generations=10, trajectories=20, sampling=sampling, seed=7)
    distinct = result.per_trajectory("distinct_words")
    mean, se = distinct.mean(0), distinct.std(0, ddof=1) / np.sqrt(distinct.shape[0])
    units = word_units(data, order)
    predicted = predicted_distinct(units.effective, k, units.segments)
    np.testing.assert_array_equal(result.column("predicted"), predicted)  # what every run reports
    z = np.abs(predicted - mean)[1:] / se[1:]
    assert z.max() < 4, z
    if order == 16:
        corollary = bounds.corollary2_expected_distinct(data.counts(), k)
        assert (np.abs(corollary - mean)[1:] / se[1:]).max() > 8


def test_clumped_iterates_are_the_compound_poisson_extinction_probabilities():
    """exp(-(1 - R) h_k(R)) is P(no copy at generation k) of a Galton-Watson process whose offspring
    is a Poisson(1 - R) number of geometric clumps: checked against iterating that offspring's
    generating function f(s) = exp(-(1 - R)(1 - s)/(1 - R s)) from s = 0, by hand at k = 2, and at
    R = 0 against g_k to the bit."""
    k = np.arange(13)
    np.testing.assert_array_equal(clumped_iterates(np.zeros(4), k), np.repeat(bounds.g_k(k)[:, None], 4, 1))
    u = 1 - np.exp(-0.5)
    assert clumped_iterates(0.5, 2) == pytest.approx(u / (0.5 + 0.5 * u), rel=1e-15)  # 0.564733...
    returns = np.array([0.0, 0.1, 0.5, 0.9, 1.0])
    h = clumped_iterates(returns, k)
    q = np.zeros(returns.size)
    for step in range(1, 13):
        q = np.exp(-(1 - returns) * (1 - q) / np.where(returns < 1, 1 - returns * q, 1.0))
        np.testing.assert_allclose(np.exp(-(1 - returns) * h[step]), q, rtol=1e-12)
    assert np.all(h[1:, 1:] <= h[1:, :1])  # clumps die sooner than single copies
    assert (50 * clumped_iterates(0.5, 50)) == pytest.approx(2 / 1.5, rel=0.03)  # ~ 2 / ((1 + R) k)
    with pytest.raises(InputError):
        clumped_iterates([-0.1], 1)


def test_clumped_iterates_against_simulated_branching():
    """Simulated compound Poisson-geometric Galton-Watson lines (R = 0.4, one unit, 200,000 lines,
    seed 5): the fraction alive at k = 1..8 is 1 - exp(-(1 - R) h_k) within 4 standard errors."""
    rng = np.random.default_rng(5)
    R, lines = 0.4, 200_000
    alive = np.ones(lines, np.int64)
    for step in range(1, 9):
        clumps = rng.poisson((1 - R) * alive)
        size = np.zeros(lines, np.int64)
        has = clumps > 0
        # a sum of `clumps` geometric sizes on {1, 2, ...} is clumps + NegativeBinomial(clumps, 1 - R)
        size[has] = clumps[has] + rng.negative_binomial(clumps[has], 1 - R)
        alive = size
        p = -np.expm1(-(1 - R) * clumped_iterates(R, step))
        se = np.sqrt(p * (1 - p) / lines)
        assert abs((alive > 0).mean() - p) < 4 * se, step


def test_predicted_with_segments_is_corollary2_at_order1(valid):
    u = word_units(valid, 1)
    k = np.arange(11)
    np.testing.assert_array_equal(predicted_distinct(u.effective, k, u.segments),
                                  bounds.corollary2_expected_distinct(valid.counts(), k))
    assert predicted_distinct(np.zeros(3), k, np.zeros(3)).tolist() == [0.0] * 11
    with pytest.raises(InputError):
        predicted_distinct([2.0], 1, [1.0])


def test_clumps_in_every_generation_against_simulation():
    """A corpus where every word w_i sits in a cycle of its own sequence "u_i r_i w_i r_i v_i": at
    order 2 a walk standing at the second r_i takes w_i again with probability 1/2, so w_i has one
    segment and return probability 1/2 (effective count 1/2). Recursive training with Poisson sampling
    (20 trajectories, seed 3): the prediction with clumps in every generation is within 4 standard
    errors of the mean distinct words at every generation; with clumps in generation 1 only
    (Corollary 2 with the effective counts) it is more than 6 standard errors off from k = 2 on."""
    data = Sequences.encode([[f"u{i}", f"r{i}", f"w{i}", f"r{i}", f"v{i}"] for i in range(3000)])
    units = word_units(data, 2)
    w = data.vocab.index["w0"]
    assert (units.segments[w], units.effective[w]) == (1, pytest.approx(0.5, abs=1e-3))
    k = np.arange(11)
    result = run_experiment(data, order=2, generations=10, trajectories=20, sampling="poisson", seed=3)
    distinct = result.per_trajectory("distinct_words")
    mean, se = distinct.mean(0), distinct.std(0, ddof=1) / np.sqrt(distinct.shape[0])
    z = (result.column("predicted") - mean)[1:] / se[1:]
    assert np.abs(z).max() < 4, z
    once = (predicted_distinct(units.effective, k) - mean)[2:] / se[2:]
    assert once.min() > 6, once
