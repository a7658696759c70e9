"""The numpy implementation of :func:`ngram_collapse.orders.word_units` before the compiled pass
(sorts of all positions' context keys, of the branch points and of the word occurrences), kept here
only as the reference that tests/test_orders.py checks the package's results against, bit for bit.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ngram_collapse import checks
from ngram_collapse.orders import WordUnits
from ngram_collapse.vocab import BOS_ID, EOS_ID, Sequences

MAX_SALTS = 100  # hash functions tried before giving up (a collision is checked, never assumed away)


def word_units(data: Sequences, order: int) -> WordUnits:
    """Count every word's segments and sequences, and its effective count, for an order-``order`` model.

    Args:
        data: the training data (ids of shape (tokens,), offsets of shape (sequences + 1,)).
        order: n-gram order >= 1.

    Returns:
        :class:`WordUnits`, computed with sorts vectorised over positions: one of the (context, next
        token) keys of all positions, one of the branch points and a radix sort of the occurrences.
    """
    order = checks.integer("order", order, minimum=1)
    vocab_size = len(data.vocab)
    n_seq, n_words = len(data), data.num_tokens
    counts = data.counts().astype(np.int64)
    if n_words == 0:
        zeros = np.zeros(vocab_size, np.int64)
        return WordUnits(order, counts, zeros, zeros.copy(), zeros.astype(float))

    if order == 1:  # one context, followed by every word and </s>: every position branches
        return WordUnits(1, counts, counts.copy(), sequence_counts(data), counts.astype(float))

    tok, stand = _padded_stream(data, order)
    nxt = tok[stand + 1]  # the token emitted from every standing position
    seq = np.repeat(np.arange(n_seq, dtype=np.int32 if n_seq < 2**31 else np.int64), data.lengths + 1)
    first = data.offsets[:-1] + np.arange(n_seq)  # first standing position of every sequence
    context, ngram_count, context_count = _context_groups(tok, stand, nxt, order, vocab_size)
    branch = ngram_count < context_count  # another token follows this context somewhere

    # Segments: a new one starts after every branch point and at every sequence's start.
    starts = branch.copy()
    starts[first] = True
    segment = np.cumsum(starts) - 1

    # log P(next token | context) under the model, and its running sum over standing positions.
    logp = np.log(ngram_count / context_count.astype(float))
    cum = np.concatenate(([0.0], np.cumsum(logp)))

    # Word occurrences (standing positions emitting a word) grouped by word, in text order.
    at = np.flatnonzero(nxt != EOS_ID)
    word = nxt[at]
    by_word = _stable_argsort(word)
    at, word = at[by_word], word[by_word]
    seq_at, segment_at = seq[at], segment[at]
    same_word = word[1:] == word[:-1]
    same_sequence = same_word & (seq_at[1:] == seq_at[:-1])
    new_segment = np.concatenate(([True], ~same_word | (segment_at[1:] != segment_at[:-1])))
    segments = np.bincount(word[new_segment], minlength=vocab_size).astype(np.int64)
    sequences = np.bincount(word[np.concatenate(([True], ~same_sequence))], minlength=vocab_size).astype(np.int64)

    # Return probability of every occurrence: the next occurrence in the same segment is copied with
    # it for sure; otherwise the walk may copy the text on to the next occurrence in the same
    # sequence, or go round a cycle of the sequence through the occurrence. A route through branch
    # points counts only for its excess over the chance of the same route from a random state (the
    # context's share of all positions; at order 1, one context, the excess would be exactly 0).
    back = np.zeros(at.size)
    linked = np.flatnonzero(same_sequence)
    back[linked] = np.exp(cum[at[linked + 1] + 1] - cum[at[linked] + 1])
    back += _cycle_mass(context, seq, nxt, cum, branch)[at]
    np.minimum(back, 1.0, out=back)
    back *= 1.0 - context_count[at + 1] / stand.size
    back[:-1][same_word & (segment_at[1:] == segment_at[:-1])] = 1.0
    effective = np.bincount(word, weights=1.0 - back, minlength=vocab_size)
    return WordUnits(order, counts, segments, sequences, effective)


def sequence_counts(data: Sequences) -> NDArray[np.int64]:
    """Number of distinct sequences containing every vocabulary id, shape (len(vocab),).

    The units of a model that memorises whole sequences: with these in place of the counts,
    Corollary 2's formula is the sequence-level limit of the prediction.
    """
    if data.num_tokens == 0:
        return np.zeros(len(data.vocab), np.int64)
    seq = np.repeat(np.arange(len(data), dtype=np.int64), data.lengths)
    by_word = _stable_argsort(data.ids)
    word, seq = data.ids[by_word], seq[by_word]
    new = np.concatenate(([True], (word[1:] != word[:-1]) | (seq[1:] != seq[:-1])))
    return np.bincount(word[new], minlength=len(data.vocab)).astype(np.int64)


# -- helpers -----------------------------------------------------------------------------------
def _padded_stream(data: Sequences, order: int) -> tuple[NDArray[np.int32], NDArray[np.int64]]:
    """The padded token stream (max(order-1, 1) ``<s>``, the words, ``</s>`` per sequence) and its
    standing positions (the last ``<s>`` and every word of each sequence, in order)."""
    lengths = data.lengths
    pad = max(order - 1, 1)
    width = lengths + pad + 1
    start = np.concatenate(([0], np.cumsum(width)[:-1]))
    tok = np.full(int(width.sum()), BOS_ID, dtype=np.int32)
    is_stand = np.zeros(tok.size, dtype=bool)
    word_pos = np.arange(data.num_tokens, dtype=np.int64) + np.repeat(start + pad - data.offsets[:-1], lengths)
    tok[word_pos] = data.ids
    tok[start + pad + lengths] = EOS_ID
    is_stand[word_pos] = True
    is_stand[start + pad - 1] = True
    del word_pos
    return tok, np.flatnonzero(is_stand)


def _context_groups(tok: NDArray[np.int32], stand: NDArray[np.int64], nxt: NDArray[np.int32], order: int,
                    vocab_size: int) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Group the standing positions by context and by n-gram, with one sort of (context, next id) keys.

    Contexts are packed exactly when they fit beside the next id in 62 bits, otherwise hashed, and
    every pair of equal hashes is checked against the tokens (another hash is tried on a collision).

    Returns:
        (context, ngram_count, context_count), each of shape (standing positions,): the number of
        the position's context, and how often its n-gram and its context occur in the data.
    """
    bits = max(int(vocab_size - 1).bit_length(), 1)
    width = order - 1
    for salt in range(MAX_SALTS):
        key = _context_keys(tok, stand, width, bits, salt)
        key <<= bits
        key |= nxt
        perm = np.argsort(key)
        key = key[perm]
        new_context = np.ones(key.size, dtype=bool)
        np.not_equal(key[1:] >> bits, key[:-1] >> bits, out=new_context[1:])
        if _exact(width, bits) or not _collides(tok, stand[perm], new_context, width):
            break
    else:  # pragma: no cover - 100 independent 64-bit hashes colliding
        raise RuntimeError("100 hash functions collided; this should not happen")
    new_ngram = np.ones(key.size, dtype=bool)
    np.not_equal(key[1:], key[:-1], out=new_ngram[1:])
    del key
    index = np.int32 if perm.size < 2**31 else np.int64
    context, ngram_count, context_count = (np.empty(perm.size, index) for _ in range(3))
    context[perm] = np.cumsum(new_context, dtype=index) - 1
    context_count[perm] = _run_lengths(new_context)
    ngram_count[perm] = _run_lengths(new_ngram)
    return context, ngram_count, context_count


