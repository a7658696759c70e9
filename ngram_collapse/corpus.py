"""A corpus spec -> blocks of text -> :class:`~ngram_collapse.vocab.Sequences`.

A spec is a text file, a folder of ``.txt`` files, a dataset folder or file (``datasets``'
``save_to_disk``, parquet, jsonl), a registered name (``wikitext-103:valid``), any text dataset of
the Hugging Face hub (``hf:PATH[:CONFIG]:SPLIT[:FIELD]``), or the embedded default.

Registered corpora are described by the TOML files of the ``corpora/`` registry (installed as
``ngram_collapse.corpora``): where a local copy lives under ``$NGRAM_COLLAPSE_DATA`` (or
``data_dir``), and where the Hugging Face hub has it. Datasets are read through ``datasets``
(imported only then); when the hub does not answer within ``HUB_PROBE_SECONDS`` they are looked up
in the local cache of ``datasets`` only, so that an offline machine fails in seconds.

Every source is read as blocks of UTF-8 text of about ``BLOCK_BYTES`` that end at a line end;
a line is a sequence (or is cut into sentences). With the white-space tokenizer a block is split
into lines and words and hashed by ``pyarrow`` (no Python object per word), so memory while
reading is the word ids kept plus one block.
"""
from __future__ import annotations

import os
import threading
import tomllib
from array import array
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from itertools import chain, islice
from pathlib import Path

import numpy as np

from .errors import InputError
from .vocab import BOS, BOS_ID, EOS, EOS_ID, FIRST_WORD_ID, Sequences, Vocabulary

DATA_ENV = "NGRAM_COLLAPSE_DATA"
DEFAULT_CORPUS = "python-docs"
HUB_PREFIX = "hf:"
BLOCK_BYTES = 4 << 20  # text is read, checked and tokenized in blocks of about this many bytes
HUB_PROBE_SECONDS = 2.0  # a hub that does not answer a HEAD request within this is taken as offline
DATASET_SUFFIXES = {".parquet": "parquet", ".jsonl": "json", ".json": "json", ".arrow": "arrow"}


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
            yield _embedded_text().encode("utf-8")
        elif self.hub is not None:
            yield from _dataset_blocks(self)
        else:
            for path in self.files:
                yield from _file_blocks(path, encoding_errors)

    def lines(self, encoding_errors: str = "strict") -> Iterator[str]:
        """The corpus's lines of text, without line ends (see :meth:`blocks`)."""
        for block in self.blocks(encoding_errors):
            yield from _text_lines(str(block, "utf-8"))


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
        if _is_dataset_folder(path):
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


def _is_dataset_folder(path: Path) -> bool:
    if (path / "state.json").is_file() or (path / "dataset_dict.json").is_file():
        return True
    return any(p.suffix.lower() in DATASET_SUFFIXES for p in path.rglob("*") if p.is_file())


# --- text files -------------------------------------------------------------------------------

def _file_blocks(path: Path, encoding_errors: str) -> Iterator[bytes]:
    """Blocks of a UTF-8 file that end at a line end, checked for NUL bytes and UTF-8."""
    try:
        f = open(path, "rb")
    except OSError as e:
        raise InputError(f"corpus {path}: cannot read ({e.strerror or e})") from None
    lines_before = 0
    pending: list[bytes] = []
    with f:
        while True:
            try:
                chunk = f.read(BLOCK_BYTES)
            except OSError as e:
                raise InputError(f"corpus {path}: cannot read ({e.strerror or e})") from None
            cut = chunk.rfind(b"\n")
            if chunk and cut < 0:  # a line longer than a block: read on
                pending.append(chunk)
                continue
            block = b"".join([*pending, chunk[:cut + 1] if chunk else b""])
            pending = [chunk[cut + 1:]] if chunk else []
            if block:
                yield _checked(block, path, lines_before, encoding_errors)
                lines_before += block.count(b"\n")
            if not chunk:
                return


