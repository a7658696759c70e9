"""SmoothedNgram against nltk.lm: probabilities, perplexity, and sampled frequencies (chi-square)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from ngram_collapse.errors import InputError
from ngram_collapse.smoothing import ESTIMATORS, SmoothedNgram
from ngram_collapse.vocab import BOS, EOS, Sequences

GAMMA, DISCOUNT = 0.3, 0.3  # away from NLTK's defaults, so that a parameter not passed on shows
P_MIN = 1e-3  # chi-square tests fail below this p-value (fixed seeds)


@pytest.fixture(scope="module")
def train(small):
    """80 sequences (about 6,800 words) of wikitext-2:valid: NLTK's Kneser-Ney scores slowly."""
    return small[:80]


@pytest.fixture(scope="module")
def tiny(small):
    """30 sequences: NLTK scores every word of the vocabulary in a few contexts."""
    return small[:30]


def nltk_model(estimator, order, sentences, vocabulary=None, discount=DISCOUNT):
    from nltk.lm import MLE, KneserNeyInterpolated, Laplace, Lidstone, WittenBellInterpolated
    from nltk.lm.preprocessing import padded_everygram_pipeline

    kw = {} if vocabulary is None else {"vocabulary": vocabulary}
    model = {"mle": lambda: MLE(order, **kw),
             "lidstone": lambda: Lidstone(GAMMA, order, **kw),
             "laplace": lambda: Laplace(order, **kw),
             "witten-bell": lambda: WittenBellInterpolated(order, **kw),
             "kneser-ney": lambda: KneserNeyInterpolated(order, discount=discount, **kw)}[estimator]()
    model.fit(*padded_everygram_pipeline(order, sentences))
    return model


def floored_kneser_ney(order, sentences, discount=DISCOUNT):
    """NLTK's KneserNeyInterpolated with the unigram level replaced by the floored formula."""
    from nltk.lm.models import InterpolatedLanguageModel
    from nltk.lm.preprocessing import padded_everygram_pipeline
    from nltk.lm.smoothing import KneserNey

    class FlooredKneserNey(KneserNey):
        def unigram_score(self, word):
            if not hasattr(self, "seen"):  # |{v : N1+(. v) > 0}|, from NLTK's bigram counts
                self.seen = len({w for fd in self.counts[2].values() for w, c in fd.items() if c > 0})
            before, total = self._continuation_counts(word)
            return max(before - self.discount, 0.0) / total + self.discount * self.seen / total / len(self.vocab)

    model = InterpolatedLanguageModel(FlooredKneserNey, order, params={"discount": discount, "order": order})
    model.fit(*padded_everygram_pipeline(order, sentences))
    return model


def ours(estimator, order, sentences, **kw):
    kw.setdefault("discount", DISCOUNT)
    if estimator == "lidstone":
        kw.setdefault("gamma", GAMMA)
    return SmoothedNgram(order, estimator, **kw).fit(sentences)


def queries(order, sentences, rng, count=250):
    """(word, context) pairs: seen grams of every length up to order + 1 (so contexts up to n tokens,
    longer than the model's), a random word in a seen context, a seen word after a random first
    context token (mostly unseen contexts), words outside the vocabulary and the markers."""
    padded = [[BOS] * (order - 1) + list(s) + [EOS] * (order - 1) for s in sentences]
    words = sorted({w for s in padded for w in s}) + ["never-seen-word", "<UNK>"]
    out = []
    while len(out) < 3 * count:
        s = padded[rng.integers(len(padded))]
        length = int(rng.integers(1, order + 2))
        if len(s) < length:
            continue
        i = int(rng.integers(len(s) - length + 1))
        gram = s[i:i + length]
        other = words[rng.integers(len(words))]
        out += [(gram[-1], gram[:-1]), (other, gram[:-1]), (gram[-1], [other] + gram[1:-1])]
    return out + [("never-seen-word", []), (words[0], ["never-seen-word"] * (order - 1)), (EOS, []), (BOS, [])]


def assert_close(a, b, what):
    assert math.isclose(a, b, rel_tol=1e-9, abs_tol=0.0), (what, a, b)


