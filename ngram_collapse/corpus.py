"""A corpus spec -> blocks of text -> :class:`~ngram_collapse.vocab.Sequences`.

A spec is a text file, a folder of ``.txt`` files, a dataset folder or file (``datasets``'
``save_to_disk``, parquet, jsonl), a registered name (``wikitext-103:valid``), any text dataset of
the Hugging Face hub (``hf:PATH[:CONFIG]:SPLIT[:FIELD]``), or the embedded default.

Registered corpora are described by the TOML files of the ``corpora/`` registry (installed as
``ngram_collapse.corpora``): where a local copy lives under ``$NGRAM_COLLAPSE_DATA`` (or
``data_dir``), and where the Hugging Face hub has it.

Every source is read as blocks of UTF-8 text of about ``BLOCK_BYTES`` that end at a line end;
a line is a sequence (or is cut into sentences). Text files and the embedded default are read by
:mod:`~ngram_collapse.textfiles`, datasets (local or from the hub) by
:mod:`~ngram_collapse.datasets_io`; :mod:`~ngram_collapse.encoder` turns blocks into word ids.
"""
from __future__ import annotations

import os
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from .datasets_io import DATASET_SUFFIXES, HUB_PREFIX, dataset_blocks, is_dataset_folder
from .encoder import Encoder, encode_python, encode_whitespace
from .errors import InputError
from .textfiles import DEFAULT_CORPUS, embedded_text, file_blocks, text_lines
from .vocab import Sequences

DATA_ENV = "NGRAM_COLLAPSE_DATA"
BLOCK_BYTES = 4 << 20  # text is read, checked and tokenized in blocks of about this many bytes


@dataclass(frozen=True)
class Corpus:
    """A resolved corpus: a name for reports and the way to read its text.

    Attributes:
        name: the spec as given (e.g. ``wikitext-2:valid``, a path, ``hf:...`` or ``python-docs``).
        files: local text files to read, in order (empty for a dataset or the embedded default).
        hub: a dataset as (path, config, split, text field): a hub name, or a local folder or
            file; config and split may be None (the dataset's default); None for text files.
        local_hint: for a registered corpus read from the hub, where a local copy would be found.
    """

    name: str
    files: tuple[Path, ...] = ()
    hub: tuple[str, str | None, str | None, str] | None = None
    local_hint: str | None = None

    def blocks(self, encoding_errors: str = "strict") -> Iterator[bytes | memoryview]:
        """The corpus's text as blocks of UTF-8 bytes that end at a line end (``\\n``; the last
        block of a file may lack it). Rows of a dataset are lines; a row may hold several.

        Args:
            encoding_errors: ``strict`` (undecodable bytes are an InputError that says where) or
                ``replace`` (they become U+FFFD).

        Raises:
            InputError: missing, binary or undecodable file; dataset that cannot be loaded or has
                no such text field.
        """
        if self.name == DEFAULT_CORPUS and not self.files and self.hub is None:
            yield embedded_text().encode("utf-8")
        elif self.hub is not None:
            fix = (f"put a copy at {self.local_hint} (under ${DATA_ENV} or --data-dir)"
                   if self.local_hint else None)
            yield from dataset_blocks(self.name, self.hub, BLOCK_BYTES, fix)
        else:
            for path in self.files:
                yield from file_blocks(path, encoding_errors, BLOCK_BYTES)

    def lines(self, encoding_errors: str = "strict") -> Iterator[str]:
        """The corpus's lines of text, without line ends (see :meth:`blocks`)."""
        for block in self.blocks(encoding_errors):
            yield from text_lines(str(block, "utf-8"))


def describe(corpus: str, options: dict[str, Any], eval_corpus: str | None = None) -> dict[str, Any]:
    """The entries of a run's ``config`` that describe its data: the corpus, the options it was read
    with (:func:`load_sequences`'s, not where it was found: ``data_dir``) and the held-out corpus."""
    return {"corpus": corpus, **{k: v for k, v in options.items() if k != "data_dir"}, "eval_corpus": eval_corpus}


def registry() -> dict[str, dict]:
    """The registered corpora: name -> the fields of its TOML file."""
    found = {}
    for entry in resources.files("ngram_collapse.corpora").iterdir():
        if entry.name.endswith(".toml"):
            spec = tomllib.loads(entry.read_text(encoding="utf-8"))
            found[spec["name"]] = spec
    return found