def _checked(block: bytes, path: Path, lines_before: int, encoding_errors: str) -> bytes:
    """``block`` if it has no NUL byte and is valid UTF-8; with ``replace``, undecodable bytes
    become U+FFFD. Errors name the line (counted from 1 over the file) like a line-by-line reader:
    the first line with a NUL byte or undecodable bytes, NUL bytes first."""
    nul = block.find(b"\0")
    bad = -1
    if not _valid_utf8(block):
        try:
            block.decode("utf-8")
        except UnicodeDecodeError as e:
            bad = e.start
    if nul >= 0 and (bad < 0 or encoding_errors == "replace"
                     or block.count(b"\n", 0, nul) <= block.count(b"\n", 0, bad)):
        line = lines_before + block.count(b"\n", 0, nul) + 1
        raise InputError(f"corpus {path}: line {line} has NUL bytes; this looks like a binary file")
    if bad >= 0:
        if encoding_errors == "replace":
            return block.decode("utf-8", errors="replace").encode("utf-8")
        line = lines_before + block.count(b"\n", 0, bad) + 1
        byte = bad - (block.rfind(b"\n", 0, bad) + 1) + 1
        raise InputError(f"corpus {path}: line {line}, byte {byte}: not valid UTF-8 "
                         "(use --encoding-errors replace to go on)")
    return block


def _valid_utf8(block: bytes) -> bool:
    """Whether ``block`` is valid UTF-8 (checked by pyarrow, without building a str)."""
    import pyarrow as pa

    try:
        _as_arrow(block).validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _embedded_text() -> str:
    """Real English prose shipped with Python: the help topics of ``pydoc_data`` (about 65K words)."""
    from pydoc_data.topics import topics

    return "\n".join(line for key in sorted(topics) for line in topics[key].splitlines())


def _text_lines(text: str) -> Iterator[str]:
    """The lines of a block, without ``\\n`` and trailing ``\\r``."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return (line.rstrip("\r") for line in lines)


# --- datasets (the hub, save_to_disk folders, parquet / jsonl) --------------------------------

def _dataset_blocks(corpus: Corpus) -> Iterator[memoryview]:
    """Blocks of a dataset's text field: rows joined by ``\\n`` (a missing text is an empty row)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    path, config, split, field = corpus.hub
    data = _open_dataset(corpus)
    if field not in data.column_names:
        raise InputError(f"corpus {corpus.name} has no text field {field!r} (fields: "
                         f"{', '.join(data.column_names)}); name one as "
                         f"{HUB_PREFIX}{path}:{config or ''}:{split or 'train'}:FIELD")
    kind = data.features[field]
    if getattr(kind, "dtype", None) not in ("string", "large_string"):
        raise InputError(f"corpus {corpus.name}: field {field!r} holds {kind}, not text")
    rows, size = [], 0
    try:
        for column in chain(_dataset_columns(data, field), [None]):
            if column is not None:
                rows.append(column.cast(pa.large_string()))
                size += rows[-1].nbytes
            if rows and (column is None or size >= BLOCK_BYTES):
                text = pc.fill_null(pa.concat_arrays(rows), "")
                rows_as_list = pa.LargeListArray.from_buffers(pa.large_list(pa.large_string()), 1,
                                                              [None, _offsets(len(text))], children=[text])
                joined = pc.binary_join(rows_as_list, pa.scalar("\n", pa.large_string()))
                rows, size = [], 0
                yield memoryview(joined[0].as_buffer())
    except (OSError, pa.ArrowException) as e:
        raise InputError(f"corpus {corpus.name}: cannot read the dataset ({_reason(e)})") from None


def _dataset_columns(data, field: str) -> Iterator:
    """The pyarrow arrays of ``field`` of a ``datasets.Dataset`` as loaded by ``load_dataset`` or
    ``load_from_disk`` (its rows are those of its arrow files, in order), streamed from its files
    batch by batch: the pages of the files do not stay in memory as with the memory map of
    ``datasets`` (100M words: peak 0.79 GB instead of 1.20 GB)."""
    import pyarrow as pa

    if not data.cache_files:  # loaded into memory ($HF_DATASETS_IN_MEMORY_MAX_SIZE)
        yield from data.data.column(field).chunks
    for name in (f["filename"] for f in data.cache_files):
        with pa.OSFile(name) as source:
            for batch in pa.ipc.open_stream(source):
                yield batch.column(field)


