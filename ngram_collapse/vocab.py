"""Words as integer ids, and sequences of words as one flat id array.

Kept apart from the model, as in ``nltk.lm``: a :class:`Vocabulary` maps words to ids (the markers
``</s>`` and ``<s>`` first), and :class:`Sequences` holds many sequences of ids in compressed form
(one flat ``int32`` array and sequence offsets) while reading like a list of lists of words.
"""
from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, overload

import numpy as np
from numpy.typing import NDArray

BOS = "<s>"
EOS = "</s>"
EOS_ID = 0
BOS_ID = 1
FIRST_WORD_ID = 2
_CHUNK = 1 << 22  # ids per chunk of Sequences.counts


class Vocabulary:
    """A mapping between words and integer ids; ids 0 and 1 are ``</s>`` and ``<s>``.

    Ids are assigned in order of first appearance and never change, so every generation of a
    recursive run shares its original corpus's vocabulary: a word that is no longer sampled simply
    has count 0.
    """

    def __init__(self, words: Iterable[str] = ()) -> None:
        self.words: list[str] = [EOS, BOS]
        self.index: dict[str, int] = {EOS: EOS_ID, BOS: BOS_ID}
        for w in words:
            self.add(w)

    @classmethod
    def from_index(cls, index: dict[str, int]) -> Vocabulary:
        """The vocabulary of ``index``, word -> id with ids 0, 1, 2, ... in insertion order and the
        markers first (as a reader builds it), taken over whole instead of added word by word."""
        vocab = cls()
        vocab.index = dict(index)
        vocab.words = list(vocab.index)
        return vocab

    def add(self, word: str) -> int:
        """The id of ``word``, assigning the next free id if it is new.

        Raises:
            TypeError: a new ``word`` is not a str.
        """
        i = self.index.get(word)
        if i is None:
            if not isinstance(word, str):
                raise TypeError(f"words must be str, not {type(word).__name__} ({word!r})")
            i = self.index[word] = len(self.words)
            self.words.append(word)
        return i

    def __len__(self) -> int:
        """Number of ids, markers included."""
        return len(self.words)

    def lookup(self, word: str) -> int | None:
        """The id of ``word``, or None if it is not in the vocabulary."""
        return self.index.get(word)


class Sequences(Sequence[list[str]]):
    """Many sequences of words, stored as ids: reads as a list of lists of words.

    Attributes:
        ids: int32 array of shape (total words,), every sequence's word ids one after another
            (no markers).
        offsets: int64 array of shape (sequences + 1,); sequence i is ``ids[offsets[i]:offsets[i+1]]``.
        vocab: the :class:`Vocabulary` the ids refer to.
        ngram_counts: on a sample of an n-gram model, the sample's n-gram counts over that model's
            table (:class:`~ngram_collapse.table.NgramCounts`), so that a model of the same order
            refits on it without counting; None otherwise. Never changed by a fit.
    """

    def __init__(self, ids: NDArray[np.integer], offsets: NDArray[np.integer], vocab: Vocabulary,
                 ngram_counts: Any = None) -> None:
        self.ids = np.ascontiguousarray(ids, dtype=np.int32)
        self.offsets = np.ascontiguousarray(offsets, dtype=np.int64)
        self.vocab = vocab
        self.ngram_counts = ngram_counts
        if self.offsets.ndim != 1 or self.offsets.size < 1 or self.offsets[0] != 0 \
                or self.offsets[-1] != self.ids.size or np.any(np.diff(self.offsets) < 0):
            raise ValueError("offsets must start at 0, be non-decreasing and end at len(ids)")

    @classmethod
    def encode(cls, sequences: Iterable[Iterable[str]], vocab: Vocabulary | None = None) -> Sequences:
        """Encode sequences of words, adding new words to ``vocab`` (a new one if None).

        Raises:
            TypeError: ``sequences`` is not an iterable of iterables of str (e.g. a str, or a list
                of str: a sequence must be a list of words, not a line of text).
        """
        if isinstance(sequences, (str, bytes)) or not isinstance(sequences, Iterable):
            raise TypeError("sequences must be an iterable of sequences of words (e.g. [['a', 'b'], ['c']]), "
                            f"not {type(sequences).__name__}")
        vocab = Vocabulary() if vocab is None else vocab
        ids = array("i")
        offsets = array("q", [0])
        add = vocab.add
        for seq in sequences:
            if isinstance(seq, (str, bytes)) or not isinstance(seq, Iterable):
                raise TypeError("every sequence must be an iterable of words (e.g. ['a', 'b']), "
                                f"not {type(seq).__name__} ({seq!r:.40})")
            ids.extend(add(w) for w in seq)
            offsets.append(len(ids))
        return cls(np.frombuffer(ids, dtype=np.int32), np.frombuffer(offsets, dtype=np.int64), vocab)

    @property
    def lengths(self) -> NDArray[np.int64]:
        """Words per sequence, shape (sequences,)."""
        return np.diff(self.offsets)

    @property
    def num_tokens(self) -> int:
        """Total number of words (markers excluded)."""
        return int(self.ids.size)

    def counts(self) -> NDArray[np.int64]:
        """Occurrences of every vocabulary id, shape (len(vocab),); markers count 0.

        Counted in chunks: ``np.bincount`` copies its input to 64-bit integers."""
        counts = np.zeros(len(self.vocab), np.int64)
        for a in range(0, self.ids.size, _CHUNK):
            counts += np.bincount(self.ids[a:a + _CHUNK], minlength=len(self.vocab))
        return counts

    def __len__(self) -> int:
        return self.offsets.size - 1

    @overload
    def __getitem__(self, i: int) -> list[str]: ...

    @overload
    def __getitem__(self, i: slice) -> list[list[str]]: ...

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError("sequence index out of range")
        words = self.vocab.words
        return [words[j] for j in self.ids[self.offsets[i]:self.offsets[i + 1]].tolist()]

    def __iter__(self) -> Iterator[list[str]]:
        return (self[i] for i in range(len(self)))

    def __repr__(self) -> str:
        return f"Sequences({len(self)} sequences, {self.num_tokens} words, vocabulary {len(self.vocab)})"
