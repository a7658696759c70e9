"""Learned subword tokenizers: exact round trips, whole words at a large vocabulary, the word-level
theory recovered through a frozen whole-word tokenizer, invented words, determinism, bad input.

Statistical tolerance: 4 standard errors of the mean over trajectories, at every generation.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable
from itertools import chain
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from ngram_collapse.bounds import corollary2_expected_distinct
from ngram_collapse.corpus import resolve
from ngram_collapse.errors import InputError
from ngram_collapse.loop import recursive_training
from ngram_collapse.seeding import spawn
from ngram_collapse.ngram import NgramModel
from ngram_collapse.subword import SubwordTokenizer, distinct_subwords, normalize, subwords_per_word, vocabulary_overlap
from ngram_collapse.subword_model import text_lines
from ngram_collapse.tokenize import get_tokenizer, segment
from ngram_collapse.vocab import Sequences, Vocabulary

REPO = Path(__file__).resolve().parents[1]
HUGE = 10**7  # more tokens than any test text can give


def word_counts(lines: Iterable[str], vocab: Vocabulary) -> tuple[NDArray[np.int64], dict[str, int]]:
    """Counts of the white-space words of ``lines`` (e.g. a decoded generation), word by word: the
    reference the tests count decoded text with.

    Args:
        lines: text; its words are ``line.split()``.
        vocab: the original corpus's word vocabulary.

    Returns:
        (counts, novel): ``counts`` of shape (len(vocab),), the count of every word of ``vocab``
        (markers 0); ``novel``, word -> count for the words not in ``vocab`` (a subword model makes
        words its corpus never had). Distinct words = ``count_nonzero(counts) + len(novel)``.
    """
    found = Counter(chain.from_iterable(map(str.split, lines)))
    counts = np.zeros(len(vocab), np.int64)
    novel = {}
    get = vocab.index.get
    for word, c in found.items():
        i = get(word)
        if i is None:
            novel[word] = c
        else:
            counts[i] = c
    return counts, novel


# Made-up text with what normalisation and the marker must survive: runs of spaces, tabs, a
# no-break space, empty and blank lines, non-ASCII letters, the marker "▁" itself, and words that
# look like the sequence markers.
AWKWARD = [
    "  The   cat\tsat on\u00a0the mat.  ",
    "",
    "   \t ",
    "Zürich ▁under▁score a▁b ▁ 中文 naïve café",
    "<s> a </s> x<s>y </s></s> <s>",
    "emoji 🙂🙂 and the cat again",
]


@pytest.fixture(scope="module")
def valid_lines(data_dir):
    """The WikiText-2 validation split as raw lines (213,886 words)."""
    return list(resolve("wikitext-2:valid", data_dir).lines())


@pytest.fixture(scope="module")
def bpe_500(valid_lines):
    return SubwordTokenizer("bpe", 500).fit(valid_lines)


def reference_library_ids(lines, vocab_size):
    """Per-line ids of a tokenizer built and applied with the library's own pipeline (the settings
    the module documents), shifted by the two sequence markers."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    text = normalize(lines)
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    tok.train_from_iterator(text, trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=0, show_progress=False))
    return [[i + 2 for i in e.ids] for e in tok.encode_batch(text)]


# -- text <-> ids ---------------------------------------------------------------------------------
def test_normalisation_keeps_exactly_the_whitespace_tokenizers_words():
    assert [line.split() for line in normalize(AWKWARD)] == list(segment(AWKWARD, get_tokenizer("whitespace")))
    assert normalize(AWKWARD)[0] == "The cat sat on the mat."


def test_round_trip_is_exact_up_to_white_space(valid_lines, bpe_500):
    seqs = bpe_500.encode(valid_lines)
    assert bpe_500.decode(seqs) == normalize(valid_lines)
    assert len(seqs) == len(normalize(valid_lines))
    tok = SubwordTokenizer("bpe", 60, allow_smaller=True).fit(AWKWARD)
    assert tok.decode(tok.encode(AWKWARD)) == normalize(AWKWARD)
    assert "\u2581under\u2581score" in " ".join(tok.decode(tok.encode(AWKWARD)))  # the text's own "▁" survive


def test_encoding_equals_the_librarys_own_pipeline(valid_lines, bpe_500):
    lines = valid_lines[:2000]
    seqs = SubwordTokenizer("bpe", 500).fit(lines).encode(lines)
    reference = reference_library_ids(lines, 500)
    assert [seqs.ids[a:b].tolist() for a, b in zip(seqs.offsets[:-1], seqs.offsets[1:])] == reference


