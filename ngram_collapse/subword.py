"""Learned subword tokenizers (byte-pair encoding) between text and the n-gram model, and what to
measure of them under recursive training.

A :class:`SubwordTokenizer` is trained on lines of text, turns lines into subword
:class:`~ngram_collapse.vocab.Sequences` (one sequence per non-empty line, as the word-level reader
makes one per line) and sequences back into lines. Training uses the Hugging Face ``tokenizers``
library (imported only when a tokenizer is fitted).

White space. Text is normalised first: every line is split on white space (``str.split``, exactly
the words of the ``whitespace`` word tokenizer) and its words are joined by one space; empty lines
are dropped (:func:`normalize`). ``decode(encode(lines))`` returns ``normalize(lines)`` exactly.

Words are units. The pre-tokenizer splits a line into its words and marks the start of each word
(SentencePiece's ``Metaspace``: "the cat" -> "▁the", "▁cat", the first word of a line included), so
a merge never crosses a word boundary, the same word is encoded the same way wherever it stands,
and with a large enough vocabulary every word is exactly one token. Tokens are Unicode characters
and merges of them, never bytes: every character of the training text is in the alphabet, so
encoding the training text loses nothing, and any sequence of tokens decodes to valid text.

Tokens by name. A token is written as its text with a leading space if it starts a word (``" the"``,
``"ing"``): the names of :attr:`SubwordTokenizer.vocabulary` and of the ids of its
:class:`~ngram_collapse.vocab.Vocabulary` (0 ``</s>``, 1 ``<s>``, then the tokenizer's own ids + 2).

Why BPE only. The library's Unigram trainer is not reproducible: trained three times on the same
text it learns the same tokens with log-probabilities that differ by about 3e-4, enough to segment
some words differently (``tokenizers`` 0.23.3, also with ``RAYON_NUM_THREADS=1``). Its BPE trainer
is deterministic (see :meth:`SubwordTokenizer.fit`).
"""
from __future__ import annotations

from collections.abc import Iterable
from itertools import chain

import numpy as np
from numpy.typing import NDArray

from .errors import InputError
from .vocab import EOS_ID, FIRST_WORD_ID, Sequences, Vocabulary

KINDS = ("bpe",)
DEFAULT_VOCAB_SIZE = 8000
_MARKER = "\u2581"  # "▁", SentencePiece's word-start marker
_SPARE_MARKERS = range(0xE000, 0xF900)  # private-use characters, for a text that contains "▁"
_SPACE, _NEWLINE = ord(" "), ord("\n")


def normalize(lines: Iterable[str]) -> list[str]:
    """The white-space normalisation every tokenizer applies: each line's words (``str.split``)
    joined by one space, empty lines dropped. ``lines`` is not modified."""
    return [line for line in map(" ".join, map(str.split, lines)) if line]


