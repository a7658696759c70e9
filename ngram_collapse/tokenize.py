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


def sentence_splitter(lines: list[str]) -> Callable[[str], list[str]]:
    """NLTK's Punkt sentence splitter trained on ``lines`` themselves (no model download).

    Training reads at most ``PUNKT_TRAINING_CHARS`` characters of the corpus.
    """
    from nltk.tokenize.punkt import PunktSentenceTokenizer, PunktTrainer

    trainer = PunktTrainer()
    budget = PUNKT_TRAINING_CHARS
    chunk = []
    for line in lines:
        if budget <= 0:
            break
        chunk.append(line)
        budget -= len(line)
    trainer.train("\n".join(chunk), finalize=True)
    return PunktSentenceTokenizer(trainer.get_params()).tokenize


def segment(lines: Iterable[str], tokenizer: Callable[[str], list[str]],
            splitter: Callable[[str], list[str]] | None = None) -> Iterator[list[str]]:
    """Sequences of words: one per non-empty line, or one per sentence with ``splitter``."""
    for line in lines:
        for piece in (splitter(line) if splitter is not None else (line,)):
            words = tokenizer(piece)
            if words:
                yield words