def resolve(spec: str | None, data_dir: str | os.PathLike | None = None) -> Corpus:
    """Turn a corpus spec into a :class:`Corpus`.

    Args:
        spec: None (the embedded default); a text file; a folder of ``.txt`` files (read in name
            order); a dataset file (``.parquet``, ``.jsonl``, ``.json``, ``.arrow``) or folder
            (saved by ``datasets``' ``save_to_disk``, or of such files; split ``train`` unless it
            has one split only, field ``text``); a registered name with an optional ``:split``
            (e.g. ``wikitext-103:valid``); or ``hf:PATH[:CONFIG]:SPLIT[:FIELD]``, a dataset of the
            Hugging Face hub or a local dataset folder or file (three parts are PATH:CONFIG:SPLIT;
            leave CONFIG empty, ``hf:PATH::SPLIT:FIELD``, to name a field without a config).
        data_dir: where registered corpora are found locally (default ``$NGRAM_COLLAPSE_DATA``).

    Raises:
        InputError: empty spec, unknown name or split, folder with nothing to read.
    """
    if spec is None or spec == DEFAULT_CORPUS:
        return Corpus(DEFAULT_CORPUS)
    if not spec.strip():
        raise InputError("corpus is empty: give a file, a folder, a registered name or hf:PATH:SPLIT "
                         f"(or nothing for the embedded {DEFAULT_CORPUS})")
    if spec.startswith(HUB_PREFIX):
        return Corpus(spec, hub=_parse_hub(spec))
    path = Path(spec)
    if path.is_file():
        if path.suffix.lower() in DATASET_SUFFIXES:
            return Corpus(spec, hub=(spec, None, None, "text"))
        return Corpus(spec, (path,))
    if path.is_dir():
        files = tuple(sorted(path.glob("*.txt")))
        if files:
            return Corpus(spec, files)
        if is_dataset_folder(path):
            return Corpus(spec, hub=(spec, None, None, "text"))
        raise InputError(f"corpus folder {spec} has no .txt files and is not a dataset folder "
                         "(save_to_disk, parquet or jsonl files)")
    name, _, split = spec.partition(":")
    known = registry()
    if name not in known:
        names = ", ".join(sorted(known))
        raise InputError(f"corpus {spec}: no such file or folder, and not a registered corpus ({names}) "
                         "nor hf:PATH[:CONFIG]:SPLIT[:FIELD]")
    entry = known[name]
    split = split or entry["default_split"]
    if split not in entry["splits"]:
        raise InputError(f"corpus {name} has no split {split!r} (choose from {', '.join(entry['splits'])})")
    root = data_dir if data_dir is not None else os.environ.get(DATA_ENV)
    local = Path(root or f"${DATA_ENV}") / entry["local_dir"] / f"{split}.txt"
    if root and local.is_file():
        return Corpus(spec, (local,))
    return Corpus(spec, hub=(entry["hub_path"], entry["hub_config"], entry["hub_splits"][split],
                             entry["hub_text_field"]), local_hint=str(local))


def _parse_hub(spec: str) -> tuple[str, str | None, str, str]:
    """``hf:PATH[:CONFIG]:SPLIT[:FIELD]`` -> (path, config or None, split, field)."""
    parts = spec[len(HUB_PREFIX):].split(":")
    if len(parts) == 2:
        parts = [parts[0], "", parts[1]]
    if len(parts) == 3:
        parts.append("text")
    if len(parts) != 4 or not parts[0] or not parts[2] or not parts[3]:
        raise InputError(f"corpus {spec}: expected hf:PATH[:CONFIG]:SPLIT[:FIELD], e.g. "
                         "hf:Salesforce/wikitext:wikitext-103-v1:train")
    path, config, split, field = parts
    return path, config or None, split, field


# --- reading a corpus into Sequences ---------------------------------------------------------

def load_sequences(
    spec: str | None = None,
    *,
    tokenizer: str = "whitespace",
    lowercase: bool = False,
    segment: str = "line",
    max_words: int | None = None,
    data_dir: str | os.PathLike | None = None,
    encoding_errors: str = "strict",
    progress: bool = False,
) -> Sequences:
    """Read, tokenize and encode a corpus.

    Word ids are given in order of first appearance (after ``</s>`` = 0 and ``<s>`` = 1), as
    :meth:`Sequences.encode <ngram_collapse.vocab.Sequences.encode>` does on the same words.

    Args:
        spec: see :func:`resolve`.
        tokenizer, lowercase: see :func:`ngram_collapse.tokenize.get_tokenizer`.
        segment: ``line`` (every non-empty line is a sequence) or ``sentence`` (NLTK's Punkt,
            trained on the corpus itself).
        max_words: keep only the first ``max_words`` words (the last sequence is cut); reading
            stops there.
        data_dir: where registered corpora are found locally.
        encoding_errors: ``strict`` or ``replace``.
        progress: show a tqdm bar of words read (words/s) on stderr when it is a terminal.

    Returns:
        The corpus as :class:`~ngram_collapse.vocab.Sequences` with a new vocabulary.

    Raises:
        InputError: missing, empty, binary or undecodable corpus; bad options.
    """
    from .tokenize import SEGMENTS, get_tokenizer

    split = get_tokenizer(tokenizer, lowercase)
    if segment not in SEGMENTS:
        raise InputError(f"unknown segmentation {segment!r} (choose from {', '.join(SEGMENTS)})")
    if encoding_errors not in ("strict", "replace"):
        raise InputError(f"--encoding-errors must be strict or replace, not {encoding_errors!r}")
    if max_words is not None and max_words < 1:
        raise InputError(f"--max-words must be >= 1, not {max_words}")
    corpus = resolve(spec, data_dir)
    encoder = Encoder(max_words, progress)
    with encoder:
        blocks = corpus.blocks(encoding_errors)
        if tokenizer == "whitespace" and segment == "line":
            encode_whitespace(blocks, lowercase, encoder)
        else:
            encode_python(blocks, split, segment, encoder)
    data = encoder.sequences()
    if data.num_tokens == 0:
        raise InputError(f"corpus {corpus.name} has no words")
    return data
