"""Datasets as blocks of text: a split of a dataset of the Hugging Face hub, of a folder saved by
``datasets``' ``save_to_disk``, or of a folder or file of data files (parquet, jsonl, arrow).

Datasets are read through ``datasets`` (imported only then); when the hub does not answer within
``HUB_PROBE_SECONDS`` they are looked up in the local cache of ``datasets`` only, so that an
offline machine fails in seconds.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import chain
from pathlib import Path

from .arrow import offsets_buffer
from .errors import InputError

HUB_PREFIX = "hf:"  # a corpus spec hf:PATH[:CONFIG]:SPLIT[:FIELD] names a dataset
HUB_PROBE_SECONDS = 2.0  # a hub that does not answer a HEAD request within this is taken as offline
DATASET_SUFFIXES = {".parquet": "parquet", ".jsonl": "json", ".json": "json", ".arrow": "arrow"}


def is_dataset_folder(path: Path) -> bool:
    """Whether the folder ``path`` was saved by ``save_to_disk`` or holds data files (at any depth)."""
    if _saved_to_disk(path):
        return True
    return any(p.suffix.lower() in DATASET_SUFFIXES for p in path.rglob("*") if p.is_file())


def _saved_to_disk(folder: Path) -> bool:
    return (folder / "state.json").is_file() or (folder / "dataset_dict.json").is_file()


def dataset_blocks(name: str, hub: tuple[str, str | None, str | None, str], block_bytes: int,
                   fix: str | None = None) -> Iterator[memoryview]:
    """Blocks of a dataset's text field: rows joined by ``\\n`` (a missing text is an empty row),
    whole batches of rows gathered until they hold ``block_bytes`` (the last block may hold less).

    Args:
        name: the corpus spec, for messages.
        hub: (path, config, split, text field): a hub name, or a local folder or file; config and
            split may be None (the dataset's default).
        fix: what a message that the dataset cannot be loaded tells the user to do (default: save
            it with ``save_to_disk`` and give that folder).

    Raises:
        InputError: dataset that cannot be loaded or read, or has no such text field.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    path, config, split, field = hub
    data = _open_dataset(name, hub, fix)
    if field not in data.column_names:
        raise InputError(f"corpus {name} has no text field {field!r} (fields: "
                         f"{', '.join(data.column_names)}); name one as "
                         f"{HUB_PREFIX}{path}:{config or ''}:{split or 'train'}:FIELD")
    kind = data.features[field]
    if getattr(kind, "dtype", None) not in ("string", "large_string"):
        raise InputError(f"corpus {name}: field {field!r} holds {kind}, not text")
    rows, size = [], 0
    try:
        for column in chain(_dataset_columns(data, field), [None]):
            if column is not None:
                rows.append(column.cast(pa.large_string()))
                size += rows[-1].nbytes
            if rows and (column is None or size >= block_bytes):
                text = pc.fill_null(pa.concat_arrays(rows), "")
                rows_as_list = pa.LargeListArray.from_buffers(pa.large_list(pa.large_string()), 1,
                                                              [None, offsets_buffer(len(text))],
                                                              children=[text])
                joined = pc.binary_join(rows_as_list, pa.scalar("\n", pa.large_string()))
                rows, size = [], 0
                yield memoryview(joined[0].as_buffer())
    except (OSError, pa.ArrowException) as e:
        raise InputError(f"corpus {name}: cannot read the dataset ({_reason(e)})") from None


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


def _open_dataset(name: str, hub: tuple[str, str | None, str | None, str], fix: str | None):
    """The split as a ``datasets.Dataset``: read from disk, or from the hub (or the local cache of
    ``datasets`` if the hub does not answer within ``HUB_PROBE_SECONDS``)."""
    path, config, split, field = hub
    if Path(path).exists():
        with _datasets_quiet(bars=False), _offline(True):
            return _local_dataset(name, Path(path), config, split)
    probe = _HubProbe()
    with _datasets_quiet():
        import datasets

        reachable = probe.answered()
        with _offline(not reachable):
            try:
                return datasets.load_dataset(path, config, split=split)
            except Exception as e:  # datasets raises many types when offline; all mean the same here
                reason = _reason(e)
    if fix is None:
        fix = "save it with datasets' save_to_disk on a connected machine and give that folder"
    where = f"{path} ({config or 'default config'}, {split})"
    if reachable:
        raise InputError(f"corpus {name}: could not load {where} from the Hugging Face hub "
                         f"({reason}); {fix}")
    raise InputError(f"corpus {name}: the Hugging Face hub ({probe.endpoint}) cannot be reached "
                     f"({probe.failure}) and loading {where} from the local cache of datasets failed "
                     f"({reason}); {fix}, or connect to the network")


def _local_dataset(name: str, path: Path, config: str | None, split: str | None):
    """A split of a dataset on disk: a ``save_to_disk`` folder, or a folder or file of data files."""
    import datasets

    try:
        if path.is_dir() and _saved_to_disk(path):
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