# -- probabilities ---------------------------------------------------------------------------------
def pairs(orders):
    """(estimator, order) for every estimator and order, but kneser-ney at order 1
    (test_kneser_ney_needs_order_2)."""
    return [(e, n) for e in ESTIMATORS for n in orders if (e, n) != ("kneser-ney", 1)]


@pytest.mark.parametrize("estimator,order", pairs([1, 2, 3]))
def test_prob_equals_nltk(estimator, order, train):
    model, reference = ours(estimator, order, train), nltk_model(estimator, order, train)
    assert model.vocab_size == len(reference.vocab)
    for word, context in queries(order, train, np.random.default_rng(order)):
        assert_close(model.prob(word, context), reference.score(word, context or None), (word, context))


def test_kneser_ney_needs_order_2(train):
    with pytest.raises(ZeroDivisionError):
        nltk_model("kneser-ney", 1, train).score("the")
    with pytest.raises(InputError, match="order >= 2"):
        SmoothedNgram(1, "kneser-ney")


@pytest.mark.parametrize("estimator,order", pairs([1, 2, 3, 4]))
def test_prob_equals_nltk_on_corner_cases(estimator, order):
    """Empty and one-word sequences, a literal <UNK> word (NLTK's unknown label, counted twice in |V|)."""
    sentences = [[], ["a"], ["a", "b", "a"], ["<UNK>", "a"], ["b", "b", "b", "c"], [], ["c", "<UNK>"]]
    model, reference = ours(estimator, order, sentences), nltk_model(estimator, order, sentences)
    assert model.vocab_size == len(reference.vocab)
    words = ["a", "b", "c", "<UNK>", "zzz", BOS, EOS]
    rng = np.random.default_rng(0)
    for word in words:
        for _ in range(12):
            context = [words[i] for i in rng.integers(len(words), size=rng.integers(0, order + 1))]
            assert_close(model.prob(word, context), reference.score(word, context or None), (word, context))


@pytest.mark.parametrize("estimator", ["lidstone", "witten-bell", "kneser-ney"])
def test_fixed_vocabulary_equals_nltk_with_a_given_vocabulary(estimator, train):
    """vocabulary= is NLTK's LanguageModel(vocabulary=Vocabulary(padded original text)): words of the
    original absent from the data stay in V; data words outside it count as <UNK>."""
    from nltk.lm import Vocabulary
    from nltk.lm.preprocessing import pad_both_ends

    order, original, data = 3, train[:50], train[30:80]
    reference = nltk_model(estimator, order, data,
                           vocabulary=Vocabulary(w for s in original for w in pad_both_ends(s, n=order)))
    encoded = Sequences.encode(original)
    mask = encoded.counts() > 0
    seqs = Sequences.encode(data, encoded.vocab)
    kw = {"gamma": GAMMA} if estimator == "lidstone" else {}
    model = SmoothedNgram(order, estimator, discount=DISCOUNT, **kw).fit(seqs, vocabulary=mask)
    assert model.vocab_size == len(reference.vocab)
    pairs = queries(order, data, np.random.default_rng(5), count=120)
    pairs += [(w, ctx) for w, ctx in queries(order, original[:30], np.random.default_rng(6), count=60)]
    for word, context in pairs:
        assert_close(model.prob(word, context), reference.score(word, context or None), (word, context))


@pytest.mark.parametrize("order", [2, 3])
def test_floored_kneser_ney_equals_the_reference(order, train):
    model = ours("kneser-ney", order, train, unigram_floor=True)
    reference = floored_kneser_ney(order, train)
    for word, context in queries(order, train, np.random.default_rng(10 + order), count=150):
        assert_close(model.prob(word, context), reference.score(word, context or None), (word, context))
    vocab = sorted(reference.vocab)  # the floor gives every word mass; <s>'s contexts sum above 1 (quirk 4)
    assert sum(model.prob(w, ["the"] * (order - 1)) for w in vocab) == pytest.approx(1.0, abs=1e-12)


def test_prob_ids_is_prob_vectorised(train):
    model = ours("kneser-ney", 3, train)
    pairs = queries(3, train, np.random.default_rng(3), count=100)
    pairs = [(w, c[-2:]) for w, c in pairs if len(c) >= 2]
    ids = np.array([[model._word_id(x) for x in c + [w]] for w, c in pairs])
    assert np.array_equal(model.prob_ids(ids[:, -1], ids[:, :-1]), [model.prob(w, c) for w, c in pairs])