def _run_lengths(new: NDArray[np.bool_]) -> NDArray[np.int64]:
    """For every element of a sorted array, the length of its run of equal values (``new`` marks
    the first element of every run)."""
    lengths = np.diff(np.flatnonzero(new), append=new.size)
    return np.repeat(lengths, lengths)


def _exact(width: int, bits: int) -> bool:
    """Whether a context of ``width`` ids packs exactly beside the next id into 62 bits."""
    return (width + 1) * bits <= 62


def _context_keys(tok: NDArray[np.int32], stand: NDArray[np.int64], width: int, bits: int,
                  salt: int) -> NDArray[np.int64]:
    """The ``width`` tokens ending at every standing position as an integer below 2**(62 - bits):
    packed (exact) if :func:`_exact`, otherwise hashed with the hash chosen by ``salt``."""
    key = np.zeros(stand.size, dtype=np.int64)
    if _exact(width, bits):
        for t in range(width):
            key |= tok[stand - t].astype(np.int64) << (bits * t)
        return key
    mults = np.random.default_rng([0x6F72646572, salt]).integers(1, 2**63, size=width, dtype=np.uint64) | np.uint64(1)
    h = np.zeros(stand.size, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for t in range(width):
            h += (tok[stand - t].astype(np.uint64) + np.uint64(1)) * mults[t]
            h ^= h >> np.uint64(31)
        h *= np.uint64(0x94D049BB133111EB)
        h ^= h >> np.uint64(29)
    return (h >> np.uint64(bits + 2)).astype(np.int64)


def _collides(tok: NDArray[np.int32], stand_sorted: NDArray[np.int64], new_context: NDArray[np.bool_],
              width: int) -> bool:
    """Whether two neighbours in hash order share a hashed context but differ in their tokens."""
    same = np.flatnonzero(~new_context[1:])
    a, b = stand_sorted[same], stand_sorted[same + 1]
    return any(not np.array_equal(tok[a - t], tok[b - t]) for t in range(width))


def _cycle_mass(context: NDArray[np.int64], seq: NDArray[np.int64], nxt: NDArray[np.int32],
                cum: NDArray[np.float64], branch: NDArray[np.bool_]) -> NDArray[np.float64]:
    """For every standing position, the total probability of the cycles of its sequence that pass
    through it.

    A cycle is a pair a < b of consecutive occurrences of one context in one sequence that are
    followed by different tokens (where the two copies of the text part, so the context is a branch
    point): a walk standing at b can take a's token and copy the text from a back to b, with
    probability P(tokens a .. b-1 | context) = exp(cum[b] - cum[a]); the cycle holds the tokens
    emitted at a..b-1.
    """
    at = np.flatnonzero(branch)
    at = at[np.argsort((context[at].astype(np.int64) << 32) | at)]  # branch points by context, then in text order
    a, b = at[:-1], at[1:]
    pair = (context[a] == context[b]) & (seq[a] == seq[b]) & (nxt[a] != nxt[b])
    a, b = a[pair], b[pair]
    rho = np.exp(cum[b] - cum[a])
    size = context.size + 1
    delta = np.bincount(a, weights=rho, minlength=size) - np.bincount(b, weights=rho, minlength=size)
    return np.cumsum(delta)[:-1]


def _stable_argsort(keys: NDArray[np.integer]) -> NDArray[np.int64]:
    """Stable argsort of non-negative integer keys: an LSD radix sort over 16-bit digits (numpy
    radix-sorts 16-bit integers), so the cost is linear in the number of keys per 16 bits of width."""
    width = int(keys.max()).bit_length() if keys.size else 0
    if width <= 16:
        return np.argsort(keys.astype(np.uint16), kind="stable")
    perm = np.arange(keys.size)
    for shift in range(0, width, 16):
        digits = ((keys[perm] >> shift) & 0xFFFF).astype(np.uint16)
        perm = perm[np.argsort(digits, kind="stable")]
    return perm
