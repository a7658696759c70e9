"""The model of subword runs: an MLE n-gram model of the subword tokens of a learned tokenizer that
fits text and samples text, on the one generation loop (docs/theory.md §13).

Text is held as its words. The data are a :class:`~ngram_collapse.vocab.Sequences` of white-space
words, one sequence per non-empty line (the line is its words joined by one space: the white-space
normalisation of :func:`ngram_collapse.subword.normalize`), on a word vocabulary that starts as the
corpus's and grows with every word a model invents. So the size of a data set is its number of words,
as in word-level runs, and the workflows combine text with the operations of Sequences: whole lines, a
subsample's last line cut between two words. :mod:`ngram_collapse.subword_run` runs and measures it.
"""
from __future__ import annotations

import math
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from itertools import chain
from typing import Any

import numpy as np

from . import checks
from .errors import InputError
from .ngram import NgramModel
from .subword import DEFAULT_VOCAB_SIZE, KINDS, SubwordTokenizer
from .vocab import Sequences, Vocabulary

POLICIES = ("retrained", "frozen")
#: corpus options of a subword run besides those of :func:`ngram_collapse.corpus.load_sequences`
SUBWORD_OPTIONS = ("subword_vocab_size", "tokenizer_policy")
#: a sample draws this many times the expected subword tokens, plus _SLACK (see SubwordNgram.sample)
_MARGIN = 1.1
_SLACK = 200


@dataclass(frozen=True)
class SubwordSettings:
    """The learned tokenizer of a subword run (validated on construction).

    Attributes:
        tokenizer: the kind, ``bpe`` (:data:`ngram_collapse.subword.KINDS`).
        subword_vocab_size: tokens to learn from the corpus (generation 0 must give that many;
            later generations may give fewer).
        tokenizer_policy: ``retrained`` (every generation trains a tokenizer on its own text) or
            ``frozen`` (every generation uses generation 0's).
    """

    tokenizer: str = "bpe"
    subword_vocab_size: int = DEFAULT_VOCAB_SIZE
    tokenizer_policy: str = "retrained"

    def __post_init__(self) -> None:
        checks.choice("tokenizer", self.tokenizer, KINDS)
        object.__setattr__(self, "subword_vocab_size", checks.integer("subword_vocab_size", self.subword_vocab_size,
                                                                      minimum=1))
        checks.choice("tokenizer_policy", self.tokenizer_policy, POLICIES)

    def config(self) -> dict[str, Any]:
        """The settings as ``config`` entries."""
        return asdict(self)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> SubwordSettings | None:
        """The settings that corpus options ask for (the command line's, a report's): None for a word
        tokenizer, which takes no subword option.

        Args:
            options: ``tokenizer`` (default ``whitespace``), and ``subword_vocab_size`` and
                ``tokenizer_policy`` (absent or None: the default).

        Raises:
            InputError: a subword option given with a word tokenizer, or a bad value (each names its
                parameter).
        """
        given = {name: options[name] for name in SUBWORD_OPTIONS if options.get(name) is not None}
        tokenizer = options.get("tokenizer", "whitespace")
        if tokenizer in KINDS:
            return cls(tokenizer, **given)
        for name in given:
            raise InputError(f"{name} applies to a subword tokenizer ({', '.join(KINDS)}), not to the word "
                             f"tokenizer {tokenizer}", name)
        return None


class Stopwatch:
    """Seconds spent per stage, summed over every ``with stopwatch(stage):`` block, and counts of events."""

    def __init__(self) -> None:
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self.events: Counter[str] = Counter()

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] += time.perf_counter() - start


