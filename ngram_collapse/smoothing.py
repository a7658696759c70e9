"""Smoothed n-gram models equal to ``nltk.lm``'s, with an exact vectorised sampler and held-out perplexity.

:class:`SmoothedNgram` ``(order, estimator, ...)`` fitted on :class:`~ngram_collapse.vocab.Sequences`
gives, for every estimator, the probability ``nltk.lm`` gives after
``model.fit(*padded_everygram_pipeline(order, sentences))``:

=============== ========================================= ======================================
estimator       NLTK class                                parameters
=============== ========================================= ======================================
``mle``         ``MLE``                                   -
``lidstone``    ``Lidstone(gamma, order)``                ``gamma >= 0``
``laplace``     ``Laplace``                               (gamma = 1)
``witten-bell`` ``WittenBellInterpolated``                -
``kneser-ney``  ``KneserNeyInterpolated(order, discount)`` ``0 < discount < 1``; ``unigram_floor``
=============== ========================================= ======================================

Notation: a gram is a tuple of tokens of the padded sequences (each padded with n-1 ``<s>`` and
n-1 ``</s>``); c(g) counts its windows; c(g .) = sum_w c(g w), NLTK's ``counts[g].N()`` (not the
count of g itself: a gram at the end of a padded sequence has no continuation); N1+(g .), N1+(. g)
and N1+(. g .) are the numbers of distinct continuations, predecessors and (predecessor,
continuation) pairs; V is NLTK's vocabulary (every token of the padded data, ``<UNK>`` included) and
|V| its size. Given a word w and a context h (both looked up: a token outside V is ``<UNK>``):

* mle: c(h w) / c(h .), 0 if c(h .) = 0.
* lidstone: (c(h w) + gamma) / (c(h .) + |V| gamma); laplace: gamma = 1.
* interpolated (witten-bell, kneser-ney): h is cut to its last n-1 tokens, then
  p(w | h) = alpha(w, h) + gamma(h) p(w | h[1:]) down to the unigram level p1(w); at a level
  whose context has no continuation (c(h .) = 0), alpha = 0 and gamma = 1.

  - witten-bell: gamma(h) = N1+(h .) / (N1+(h .) + c(h .)),
    alpha = (1 - gamma(h)) c(h w) / c(h .), p1(w) = c(w) / c(.).
  - kneser-ney, highest order (len(h) = n-1): alpha = max(c(h w) - d, 0) / c(h .),
    gamma = d N1+(h .) / c(h .). Lower orders: alpha = max(N1+(. h w) - d, 0) / N1+(. h .),
    gamma = d N1+(h .) / N1+(. h .). p1(w) = N1+(. w) / N1+(. .).
  - kneser-ney with ``unigram_floor=True`` (off by default): the unigram level is discounted too and
    the freed mass spread uniformly over V, as KenLM does:
    p1(w) = max(N1+(. w) - d, 0) / N1+(. .) + d |{v : N1+(. v) > 0}| / N1+(. .) / |V|.
    NLTK's p1 is 0 for a word never seen after another token (``<UNK>`` included), so any held-out
    text with a new word has infinite perplexity; the floor makes every p(w | h) > 0.

NLTK's quirks, all reproduced (each is checked against NLTK in ``tests/test_smoothing.py``):

1. At order 1 NLTK pads nothing: ``<s>`` and ``</s>`` are not in V and perplexity has no markers.
   ``KneserNeyInterpolated(1)`` divides by zero (it counts continuations in bigrams it never
   stored): kneser-ney needs order >= 2 here (an InputError).
2. mle and lidstone use the whole context given, never cut: a context of n tokens or more is unseen
   (mle 0, lidstone 1/|V|). The interpolated models cut it to n-1 tokens.
3. kneser-ney uses raw counts at the model's highest order only, whatever the length of the context
   given (``prob(w, [a])`` on an order-3 model uses continuation counts at the bigram level).
4. kneser-ney's lower-order gamma counts N1+(h .) in the raw counts but divides by the continuation
   total N1+(. h .): after an all-``<s>`` context the probabilities sum to slightly more than 1
   (the continuation ``<s>`` of ``<s>`` at the start of a padded sequence has no predecessor).
5. ``<UNK>`` is in V, so lidstone gives an unknown word (c + gamma) / (c(h .) + |V| gamma); the
   interpolated models give it 0 unless the counts have ``<UNK>`` (below).
6. A vocabulary given to the model (the ``fixed`` policy, :meth:`SmoothedNgram.fit`'s
   ``vocabulary``) works as ``LanguageModel(order, vocabulary=Vocabulary(...))``: words of the data
   outside it are counted as ``<UNK>``.
7. A literal word ``<UNK>`` is NLTK's unknown label, and counted twice in |V|.
8. lidstone with gamma = 0 divides 0 by 0 in an unseen context: NLTK raises, this gives nan.

Sampling (:meth:`SmoothedNgram.sample`, :meth:`SmoothedNgram.draw_next`) draws the next word from
q(w | h) = p(w | h) / sum_{v in S} p(v | h) over S, the vocabulary's words and ``</s>`` (``<s>`` and
``<UNK>`` excluded), exactly, as a mixture drawn level first; see
:class:`~ngram_collapse.smoothed_sampling.SmoothedSampler`.
"""
from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Sequence