def test_encoding_word_sequences_equals_encoding_their_text(valid_lines, bpe_500):
    """encode_words (from word ids, as a run fits) gives what encode gives on the same words as text,
    empty sequences and words the corpus never had included."""
    words = Sequences.encode(line.split() for line in valid_lines)
    sample = NgramModel(1).fit(words).sample(20_000, np.random.default_rng(3))
    grown = Sequences.encode([[], ["zzz", "the"], [], ["the", "qq"]], words.vocab)
    for data in (words, sample, grown):
        a, b = bpe_500.encode_words(data), bpe_500.encode(text_lines(data))
        assert np.array_equal(a.ids, b.ids) and np.array_equal(a.offsets, b.offsets) and a.vocab is b.vocab
    assert (sample.lengths == 0).any() and len(bpe_500.encode_words(grown)) == 2
    with pytest.raises(InputError, match="not trained on"):
        bpe_500.encode_words(Sequences.encode([["\u4e2d"]], words.vocab))


def test_any_id_sequence_decodes_to_normalised_text():
    """Decoding is total: random ids (bare word-start markers, lines starting inside a word, empty
    sequences) give, line for line, the tokens' names joined and normalised."""
    tok = SubwordTokenizer("bpe", 80, allow_smaller=True).fit(AWKWARD)
    names = tok.vocab.words
    assert " " in names  # the bare word-start marker is a token
    rng = np.random.default_rng(3)
    for _ in range(300):
        lengths = rng.integers(0, 7, size=rng.integers(0, 6))
        ids = rng.integers(2, len(names), size=lengths.sum())
        seqs = Sequences(ids, np.concatenate(([0], np.cumsum(lengths))), tok.vocab)
        expected = [" ".join("".join(names[i] for i in ids[a:b]).split())
                    for a, b in zip(seqs.offsets[:-1], seqs.offsets[1:])]
        assert tok.decode(seqs) == expected


def test_every_word_is_one_token_with_a_large_vocabulary(valid_lines):
    lines = valid_lines[:1500]
    tok = SubwordTokenizer("bpe", HUGE, allow_smaller=True).fit(lines)
    seqs = tok.encode(lines)
    words = [line.split() for line in normalize(lines)]
    assert [[name.lstrip(" ") for name in s] for s in seqs] == words
    assert all(name.startswith(" ") for s in seqs for name in s)  # the first word of a line too
    assert subwords_per_word(seqs) == 1.0
    assert distinct_subwords(seqs) == len({w for line in words for w in line})


def test_smaller_vocabularies_split_words(bpe_500, valid_lines):
    seqs = bpe_500.encode(valid_lines)
    words = sum(len(line.split()) for line in valid_lines)
    assert subwords_per_word(seqs) == seqs.num_tokens / words > 1.5
    assert len(bpe_500.vocabulary) == len(bpe_500.vocab) - 2 == 500
    assert distinct_subwords(seqs) <= 500


# -- the word-level theory through a frozen whole-word tokenizer ----------------------------------
class FrozenSubwordNgram:
    """An n-gram model on the subwords of a frozen tokenizer, fitted on and sampling lines of text
    (the loop's model protocol); checks on every refit that re-encoding a decoded sample gives
    back the sampled ids (true when every word is one token), so that the subword path is the
    word-level one."""

    def __init__(self, tokenizer, order):
        self.tokenizer, self.order, self.sampled = tokenizer, order, None

    def fit(self, lines):
        data = self.tokenizer.encode(lines)
        if self.sampled is not None:
            assert np.array_equal(data.ids, self.sampled.ids)
            # an order-1 model can draw an empty sequence: it decodes to an empty line, which is dropped
            assert np.array_equal(data.offsets, np.unique(self.sampled.offsets))
        self.model = NgramModel(self.order).fit(data)
        return self

    def sample(self, size, rng):
        self.sampled = self.model.sample(size, rng)
        return self.tokenizer.decode(self.sampled)