# -- perplexity -----------------------------------------------------------------------------------
def nltk_perplexity(model, order, heldout):
    from nltk.lm.preprocessing import pad_both_ends
    from nltk.util import ngrams

    return model.perplexity([g for s in heldout for g in ngrams(pad_both_ends(s, n=order), order)])


@pytest.mark.parametrize("estimator,order", [("lidstone", 1), ("lidstone", 3), ("laplace", 2), ("laplace", 3),
                                             ("kneser-ney-floor", 2), ("kneser-ney-floor", 3)])
def test_perplexity_equals_nltk(estimator, order, train, small):
    heldout = small[200:208]  # about 450 words, some never seen in train
    if estimator == "kneser-ney-floor":
        model, reference = ours("kneser-ney", order, train, unigram_floor=True), floored_kneser_ney(order, train)
    else:
        model, reference = ours(estimator, order, train), nltk_model(estimator, order, train)
    expected = nltk_perplexity(reference, order, heldout)
    assert math.isfinite(expected)
    assert_close(model.perplexity(Sequences.encode(heldout)), expected, "own vocabulary")
    assert_close(model.perplexity(Sequences.encode(heldout, model.vocab)), expected, "shared vocabulary")
    assert model.logscores(Sequences.encode(heldout)).size == sum(len(s) + order - 1 for s in heldout)


@pytest.mark.parametrize("estimator", ["mle", "witten-bell", "kneser-ney"])
def test_perplexity_is_infinite_at_an_unseen_word(estimator, train, small):
    """... and equals NLTK's on text made of training sequences."""
    model, reference = ours(estimator, 3, train), nltk_model(estimator, 3, train)
    heldout = small[200:204]
    assert model.perplexity(Sequences.encode(heldout)) == nltk_perplexity(reference, 3, heldout) == math.inf
    expected = nltk_perplexity(reference, 3, train[:6])
    assert math.isfinite(expected)
    assert_close(model.perplexity(Sequences.encode(train[:6])), expected, "training text")


def test_heldout_oov_rate(train, small):
    heldout = small[200:240]
    seen = {w for s in train for w in s}
    expected = sum(w not in seen for s in heldout for w in s) / sum(len(s) for s in heldout)
    model = ours("kneser-ney", 2, train)
    assert model.heldout_oov_rate(Sequences.encode(heldout)) == pytest.approx(expected, abs=1e-15)
    assert model.heldout_oov_rate(Sequences.encode(heldout, model.vocab)) == pytest.approx(expected, abs=1e-15)
    assert 0 < expected < 1


# -- sampling -------------------------------------------------------------------------------------
def chisquare(observed, expected):
    """p-value of observed counts against expected ones, bins of expected count < 5 pooled."""
    big = expected >= 5
    obs, exp = list(observed[big]), list(expected[big])
    if expected[~big].sum() > 0:
        obs.append(observed[~big].sum())
        exp.append(expected[~big].sum())
    assert len(obs) >= 5, "too few draws for a chi-square test"
    return stats.chisquare(obs, exp).pvalue


@pytest.mark.parametrize("estimator", ["lidstone", "witten-bell", "kneser-ney"])
def test_next_word_frequencies_equal_nltk(estimator, tiny):
    """1.2M draws over four contexts of an order-3 model against NLTK's scores renormalised over
    the vocabulary's words and </s>: the start, a frequent seen context, an unseen one whose last
    word is seen, and one made of a word outside the vocabulary."""
    order, draws = 3, 300_000
    model, reference = ours(estimator, order, tiny), nltk_model(estimator, order, tiny)
    support = sorted(w for w in reference.vocab if w not in (BOS, "<UNK>"))
    ids = np.array([model.vocab.lookup(w) for w in support])
    rng = np.random.default_rng(42)
    for context in ([BOS, BOS], ["of", "the"], ["Tower", "the"], ["never-seen-word", "never-seen-word"]):
        p = np.array([reference.score(w, context) for w in support])
        context_ids = np.array([model._word_id(w) for w in context])
        drawn = model.draw_next(np.tile(context_ids, (draws, 1)), rng)
        observed = np.bincount(drawn, minlength=len(model.vocab) + 1)
        assert observed[ids].sum() == draws, "drew a word outside S"
        pvalue = chisquare(observed[ids], draws * p / p.sum())
        assert pvalue > P_MIN, (context, pvalue)