def _open_dataset(corpus: Corpus):
    """The corpus's split as a ``datasets.Dataset``: read from disk, or from the hub (or the local
    cache of ``datasets`` if the hub does not answer within ``HUB_PROBE_SECONDS``)."""
    path, config, split, field = corpus.hub
    if Path(path).exists():
        with _datasets_quiet(bars=False), _offline(True):
            return _local_dataset(corpus.name, Path(path), config, split)
    probe = _HubProbe()
    with _datasets_quiet():
        import datasets

        reachable = probe.answered()
        with _offline(not reachable):
            try:
                return datasets.load_dataset(path, config, split=split)
            except Exception as e:  # datasets raises many types when offline; all mean the same here
                reason = _reason(e)
    if corpus.local_hint:
        fix = f"put a copy at {corpus.local_hint} (under ${DATA_ENV} or --data-dir)"
    else:
        fix = "save it with datasets' save_to_disk on a connected machine and give that folder"
    where = f"{path} ({config or 'default config'}, {split})"
    if reachable:
        raise InputError(f"corpus {corpus.name}: could not load {where} from the Hugging Face hub "
                         f"({reason}); {fix}")
    raise InputError(f"corpus {corpus.name}: the Hugging Face hub ({probe.endpoint}) cannot be reached "
                     f"({probe.failure}) and loading {where} from the local cache of datasets failed "
                     f"({reason}); {fix}, or connect to the network")


def _local_dataset(name: str, path: Path, config: str | None, split: str | None):
    """A split of a dataset on disk: a ``save_to_disk`` folder, or a folder or file of data files."""
    import datasets

    try:
        if path.is_dir() and ((path / "state.json").is_file() or (path / "dataset_dict.json").is_file()):
            if config:
                raise InputError(f"corpus {name}: a folder saved by save_to_disk has no configs, "
                                 f"not {config!r}")
            data = datasets.load_from_disk(str(path))
            if isinstance(data, datasets.DatasetDict):
                data = data[_pick_split(name, split, list(data))]
            elif split and data.split and str(data.split) != split:
                raise InputError(f"corpus {name} holds the split {data.split}, not {split!r}")
            return data
        if path.is_file():
            builder = DATASET_SUFFIXES.get(path.suffix.lower())
            if builder is None:
                raise InputError(f"corpus {name}: {path} is not a dataset file "
                                 f"({', '.join(DATASET_SUFFIXES)})")
            data = datasets.load_dataset(builder, data_files=str(path))
        else:
            data = datasets.load_dataset(str(path), config)
        return data[_pick_split(name, split, list(data))]
    except InputError:
        raise
    except Exception as e:  # damaged files raise many types (ArrowInvalid, JSON, OSError, ...)
        while e.__cause__ is not None:  # datasets wraps the error that says what is wrong
            e = e.__cause__
        raise InputError(f"corpus {name}: cannot read the dataset at {path} ({_reason(e)})") from None


def _pick_split(name: str, split: str | None, splits: list[str]) -> str:
    if split is None:
        split = "train" if "train" in splits or len(splits) != 1 else splits[0]
    if split not in splits:
        raise InputError(f"corpus {name} has no split {split!r} (choose from {', '.join(splits)})")
    return split


def _reason(e: BaseException) -> str:
    """The first line of an exception's message (at most 200 characters), or its type."""
    text = str(e).strip()
    return (text.splitlines()[0] if text else type(e).__name__)[:200]


