"""A corpus spec -> lines of text: a file, a folder of ``.txt`` files, a registered name, or the
embedded default.

Registered corpora are described by the TOML files of the ``corpora/`` registry (installed as
``ngram_collapse.corpora``): where a local copy lives under ``$NGRAM_COLLAPSE_DATA`` (or
``--data-dir``), and where the Hugging Face hub has it (read through ``datasets``, imported only then).
"""
from __future__ import annotations

import os
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .errors import InputError
from .vocab import Sequences

DATA_ENV = "NGRAM_COLLAPSE_DATA"
DEFAULT_CORPUS = "python-docs"


@dataclass(frozen=True)
class Corpus:
    """A resolved corpus: a name for reports and the way to read its lines.

    Attributes:
        name: the spec as given (e.g. ``wikitext-2:valid``, a path, or ``python-docs``).
        files: local text files to read, in order (empty for the hub or the embedded default).
        hub: (path, config, split, text field) for the Hugging Face hub, or None.
    """

    name: str
    files: tuple[Path, ...] = ()
    hub: tuple[str, str, str, str] | None = None

    def lines(self, encoding_errors: str = "strict") -> Iterator[str]:
        """The corpus's lines of text, without line ends.

        Args:
            encoding_errors: ``strict`` (undecodable bytes are an InputError that says where) or
                ``replace`` (they become U+FFFD).
        """
        if self.name == DEFAULT_CORPUS and not self.files and self.hub is None:
            yield from _embedded_lines()
        elif self.hub is not None:
            yield from _hub_lines(*self.hub)
        else:
            for path in self.files:
                yield from _file_lines(path, encoding_errors)


def registry() -> dict[str, dict]:
    """The registered corpora: name -> the fields of its TOML file."""
    found = {}
    for entry in resources.files("ngram_collapse.corpora").iterdir():
        if entry.name.endswith(".toml"):
            spec = tomllib.loads(entry.read_text(encoding="utf-8"))
            found[spec["name"]] = spec
    return found


def resolve(spec: str | None, data_dir: str | os.PathLike | None = None) -> Corpus:
    """Turn a ``--corpus`` value into a :class:`Corpus`.

    Args:
        spec: None (the embedded default), a file, a folder of ``.txt`` files, or a registered name
            with an optional ``:split`` (e.g. ``wikitext-2:valid``).
        data_dir: where registered corpora are found locally (default ``$NGRAM_COLLAPSE_DATA``).
    """
    if spec is None or spec == DEFAULT_CORPUS:
        return Corpus(DEFAULT_CORPUS)
    path = Path(spec)
    if path.is_file():
        return Corpus(spec, (path,))
    if path.is_dir():
        files = tuple(sorted(path.glob("*.txt")))
        if not files:
            raise InputError(f"corpus folder {spec} has no .txt files")
        return Corpus(spec, files)
    name, _, split = spec.partition(":")
    known = registry()
    if name not in known:
        names = ", ".join(sorted(known))
        raise InputError(f"corpus {spec}: no such file or folder, and not a registered corpus ({names})")
    entry = known[name]
    split = split or entry["default_split"]
    if split not in entry["splits"]:
        raise InputError(f"corpus {name} has no split {split!r} (choose from {', '.join(entry['splits'])})")
    root = data_dir if data_dir is not None else os.environ.get(DATA_ENV)
    if root:
        local = Path(root) / entry["local_dir"] / f"{split}.txt"
        if local.is_file():
            return Corpus(spec, (local,))
    return Corpus(spec, hub=(entry["hub_path"], entry["hub_config"], entry["hub_splits"][split],
                             entry["hub_text_field"]))


