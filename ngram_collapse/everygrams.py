"""NLTK's padded everygram counts as arrays: every distinct k-gram (k = 0..n) numbered, with the
counts the smoothed estimators need.

``nltk.lm.preprocessing.padded_everygram_pipeline(n, sentences)`` pads every sentence with n-1 ``<s>``
on the left and n-1 ``</s>`` on the right and counts every window of length 1..n inside each padded
sentence. :func:`count_everygrams` counts the same windows without a Python loop per token: the
window of length k starting at position i gets the id of the distinct (k-1)-gram starting at i and
the k-th token packed into one integer key, ``prefix id * width + token``; one ``np.unique`` per length
numbers the distinct keys. Ids are global over all lengths, shortest first, so the keys of all
grams, one after another, are sorted, and the grams that share a prefix (a *context*) are
contiguous: every context owns a slice of its continuations.

Notation (as in Chen & Goodman, and in :mod:`ngram_collapse.smoothing`): c(g) the number of windows
equal to g; c(g .) = sum over w of c(g w), what NLTK calls ``counts[g].N()``; N1+(g .) the number of
distinct w with c(g w) > 0; N1+(. g) the number of distinct v with c(v g) > 0; N1+(. g .) the number of
distinct (v, w) with c(v g w) > 0.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .errors import InputError
from .vocab import BOS_ID, EOS_ID, Sequences

ROOT = 0  # the id of the empty gram, the context of the unigram level


@dataclass
class Everygrams:
    """Every distinct window of length 0..order of the padded sequences, with its counts.

    Grams are numbered globally: id 0 is the empty gram, the grams of length k have the ids
    ``offsets[k]`` to ``offsets[k + 1] - 1``, and within a length they are sorted by (prefix id, last
    token). Every per-gram array below has one entry per gram plus a trailing 0, so that indexing it
    with -1 (the id this module gives an unseen gram) reads 0.

    Attributes:
        order: n, the longest window counted.
        width: the size of the token id space; keys are ``prefix * width + token``.
        offsets: int64, shape (order + 2,).
        keys: int64, shape (grams - 1,), sorted: the key of gram g >= 1 is ``keys[g - 1]``.
        token: int64, shape (grams + 1,): the last token of each gram (-1 for the empty gram).
        prefix: int64, shape (grams + 1,): the id of the gram without its last token (-1 for the empty gram).
        suffix: int64, shape (grams + 1,): the id of the gram without its first token (-1 for the empty gram).
        count: int64, shape (grams + 1,): c(g); for the empty gram, the number of tokens.
        total: int64, shape (grams + 1,): c(g .), 0 for grams of length n.
        types: int64, shape (grams + 1,): N1+(g .).
        left: int64, shape (grams + 1,): N1+(. g), 0 for grams of length n.
        left_total: int64, shape (grams + 1,): N1+(. g .); for the empty gram N1+(. .), the number of
            distinct bigrams.
    """

    order: int
    width: int
    offsets: NDArray[np.int64]
    keys: NDArray[np.int64]
    token: NDArray[np.int64]
    prefix: NDArray[np.int64]
    suffix: NDArray[np.int64]
    count: NDArray[np.int64]
    total: NDArray[np.int64]
    types: NDArray[np.int64]
    left: NDArray[np.int64]
    left_total: NDArray[np.int64]

    @property
    def grams(self) -> int:
        """Number of distinct grams, the empty one included."""
        return int(self.offsets[-1])

    @property
    def continued_words(self) -> int:
        """Number of unigrams seen after some other token, N1+(. w) > 0: the words Kneser-Ney's
        unigram floor counts as seen continuations."""
        return int(np.count_nonzero(self.left[self.offsets[1]:self.offsets[2]] > 0))

    def length(self, ids: NDArray[np.integer]) -> NDArray[np.int64]:
        """The length (number of tokens) of each gram id, shape of ``ids``."""
        return np.searchsorted(self.offsets, ids, side="right") - 1

    def lookup(self, prefix: NDArray[np.integer], token: NDArray[np.integer]) -> NDArray[np.int64]:
        """Ids of the grams (prefix gram, token), -1 where unseen or where ``prefix`` is -1; shapes equal."""
        key = np.asarray(prefix, dtype=np.int64) * self.width + token
        pos = np.searchsorted(self.keys, key)
        pos_c = np.minimum(pos, self.keys.size - 1)
        found = (self.keys[pos_c] == key) & (np.asarray(prefix) >= 0)
        return np.where(found, pos_c + 1, -1)

    def window_ids(self, tokens: NDArray[np.integer], remaining: NDArray[np.integer],
                   longest: int) -> list[NDArray[np.int64]]:
        """Ids of the windows of a token stream, for every window length up to ``longest``.

        Args:
            tokens: shape (L,), token ids (< width).
            remaining: shape (L,), the number of tokens from each position to the end of its segment
                (windows never cross segments).
            longest: the longest window length wanted.

        Returns:
            ``ids`` with ``ids[k][i]`` the id of the window of length k starting at i (shape (L,)),
            -1 if that window is unseen or does not fit; ``ids[0]`` is all 0 (the empty gram).
        """
        ids = [np.zeros(tokens.size, dtype=np.int64)]
        for k in range(1, longest + 1):
            cur = np.full(tokens.size, -1, dtype=np.int64)
            if k <= self.order:
                at = np.flatnonzero((remaining >= k) & (ids[k - 1] >= 0))
                cur[at] = self.lookup(ids[k - 1][at], tokens[at + k - 1])
            ids.append(cur)
        return ids


def padded_stream(data: Sequences, pad: int, to_token: NDArray[np.integer]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The sequences padded as NLTK's ``pad_both_ends`` pads them, one after another.

    Args:
        data: the sequences.
        pad: markers each side: ``pad`` ``<s>`` before and ``pad`` ``</s>`` after every sequence.
        to_token: shape (>= len(data.vocab),), the token id of every word id.

    Returns:
        (tokens, remaining), both int64 of shape (words + 2 * pad * sequences,): the padded tokens
        and, at every position, the number of tokens from there to the end of its padded sequence.
    """
    lengths = data.lengths
    plen = lengths + 2 * pad
    start = np.zeros(len(data), dtype=np.int64)
    np.cumsum(plen[:-1], out=start[1:])
    total = int(plen.sum())
    tokens = np.full(total, BOS_ID, dtype=np.int64)
    seq = np.repeat(np.arange(len(data)), lengths)
    word_pos = start[seq] + pad + (np.arange(data.num_tokens) - data.offsets[seq])
    tokens[word_pos] = to_token[data.ids]
    for j in range(pad):
        tokens[start + pad + lengths + j] = EOS_ID
    remaining = np.repeat(start + plen, plen) - np.arange(total)
    return tokens, remaining


