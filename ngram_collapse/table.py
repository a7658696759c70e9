"""The n-gram table of a corpus and count vectors over it: counting, sampling and refitting.

Training sequences are padded with ``order - 1`` ``<s>`` and ended by ``</s>``. A *standing
position* is the last ``<s>`` of a sequence or one of its words: there the model draws the next id
(a word or ``</s>``) given the context, the ``order - 1`` ids ending at that position.

:class:`NgramTable` lists every distinct (context, next id) pair of the corpus once, an *entry*,
grouped by context: context ``c`` owns the entries ``first[c]`` to ``first[c+1] - 1``, the most
frequent in the corpus first (ties by the smaller id), so that a walk's linear search ends early.
Every context also has a ``</s>`` entry (id 0), with count 0 when the corpus never ends a sequence
there. ``next_context[e]`` is the context a walk is in after drawing the word of entry ``e``.

The table is closed under sampling: an MLE model draws only n-grams it has counted, and a sample
cut at its size budget ends in (context, ``</s>``), which has an entry for every context. So every
generation of a recursive run is a count vector over the generation-0 table (:class:`NgramCounts`):
sampling is a walk from context to context, each step an exact integer draw among the context's
entries in proportion to their counts, and refitting on a sample is taking the counts of the
entries the walk drew. The table is built once, never written after, and shared by every
generation, trajectory and forked process.

The work is done by the compiled kernels of ``ngram_collapse._engine`` (C, built at install);
docs/theory.md says why the sampler is exact.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from . import _engine
from .vocab import BOS_ID, EOS_ID, FIRST_WORD_ID, Sequences, Vocabulary


@dataclass(frozen=True, eq=False)
class NgramTable:
    """Every distinct (context, next id) of a corpus, grouped by context (see the module docstring).

    Attributes:
        order: n.
        vocab: the vocabulary of the ids.
        links: int32, shape (D, 4): for every entry, its next id (``</s>`` is 0), and the first
            entry, number of entries and number of the context a walk is in after drawing it
            (0 for ``</s>`` entries).
        first: the slice of every context, int64, shape (C + 1,): context c owns entries
            ``first[c]:first[c+1]``; ``first[C] == D``.
        all_words: whether every entry's n-gram is made only of words (no ``<s>`` in its context,
            a word next), bool, shape (D,).
        start: the all-``<s>`` context (0), where every sequence starts.

    All arrays are read-only.
    """

    order: int
    vocab: Vocabulary
    links: NDArray[np.int32]
    first: NDArray[np.int64]
    all_words: NDArray[np.bool_]
    start: int = 0

    @property
    def word(self) -> NDArray[np.int32]:
        """The next id of every entry, shape (D,) (a view of :attr:`links`)."""
        return self.links[:, 0]

    @property
    def next_context(self) -> NDArray[np.int32]:
        """The context after drawing every entry, shape (D,) (a view of :attr:`links`)."""
        return self.links[:, 3]

    @property
    def num_entries(self) -> int:
        """D, the number of entries."""
        return int(self.links.shape[0])

    @property
    def num_contexts(self) -> int:
        """C, the number of contexts."""
        return int(self.first.size - 1)

    def context_of(self) -> NDArray[np.int64]:
        """The context of every entry, shape (D,)."""
        return np.repeat(np.arange(self.num_contexts, dtype=np.int64), np.diff(self.first))

    def context_ids(self) -> NDArray[np.int32]:
        """The ids of every context, ``<s>`` padded, shape (C, order - 1).

        Read back through the table: a context other than the start is entered by an entry whose
        word is its last id, from a context whose last id is its second last, and so on.
        """
        width = self.order - 1
        ids = np.full((self.num_contexts, width), BOS_ID, dtype=np.int32)
        words = np.flatnonzero(self.word != EOS_ID)
        parent = np.full(self.num_contexts, -1, dtype=np.int64)
        parent[self.next_context[words]] = words
        context_of = self.context_of()
        current = np.arange(self.num_contexts)
        for j in range(width - 1, -1, -1):
            entry = parent[current]
            entered = entry >= 0  # the start context has no parent: <s> from there on
            ids[entered, j] = self.word[entry[entered]]
            current = np.where(entered, context_of[np.maximum(entry, 0)], current)
        return ids


@dataclass(frozen=True, eq=False)
class NgramCounts:
    """Counts of the n-grams of some sequences over an :class:`NgramTable`: an MLE n-gram model.

    The sequences are padded as in the module docstring; a sample's last, cut sequence counts
    (its last context, ``</s>``) at the cut. What a sample of an n-gram model carries
    (:attr:`Sequences.ngram_counts`) so that refitting on it takes no counting.

    Attributes:
        table: the table.
        counts: the count of every entry, int64, shape (D,), read-only.
        words: the number of words counted.
        sequences: the number of sequences counted.
    """

    table: NgramTable
    counts: NDArray[np.int64]
    words: int
    sequences: int

    @property
    def distinct_ngrams(self) -> int:
        """Distinct n-grams made only of words with a positive count."""
        return int(np.count_nonzero(self.table.all_words & (self.counts > 0)))

    def ngrams(self) -> tuple[NDArray[np.int32], NDArray[np.int64]]:
        """Every n-gram with a positive count and its count, in lexicographic order of ids.

        Returns:
            (ids, counts): ids of shape (m, order), ``<s>``-padded contexts then the next id
            (``</s>`` is 0); counts of shape (m,).
        """
        t = self.table
        present = np.flatnonzero(self.counts > 0)
        contexts = t.context_ids()[t.context_of()[present]]
        ids = np.concatenate([contexts, t.word[present, None]], axis=1)
        order = np.lexsort(ids.T[::-1]) if ids.size else np.arange(0)
        return ids[order], self.counts[present][order]

    def sample(self, num_tokens: int, rng: np.random.Generator, temperature: float = 1.0,
               top_k: int | None = None, top_p: float | None = None) -> Sequences:
        """Walk the table: whole sequences one after another until ``num_tokens`` words.

        Arguments are checked by :meth:`ngram_collapse.ngram.NgramModel.sample`, which documents
        them. Every step draws an entry of the current context with probability weight / total:
        with temperature 1 the weights are (kept) counts and the draw is an exact uniform integer
        in [0, total) (Lemire's method on the generator's 64-bit output) followed by a search of
        the cumulative counts (in contexts of more than 8 entries, an alias table: two exact
        integer draws); otherwise the weights are doubles and the draws uniform doubles. Memory
        beside the sample: the draw tables of this call (at most 16 bytes per entry with
        temperature 1, 20 otherwise) and the new counts.

        Returns:
            The sample, carrying its own :class:`NgramCounts` over this table.
        """
        t = self.table
        if temperature == 1.0 and top_k is None and top_p is None:
            weights = self.counts
        else:
            weights = np.empty(t.num_entries, np.int64 if temperature == 1.0 else np.float64)
            _engine.transform(self.counts, t.first, t.links, float(temperature), int(top_k or 0),
                              1.0 if top_p is None else float(top_p), weights)
        ids = np.empty(num_tokens, np.int32)
        expected = int(1.05 * num_tokens * max(self.sequences, 1) / max(self.words, 1)) + 16
        drawn = np.zeros(t.num_entries, np.int64)
        with rng.bit_generator.lock:
            offsets = _engine.walk(t.first, t.links, weights, t.start, num_tokens, rng.bit_generator.capsule,
                                   ids, drawn, expected)
        del weights
        drawn.flags.writeable = False
        offsets = np.frombuffer(offsets, np.int64)
        counts = NgramCounts(t, drawn, num_tokens, offsets.size - 1)
        return Sequences(ids, offsets, t.vocab, ngram_counts=counts)


def count_ngrams(data: Sequences, order: int) -> NgramCounts:
    """Count the n-grams of ``data`` into a new table (generation 0, or any data without counts).

    One pass over the words with two hash tables (exact: contexts are compared id by id), then the
    entries are grouped by context. Time O(words + D log), memory O(D) beside the data.

    Raises:
        ValueError: an id of ``data`` is a marker or outside its vocabulary.
    """
    links, counts, first, has_bos = _engine.build_table(data.ids, data.offsets, order, len(data.vocab))
    links = np.frombuffer(links, np.int32).reshape(-1, 4)
    first = np.frombuffer(first, np.int64)
    has_bos = np.frombuffer(has_bos, np.uint8).astype(bool)
    all_words = links[:, 0] >= FIRST_WORD_ID
    all_words &= ~np.repeat(has_bos, np.diff(first))
    counts = np.frombuffer(counts, np.int64)
    for a in (links, first, all_words, counts):
        a.flags.writeable = False
    return NgramCounts(NgramTable(order, data.vocab, links, first, all_words), counts, data.num_tokens, len(data))