def test_frozen_whole_word_tokenizer_follows_corollary2(valid_lines):
    """Order 1, Poisson sampling, through text and a frozen tokenizer whose tokens are whole words:
    the process is the word-level one, so E[distinct words at k] = sum_i 1 - exp(-c_i g_k)
    (Corollary 2) exactly, and no word is ever invented."""
    lines = valid_lines[:150]
    words = Sequences.encode(line.split() for line in normalize(lines))
    tok = SubwordTokenizer("bpe", HUGE, allow_smaller=True).fit(lines)
    generations, trajectories = 6, 16
    distinct = np.zeros((trajectories, generations + 1))
    for t, seed in enumerate(spawn(11, trajectories)):
        model = FrozenSubwordNgram(tok, 1).fit(lines)
        rng = np.random.default_rng(seed)
        for gen in recursive_training(model, lines, words.num_tokens, generations, rng, "poisson"):
            counts, novel = word_counts(gen.data, words.vocab)
            assert novel == {}
            distinct[t, gen.k] = np.count_nonzero(counts)
    expected = corollary2_expected_distinct(words.counts(), np.arange(generations + 1))
    mean, se = distinct.mean(0), distinct.std(0, ddof=1) / np.sqrt(trajectories)
    assert mean[0] == expected[0]
    z = (mean[1:] - expected[1:]) / se[1:]
    assert np.all(np.abs(z) < 4), z
    wrong = corollary2_expected_distinct(words.counts(), np.arange(generations + 1) + 1)
    assert np.any(np.abs(mean[1:] - wrong[1:]) / se[1:] > 4)  # the check can fail


@pytest.mark.parametrize("vocab_size", [300, 3000])
def test_a_frozen_tokenizer_re_encodes_samples_of_order_2_and_above_exactly(valid_lines, vocab_size):
    """At order >= 2 every adjacent pair of tokens in a sample was adjacent in the training
    encoding, and a BPE token sequence whose adjacent pairs are BPE's own encodings is BPE's own
    encoding of its text (docs/theory.md): decoding then encoding a sample gives its ids back, so a
    frozen-tokenizer run is exactly recursive training on subword ids. Not at order 1."""
    lines = valid_lines[:800]
    tok = SubwordTokenizer("bpe", vocab_size).fit(lines)
    data = tok.encode(lines)
    rng = np.random.default_rng(vocab_size)
    for order in (2, 3, 5):
        sample = NgramModel(order).fit(data).sample(data.num_tokens, rng)
        again = tok.encode(tok.decode(sample))
        assert np.array_equal(again.ids, sample.ids) and np.array_equal(again.offsets, sample.offsets)
    sample = NgramModel(1).fit(data).sample(data.num_tokens, rng)
    assert tok.encode(tok.decode(sample)).num_tokens != sample.num_tokens


# -- invented words -------------------------------------------------------------------------------
def test_subword_models_invent_words_and_word_models_do_not(valid_lines):
    lines = normalize(valid_lines[:300])
    words = Sequences.encode(line.split() for line in lines)
    rng = np.random.default_rng(5)

    tok = SubwordTokenizer("bpe", 1000).fit(lines)
    data = tok.encode(lines)
    text = tok.decode(NgramModel(2).fit(data).sample(data.num_tokens, rng))
    counts, novel = word_counts(text, words.vocab)
    assert len(novel) > 50
    assert not set(novel) & set(words.vocab.words)

    sample = NgramModel(2).fit(words).sample(words.num_tokens, rng)
    counts, novel = word_counts((" ".join(s) for s in sample), words.vocab)
    assert novel == {} and counts.sum() == words.num_tokens


def test_word_counts_split_known_and_novel_words(valid):
    lines = ["the cat the", "zzz the  qqq zzz", ""]
    counts, novel = word_counts(lines, valid.vocab)
    assert counts[valid.vocab.lookup("the")] == 3 and counts[valid.vocab.lookup("cat")] == 1
    assert counts.sum() == 4 and novel == {"zzz": 2, "qqq": 1}
    assert counts.shape == (len(valid.vocab),)