class SubwordNgram:
    """An order-n maximum-likelihood n-gram model of the subword tokens of a learned tokenizer, fitted on
    text and sampling text (the loop's model protocol; see the module docstring for text).

    Args:
        order: n.
        subword: the tokenizer's settings.
        vocab: the word vocabulary samples are written on; it grows with the words the model invents.

    Attributes (after :meth:`fit`):
        tokenizer: the :class:`~ngram_collapse.subword.SubwordTokenizer` of the last fit.
        data: the text fitted on (word Sequences), and ``lines``, the same as lines of text.
        subwords: that text encoded, subword Sequences (one sequence per line).
        ngram: the :class:`~ngram_collapse.ngram.NgramModel` fitted on ``subwords``.
        stopwatch: a :class:`Stopwatch` of its stages, shared by the copies the loop makes.
    """

    def __init__(self, order: int, subword: SubwordSettings, vocab: Vocabulary) -> None:
        self.order, self.subword, self.vocab = order, subword, vocab
        self.tokenizer: SubwordTokenizer | None = None
        self.stopwatch = Stopwatch()

    def fit(self, data: Sequences) -> SubwordNgram:
        """Train the tokenizer on ``data`` (the first fit; then again at every fit if ``retrained`` and
        the text has words), encode ``data`` with it and fit the n-gram model on the subwords.

        Raises:
            InputError: the first fit's text cannot give ``subword_vocab_size`` tokens (about
                ``subword_vocab_size``; the message says which size would do).
        """
        first = self.tokenizer is None
        if first or (self.subword.tokenizer_policy == "retrained" and data.num_tokens):
            with self.stopwatch("tokenizer_training"):
                tokenizer = SubwordTokenizer(self.subword.tokenizer, self.subword.subword_vocab_size,
                                             allow_smaller=not first)
                try:
                    self.tokenizer = tokenizer.fit(text_lines(data))
                except InputError as e:
                    if e.parameter != "vocab_size":
                        raise
                    raise InputError(f"subword_{e}", "subword_vocab_size") from None
        with self.stopwatch("encoding"):
            self.subwords = self.tokenizer.encode_words(data)
        with self.stopwatch("ngram"):
            self.ngram = NgramModel(self.order).fit(self.subwords)
        self.data = data
        return self

    @property
    def lines(self) -> list[str]:
        """The text the model was fitted on, one line per sequence (:func:`text_lines`)."""
        return text_lines(self.data)

    def sample(self, size: int, rng: np.random.Generator, **decoding: Any) -> Sequences:
        """``size`` words of text: subword sequences drawn one after another (``decoding``: the keyword
        arguments of :meth:`NgramModel.sample`) and decoded, the last line cut after its ``size``-th word.

        The n-gram sampler counts subword tokens, so this draws ``_MARGIN`` times the tokens ``size``
        words take in the model's own data, plus ``_SLACK``, and keeps the first ``size`` words. If those
        tokens hold fewer whole words (the last decoded word may be cut), it draws again with twice the
        budget (counted in ``stopwatch.events["sample_redraws"]``): that redraw is the only way the result
        can differ in law from the first ``size`` words of an endless stream of sequences, by at most
        its probability in total variation.

        Returns:
            Word Sequences on :attr:`vocab` (new words added), ``size`` words in non-empty lines.
        """
        size = int(size)
        if size == 0:
            return Sequences(np.empty(0, np.int32), np.zeros(1, np.int64), self.vocab)
        budget = math.ceil(_MARGIN * size * self.subwords.num_tokens / max(self.data.num_tokens, 1)) + _SLACK
        while True:
            with self.stopwatch("ngram"):
                drawn = self.ngram.sample(budget, rng, **decoding)
            with self.stopwatch("decoding"):
                text = _first_words(self.tokenizer.decode(drawn), size, self.vocab)
            if text is not None:
                return text
            self.stopwatch.events["sample_redraws"] += 1
            budget *= 2


def text_lines(data: Sequences) -> list[str]:
    """The lines of text of word Sequences: each sequence's words joined by one space."""
    words = data.vocab.words
    flat = list(map(words.__getitem__, data.ids.tolist()))
    bounds = data.offsets.tolist()
    return [" ".join(flat[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]


def _first_words(lines: list[str], size: int, vocab: Vocabulary) -> Sequences | None:
    """The first ``size`` words of normalised ``lines`` (empty lines dropped, the last kept line cut
    after the ``size``-th word) as word Sequences on ``vocab``, new words added in order of first
    appearance; None if ``lines`` hold fewer than ``size`` whole words (the last word of the last line
    does not count: the sampler may have cut it)."""
    per_line = np.fromiter((line.count(" ") + 1 if line else 0 for line in lines), np.int64, len(lines))
    ends = np.cumsum(per_line)
    whole = int(ends[-1]) - int(per_line[-1] > 0) if lines else 0
    if whole < size:
        return None
    n = int(np.searchsorted(ends, size)) + 1  # lines up to the one holding the size-th word (not empty)
    split = [line.split() for line in lines[:n] if line]
    split[-1] = split[-1][:size - (int(ends[n - 2]) if n >= 2 else 0)]
    words = list(chain.from_iterable(split))
    for word in dict.fromkeys(words):
        vocab.add(word)
    ids = np.fromiter(map(vocab.index.__getitem__, words), np.int32, len(words))
    offsets = np.zeros(len(split) + 1, np.int64)
    np.cumsum(np.fromiter(map(len, split), np.int64, len(split)), out=offsets[1:])
    return Sequences(ids, offsets, vocab)