def count_everygrams(data: Sequences, order: int, pad: int, to_token: NDArray[np.integer],
                     width: int) -> Everygrams:
    """Count every window of length 1..order of the padded sequences (NLTK's padded everygrams).

    Args:
        data: the sequences.
        order: n, the longest window.
        pad: markers each side of every sequence (NLTK: n - 1).
        to_token: shape (>= len(data.vocab),), the token id (< width) of every word id; words
            outside a model's vocabulary map to its ``<UNK>`` token here.
        width: the size of the token id space.

    Returns:
        The :class:`Everygrams`. Cost: one ``np.unique`` of the stream per window length.
    """
    tokens, remaining = padded_stream(data, pad, to_token)
    if tokens.size == 0:
        raise InputError("data has no tokens to count (no words and no padding)")
    offsets = [0, 1]
    keys, prefix, suffix, count = [], [np.array([-1])], [np.array([-1])], [np.array([tokens.size])]
    ids = np.zeros(tokens.size, dtype=np.int64)  # the window of the previous length at each position
    for k in range(1, order + 1):
        at = np.flatnonzero(remaining >= k)
        if at.size == 0:
            offsets.append(offsets[-1])
            continue
        if offsets[-1] * width >= 2**62:
            raise InputError(f"too many distinct grams ({offsets[-1]:,}) for a vocabulary of {width:,} ids")
        key = ids[at] * width + tokens[at + k - 1]
        uniq, first, inverse, cnt = np.unique(key, return_index=True, return_inverse=True, return_counts=True)
        new = np.full(tokens.size, -1, dtype=np.int64)
        new[at] = inverse.ravel() + offsets[-1]
        keys.append(uniq)
        prefix.append(uniq // width)
        count.append(cnt)
        # the window of length k-1 starting one later is the suffix (it fits: remaining[i+1] >= k-1)
        suffix.append(ids[at[first] + 1] if k > 1 else np.zeros(uniq.size, dtype=np.int64))
        offsets.append(offsets[-1] + uniq.size)
        ids = new
    grams = offsets[-1]
    keys_a = np.concatenate(keys)
    prefix_a = np.concatenate(prefix + [[-1]]).astype(np.int64)
    suffix_a = np.concatenate(suffix + [[-1]]).astype(np.int64)
    count_a = np.concatenate(count + [[0]]).astype(np.int64)
    token_a = np.concatenate(([-1], keys_a % width, [-1])).astype(np.int64)
    child_prefix = prefix_a[1:grams]
    total = _per_gram(child_prefix, count_a[1:grams], grams)
    types = _per_gram(child_prefix, None, grams)
    left = _per_gram(suffix_a[1:grams], None, grams)
    left_total = _per_gram(child_prefix, left[1:grams], grams)
    return Everygrams(order, width, np.array(offsets, dtype=np.int64), keys_a, token_a, prefix_a, suffix_a,
                      count_a, total, types, left, left_total)


def _per_gram(ids: NDArray[np.int64], weights: NDArray[np.int64] | None, grams: int) -> NDArray[np.int64]:
    """Sum of ``weights`` (or 1) per gram id, shape (grams + 1,) with the trailing 0."""
    out = np.zeros(grams + 1, dtype=np.int64)
    summed = np.bincount(ids, weights=weights, minlength=grams)
    out[:grams] = np.rint(summed).astype(np.int64) if weights is not None else summed
    return out