class SubwordTokenizer:
    """A byte-pair-encoding tokenizer learned from text, with words as units (see the module docstring).

    Args:
        kind: ``bpe``.
        vocab_size: number of tokens to learn (the alphabet, i.e. every distinct character of the
            text and the word-start marker, counts; the markers ``<s>`` and ``</s>`` do not).
        allow_smaller: learn fewer than ``vocab_size`` tokens, without an error, from a text that
            cannot give more (every word is then one token). For the generations of a recursive
            run after the first: a collapsing text may run out of distinct words.

    Attributes (after :meth:`fit`):
        vocab: the :class:`~ngram_collapse.vocab.Vocabulary` of the ids of :meth:`encode`.
        vocabulary: the set of learned tokens, by name (see the module docstring).
    """

    def __init__(self, kind: str = "bpe", vocab_size: int = DEFAULT_VOCAB_SIZE, allow_smaller: bool = False) -> None:
        if kind not in KINDS:
            why = " (the unigram trainer of tokenizers is not reproducible)" if kind == "unigram" else ""
            raise InputError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}{why}")
        if isinstance(vocab_size, bool) or not isinstance(vocab_size, (int, np.integer)) or vocab_size < 1:
            raise InputError(f"vocab_size must be an integer >= 1, not {vocab_size!r}")
        self.kind = kind
        self.vocab_size = int(vocab_size)
        self.allow_smaller = bool(allow_smaller)

    # -- training --------------------------------------------------------------------------------
    def fit(self, lines: Iterable[str]) -> SubwordTokenizer:
        """Learn the tokens of ``lines`` (normalised first; not modified).

        Deterministic: the same text gives the same tokens and ids, in any process and with any
        number of threads (tested). The library's BPE trainer breaks ties between equally frequent
        pairs by token ids, which follow the sorted alphabet and the order of merges; its one known
        source of run-to-run differences, subword prefixes and suffixes, is not used here.

        Raises:
            InputError: the text has no words (about ``lines``); it has more distinct characters than
                ``vocab_size``; or (unless ``allow_smaller``) it is too small to give ``vocab_size``
                tokens, that is, every word is one token before the vocabulary is full (both about
                ``vocab_size``: the message says which size would do).
        """
        from tokenizers import Tokenizer, models, pre_tokenizers, trainers

        text = normalize(lines)
        if not text:
            raise InputError("lines: no words to train the tokenizer on (empty after white-space normalisation)", "lines")
        marker = _pick_marker(text)
        tokenizer = Tokenizer(models.BPE())
        tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement=marker, prepend_scheme="always", split=True)
        trainer = trainers.BpeTrainer(vocab_size=self.vocab_size, min_frequency=0, show_progress=False)
        tokenizer.train_from_iterator(text, trainer)
        by_id = tokenizer.get_vocab()
        learned = len(by_id)
        if learned > self.vocab_size:  # the trainer keeps every character, whatever vocab_size says
            raise InputError(f"vocab_size={self.vocab_size} is smaller than the alphabet of the text "
                             f"({learned} distinct characters with the word-start marker): it must be at least {learned}",
                             "vocab_size")
        if learned < self.vocab_size and not self.allow_smaller:
            raise InputError(f"vocab_size={self.vocab_size} is too large for the text: BPE learns at most {learned} "
                             f"tokens from it (every word is then one token): it must be at most {learned}", "vocab_size")
        tokens = [""] * learned
        for token, i in by_id.items():
            tokens[i] = token
        names = [" " + t[1:] if t.startswith(marker) else t for t in tokens]
        vocab = Vocabulary()
        vocab.words.extend(names)  # by position: a token named "<s>" (inside a word) keeps its own id
        for i, name in enumerate(names, FIRST_WORD_ID):
            vocab.index.setdefault(name, i)
        encoded = [name.encode("utf-8") for name in vocab.words]
        encoded[EOS_ID] = b"\n"  # decode ends every sequence with it
        encoded[EOS_ID + 1] = b""  # <s> never occurs in data
        self._tokenizer = tokenizer
        self._chars = frozenset(t for t in tokens if len(t) == 1) - {marker}
        self._bytes = np.frombuffer(b"".join(encoded), dtype=np.uint8)
        self._byte_offsets = np.concatenate(([0], np.cumsum([len(b) for b in encoded]))).astype(np.int64)
        self.vocab = vocab
        self.vocabulary = frozenset(names)
        return self

    # -- text <-> ids ----------------------------------------------------------------------------
    def encode(self, lines: Iterable[str]) -> Sequences:
        """The subword ids of ``lines`` (not modified): one sequence per line with words, of the
        words ``line.split()``.

        Each distinct word is encoded once by the library and the text is assembled from the words
        with numpy: the same as encoding every line with the library (tested), since words are
        units.

        Returns:
            :class:`~ngram_collapse.vocab.Sequences` on :attr:`vocab`; ``ids`` has shape
            (subword tokens,), ``offsets`` shape (non-empty lines + 1,).

        Raises:
            InputError: the text has a character the tokenizer was not trained on (the library
                would silently drop it).
        """
        self._check_fitted()
        split = [words for words in map(str.split, lines) if words]
        words_per_line = np.fromiter(map(len, split), np.int64, len(split))
        words = list(chain.from_iterable(split))
        del split
        distinct = list(dict.fromkeys(words))
        number = dict(zip(distinct, range(len(distinct))))
        word_ids = np.fromiter(map(number.__getitem__, words), np.int64, len(words))
        del words, number
        return self._assemble(distinct, word_ids, words_per_line)

    def encode_words(self, data: Sequences) -> Sequences:
        """:meth:`encode` of the text of word Sequences (each sequence's words joined by spaces),
        straight from their word ids: every word present is encoded once and no text is built.
        The words must hold no white space (as words read with ``str.split`` never do)."""
        self._check_fitted()
        present = np.flatnonzero(data.counts())
        number = np.zeros(len(data.vocab), np.int64)
        number[present] = np.arange(present.size)
        lengths = data.lengths
        return self._assemble([data.vocab.words[i] for i in present.tolist()], number[data.ids],
                              lengths[lengths > 0])

    def _assemble(self, distinct: list[str], word_ids: NDArray[np.int64], words_per_line: NDArray[np.int64]) -> Sequences:
        """The subword Sequences of lines of ``words_per_line`` words, word i being ``distinct[word_ids[i]]``;
        each distinct word encoded once by the library. Raises the unknown-character error of :meth:`encode`."""
        unknown = set("".join(distinct)) - self._chars
        if unknown:
            shown = "".join(sorted(unknown)[:10])
            raise InputError(f"lines: {len(unknown)} characters the tokenizer was not trained on ({shown!r})")
        pieces = [e.ids for e in self._tokenizer.encode_batch_fast(distinct)]
        piece_count = np.fromiter(map(len, pieces), np.int64, len(pieces))
        piece_start = np.concatenate(([0], np.cumsum(piece_count)[:-1]))
        flat = np.fromiter(chain.from_iterable(pieces), np.int32, int(piece_count.sum()))
        flat += FIRST_WORD_ID
        del pieces
        per_word = piece_count[word_ids]
        ids = flat[_segment_gather(piece_start[word_ids], per_word)]
        ends = np.cumsum(per_word)
        offsets = np.zeros(words_per_line.size + 1, np.int64)
        offsets[1:] = ends[np.cumsum(words_per_line) - 1] if ends.size else 0
        return Sequences(ids, offsets, self.vocab)

    def decode(self, sequences: Sequences) -> list[str]:
        """The text of subword sequences: one line per sequence, normalised.

        Total and deterministic: a token starting a word adds a space and its text, any other token
        its text, and the line is normalised, so any id sequence gives valid text (a sampled
        sequence can give a line that starts inside a word, or an empty line for a sequence of
        bare word-start markers; :meth:`encode` drops empty lines).

        Args:
            sequences: ids of :attr:`vocab` (e.g. an n-gram model's sample), ``len(sequences)`` lines.
        """
        self._check_fitted()
        if sequences.vocab is not self.vocab and sequences.vocab.words != self.vocab.words:
            raise ValueError("sequences are not on this tokenizer's vocabulary")
        if sequences.num_tokens and int(sequences.ids.min()) < FIRST_WORD_ID:
            raise ValueError("sequences hold the markers <s> or </s> as tokens")
        stream = np.insert(sequences.ids, sequences.offsets[1:], EOS_ID)  # "\n" after every sequence
        starts = self._byte_offsets[stream]
        lengths = self._byte_offsets[stream + 1] - starts
        text = self._bytes[_segment_gather(starts, lengths)]
        # Normalise (tokens hold no white space): a space stays only between two non-space
        # characters of a line, and then only the last of a run of spaces.
        space = text == _SPACE
        before = np.maximum.accumulate(np.where(space, -1, np.arange(text.size)))  # last non-space at or before
        keep = ~space
        keep[:-1] |= space[:-1] & (text[1:] != _SPACE) & (text[1:] != _NEWLINE) & (before[:-1] >= 0)
        keep[:-1] &= ~space[:-1] | (text[np.maximum(before[:-1], 0)] != _NEWLINE)
        return text[keep].tobytes().decode("utf-8").split("\n")[:-1]

    def _check_fitted(self) -> None:
        if not hasattr(self, "_tokenizer"):
            raise RuntimeError("this SubwordTokenizer is not fitted yet: call fit(lines) first")


