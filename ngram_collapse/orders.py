"""Corollaries 1 and 2 at every n-gram order: how many independent copies of a word a model holds.

The paper proves its corollaries for unigram models: a word seen c times survives k generations
with probability 1 - exp(-c g_k). In a maximum-likelihood model of order n the next word is random
only after a *branch point*, a position whose (n-1)-word context is followed in the training data
by more than one distinct token (``</s>`` counts as a token); between branch points the model copies
its training text. A *segment* is the text from one branch point to the next (a sequence's start
also starts one), and the copies of a word that lie in one segment are kept or lost together. So a
word's units are segments, not occurrences; for order 1 every position is a branch point and the
units are the occurrences; for a model that memorises whole sequences the units are the sequences.

Segments are not independent either: a walk that copies one occurrence of a word may go on to copy
the next occurrence in the same sequence, or loop back through a repeated context and copy the
same one again. :func:`word_units` discounts every occurrence by the probability of such a return,
which gives the *effective count* e of each word; the prediction is Corollary 2's formula with e in
place of c (see docs/theory.md, "Every n-gram order", for the derivation and the evidence).

Everything is computed from the training data and its n-gram table (:mod:`ngram_collapse.table`;
a run passes the table of the model it fitted, so nothing is counted twice), with the model's
padding: every sequence is preceded by ``order - 1`` ``<s>`` and ended by ``</s>``. Compiled kernels
(``ngram_collapse._engine``) walk the data through the table, find the segments, cycles and links in
one pass in text order, and add up the effective counts; numpy takes the logs and exponentials of
the probabilities of the routes, so that the results are the same to the bit as those of the
earlier all-numpy implementation (kept in tests/reference_orders.py, which sorted all positions by
context). Given the table, the cost is a fraction of the CPU
time of the fit it follows on the WikiText-2 prefix: 0.15 to 0.35 at orders 3 to 16, about 0.85
at order 2, about 0.5 at order 1 (which needs only the counts and the sequence counts).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _engine, bounds, checks
from .errors import InputError
from .table import NgramCounts, count_ngrams
from .vocab import Sequences


@dataclass(frozen=True)
class WordUnits:
    """Per-word counts of the units that recursive training keeps or loses together.

    Every array has shape (len(vocab),) and is indexed by vocabulary id; the markers and words
    absent from the data have 0 everywhere.

    Attributes:
        order: the n-gram order they were computed for.
        counts: occurrences c (Corollaries 1-2's counts).
        segments: number of distinct segments containing the word (text between branch points).
        sequences: number of distinct sequences containing the word (the memorising limit).
        effective: the effective count e = sum over occurrences of (1 - return probability);
            equals ``counts`` exactly at order 1, and is at most ``segments`` (below it where a walk
            that copies one segment of the word can go on to copy another).
    """

    order: int
    counts: NDArray[np.int64]
    segments: NDArray[np.int64]
    sequences: NDArray[np.int64]
    effective: NDArray[np.float64]


def word_units(data: Sequences, order: int, ngrams: NgramCounts | None = None) -> WordUnits:
    """Count every word's segments and sequences, and its effective count, for an order-``order`` model.

    Args:
        data: the training data (ids of shape (tokens,), offsets of shape (sequences + 1,)).
        order: n-gram order >= 1.
        ngrams: the data's n-gram counts at this order, e.g. ``NgramModel(order).fit(data).ngrams``
            (then the table is not built again); None to count them here.

    Returns:
        :class:`WordUnits`, computed in one compiled walk of the data through the table and a few
        numpy operations over positions (see the module docstring for the cost).

    Raises:
        InputError: ``ngrams`` are not the counts of ``data``'s n-grams of this order.
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

    if ngrams is None:
        ngrams = count_ngrams(data, order)
    elif ngrams.table.order != order or ngrams.table.vocab is not data.vocab:
        raise InputError(f"ngrams must be counted at order {order} over the vocabulary of data", "ngrams")
    table, positions = ngrams.table, n_words + n_seq
    prob, after, same = np.empty(positions), np.empty(positions), np.empty(positions, np.uint8)
    cycles, linked = np.empty((positions, 2), np.int64), np.empty((n_words, 2), np.int64)
    segments, sequences = np.empty(vocab_size, np.int64), np.empty(vocab_size, np.int64)
    try:
        n_cycles, n_linked = _engine.units(table.first, table.links, ngrams.counts, data.ids, data.offsets, prob,
                                           after, same, cycles, linked, segments, sequences)
    except ValueError as error:
        raise InputError(f"ngrams are not the counts of the {order}-grams of data: {error}", "ngrams") from None

    # log P(next token | context) under the model, summed over the standing positions in text order.
    cum = np.zeros(positions + 1)
    np.cumsum(np.log(prob, out=prob), out=cum[1:])

    # Return probability of every occurrence: the next occurrence in the same segment is copied with
    # it for sure; otherwise the walk may copy the text on to the next occurrence in the same
    # sequence (a link), or go round a cycle of the sequence through the occurrence: standing at b,
    # take a's token and copy the text from a back to b (probability exp(cum[b] - cum[a])). A route
    # through branch points counts only for its excess over the chance of the same route from a
    # random state (``after``: 1 - the next context's share of all positions; 0 at order 1). So
    # R = 1 if ``same``, else after * min(follow + mass of the cycles through it, 1), and
    # _engine.effective adds up 1 - R over every word's occurrences.
    a, b = cycles[:n_cycles].T
    rho = np.exp(cum[b] - cum[a])
    a, b = linked[:n_linked].T
    follow = np.exp(cum[b + 1] - cum[a + 1])
    effective = np.zeros(vocab_size)
    _engine.effective(data.ids, data.offsets, cycles[:n_cycles], rho, linked[:n_linked], follow, after, same,
                      effective)
    return WordUnits(order, counts, segments, sequences, effective)


def sequence_counts(data: Sequences) -> NDArray[np.int64]:
    """Number of distinct sequences containing every vocabulary id, shape (len(vocab),).

    The units of a model that memorises whole sequences: with these in place of the counts,
    Corollary 2's formula is the sequence-level limit of the prediction.
    """
    out = np.empty(len(data.vocab), np.int64)
    _engine.sequence_counts(data.ids, data.offsets, out)
    return out


def clumped_iterates(returns: ArrayLike, k: ArrayLike) -> NDArray[np.float64]:
    """h_k(R): the iterates of Corollary 2's g for a unit whose copies come in clumps, shape
    ``k.shape + returns.shape`` (docs/theory.md §11.6).

    A unit that in every generation has a Poisson(1 - R) number of clumps of copies, each clump of
    geometric size (a copy is followed by another of the same clump with probability R), has
    probability exp(-(1 - R) h_k(R)) of having no copy left at generation k, where h_0 = +inf,
    h_1 = 1 and h_{k+1} = u / (1 - R + R u) with u = 1 - exp(-(1 - R) h_k). At R = 0 this is the
    recursion of g_k, to the bit; for large k, h_k(R) ~ 2 / ((1 + R) k) against g_k ~ 2 / k.

    Args:
        returns: return probabilities R in [0, 1], any shape.
        k: generations >= 0, any shape.
    """
    r = np.asarray(returns, dtype=float)
    if np.any(~(r >= 0) | (r > 1)):
        raise InputError("return probabilities must lie in [0, 1]", "returns")
    k = bounds._generations(k)
    wanted = np.unique(k)
    out = np.empty((wanted.size, r.size))
    flat = r.ravel()
    stay = 1.0 - flat
    h = np.full(flat.size, np.inf)
    for step in range(int(wanted.max(initial=0)) + 1):  # a recursion over k, not over units
        if step == 1:
            h = np.ones(flat.size)
        elif step > 1:
            u = -np.expm1(-stay * h)
            den = stay + flat * u
            h = np.divide(u, den, out=h / (1.0 + h), where=den > 0)  # R = 1: the limit h / (1 + h)
        out[wanted == step] = h
    return out[np.searchsorted(wanted, k)].reshape(k.shape + r.shape)


def predicted_distinct(effective: ArrayLike, k: ArrayLike, segments: ArrayLike | None = None) -> NDArray[np.float64]:
    """Predicted E[uniq_k], shape of ``k``.

    Without ``segments``: sum over words of 1 - exp(-e_w g_k), Corollary 2's formula (and Corollary
    1's lower bound) with ``effective`` in place of the counts; it also takes plain counts, segment
    counts or sequence counts (then it gives Corollary 2 or the limits).

    With ``segments`` (the prediction every run reports): sum over words of 1 - exp(-e_w h_k(R_w)),
    where R_w = 1 - e_w / segments_w is the word's mean return probability per unit and h_k is
    :func:`clumped_iterates`: the copies of a word come in clumps in every generation, not only in
    the first (docs/theory.md §11.6). At order 1 e_w = c_w = segments_w, R_w = 0 and this is Corollary
    2 / Corollary 1's lower bound to the bit. The same formula serves both samplings: for order 1 the
    multinomial process sits between Corollary 1's bounds, within Monte Carlo error of the lower one
    on real corpora, and at higher orders the difference between the samplings is below the error of
    the prediction (docs/theory.md).

    Args:
        effective: effective counts, shape (V,) (zeros are ignored).
        k: generations >= 0, any shape.
        segments: the words' segment counts (:attr:`WordUnits.segments`), shape (V,), at least
            ``effective`` wherever that is positive; None for Corollary 2's formula.
    """
    if segments is None:
        return bounds.corollary2_expected_distinct(effective, k)
    e, s = np.asarray(effective, dtype=float).ravel(), np.asarray(segments, dtype=float).ravel()
    if e.shape != s.shape or np.any(e < 0) or np.any(s[e > 0] < e[e > 0] * (1 - 1e-12)):
        raise InputError("segments must have the shape of effective and be at least effective", "segments")
    live = e > 0
    pairs, multiplicity = np.unique(np.stack([e[live], s[live]], axis=1), axis=0, return_counts=True)
    returns = np.clip(1.0 - pairs[:, 0] / pairs[:, 1], 0.0, 1.0)  # grouped: few distinct (e, segments)
    k = np.asarray(k)
    per_pair = -np.expm1(-pairs[:, 0] * clumped_iterates(returns, k.ravel()))
    return (per_pair @ multiplicity.astype(float)).reshape(k.shape)