@pytest.mark.parametrize("estimator,order,kw", [("lidstone", 3, {"gamma": 1e-5}),
                                                ("kneser-ney", 3, {"discount": 0.9}),
                                                ("kneser-ney", 4, {"discount": 0.9, "unigram_floor": True})])
def test_sampled_text_has_the_model_s_transitions(estimator, order, kw, tiny):
    """End to end: in 1M sampled words, the words after the most frequent contexts (seen and unseen
    in training) follow the model; this checks where a walk stands after each draw. Parameters that
    make the walks often draw below their own level (and so look up where they stand next)."""
    model = ours(estimator, order, tiny, **kw)
    sample = model.sample(1_000_000, np.random.default_rng(7))
    assert sample.num_tokens == 1_000_000
    lengths = sample.lengths[:-1]  # the last sequence is cut: no </s> after it
    width = len(model.vocab)
    starts = np.repeat(np.concatenate(([0], np.cumsum(lengths + 1)[:-1])), lengths + 1)
    pos = np.arange(starts.size) - starts  # position in the sequence
    words = np.zeros(pos.size, dtype=np.int64)  # </s> closes every sequence
    words[pos < np.repeat(lengths, lengths + 1)] = sample.ids[:int(lengths.sum())]
    context = np.zeros(pos.size, dtype=np.int64)  # the n-1 previous tokens (<s> before the start), packed
    for k in range(order - 1, 0, -1):
        context = context * width + np.where(pos >= k, np.roll(words, k), 1)
    seen_contexts = set()
    for s in Sequences.encode(tiny, model.vocab):
        ids = [1] * (order - 1) + [model.vocab.lookup(w) for w in s]
        for i in range(len(ids) - order + 2):
            seen_contexts.add(sum(t * width ** (order - 2 - j) for j, t in enumerate(ids[i:i + order - 1])))
    kinds, counts = np.unique(context, return_counts=True)
    frequent = kinds[np.argsort(-counts)][:np.count_nonzero(counts >= 100)]
    seen = [c for c in frequent if c in seen_contexts][:3]
    unseen = [c for c in frequent if c not in seen_contexts][:3]
    assert len(seen) == 3 and len(unseen) == (0 if estimator == "lidstone" else 3)  # lidstone: uniform there
    support = np.flatnonzero(model.member)
    support = support[support != 1]
    for c in seen + unseen:
        ids = [c // width ** (order - 2 - j) % width for j in range(order - 1)]
        observed = np.bincount(words[context == c], minlength=width)
        p = model.prob_ids(support, np.tile(ids, (support.size, 1)))
        pvalue = chisquare(observed[support], observed.sum() * p / p.sum())
        assert pvalue > P_MIN, ([model.vocab.words[i] for i in ids], pvalue)


@pytest.mark.parametrize("estimator,order,kw", [("lidstone", 3, {"gamma": 1e-3}),
                                                ("witten-bell", 3, {}),
                                                ("kneser-ney", 4, {"discount": 0.9, "unigram_floor": True})])
def test_walks_stand_on_the_longest_seen_suffix(estimator, order, kw, tiny):
    """The invariant the sampler's exactness rests on: after every draw, a walk stands on the
    longest suffix (at most n-1 tokens) of its history that occurs in the padded training data."""
    model = ours(estimator, order, tiny, **kw)
    sampler = model._sampler()
    E = sampler.counts
    seen = set()
    for s in tiny:
        padded = [1] * (order - 1) + [model.vocab.lookup(w) for w in s] + [0] * (order - 1)
        seen |= {tuple(padded[i:i + k]) for k in range(order) for i in range(len(padded) - k + 1)}

    def tokens(g):  # the gram of an id, by its prefix links
        out = []
        while g > 0:
            out.append(int(E.token[g]))
            g = int(E.prefix[g])
        return tuple(out[::-1])

    walks, rng = 400, np.random.default_rng(11)
    history = [[1] * (order - 1) for _ in range(walks)]
    state = np.full(walks, sampler.start)
    assert all(tokens(g) == (1,) * (order - 1) for g in state)
    for _ in range(60):
        token, state = sampler.step(state, rng)
        for i in range(walks):
            if token[i] == 0:  # </s>: a new sequence
                history[i], state[i] = [1] * (order - 1), sampler.start
                continue
            history[i] = (history[i] + [int(token[i])])[-(order - 1):]
            expected = next(tuple(history[i][j:]) for j in range(order) if tuple(history[i][j:]) in seen)
            assert tokens(state[i]) == expected, (history[i], tokens(state[i]))


def test_sample_budget_and_reproducibility(train):
    model = ours("kneser-ney", 3, train)
    a = model.sample(12_345, np.random.default_rng(1))
    b = model.sample(12_345, np.random.default_rng(1))
    assert a.num_tokens == 12_345 and a.vocab is model.vocab
    assert np.array_equal(a.ids, b.ids) and np.array_equal(a.offsets, b.offsets)
    assert model.member[a.ids].all() and not np.isin(a.ids, [0, 1]).any()
    assert model.sample(0, np.random.default_rng(1)).num_tokens == 0
    refit = SmoothedNgram(3, "kneser-ney").fit(a)  # a sample is training data for the next generation
    assert refit.vocab_size == len(np.unique(a.ids)) + 3


def test_long_sequences_stop_at_the_budget(train):
    """Lidstone with a tiny gamma on a large vocabulary rarely draws </s>: sequences run for
    thousands of words, and a small budget must not wait for them to end."""
    model = ours("lidstone", 3, train, gamma=1e-3)
    sample = model.sample(300, np.random.default_rng(0))
    assert sample.num_tokens == 300 and len(sample) >= 1


def test_order_1_samples_with_one_end_marker_per_sequence(train):
    """NLTK's order-1 model has no </s>; the sampler counts one per sequence: the chance to end a
    sequence after a word is (sequences + gamma) / (words + sequences + gamma |S|) for lidstone."""
    model = ours("lidstone", 1, train)
    drawn = model.draw_next(np.zeros((400_000, 0), dtype=np.int64), np.random.default_rng(3))
    support = np.count_nonzero(model.member) + 1  # the words and </s>
    words, sequences = sum(len(s) for s in train), len(train)
    expected = (sequences + GAMMA) / (words + sequences + GAMMA * support)
    assert np.mean(drawn == 0) == pytest.approx(expected, abs=4 * math.sqrt(expected / drawn.size))


# -- parameters -----------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs,match", [
    ({"estimator": "good-turing"}, "estimator must be one of"),
    ({"estimator": "lidstone", "gamma": -0.1}, "gamma must be"),
    ({"estimator": "lidstone", "gamma": float("nan")}, "gamma must be"),
    ({"estimator": "lidstone"}, "gamma is required"),
    ({"estimator": "kneser-ney", "gamma": 1.0}, "gamma applies"),
    ({"estimator": "kneser-ney", "discount": 0.0}, "discount must be"),
    ({"estimator": "kneser-ney", "discount": 1.0}, "discount must be"),
    ({"estimator": "kneser-ney", "discount": -0.5}, "discount must be"),
    ({"estimator": "witten-bell", "discount": 1.5}, "discount must be"),
    ({"estimator": "laplace", "unigram_floor": True}, "unigram_floor applies"),
    ({"estimator": "mle", "order": 0}, "order must be"),
])
def test_bad_parameters_raise(kwargs, match):
    kwargs = {"order": 3, **kwargs}
    with pytest.raises(InputError, match=match):
        SmoothedNgram(kwargs.pop("order"), **kwargs)


def test_bad_uses_raise(train):
    data = Sequences.encode(train)
    with pytest.raises(InputError, match="vocabulary must be"):
        SmoothedNgram(2, "laplace").fit(data, vocabulary=np.ones(len(data.vocab) + 1, dtype=bool))
    with pytest.raises(InputError, match="sampled by NgramModel"):
        SmoothedNgram(2, "mle").fit(data).sample(10, np.random.default_rng(0))
    with pytest.raises(InputError, match="sampled by NgramModel"):
        SmoothedNgram(2, "lidstone", gamma=0).fit(data).sample(10, np.random.default_rng(0))
    assert math.isnan(SmoothedNgram(2, "lidstone", gamma=0).fit(data).prob("the", ["never-seen-word"]))