def _segment_gather(starts: NDArray[np.int64], lengths: NDArray[np.int64]) -> NDArray[np.int64]:
    """Indices ``starts[0] .. starts[0]+lengths[0]-1, starts[1] ..``, shape (lengths.sum(),)."""
    total = int(lengths.sum())
    out_start = np.cumsum(lengths) - lengths
    return np.repeat(starts - out_start, lengths) + np.arange(total, dtype=np.int64)


def _pick_marker(text: list[str]) -> str:
    """The word-start marker: ``▁``, or if the text contains it the first private-use character it
    does not contain (the marker must never be a character of the text, or the pre-tokenizer would
    split words at it). Token names do not depend on it."""
    if not any(_MARKER in line for line in text):
        return _MARKER
    used = set("".join(text))
    for code in _SPARE_MARKERS:
        if chr(code) not in used:
            return chr(code)
    raise InputError("lines: the text uses every private-use character; no word-start marker is left")


# -- what to measure per generation ---------------------------------------------------------------
def distinct_subwords(sequences: Sequences) -> int:
    """Distinct subword types used in ``sequences``."""
    return int(np.count_nonzero(sequences.counts()))


def subwords_per_word(sequences: Sequences) -> float:
    """Mean subword tokens per word of encoded text: tokens over tokens that start a word (named
    with a leading space); NaN for no words."""
    starts = np.array([name.startswith(" ") for name in sequences.vocab.words], dtype=bool)
    words = int(np.count_nonzero(starts[sequences.ids]))
    return sequences.num_tokens / words if words else float("nan")


def vocabulary_overlap(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard index |a & b| / |a | b| of two learned vocabularies (:attr:`SubwordTokenizer.vocabulary`);
    1 for two empty sets."""
    union = len(a | b)
    return len(a & b) / union if union else 1.0
