"""Blocks of text -> word ids -> :class:`~ngram_collapse.vocab.Sequences`.

The white-space tokenizer on lines splits a whole block with ``pyarrow`` (no Python object per
word, so memory while reading is the word ids kept plus one block); any other tokenizer, and the
sentence segmentation, make one Python call per line (or sentence). Word ids are given in order of
first appearance, as :meth:`Sequences.encode <ngram_collapse.vocab.Sequences.encode>` does.
"""
from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Iterator
from itertools import chain

import numpy as np

from .arrow import as_arrow, numpy_view
from .progress import progress_bar
from .textfiles import text_lines
from .vocab import BOS, BOS_ID, EOS, EOS_ID, Sequences, Vocabulary


class _Index(dict):
    """word -> id; a word not yet seen gets the next id."""

    def __missing__(self, word: str) -> int:
        i = self[word] = len(self)
        return i


class Encoder:
    """Word ids and sequence offsets, accumulated in ``array``s (grown in place), a vocabulary in
    order of first appearance, the ``max_words`` cut and the progress bar."""

    def __init__(self, max_words: int | None, progress: bool) -> None:
        self.index = _Index({EOS: EOS_ID, BOS: BOS_ID})
        self.ids = array("i")
        self.offsets = array("q", [0])
        self.left = max_words  # words still to take, or None
        self.bar = progress_bar(max_words, progress, unit=" words", desc="reading")

    def __enter__(self) -> Encoder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.close()

    @property
    def full(self) -> bool:
        return self.left == 0

    def add_block(self, words: list[str], idx: np.ndarray, counts: np.ndarray) -> None:
        """Add sequences of ``counts`` words (> 0) whose words are ``words[idx]``; ``words`` in
        order of first appearance in ``idx`` (pyarrow's dictionary order); an entry of
        ``words`` that ``idx`` never takes may be anything."""
        if self.left is not None and idx.size >= self.left:
            idx = idx[:self.left]
            ends = np.cumsum(counts)
            n = int(np.searchsorted(ends, self.left)) + 1
            counts = counts[:n].copy()
            counts[-1] -= ends[n - 1] - self.left
            words = words[:int(idx.max()) + 1]  # the words of a prefix are a prefix (first appearance)
        to_id = np.fromiter(map(self.index.__getitem__, words), np.int32, len(words))
        ids = to_id[idx]
        ends = np.cumsum(counts, dtype=np.int64)
        ends += len(self.ids)
        self.ids.frombytes(memoryview(ids).cast("B"))
        self.offsets.frombytes(memoryview(ends).cast("B"))
        self._taken(ids.size)

    def add(self, words: list[str]) -> None:
        """Add one sequence of words (not empty)."""
        if self.left is not None:
            words = words[:self.left]
        self.ids.extend(map(self.index.__getitem__, words))
        self.offsets.append(len(self.ids))
        self._taken(len(words))

    def _taken(self, n: int) -> None:
        if self.left is not None:
            self.left -= n
        self.bar.update(n)

    def sequences(self) -> Sequences:
        vocab = Vocabulary.from_index(self.index)
        return Sequences(np.frombuffer(self.ids, np.int32) if self.ids else np.zeros(0, np.int32),
                         np.frombuffer(self.offsets, np.int64), vocab)


# The white space of str.split() that pyarrow's ascii_split_whitespace does not split on (checked
# on every code point by tests/test_corpus.py). Not utf8_split_whitespace: in pyarrow 26 it
# sometimes keeps a space at the end of a line in the last word, depending on earlier calls.
_NON_ASCII_SPACE = "[\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"


def encode_whitespace(blocks: Iterable[bytes | memoryview], lowercase: bool, encoder: Encoder) -> None:
    """Lines split on white space (``str.split``'s: Unicode white space), by pyarrow: per block,
    lines -> words -> a dictionary of the block's distinct words and their positions; only the
    distinct words become Python strings. A block is split on ASCII white space; if one of its
    distinct words holds other white space, that becomes a space and the block is split again."""
    import pyarrow.compute as pc

    for block in blocks:
        if lowercase:
            block = str(block, "utf-8").lower().encode("utf-8")
        lines = pc.split_pattern(as_arrow(block), "\n").flatten()
        # like str.split(), but white space at the ends of a line or in a run gives ""
        split = pc.ascii_split_whitespace(lines)
        coded = pc.dictionary_encode(split.flatten())
        if pc.any(pc.match_substring_regex(coded.dictionary, _NON_ASCII_SPACE)).as_py():
            split = pc.ascii_split_whitespace(pc.replace_substring_regex(lines, _NON_ASCII_SPACE, " "))
            coded = pc.dictionary_encode(split.flatten())
        per_line = numpy_view(split.offsets, np.int32)
        idx = numpy_view(coded.indices, np.int32)
        words = coded.dictionary.to_pylist()
        empty = np.flatnonzero(numpy_view(pc.binary_length(coded.dictionary), np.int64) == 0)
        if empty.size:
            keep = idx != empty[0]
            kept = np.zeros(idx.size + 1, np.int64)
            np.cumsum(keep, out=kept[1:])
            counts = kept[per_line[1:]] - kept[per_line[:-1]]
            idx = idx[keep]
            words[empty[0]] = EOS  # never taken; a known word, so no new id
        else:
            counts = np.diff(per_line)
        counts = counts[counts > 0]
        if idx.size:
            encoder.add_block(words, idx, counts)
        if encoder.full:
            return


def encode_python(blocks: Iterable[bytes | memoryview], split: Callable[[str], list[str]], segment: str,
                  encoder: Encoder) -> None:
    """Any tokenizer (``split``: a line of text -> words, see :func:`ngram_collapse.tokenize.get_tokenizer`)
    and segmentation, one Python call per line (or sentence)."""
    from .tokenize import PUNKT_TRAINING_CHARS, sentence_splitter
    from .tokenize import segment as segment_lines

    texts: Iterator[str] = (str(block, "utf-8") for block in blocks)
    splitter = None
    if segment == "sentence":
        head, chars = [], 0
        for text in texts:  # the first blocks, enough to train Punkt; then read on
            head.append(text)
            chars += len(text)
            if chars >= PUNKT_TRAINING_CHARS:
                break
        splitter = sentence_splitter(chain.from_iterable(map(text_lines, head)))
        texts = chain(head, texts)
    lines = chain.from_iterable(map(text_lines, texts))
    for words in segment_lines(lines, split, splitter):
        encoder.add(words)
        if encoder.full:
            return
