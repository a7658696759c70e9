"""Tokenizers by name: a line of text -> words, and optional sentence segmentation.

NLTK is imported only by the tokenizers and the segmenter that use it.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

from .errors import InputError

TOKENIZERS = ("whitespace", "regex", "toktok", "treebank")
SEGMENTS = ("line", "sentence")
PUNKT_TRAINING_CHARS = 5_000_000  # Punkt learns abbreviations etc. from at most this much text
PUNKT_PIECE_CHARS = 200_000  # Punkt reads text in pieces of at most this many characters

_NON_WORD = re.compile(r"\W+")


def get_tokenizer(name: str, lowercase: bool = False) -> Callable[[str], list[str]]:
    """The tokenizer ``name`` as a function from text to words.

    ``whitespace``: split on white space (right for pre-tokenized WikiText); ``regex``: the paper's
    unigram notebook (lower-case, non-word characters become spaces, split; always lower-cases);
    ``toktok`` and ``treebank``: NLTK's ToktokTokenizer and TreebankWordTokenizer, as in the paper's
    n-gram script. ``lowercase`` lower-cases the text first.
    """
    if name == "whitespace":
        split = str.split
    elif name == "regex":
        return lambda text: _NON_WORD.sub(" ", text.lower()).split()
    elif name == "toktok":
        from nltk.tokenize.toktok import ToktokTokenizer

        split = ToktokTokenizer().tokenize
    elif name == "treebank":
        from nltk.tokenize import TreebankWordTokenizer

        split = TreebankWordTokenizer().tokenize
    else:
        raise InputError(f"unknown tokenizer {name!r} (choose from {', '.join(TOKENIZERS)})")
    if lowercase:
        return lambda text: split(text.lower())
    return split


def sentence_splitter(lines: Iterable[str]) -> Callable[[str], list[str]]:
    """NLTK's Punkt sentence splitter trained on ``lines`` themselves (no model download).

    Training reads the first ``PUNKT_TRAINING_CHARS`` characters of ``lines`` (the line that
    crosses the budget is cut at a white space), fed to Punkt in pieces of at most
    ``PUNKT_PIECE_CHARS``: NLTK runs each regular expression under a time limit (5 s), which
    one very long text would exceed.
    """
    from nltk.tokenize.punkt import PunktSentenceTokenizer, PunktTrainer

    chunk, budget = [], PUNKT_TRAINING_CHARS
    for line in lines:
        if budget <= 0:
            break
        chunk.append(line if len(line) <= budget else _cut(line, budget))
        budget -= len(line) + 1
    trainer = PunktTrainer()
    for piece in pieces("\n".join(chunk)):
        trainer.train(piece, finalize=False)
    trainer.finalize_training()
    return PunktSentenceTokenizer(trainer.get_params()).tokenize


def pieces(text: str) -> Iterator[str]:
    """``text`` cut into pieces of at most ``PUNKT_PIECE_CHARS`` characters, each after its last line
    end or space if that is in its second half (else at that size). Shorter text is one piece."""
    size = PUNKT_PIECE_CHARS
    start = 0
    while len(text) - start > size:
        low, high = start + size // 2, start + size
        end = max(text.rfind("\n", low, high), text.rfind(" ", low, high))
        end = start + size if end < 0 else end + 1
        yield text[start:end]
        start = end
    yield text[start:]


def _cut(line: str, budget: int) -> str:
    """The start of ``line`` up to its last space within ``budget`` characters (or ``budget``
    characters if there is none)."""
    end = line.rfind(" ", 0, budget)
    return line[:end if end > 0 else budget]


def segment(lines: Iterable[str], tokenizer: Callable[[str], list[str]],
            splitter: Callable[[str], list[str]] | None = None) -> Iterator[list[str]]:
    """Sequences of words: one per non-empty line, or one per sentence with ``splitter`` (a line
    longer than ``PUNKT_PIECE_CHARS`` is first cut into :func:`pieces`, each split on its own)."""
    for line in lines:
        if splitter is None:
            sentences: Iterable[str] = (line,)
        else:
            sentences = (s for piece in pieces(line) for s in splitter(piece))
        for sentence in sentences:
            words = tokenizer(sentence)
            if words:
                yield words