def _file_lines(path: Path, encoding_errors: str) -> Iterator[str]:
    """Decode a UTF-8 file line by line, saying where undecodable bytes are."""
    try:
        f = open(path, "rb")
    except OSError as e:
        raise InputError(f"corpus {path}: cannot read ({e.strerror or e})") from None
    with f:
        for lineno, raw in enumerate(f, 1):
            if b"\0" in raw:
                raise InputError(f"corpus {path}: line {lineno} has NUL bytes; this looks like a binary file")
            try:
                yield raw.decode("utf-8", errors=encoding_errors).rstrip("\r\n")
            except UnicodeDecodeError as e:
                raise InputError(
                    f"corpus {path}: line {lineno}, byte {e.start + 1}: not valid UTF-8 "
                    "(use --encoding-errors replace to go on)"
                ) from None


def _embedded_lines() -> Iterator[str]:
    """Real English prose shipped with Python: the help topics of ``pydoc_data`` (about 65K words)."""
    from pydoc_data.topics import topics

    for key in sorted(topics):
        yield from topics[key].splitlines()


def _hub_lines(path: str, config: str, split: str, field: str) -> Iterator[str]:
    """Lines of a corpus on the Hugging Face hub, read through ``datasets``."""
    try:
        import datasets
        import huggingface_hub

        # The error below is the one line the user sees: no retry warnings from the hub client.
        datasets.logging.set_verbosity_error()
        huggingface_hub.utils.logging.set_verbosity_error()
        data = datasets.load_dataset(path, config, split=split)
    except Exception as e:  # datasets raises many types when offline; all mean the same here
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise InputError(
            f"corpus {path} ({config}, {split}) is not available locally and could not be loaded from "
            f"the Hugging Face hub ({reason[:200]}); put it at ${DATA_ENV}/<name>/<split>.txt or pass "
            "--data-dir, or connect to the network so `datasets` can download it"
        ) from None
    for text in data[field]:
        yield from text.splitlines()


def load_sequences(
    spec: str | None = None,
    *,
    tokenizer: str = "whitespace",
    lowercase: bool = False,
    segment: str = "line",
    max_words: int | None = None,
    data_dir: str | os.PathLike | None = None,
    encoding_errors: str = "strict",
) -> Sequences:
    """Read, tokenize and encode a corpus.

    Args:
        spec: see :func:`resolve`.
        tokenizer, lowercase: see :func:`ngram_collapse.tokenize.get_tokenizer`.
        segment: ``line`` (every non-empty line is a sequence) or ``sentence`` (NLTK's Punkt,
            trained on the corpus itself).
        max_words: keep only the first ``max_words`` words (the last sequence is cut).
        data_dir: where registered corpora are found locally.
        encoding_errors: ``strict`` or ``replace``.

    Returns:
        The corpus as :class:`~ngram_collapse.vocab.Sequences` with a new vocabulary.

    Raises:
        InputError: missing, empty, binary or undecodable corpus; bad options.
    """
    from .tokenize import SEGMENTS, get_tokenizer, sentence_splitter
    from .tokenize import segment as segment_lines

    if segment not in SEGMENTS:
        raise InputError(f"unknown segmentation {segment!r} (choose from {', '.join(SEGMENTS)})")
    if encoding_errors not in ("strict", "replace"):
        raise InputError(f"--encoding-errors must be strict or replace, not {encoding_errors!r}")
    if max_words is not None and max_words < 1:
        raise InputError(f"--max-words must be >= 1, not {max_words}")
    corpus = resolve(spec, data_dir)
    lines = corpus.lines(encoding_errors)
    splitter = None
    if segment == "sentence":
        lines = list(lines)
        splitter = sentence_splitter(lines)
    sequences = segment_lines(lines, get_tokenizer(tokenizer, lowercase), splitter)
    if max_words is not None:
        sequences = _first_words(sequences, max_words)
    data = Sequences.encode(sequences)
    if data.num_tokens == 0:
        raise InputError(f"corpus {corpus.name} has no words")
    return data


def _first_words(sequences: Iterator[list[str]], max_words: int) -> Iterator[list[str]]:
    left = max_words
    for words in sequences:
        yield words[:left]
        left -= len(words)
        if left <= 0:
            return