class _HubProbe:
    """A HEAD request to the hub's endpoint (``HF_ENDPOINT``) in a background thread, so that the
    import of ``datasets`` runs meanwhile; any HTTP answer, even an error status, means online."""

    def __init__(self) -> None:
        from huggingface_hub import constants

        self.endpoint = constants.ENDPOINT
        self.offline = constants.HF_HUB_OFFLINE
        self.failure = ("HF_HUB_OFFLINE is set" if self.offline
                        else f"no answer within {HUB_PROBE_SECONDS:g} s")
        self._ok = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        if not self.offline:
            self._thread.start()

    def _run(self) -> None:
        import urllib.error
        import urllib.request

        try:
            urllib.request.urlopen(urllib.request.Request(self.endpoint, method="HEAD"),
                                   timeout=HUB_PROBE_SECONDS).close()
            self._ok = True
        except urllib.error.HTTPError:
            self._ok = True
        except Exception as e:  # no DNS, refused, timed out, bad URL: the hub is not reachable
            self.failure = _reason(getattr(e, "reason", e))

    def answered(self) -> bool:
        """Whether the hub answered (waits at most ``HUB_PROBE_SECONDS`` in all)."""
        if self.offline:
            return False
        self._thread.join(HUB_PROBE_SECONDS)
        return self._ok


@contextmanager
def _offline(offline: bool) -> Iterator[None]:
    """Within: the hub client and ``datasets`` make no network request (their offline mode,
    ``HF_HUB_OFFLINE``, read once at import, so set on the modules) if ``offline``."""
    if not offline:
        yield
        return
    import datasets.config
    from huggingface_hub import constants

    saved = constants.HF_HUB_OFFLINE, datasets.config.HF_HUB_OFFLINE, datasets.config.HF_DATASETS_OFFLINE
    constants.HF_HUB_OFFLINE = datasets.config.HF_HUB_OFFLINE = datasets.config.HF_DATASETS_OFFLINE = True
    try:
        yield
    finally:
        constants.HF_HUB_OFFLINE, datasets.config.HF_HUB_OFFLINE, datasets.config.HF_DATASETS_OFFLINE = saved


@contextmanager
def _datasets_quiet(bars: bool = True) -> Iterator[None]:
    """Within: no warnings or retry messages of the hub client and ``datasets`` on stderr (the
    error raised is the one line the user sees), and no progress bars of ``datasets`` unless
    ``bars`` (those of a download)."""
    import datasets
    import huggingface_hub

    saved = (datasets.logging.get_verbosity(), huggingface_hub.utils.logging.get_verbosity(),
             datasets.is_progress_bar_enabled())
    datasets.logging.set_verbosity(datasets.logging.CRITICAL)
    huggingface_hub.utils.logging.set_verbosity(datasets.logging.CRITICAL)
    if not bars:
        datasets.disable_progress_bars()
    try:
        yield
    finally:
        datasets.logging.set_verbosity(saved[0])
        huggingface_hub.utils.logging.set_verbosity(saved[1])
        if saved[2]:
            datasets.enable_progress_bars()


# --- tokenizing and encoding ------------------------------------------------------------------

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
    from .tokenize import SEGMENTS, TOKENIZERS

    if tokenizer not in TOKENIZERS:
        raise InputError(f"unknown tokenizer {tokenizer!r} (choose from {', '.join(TOKENIZERS)})")
    if segment not in SEGMENTS:
        raise InputError(f"unknown segmentation {segment!r} (choose from {', '.join(SEGMENTS)})")
    if encoding_errors not in ("strict", "replace"):
        raise InputError(f"--encoding-errors must be strict or replace, not {encoding_errors!r}")
    if max_words is not None and max_words < 1:
        raise InputError(f"--max-words must be >= 1, not {max_words}")
    corpus = resolve(spec, data_dir)
    encoder = _Encoder(max_words, progress)
    with encoder:
        blocks = corpus.blocks(encoding_errors)
        if tokenizer == "whitespace" and segment == "line":
            _encode_whitespace(blocks, lowercase, encoder)
        else:
            _encode_python(blocks, tokenizer, lowercase, segment, encoder)
    data = encoder.sequences()
    if data.num_tokens == 0:
        raise InputError(f"corpus {corpus.name} has no words")
    return data


class _Index(dict):
    """word -> id; a word not yet seen gets the next id."""

    def __missing__(self, word: str) -> int:
        i = self[word] = len(self)
        return i


