"""Count-based n-gram language models of any order, sampled exactly and fast.

Training data are sequences of words; each is padded with ``order - 1`` ``<s>`` on the left and ended
by ``</s>``. With the default estimator (``mle``) the next-word distribution in a context is the
maximum-likelihood one: the count of the n-gram over the count of the context, exactly as
``nltk.lm.MLE`` fitted on ``nltk.lm.preprocessing.padded_everygram_pipeline`` of the same sequences.
The smoothed estimators (``lidstone``, ``laplace``, ``witten-bell``, ``kneser-ney``) are NLTK's too,
computed and sampled by :class:`~ngram_collapse.smoothing.SmoothedNgram` (docs/theory.md §14).

A fitted model is an :class:`~ngram_collapse.table.NgramCounts`: a count vector over a table of
distinct n-grams grouped by context (:mod:`ngram_collapse.table`). Sampling walks the table in
compiled code, one exact integer draw per word; a sample carries its own counts over the same
table, so refitting on it is free, and every generation of a recursive run shares the table of
generation 0.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from numbers import Integral, Real

import numpy as np
from numpy.typing import NDArray

from . import checks
from .errors import InputError
from .everygrams import padded_stream
from .smoothing import SmoothedNgram
from .table import NgramCounts, count_ngrams
from .vocab import Sequences, Vocabulary

MAX_ORDER = 64


class NgramModel:
    """An n-gram model (Section 4.1 of the paper applies Corollaries 1 and 2 to the MLE one).

    Args:
        order: n, the number of words in an n-gram (1 = unigram), 1 <= order <= 64.
        estimator: ``mle`` (default), or a smoothed estimator of
            :data:`ngram_collapse.smoothing.ESTIMATORS` with its parameters: ``gamma`` (lidstone),
            ``discount`` and ``unigram_floor`` (kneser-ney); see :class:`~ngram_collapse.smoothing.SmoothedNgram`.
        vocabulary: smoothed estimators only: None (the vocabulary is re-learned from the data, as
            NLTK does), or a boolean mask over word ids that fixes it (the original corpus's words
            keep probability even when absent from the data).

    Attributes (after :meth:`fit`):
        data: the :class:`~ngram_collapse.vocab.Sequences` it was fitted on.
        ngrams: its :class:`~ngram_collapse.table.NgramCounts` (the table and the count of every
            entry; read-only, shared with the sample it was fitted on and with other generations).
        smoothed: the fitted :class:`~ngram_collapse.smoothing.SmoothedNgram` (smoothed estimators).
        distinct_ngrams: the number of distinct n-grams made only of words (no ``<s>`` or ``</s>``)
            in the training sequences.
    """

    def __init__(self, order: int, estimator: str = "mle", *, gamma: float | None = None, discount: float = 0.1,
                 unigram_floor: bool = False, vocabulary: NDArray[np.bool_] | None = None) -> None:
        self.order = checks.integer("order", order, 1, MAX_ORDER)
        self.estimator = estimator
        self.gamma, self.discount, self.unigram_floor, self.vocabulary = gamma, discount, unigram_floor, vocabulary
        if estimator != "mle" or vocabulary is not None:
            self._smoothed()  # every setting checked here, once, before any fit

    # -- fitting -------------------------------------------------------------------------------
    def fit(self, sequences: Sequences | Iterable[Sequence[str]]) -> NgramModel:
        """Fit the maximum-likelihood counts. ``sequences`` is never modified.

        A sample of a model of the same order (what :meth:`sample` returns) carries its n-gram
        counts over that model's table; the fit takes them as they are (no counting: exactly the
        model a count from scratch gives, on a table that has all its n-grams). Any other data
        are counted into a new table. The fit rebinds its attributes and never writes to arrays
        it had, so a shallow copy of a fitted model can be refitted without touching the original.

        Args:
            sequences: a :class:`~ngram_collapse.vocab.Sequences` (word ids) or any iterable of
                sequences of words (str), encoded with a new vocabulary.

        Returns:
            self.

        Raises:
            TypeError: ``sequences`` is neither (e.g. a str, or a list of str).
            ValueError: a :class:`Sequences` holds an id that is a marker or not in its vocabulary.
        """
        data = sequences if isinstance(sequences, Sequences) else Sequences.encode(sequences)
        ngrams = data.ngram_counts
        if ngrams is None or ngrams.table.order != self.order or ngrams.table.vocab is not data.vocab:
            ngrams = count_ngrams(data, self.order)
        self.data = data
        self.ngrams = ngrams
        self.distinct_ngrams = ngrams.distinct_ngrams
        self.smoothed = None if self.estimator == "mle" else self._smoothed().fit(data, self.vocabulary)
        self._nltk_stream = None
        return self

    def _smoothed(self) -> SmoothedNgram:
        """An unfitted smoothed model with this model's settings (which it validates)."""
        if self.estimator == "mle" and self.vocabulary is not None:
            raise InputError("vocabulary applies to the smoothed estimators, not to mle (which can never draw a "
                             "word absent from its data)", "vocabulary")
        return SmoothedNgram(self.order, self.estimator, gamma=self.gamma, discount=self.discount,
                             unigram_floor=self.unigram_floor)

    def _fitted(self) -> NgramCounts:
        ngrams = getattr(self, "ngrams", None)
        if ngrams is None:
            raise InputError(f"this NgramModel({self.order}) is not fitted: call fit(sequences) first")
        return ngrams

    @property
    def vocab(self) -> Vocabulary:
        """The vocabulary of the training data."""
        self._fitted()
        return self.data.vocab

    # -- probabilities -------------------------------------------------------------------------
    def prob(self, word: str, context: Sequence[str] | None = None) -> float:
        """MLE probability of ``word`` after ``context``, with ``nltk.lm.MLE.score`` semantics.

        ``context`` may have 0 to order-1 words (``<s>`` and ``</s>`` spelt as in NLTK); shorter
        contexts use the lower-order counts of NLTK's padded everygrams (both sides padded with
        order-1 markers). Unknown words, unseen contexts, and contexts of order words or more give 0.
        This scans the training stream: O(training tokens) per call, not for hot loops. A smoothed
        model gives its estimator's ``score`` (:meth:`SmoothedNgram.prob`).
        """
        self._fitted()
        if self.smoothed is not None:
            return self.smoothed.prob(word, context)
        context = tuple(context or ())
        if len(context) >= self.order:
            return 0.0
        ids = [self.vocab.lookup(w) for w in (*context, word)]
        if any(i is None for i in ids):
            return 0.0
        if self._nltk_stream is None:  # every sequence padded as NLTK pads it, order-1 markers each side
            self._nltk_stream = padded_stream(self.data, self.order - 1, np.arange(len(self.vocab)))
        stream, remaining = self._nltk_stream
        m = len(ids)
        windows = stream.size - m + 1
        if windows <= 0:
            return 0.0
        match = remaining[:windows] >= m  # windows within one padded sequence
        for t, i in enumerate(ids[:-1]):
            match &= stream[t:t + windows] == i
        total = np.count_nonzero(match)
        return float(np.count_nonzero(match & (stream[m - 1:m - 1 + windows] == ids[-1])) / total) if total else 0.0

    # -- sampling ------------------------------------------------------------------------------
    def sample(self, num_tokens: int, rng: np.random.Generator, temperature: float = 1.0,
               top_k: int | None = None, top_p: float | None = None) -> Sequences:
        """Draw sequences from the model until exactly ``num_tokens`` words are drawn.

        Each sequence starts in the all-``<s>`` context and ends at ``</s>``; sequences are drawn one
        after another and the last one is cut at the budget (it then ends there, with ``</s>``).
        Every draw is exact: an integer uniform in [0, context count) from the generator's 64-bit
        output picks the next word in proportion to the n-gram counts.

        Decoding transforms change every context's next-word distribution p (MLE, ``</s>``
        included, over the next ids with a positive count) at sampling time, in this order:

        1. ``temperature`` T: p(w) ** (1 / T), renormalised (T < 1 sharpens, T > 1 flattens).
        2. ``top_k`` K: rank the next ids by probability, highest first, ties broken by the smaller
           id; keep the first K (all of them if fewer).
        3. ``top_p`` P: renormalise what is left and keep the shortest prefix of the same ranking
           whose probability reaches P (sum >= P). An id tied in probability with the last one
           kept but ranked after it (a larger id) is dropped.

        The kept weights are then renormalised and drawn from exactly: with T = 1 they are the
        integer counts (exact integer draws; top-p's comparison is exact too), otherwise the
        doubles (count / largest count) ** (1 / T) of the context, drawn with a uniform double
        (exact to double precision). The ranking does not depend on T, so top-k keeps the same
        ids whatever T; top-p does depend on it.

        Args:
            num_tokens: total number of words to draw (markers not counted), an integer >= 0.
            rng: a ``numpy.random.Generator``; the draws come from its bit generator, so the same
                seed gives the same sample.
            temperature: T > 0 (default 1: no change).
            top_k: K >= 1, or None (default) for no truncation.
            top_p: P in (0, 1], or None (default) for no truncation.

        Returns:
            A :class:`~ngram_collapse.vocab.Sequences` on the model's vocabulary (reads as lists of
            words) carrying its n-gram counts over this model's table (``ngram_counts``; they
            count what was drawn, whatever the transform).

        Raises:
            TypeError: ``num_tokens`` or ``top_k`` is not an integer, ``rng`` not a Generator,
                ``temperature`` or ``top_p`` not a real number.
            InputError (a ValueError): the model is not fitted; a value out of range; words asked
                of a model fitted on no words.
        """
        ngrams = self._fitted()
        num_tokens = _integer("num_tokens", num_tokens)
        if num_tokens < 0:
            raise InputError(f"num_tokens must be >= 0, not {num_tokens}")
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator (e.g. numpy.random.default_rng(seed)), "
                            f"not {type(rng).__name__}")
        temperature = _real("temperature", temperature)
        if not 0 < temperature < math.inf:
            raise InputError(f"temperature must be > 0 and finite, not {temperature}")
        if top_k is not None:
            top_k = _integer("top_k", top_k)
            if top_k < 1:
                raise InputError(f"top_k must be >= 1, not {top_k}")
        if top_p is not None:
            top_p = _real("top_p", top_p)
            if not 0 < top_p <= 1:
                raise InputError(f"top_p must be in (0, 1], not {top_p}")
        if num_tokens > 0 and ngrams.words == 0:
            raise InputError("cannot sample words from a model fitted on no words")
        if self.smoothed is not None:
            if temperature != 1.0 or top_k is not None or top_p is not None:
                raise InputError(f"decoding transforms apply to the mle estimator, not to {self.estimator}",
                                 "temperature")
            return self.smoothed.sample(num_tokens, rng)
        return ngrams.sample(num_tokens, rng, temperature, top_k, top_p)


def _integer(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an integer, not {type(value).__name__} ({value!r})")
    return int(value)


def _real(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number, not {type(value).__name__} ({value!r})")
    return float(value)