def test_vocabulary_overlap_is_jaccard(bpe_500, valid_lines):
    assert vocabulary_overlap(frozenset("abc"), frozenset("bcd")) == 2 / 4
    assert vocabulary_overlap(frozenset(), frozenset()) == 1.0
    other = SubwordTokenizer("bpe", 500).fit(valid_lines[len(valid_lines) // 2:])
    a, b = bpe_500.vocabulary, other.vocabulary
    assert vocabulary_overlap(a, b) == len(a & b) / len(a | b)
    assert 0.3 < vocabulary_overlap(a, b) < 1


# -- determinism ----------------------------------------------------------------------------------
FINGERPRINT = """
import hashlib, sys
from ngram_collapse.corpus import resolve
from ngram_collapse.subword import SubwordTokenizer
lines = list(resolve(sys.argv[1]).lines())[:1500]
tok = SubwordTokenizer("bpe", 700).fit(lines)
h = hashlib.sha256("\\n".join(tok.vocab.words).encode())
h.update(tok.encode(lines).ids.tobytes())
print(h.hexdigest())
"""


def test_training_is_deterministic_across_processes_and_threads(valid_lines, data_dir):
    tok = SubwordTokenizer("bpe", 700).fit(valid_lines[:1500])
    again = SubwordTokenizer("bpe", 700).fit(list(valid_lines[:1500]))
    assert tok.vocab.words == again.vocab.words
    h = hashlib.sha256("\n".join(tok.vocab.words).encode())
    h.update(tok.encode(valid_lines[:1500]).ids.tobytes())
    path = str(Path(data_dir) / "wikitext-2" / "valid.txt")
    for threads, hashseed in (("1", "1"), ("2", "2")):
        env = {**os.environ, "RAYON_NUM_THREADS": threads, "PYTHONHASHSEED": hashseed}
        out = subprocess.run([sys.executable, "-c", FINGERPRINT, path], capture_output=True, text=True,
                             env=env, cwd=REPO, check=True, timeout=120).stdout.strip()
        assert out == h.hexdigest()


def test_importing_the_module_does_not_import_the_library():
    code = "import sys, ngram_collapse, ngram_collapse.subword; print('tokenizers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "False"


# -- bad input ------------------------------------------------------------------------------------
def one_line_error(fn, *args, **kwargs) -> str:
    with pytest.raises(InputError) as e:
        fn(*args, **kwargs)
    message = str(e.value)
    assert "\n" not in message and message
    return message


def test_empty_text_is_an_input_error():
    assert "no words" in one_line_error(SubwordTokenizer().fit, ["", "   ", "\t\u00a0"])
    assert "no words" in one_line_error(SubwordTokenizer().fit, iter([]))


def test_text_too_small_for_the_vocabulary_is_an_input_error_that_says_what_fits():
    text = ["the cat sat on the mat", "the bat ate that"]
    most = len(SubwordTokenizer("bpe", HUGE, allow_smaller=True).fit(text).vocabulary)
    assert 15 < most < 60
    assert len(SubwordTokenizer("bpe", most).fit(text).vocabulary) == most
    message = one_line_error(SubwordTokenizer("bpe", most + 1).fit, text)
    assert message.startswith(f"vocab_size={most + 1} ") and message.endswith(f"at most {most}")
    message = one_line_error(SubwordTokenizer("bpe", 5).fit, text)  # fewer than the characters
    alphabet = len(set("".join(text).replace(" ", ""))) + 1  # and the word-start marker
    assert message.startswith("vocab_size=5 ") and message.endswith(f"at least {alphabet}")
    for size in (5, most + 1):
        with pytest.raises(InputError) as e:
            SubwordTokenizer("bpe", size).fit(text)
        assert e.value.parameter == "vocab_size"


def test_bad_settings_and_unknown_characters():
    for kind in ("unigram", "wordpiece"):
        assert "kind" in one_line_error(SubwordTokenizer, kind)
    for size in (0, -3, True, 1.5, "8000"):
        assert "vocab_size" in one_line_error(SubwordTokenizer, "bpe", size)
    tok = SubwordTokenizer("bpe", 30, allow_smaller=True)
    with pytest.raises(RuntimeError, match="fit"):
        tok.encode(["the cat"])
    tok.fit(["the cat sat"])
    assert "not trained on" in one_line_error(tok.encode, ["the dog"])  # 'd', 'g' unseen
    with pytest.raises(ValueError, match="vocabulary"):
        tok.decode(Sequences.encode([["the"]]))
    with pytest.raises(ValueError, match="markers"):
        tok.decode(Sequences(np.array([2, 0]), np.array([0, 2]), tok.vocab))


def test_fit_and_encode_leave_their_input_alone():
    lines = ["  a b  ", "c"]
    copy = list(lines)
    tok = SubwordTokenizer("bpe", 30, allow_smaller=True).fit(lines)
    tok.encode(lines)
    assert lines == copy
    counter = Counter(normalize(lines))
    assert counter == Counter(["a b", "c"])