class _Encoder:
    """Word ids and sequence offsets, accumulated in ``array``s (grown in place), a vocabulary in
    order of first appearance, the ``max_words`` cut and the progress bar."""

    def __init__(self, max_words: int | None, progress: bool) -> None:
        self.index = _Index({EOS: EOS_ID, BOS: BOS_ID})
        self.ids = array("i")
        self.offsets = array("q", [0])
        self.left = max_words  # words still to take, or None
        self.progress = progress
        self.bar = None

    def __enter__(self) -> _Encoder:
        if self.progress:
            from tqdm import tqdm

            # disable=None: shown only when stderr is a terminal
            self.bar = tqdm(total=self.left, disable=None, unit=" words", unit_scale=True,
                            desc="reading", leave=False)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
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
        if self.bar is not None:
            self.bar.update(n)

    def sequences(self) -> Sequences:
        vocab = Vocabulary(islice(self.index, FIRST_WORD_ID, None))
        return Sequences(np.frombuffer(self.ids, np.int32) if self.ids else np.zeros(0, np.int32),
                         np.frombuffer(self.offsets, np.int64), vocab)


def _as_arrow(block: bytes | memoryview):
    """``block`` as a pyarrow ``large_string`` array of one element, without a copy."""
    import pyarrow as pa

    data = pa.py_buffer(block)
    return pa.LargeStringArray.from_buffers(1, _offsets(data.size), data)


def _numpy(values, dtype: type) -> np.ndarray:
    """A pyarrow array of numbers without nulls as a numpy array, without a copy (not with its
    ``to_numpy``, which imports pandas)."""
    return np.frombuffer(values.buffers()[1], dtype)[values.offset:values.offset + len(values)]


def _offsets(end: int):
    """The pyarrow buffer of the int64 offsets [0, end] (not from ``pa.array``, which imports
    pandas: 0.3 s)."""
    import pyarrow as pa

    return pa.py_buffer(np.array([0, end], np.int64))


# The white space of str.split() that pyarrow's ascii_split_whitespace does not split on (checked
# on every code point by tests/test_corpus.py). Not utf8_split_whitespace: in pyarrow 26 it
# sometimes keeps a space at the end of a line in the last word, depending on earlier calls.
_NON_ASCII_SPACE = "[\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"


def _encode_whitespace(blocks: Iterable[bytes | memoryview], lowercase: bool, encoder: _Encoder) -> None:
    """Lines split on white space (``str.split``'s: Unicode white space), by pyarrow: per block,
    lines -> words -> a dictionary of the block's distinct words and their positions; only the
    distinct words become Python strings. A block is split on ASCII white space; if one of its
    distinct words holds other white space, that becomes a space and the block is split again."""
    import pyarrow.compute as pc

    for block in blocks:
        if lowercase:
            block = str(block, "utf-8").lower().encode("utf-8")
        lines = pc.split_pattern(_as_arrow(block), "\n").flatten()
        # like str.split(), but white space at the ends of a line or in a run gives ""
        split = pc.ascii_split_whitespace(lines)
        coded = pc.dictionary_encode(split.flatten())
        if pc.any(pc.match_substring_regex(coded.dictionary, _NON_ASCII_SPACE)).as_py():
            split = pc.ascii_split_whitespace(pc.replace_substring_regex(lines, _NON_ASCII_SPACE, " "))
            coded = pc.dictionary_encode(split.flatten())
        per_line = _numpy(split.offsets, np.int32)
        idx = _numpy(coded.indices, np.int32)
        words = coded.dictionary.to_pylist()
        empty = np.flatnonzero(_numpy(pc.binary_length(coded.dictionary), np.int64) == 0)
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


def _encode_python(blocks: Iterable[bytes | memoryview], tokenizer: str, lowercase: bool, segment: str,
                   encoder: _Encoder) -> None:
    """Any tokenizer and segmentation, one Python call per line (or sentence)."""
    from .tokenize import PUNKT_TRAINING_CHARS, get_tokenizer, sentence_splitter
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
        splitter = sentence_splitter(chain.from_iterable(map(_text_lines, head)))
        texts = chain(head, texts)
    lines = chain.from_iterable(map(_text_lines, texts))
    for words in segment_lines(lines, get_tokenizer(tokenizer, lowercase), splitter):
        encoder.add(words)
        if encoder.full:
            return