import numpy as np
from numpy.typing import NDArray

from . import checks
from .errors import InputError
from .everygrams import ROOT, count_everygrams, padded_stream
from .smoothed_sampling import SmoothedSampler
from .vocab import BOS_ID, EOS_ID, Sequences, Vocabulary

ESTIMATORS = ("mle", "lidstone", "laplace", "witten-bell", "kneser-ney")
UNK = "<UNK>"
_BATCH_MARGIN = 1.03  # sequences per batch: 3% more than the expected need


class SmoothedNgram:
    """An n-gram model with one of NLTK's estimators (see the module docstring for the formulas).

    Args:
        order: n >= 1 (kneser-ney: n >= 2).
        estimator: one of :data:`ESTIMATORS`.
        gamma: lidstone's added count (>= 0); required for lidstone, not allowed otherwise.
        discount: kneser-ney's d, 0 < d < 1 (NLTK's default 0.1); checked for every estimator.
        unigram_floor: kneser-ney only: discount the unigram level too and spread the freed mass
            uniformly over the vocabulary (finite perplexity on any text).

    Raises:
        InputError: a bad value, naming the parameter.

    Attributes (after :meth:`fit`):
        data: the training :class:`~ngram_collapse.vocab.Sequences`.
        vocab: its :class:`~ngram_collapse.vocab.Vocabulary` (word ids).
        member: bool, shape (len(vocab),): the word ids in the model's vocabulary V (``<UNK>`` aside).
        vocab_size: |V| as NLTK counts it (``<s>``, ``</s>`` at orders >= 2 and ``<UNK>`` included).
        unk_id: the token id of ``<UNK>``: the id of a literal word ``<UNK>`` if the vocabulary has
            one, else len(vocab).
        counts: the :class:`~ngram_collapse.everygrams.Everygrams` of the padded data.
    """

    def __init__(self, order: int, estimator: str = "kneser-ney", *, gamma: float | None = None,
                 discount: float = 0.1, unigram_floor: bool = False) -> None:
        order = checks.integer("order", order, minimum=1)
        checks.choice("estimator", estimator, ESTIMATORS)
        if estimator == "kneser-ney" and order < 2:
            raise InputError("order >= 2 is needed by kneser-ney (NLTK's KneserNeyInterpolated(1) divides by zero)",
                             "order")
        if estimator == "lidstone":
            if gamma is None:
                raise InputError("gamma is required by the lidstone estimator", "gamma")
            gamma = checks.real("gamma", gamma, minimum=0.0)
        elif gamma is not None:
            raise InputError(f"gamma applies to the lidstone estimator only, not {estimator}", "gamma")
        discount = checks.real("discount", discount, 0.0, 1.0, above=True, below=True)
        if not isinstance(unigram_floor, (bool, np.bool_)):
            raise InputError(f"unigram_floor must be True or False, not {unigram_floor!r}", "unigram_floor")
        if unigram_floor and estimator != "kneser-ney":
            raise InputError(f"unigram_floor applies to the kneser-ney estimator only, not {estimator}",
                             "unigram_floor")
        self.order = int(order)
        self.estimator = estimator
        self.gamma = 1.0 if estimator == "laplace" else (float(gamma) if gamma is not None else None)
        self.discount = float(discount)
        self.unigram_floor = bool(unigram_floor)

    # -- fitting -------------------------------------------------------------------------------
    def fit(self, data: Sequences | Iterable[Sequence[str]],
            vocabulary: NDArray[np.bool_] | None = None) -> SmoothedNgram:
        """Count NLTK's padded everygrams of ``data``.

        Args:
            data: the training sequences (at least one word): a
                :class:`~ngram_collapse.vocab.Sequences` (what :meth:`sample` returns) or any iterable
                of sequences of words (encoded with a new vocabulary).
            vocabulary: None (V is the data's own tokens, NLTK's default), or a boolean mask over
                word ids, shape (<= len(data.vocab),), the ``fixed`` policy: V is these words
                (the markers ``<s>`` and ``</s>`` are added at orders >= 2, as NLTK's vocabulary of
                padded text has them), even those absent from the data; data words outside it
                count as ``<UNK>`` (quirk 6).

        Returns:
            self. Cost: one ``np.unique`` of the padded tokens per n-gram length.
        """
        data = data if isinstance(data, Sequences) else Sequences.encode(data)
        if data.num_tokens == 0:
            raise InputError("data has no words to fit on")
        size = len(data.vocab)
        pad = self.order - 1
        if vocabulary is None:
            member = data.counts() > 0
        else:
            mask = np.asarray(vocabulary)
            if mask.dtype != np.bool_ or mask.ndim != 1 or mask.size > size:
                raise InputError(f"vocabulary must be a boolean mask of at most {size} word ids")
            member = np.zeros(size, dtype=bool)
            member[:mask.size] = mask
        member[[EOS_ID, BOS_ID]] = pad > 0
        unk = data.vocab.lookup(UNK)
        self.unk_id = size if unk is None else unk
        self.member = member
        self.vocab_size = int(member.sum()) + 1
        self._to_token = np.where(member, np.arange(size), self.unk_id)
        self._to_token[self.unk_id:self.unk_id + 1] = self.unk_id
        self._width = size + 1
        self.data = data
        self.counts = count_everygrams(data, self.order, pad, self._to_token, self._width)
        self._sampler_cache = None
        return self

    @property
    def vocab(self) -> Vocabulary:
        """The vocabulary of the training data (word ids)."""
        return self.data.vocab

    def floored(self) -> SmoothedNgram:
        """This fitted kneser-ney model with the unigram floor (the counts shared, nothing refitted):
        what held-out evaluation uses, since without the floor one new word makes perplexity infinite."""
        if self.estimator != "kneser-ney":
            raise InputError(f"unigram_floor applies to the kneser-ney estimator only, not {self.estimator}",
                             "unigram_floor")
        other = copy.copy(self)
        other.unigram_floor, other._sampler_cache = True, None
        return other

    # -- probabilities -------------------------------------------------------------------------
    def prob_ids(self, words: NDArray[np.integer], contexts: NDArray[np.integer]) -> NDArray[np.float64]:
        """Probabilities of words after contexts, vectorised, with NLTK's ``score`` semantics.

        Args:
            words: shape (N,), word ids of :attr:`vocab` (ids outside the model's vocabulary,
                including ids the vocabulary gained after the fit, are ``<UNK>``).
            contexts: shape (N, k), k >= 0, word ids; ``<s>`` is 1, ``</s>`` is 0. Interpolated
                models use the last n-1 columns; mle and lidstone all k (quirk 2).

        Returns:
            float64, shape (N,).
        """
        words = np.asarray(words, dtype=np.int64).ravel()
        contexts = np.asarray(contexts, dtype=np.int64).reshape(words.size, -1)
        if self.estimator in ("witten-bell", "kneser-ney"):
            contexts = contexts[:, contexts.shape[1] - min(contexts.shape[1], self.order - 1):]
        k = contexts.shape[1]
        rows = self._tokens(np.column_stack([contexts, words])).ravel()
        remaining = np.tile(np.arange(k + 1, 0, -1), words.size)
        ids = self.counts.window_ids(rows, remaining, k + 1)
        end = np.arange(words.size) * (k + 1) + k
        return self._score(rows[end], [ids[m][end - m] for m in range(k + 1)],
                           [ids[m + 1][end - m] for m in range(k + 1)])

    def prob(self, word: str, context: Sequence[str] | None = None) -> float:
        """``nltk.lm``'s ``score(word, context)`` for this model's estimator (one call; not for hot loops)."""
        context = list(context or ())
        ids = [self._word_id(w) for w in context + [word]]
        return float(self.prob_ids(np.array(ids[-1:]), np.array([ids[:-1]], dtype=np.int64))[0])

    def logscores(self, heldout: Sequences) -> NDArray[np.float64]:
        """log2 p of every n-gram NLTK's ``perplexity`` sees in ``heldout``, vectorised.

        Those are ``ngrams(pad_both_ends(sequence, n), n)`` of every sequence, in order (n-1 of them
        per sequence end in ``</s>``, so ``</s>`` after ``</s>`` counts too, as in NLTK). Held-out
        words outside the model's vocabulary are ``<UNK>``.

        Returns:
            float64, shape (number of n-grams,); -inf where p = 0.
        """
        tokens, remaining = padded_stream(heldout, self.order - 1,
                                          self._tokens(self._translation(heldout.vocab)))
        ids = self.counts.window_ids(tokens, remaining, self.order)
        end = np.flatnonzero(remaining >= self.order) + self.order - 1
        p = self._score(tokens[end], [ids[m][end - m] for m in range(self.order)],
                        [ids[m + 1][end - m] for m in range(self.order)])
        with np.errstate(divide="ignore"):
            return np.log2(p)

    def perplexity(self, heldout: Sequences) -> float:
        """NLTK's ``perplexity`` of the held-out n-grams (see :meth:`logscores`): 2 ** (-mean log2 p).

        Infinite as soon as one n-gram has p = 0 (always possible for mle, witten-bell and
        kneser-ney without ``unigram_floor``, never for lidstone or the floored kneser-ney).
        """
        logs = self.logscores(heldout)
        if logs.size == 0:
            raise InputError("the held-out data have no n-grams")
        return pow(2.0, -1 * (math.fsum(logs) / logs.size))

    def heldout_oov_rate(self, heldout: Sequences) -> float:
        """Share of held-out words (markers not counted) absent from the training data."""
        if heldout.num_tokens == 0:
            raise InputError("the held-out data have no words")
        seen = np.append(self.data.counts() > 0, False)
        ids = self._translation(heldout.vocab)[heldout.ids]
        return float(np.count_nonzero(~seen[np.minimum(ids, seen.size - 1)]) / ids.size)

    # -- sampling ------------------------------------------------------------------------------
    def draw_next(self, contexts: NDArray[np.integer], rng: np.random.Generator) -> NDArray[np.int64]:
        """One next word after each context, drawn exactly from q(w | h) (module docstring).

        Args:
            contexts: shape (N, n-1), word ids (the last n-1 tokens, ``<s>`` = 1 for the start).
            rng: the random generator.

        Returns:
            int64, shape (N,): word ids (``</s>`` = 0).
        """
        sampler = self._sampler()
        contexts = np.asarray(contexts, dtype=np.int64)
        if contexts.ndim != 2 or contexts.shape[1] != self.order - 1:
            raise InputError(f"contexts must have shape (N, {self.order - 1})")
        n, k = contexts.shape
        rows = self._tokens(contexts).ravel()
        ids = sampler.counts.window_ids(rows, np.tile(np.arange(k, 0, -1), n), k)
        state = np.zeros(n, dtype=np.int64)
        end = np.arange(n) * k + k  # one past each row's last token
        for m in range(1, k + 1):  # longest seen suffix: seen suffixes of a context are nested
            g = ids[m][end - m]
            state = np.where(g >= 0, g, state)
        return sampler.step(state, rng)[0]

    def sample(self, num_tokens: int, rng: np.random.Generator) -> Sequences:
        """Draw sequences until exactly ``num_tokens`` words, as :meth:`NgramModel.sample` does.

        Each sequence starts after n-1 ``<s>`` and ends at ``</s>``; the result is what drawing
        whole sequences one after another gives, the last one cut at the budget. Sequences are
        walked in parallel batches; a walk stops as soon as the words of the walks before it are
        sure to fill the budget (it is then either not needed or the one that is cut).

        Args:
            num_tokens: words to draw (markers not counted), >= 0.
            rng: the random generator.

        Returns:
            :class:`~ngram_collapse.vocab.Sequences` on the model's vocabulary.

        Raises:
            InputError: for mle (sample it with :class:`~ngram_collapse.ngram.NgramModel`) and
                lidstone with gamma = 0 (the same model).
        """
        num_tokens = int(num_tokens)
        if num_tokens < 0:
            raise InputError(f"num_tokens must be >= 0, not {num_tokens}")
        if num_tokens == 0:
            return Sequences(np.empty(0, np.int32), np.zeros(1, np.int64), self.vocab)
        sampler = self._sampler()
        mean_len = max(self.data.num_tokens / len(self.data), 1.0)
        id_parts, len_parts, left = [], [], num_tokens
        while left > 0:
            batch = int(np.ceil(_BATCH_MARGIN * left / mean_len)) + 16
            ids, lengths = sampler.walk(batch, left, rng)
            id_parts.append(ids)
            len_parts.append(lengths)
            drawn = int(lengths.sum())
            left -= drawn
            mean_len = max(drawn / batch, 1.0)
        lengths = np.concatenate(len_parts)
        ends = np.cumsum(lengths)
        keep = int(np.searchsorted(ends, num_tokens)) + 1
        lengths = lengths[:keep]
        lengths[-1] -= int(ends[keep - 1]) - num_tokens
        ids = np.concatenate(id_parts)[:num_tokens]
        return Sequences(ids, np.concatenate(([0], np.cumsum(lengths))), self.vocab)

    # -- internals -----------------------------------------------------------------------------
    def _word_id(self, word: str) -> int:
        i = self.vocab.lookup(word)
        return self.unk_id if i is None else i

    def _tokens(self, ids: NDArray[np.int64]) -> NDArray[np.int64]:
        """Token ids of word ids (``<UNK>`` for words outside the vocabulary), same shape."""
        size = self._to_token.size
        return np.where(ids < size, self._to_token[np.minimum(ids, size - 1)], self.unk_id)

    def _translation(self, vocab: Vocabulary) -> NDArray[np.int64]:
        """The word id in :attr:`vocab` of every id of ``vocab``, shape (len(vocab),); words it lacks
        get an id past the fitted vocabulary (``<UNK>``, and absent from the data)."""
        if vocab is self.vocab:
            return np.arange(len(vocab))
        missing = self._to_token.size
        return np.array([missing if (i := self.vocab.lookup(w)) is None else i for w in vocab.words],
                        dtype=np.int64)

    def _score(self, w: NDArray[np.int64], ctx: list[NDArray[np.int64]],
               full: list[NDArray[np.int64]]) -> NDArray[np.float64]:
        """p(w | h) from gram ids: ``ctx[m]`` is the id of h's last m tokens, ``full[m]`` that of
        those tokens followed by w (-1: unseen), m = 0..len(h). Expressions in NLTK's order."""
        E, k, d = self.counts, len(ctx) - 1, self.discount
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.estimator == "mle" or self.estimator in ("lidstone", "laplace"):
                c, total = E.count[full[k]], E.total[ctx[k]]
                if self.estimator == "mle":
                    return np.where(total > 0, c / total, 0.0)
                return (c + self.gamma) / (total + self.vocab_size * self.gamma)
            p = self._unigram(full[0])
            for m in range(1, k + 1):
                h, g = ctx[m], full[m]
                total, types = E.total[h], E.types[h]
                if self.estimator == "witten-bell":
                    gam = types / (types + total)
                    alpha = (1.0 - gam) * (E.count[g] / total)
                else:
                    top = m + 1 == self.order
                    den = total if top else E.left_total[h]
                    alpha = np.maximum((E.count[g] if top else E.left[g]) - d, 0.0) / den
                    gam = d * types / den
                p = np.where(total > 0, alpha + gam * p, p)
            return p

    def _unigram(self, g: NDArray[np.int64]) -> NDArray[np.float64]:
        """The unigram level p1 of the interpolated models, for unigram ids g (-1: unseen)."""
        E = self.counts
        if self.estimator == "witten-bell":
            return E.count[g] / E.total[ROOT]
        if not self.unigram_floor:
            return E.left[g] / E.left_total[ROOT]
        d, total = self.discount, E.left_total[ROOT]
        return np.maximum(E.left[g] - d, 0.0) / total + d * E.continued_words / total / self.vocab_size

    def _sampler(self) -> SmoothedSampler:
        if self._sampler_cache is None:
            if self.estimator == "mle" or self.gamma == 0:
                raise InputError(f"{self.estimator} with no smoothing is sampled by NgramModel, not here")
            self._sampler_cache = SmoothedSampler.build(self)
        return self._sampler_cache
