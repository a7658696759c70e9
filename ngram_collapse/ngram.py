"""Count-based maximum-likelihood n-gram language models of any order, sampled exactly and fast.

Training data are sequences of words; each is padded with ``order - 1`` ``<s>`` on the left and ended
by ``</s>``. The next-word distribution in a context is the maximum-likelihood one: the count of the
n-gram over the count of the context, exactly as ``nltk.lm.MLE`` fitted on
``nltk.lm.preprocessing.padded_everygram_pipeline`` of the same sequences.

How it is fast. "Draw the next word after context c" is the same as "pick an occurrence of c in the
training data uniformly at random and take the word that followed it". A walk *stands* on a training
position (the last ``<s>`` of a sequence, or a word); the positions are sorted once by the n-gram
that starts there (context, then next id), so every context owns a contiguous slice, and a generated
sequence is a walk from slice to slice. Many sequences walk together as numpy arrays.

Fitting generation 0 packs (or, for long n-grams, hashes and checks) every n-gram into an integer key
and sorts the keys. A sample remembers, for every position, which position of its model it drew
(the n-gram there is the sample's n-gram: its context is the walk's context, by construction), so
refitting on a sample needs no hashing: it radix-sorts those 32-bit picks and gathers the keys. Fitting costs one sort, sampling a few random gathers per
token, whatever the order.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .vocab import BOS_ID, EOS_ID, Sequences, Vocabulary

MAX_ORDER = 64
_BATCH_MARGIN = 1.03  # sequences drawn per batch: 3% more than the expected need
_CHUNK = 1 << 20  # elements per chunk where a full-size temporary would cost memory


class NgramModel:
    """A maximum-likelihood n-gram model (Section 5 of the paper applies Corollaries 1 and 2 to it).

    Args:
        order: n, the number of words in an n-gram (1 = unigram), 1 <= order <= 64.

    Attributes (after :meth:`fit`):
        data: the :class:`~ngram_collapse.vocab.Sequences` it was fitted on.
        distinct_ngrams: the number of distinct n-grams made only of words (no ``<s>`` or ``</s>``)
            in the training sequences.
    """

    def __init__(self, order: int) -> None:
        if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or not 1 <= order <= MAX_ORDER:
            raise ValueError(f"order must be an integer from 1 to {MAX_ORDER}, not {order!r}")
        self.order = int(order)

    # -- fitting -------------------------------------------------------------------------------
    def fit(self, sequences: Sequences | Iterable[Sequence[str]]) -> NgramModel:
        """Fit the maximum-likelihood counts.

        Args:
            sequences: a :class:`~ngram_collapse.vocab.Sequences` (word ids; what :meth:`sample`
                returns, and the fast path of the generation loop) or any iterable of sequences of
                words (encoded with a new vocabulary).

        Returns:
            self.
        """
        data = sequences if isinstance(sequences, Sequences) else Sequences.encode(sequences)
        self._index = None  # a refitted copy lets go of the index it shared before building its own
        bits = _bits(len(data.vocab))
        hint, data.fit_hint = data.fit_hint, None  # consumed: its memory is freed with the fit
        self.data = data
        self._nltk_stream = None
        if isinstance(hint, _SampleHint) and (hint.order, hint.bits) == (self.order, bits):
            keys, perm = _keys_from_sample(hint)
        else:
            keys, perm = _keys_from_ids(data, self.order, bits)
        self._index = _build_index(keys, perm, bits)
        self.distinct_ngrams = self._index.distinct_ngrams
        return self

    @property
    def vocab(self) -> Vocabulary:
        """The vocabulary of the training data."""
        return self.data.vocab

    # -- probabilities -------------------------------------------------------------------------
    def prob(self, word: str, context: Sequence[str] | None = None) -> float:
        """MLE probability of ``word`` after ``context``, with ``nltk.lm.MLE.score`` semantics.

        ``context`` may have 0 to order-1 words (``<s>`` and ``</s>`` spelt as in NLTK); shorter
        contexts use the lower-order counts of NLTK's padded everygrams (both sides padded with
        order-1 markers). Unknown words, unseen contexts, and contexts of order words or more give 0.
        This scans the training stream: O(training tokens) per call, not for hot loops.
        """
        context = tuple(context or ())
        if len(context) >= self.order:
            return 0.0
        ids = [self.vocab.lookup(w) for w in (*context, word)]
        if any(i is None for i in ids):
            return 0.0
        stream = self._nltk_padded_stream()
        m = len(ids)
        windows = stream.size - m + 1
        if windows <= 0:
            return 0.0
        match = np.ones(windows, dtype=bool)
        for t, i in enumerate(ids[:-1]):
            match &= stream[t:t + windows] == i
        last = stream[m - 1:m - 1 + windows]
        total = np.count_nonzero(match & (last >= 0))
        return float(np.count_nonzero(match & (last == ids[-1])) / total) if total else 0.0

    def _nltk_padded_stream(self) -> NDArray[np.int32]:
        """Every sequence padded as NLTK pads it (order-1 ``<s>`` and ``</s>`` each side), -1 between."""
        if self._nltk_stream is None:
            data, pad = self.data, self.order - 1
            n_seq = len(data)
            seq = np.repeat(np.arange(n_seq), data.lengths)
            width = data.lengths + 2 * pad + 1
            start = np.concatenate(([0], np.cumsum(width)[:-1]))
            stream = np.full(int(width.sum()), -1, dtype=np.int32)
            word_pos = start[seq] + pad + (np.arange(data.num_tokens) - data.offsets[seq])
            stream[word_pos] = data.ids
            for j in range(pad):
                stream[start + j] = BOS_ID
                stream[start + pad + data.lengths + j] = EOS_ID
            self._nltk_stream = stream
        return self._nltk_stream

    # -- sampling ------------------------------------------------------------------------------
    def sample(self, num_tokens: int, rng: np.random.Generator) -> Sequences:
        """Draw sequences from the model until exactly ``num_tokens`` words are drawn.

        Each sequence starts in the all-``<s>`` context and ends at ``</s>``. The result is exactly
        what drawing whole sequences one after another would give, the last one cut at the budget:
        sequences are drawn independently in parallel batches, every one to its end, and kept in order.

        Args:
            num_tokens: total number of words to draw (markers not counted), >= 0.
            rng: the random generator.

        Returns:
            A :class:`~ngram_collapse.vocab.Sequences` on the model's vocabulary (reads as lists of
            words), which also carries the picks that make refitting on it fast (``fit_hint``).
        """
        num_tokens = int(num_tokens)
        if num_tokens < 0:
            raise ValueError(f"num_tokens must be >= 0, not {num_tokens}")
        vocab, ix = self.vocab, self._index
        if num_tokens == 0:
            return Sequences(np.empty(0, np.int32), np.zeros(1, np.int64), vocab)
        if self.data.num_tokens == 0:
            raise ValueError("cannot sample words from a model fitted on no words")
        mean_len = self.data.num_tokens / len(self.data)
        pick_parts, len_parts, have = [], [], 0
        while have < num_tokens:
            batch = int(np.ceil(_BATCH_MARGIN * (num_tokens - have) / max(mean_len, 1e-9))) + 16
            picks, lengths = self._sample_batch(batch, rng)
            pick_parts.append(picks)
            len_parts.append(lengths)
            have += int(lengths.sum())
        picks = pick_parts[0] if len(pick_parts) == 1 else np.concatenate(pick_parts)
        lengths = len_parts[0] if len(len_parts) == 1 else np.concatenate(len_parts)
        del pick_parts, len_parts
        ends = np.cumsum(lengths)
        keep = int(np.searchsorted(ends, num_tokens)) + 1  # the first sequence reaching the budget
        lengths = lengths[:keep]
        cut = int(ends[keep - 1]) - num_tokens
        lengths[-1] -= cut
        # Every sequence has lengths + 1 standing positions; the cut one now ends with </s>.
        picks = picks[:num_tokens + keep]
        words = (ix.keys[picks] & ix.word_mask).astype(np.int32)
        words[-1] = EOS_ID
        ids = words[words != EOS_ID]
        del words
        offsets = np.concatenate(([0], np.cumsum(lengths)))
        hint = _SampleHint(self.order, ix.bits, picks, ix.keys, ix.first)
        return Sequences(ids, offsets, vocab, fit_hint=hint)

    def _sample_batch(self, batch: int, rng: np.random.Generator) -> tuple[NDArray[np.integer], NDArray[np.int64]]:
        """Walk ``batch`` sequences to ``</s>`` together.

        Returns:
            (picks, lengths): the (sorted) position whose n-gram was drawn at every standing position
            of the sample, sequence after sequence (length + 1 per sequence, the last one drawing
            ``</s>``), and the word counts.
        """
        ix = self._index
        first, size, key, next_context, word_mask = ix.first, ix.size, ix.keys, ix.next_context, ix.word_mask
        context = np.full(batch, ix.start, dtype=first.dtype)
        active = np.arange(batch, dtype=np.int32)
        seq_parts, pick_parts = [], []
        while active.size:
            # uniform in the context's slice, to the 2**-53 resolution of a double (rng.integers,
            # exact to the last bit, made this hot loop about 1.5 times slower)
            pick = first[context] + (rng.random(context.size) * size[context]).astype(first.dtype)
            seq_parts.append(active)
            pick_parts.append(pick)
            context = next_context[pick]
            alive = (key[pick] & word_mask) != EOS_ID
            if not alive.all():
                context, active = context[alive], active[alive]
        steps = np.array([a.size for a in seq_parts])
        seqs = np.concatenate(seq_parts)
        seq_parts.clear()
        rows = np.bincount(seqs, minlength=batch)
        # The parts are step-major: step t of sequence s goes to row first_row[s] + t.
        index = _index_dtype(seqs.size)
        dest = np.concatenate(([0], np.cumsum(rows)[:-1])).astype(index)[seqs]
        del seqs
        dest += np.repeat(np.arange(steps.size, dtype=index), steps)
        picks = np.empty(dest.size, dtype=first.dtype)
        picks[dest] = np.concatenate(pick_parts)
        return picks, rows - 1


@dataclass(frozen=True)
class _Index:
    """The sampling index of an n-gram model.

    Standing positions (the last ``<s>`` of every sequence and every word) are numbered in the order
    of their n-gram keys, so the positions of a context are a contiguous slice; contexts are numbered
    in the same order. A walk's state is the number of its current context.

    Attributes:
        keys: int64, one per position: from the low bits, the next id (``bits`` bits; ``</s>`` is 0),
            a flag bit (1 when the context holds ``<s>``), and the context's number.
        next_context: one per position: the context the walk is in after drawing that position's
            n-gram (meaningless after ``</s>``).
        first, size: one per context: its positions are [first, first + size).
        start: the number of the all-``<s>`` context.
        bits: bits of an id; ``word_mask`` = 2**bits - 1.
        distinct_ngrams: distinct n-grams made only of words.

    Integer arrays other than ``keys`` are int32 below 2**31 positions (int64 above).
    """

    keys: NDArray[np.int64]
    next_context: NDArray[np.integer]
    first: NDArray[np.integer]
    size: NDArray[np.integer]
    start: int
    bits: int
    distinct_ngrams: int

    @property
    def word_mask(self) -> int:
        return (1 << self.bits) - 1


def _index_dtype(m: int) -> type:
    return np.int32 if m < 2**31 - 1 else np.int64


@dataclass(frozen=True)
class _SampleHint:
    """What a sample remembers to be refitted fast (see :attr:`Sequences.fit_hint`).

    Attributes:
        order, bits: of the model that drew the sample.
        picks: for every standing position of the sample (sequence after sequence, each from its
            last ``<s>``), the sorted position of that model whose n-gram was drawn there; the last
            one's word was cut away (the sample ends there with ``</s>``).
        keys, first: that model's :attr:`_Index.keys` and :attr:`_Index.first`.
    """

    order: int
    bits: int
    picks: NDArray[np.integer]
    keys: NDArray[np.int64]
    first: NDArray[np.integer]


def _keys_from_sample(hint: _SampleHint) -> tuple[NDArray[np.int64], NDArray[np.integer]]:
    """Sorted n-gram keys of a sample and their argsort, from the model that drew it.

    A walk's context is, by construction, the context of the n-gram it drew, so the sample's
    n-grams are the drawing model's: sorting the picks sorts the n-grams (the drawing model's
    positions are in key order), and the keys (context numbers of the drawing model: fine, they
    identify contexts) come with one gather. The cut last position's n-gram is (its context,
    ``</s>``): it sorts first among its context.
    """
    picks, shift = hint.picks, hint.bits + 1
    order = picks.astype(_index_dtype(2 * hint.keys.size + 2))
    order <<= 1
    order += 1
    order[-1] = 2 * int(hint.first[hint.keys[picks[-1]] >> shift])
    perm = _argsort(order)
    del order
    keys = hint.keys[picks[perm]]
    keys[np.flatnonzero(perm == picks.size - 1)] &= ~((1 << hint.bits) - 1)  # next id EOS_ID = 0
    return keys, perm


def _build_index(keys: NDArray[np.int64], perm: NDArray[np.integer], bits: int) -> _Index:
    """The :class:`_Index` from the sorted n-gram keys of the standing positions.

    Args:
        keys: sorted, shape (standing positions,); the layout of :attr:`_Index.keys` except that
            the context part may be any integer that identifies the context (a packed n-gram, a
            checked hash, another model's number). Rewritten in place into the index's keys.
        perm: keys[i] belongs to the standing position perm[i] in training order (sequence after
            sequence, each from its last ``<s>``).
        bits: bits of an id.
    """
    m = keys.size
    index = _index_dtype(m)
    shift = bits + 1  # below it: the next id and the flag
    new_context = np.ones(m, dtype=bool)
    new_ngram = np.ones(m, dtype=bool)
    np.not_equal(keys[1:], keys[:-1], out=new_ngram[1:])
    for a in range(1, m, _CHUNK):  # chunks: no full-size temporaries
        context = keys[a - 1:a + _CHUNK] >> shift
        np.not_equal(context[1:], context[:-1], out=new_context[a:a + _CHUNK])
    rank = np.cumsum(new_context, dtype=index)
    rank -= 1
    first = np.flatnonzero(new_context).astype(index)
    del new_context
    size = np.diff(first, append=index(m)).astype(index)
    where = np.zeros(m + 1, dtype=index)  # sorted number of every position in training order
    where[perm] = np.arange(m, dtype=index)
    next_context = np.empty(m, dtype=index)
    for a in range(0, m, _CHUNK):
        part = keys[a:a + _CHUNK]
        # An n-gram is all words when it ends in a word and its context has no <s> (flag 0).
        new_ngram[a:a + _CHUNK] &= ((part & ((1 << bits) - 1)) > BOS_ID) & ((part & (1 << bits)) == 0)
        part &= (1 << shift) - 1
        part |= rank[a:a + _CHUNK].astype(np.int64) << shift  # the context's number
        next_context[a:a + _CHUNK] = rank[where[perm[a:a + _CHUNK] + 1]]
    distinct_ngrams = int(np.count_nonzero(new_ngram))
    start = int(rank[where[0]]) if m else 0
    return _Index(keys, next_context, first, size, start, bits, distinct_ngrams)


def _keys_from_ids(data: Sequences, order: int, bits: int) -> tuple[NDArray[np.int64], NDArray[np.integer]]:
    """Sorted n-gram keys of the standing positions of ``data``, and their argsort.

    Builds the padded stream (max(order-1, 1) ``<s>``, the words, ``</s>`` per sequence) and packs
    every context exactly when an n-gram fits in 63 bits, otherwise hashes it and checks every pair
    of equal hashes, rehashing on a collision.
    """
    n_seq, n_words = len(data), data.num_tokens
    pad = max(order - 1, 1)
    stream_len = n_words + n_seq * (pad + 1)
    index = _index_dtype(stream_len)
    seq_start = (data.offsets[:-1] + np.arange(n_seq) * (pad + 1)).astype(index)  # first <s> of each
    tok = np.full(stream_len, BOS_ID, dtype=np.int32)
    is_word = np.zeros(stream_len, dtype=bool)
    word_pos = np.arange(n_words, dtype=index)
    word_pos += np.repeat(seq_start - data.offsets[:-1].astype(index) + pad, data.lengths)
    tok[word_pos] = data.ids
    is_word[word_pos] = True
    del word_pos
    tok[seq_start + pad + data.lengths.astype(index)] = EOS_ID
    is_word[seq_start + pad - 1] = True  # the last <s> stands too
    stand = np.flatnonzero(is_word).astype(index)
    del is_word
    for salt in range(100):
        keys = _hash_keys(tok, stand, order, bits, salt)
        perm = _argsort(keys)
        keys = keys[perm]
        if _exact(order, bits) or not _has_collision(tok, stand[perm], keys, order, bits):
            return keys, perm
    raise RuntimeError("100 hash functions collided; this should not happen")


def _argsort(keys: NDArray[np.integer]) -> NDArray[np.integer]:
    """Argsort of non-negative integer keys (int32 indices where they fit); an LSD radix sort over
    16-bit digits when the keys are short."""
    index = _index_dtype(keys.size)
    width = int(keys.max()).bit_length() if keys.size else 0
    if width > 48:
        return np.argsort(keys).astype(index)
    perm = None
    digits = np.empty(keys.size, dtype=np.uint16)
    for shift in range(0, max(width, 1), 16):
        for a in range(0, keys.size, _CHUNK):  # chunks: no full-size int64 temporary
            part = keys[a:a + _CHUNK] if perm is None else keys[perm[a:a + _CHUNK]]
            digits[a:a + _CHUNK] = part >> shift  # the low 16 bits
        order = np.argsort(digits, kind="stable")  # numpy radix-sorts 16-bit integers
        perm = order.astype(index) if perm is None else perm[order]
    return perm


def _bits(vocab_size: int) -> int:
    return max(int(vocab_size - 1).bit_length(), 1)


def _exact(order: int, bits: int) -> bool:
    """Whether an n-gram key (order ids and a flag bit) packs exactly into 63 bits."""
    return order * bits + 1 <= 63


def _hash_keys(tok: NDArray[np.int32], stand: NDArray[np.intp], order: int, bits: int,
               salt: int) -> NDArray[np.int64]:
    """The key (layout of :attr:`_Index.keys`) of the n-gram tok[q-order+2 .. q+1] at every standing q.

    The context part packs the context's ids exactly if :func:`_exact`, otherwise it is a 64-bit
    multiply-xorshift hash (chosen by ``salt``) cut to 62 - bits bits.
    """
    key = tok[stand + 1].astype(np.int64)
    width = order - 1
    if width == 0:
        return key
    key |= (tok[stand - width + 1] == BOS_ID).astype(np.int64) << bits
    if _exact(order, bits):
        for t in range(width):
            key |= tok[stand - t].astype(np.int64) << (bits * (t + 1) + 1)
        return key
    mults = np.random.default_rng([0x6E6772616D, salt]).integers(1, 2**63, size=width, dtype=np.uint64) | np.uint64(1)
    h = np.zeros(stand.size, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for t in range(width):
            h += (tok[stand - t].astype(np.uint64) + np.uint64(1)) * mults[t]
            h ^= h >> np.uint64(29)
        h *= np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(32)
    return ((h >> np.uint64(bits + 2)).astype(np.int64) << (bits + 1)) | key


def _has_collision(tok, stand_sorted, keys_sorted, order: int, bits: int) -> bool:
    """Whether two adjacent sorted positions have equal hashed contexts but different contexts."""
    context = keys_sorted >> (bits + 1)
    same = np.flatnonzero(context[1:] == context[:-1])
    a, b = stand_sorted[same], stand_sorted[same + 1]
    return not all(np.array_equal(tok[a - t], tok[b - t]) for t in range(order - 1))
