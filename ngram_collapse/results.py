"""The one results format of every command: one writer, one reader (``docs/results.md``).

A results folder holds

* ``summary.json``: ``kind`` (``ngram``, ``subword``, ``bernoulli``, ``poisson``, ``zipf``, ``gaussian``, ``gmm``),
  ``config`` (every setting that determines the numbers), ``versions``, ``timings`` and
  ``generations``: one row per generation k = 0..K of means over trajectories and the theory;
* ``generations.csv``: one row per trajectory and generation, what that trajectory measured;
* the kind's other tables (``words.csv`` for n-gram runs; ``novel_words.csv`` and, if asked,
  ``text.csv`` for subword runs) and figures.

:func:`write` writes a :class:`Results` whole or not at all; :func:`read` reads a folder back, and
:func:`frame` gives any of its tables as a pandas DataFrame in one call.
"""
from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .errors import InputError

SUMMARY = "summary.json"
GENERATIONS = "generations.csv"
TOP_LEVEL = ("kind", "config", "versions", "timings", "generations")
#: every file a results folder of each kind may hold (what :func:`write` may write there)
FILES: dict[str, frozenset[str]] = {kind: frozenset({SUMMARY, GENERATIONS, *names}) for kind, names in {
    "ngram": {"words.csv", "survival.png", "perplexity.png"},
    "subword": {"words.csv", "novel_words.csv", "text.csv", "survival.png"},
    "bernoulli": {"survival.png"},
    "poisson": {"survival.png"},
    "zipf": {"survival.png"},
    "gaussian": {"prob_above_eps.png", "trajectories.png"},
    "gmm": {"prob_above_eps.png", "trajectories.png"},
}.items()}
_PACKAGES = ("ngram-collapse", "numpy", "scipy", "nltk", "datasets", "tqdm", "matplotlib")


def versions() -> dict[str, str]:
    """Versions of Python and of this package and its dependencies, read from the names of their
    ``NAME-VERSION.dist-info`` folders on ``sys.path`` (the first one found wins, as for an import):
    neither the packages nor ``importlib.metadata`` (30 ms) are imported to find them."""
    import platform
    import re
    import sys

    wanted = {re.sub(r"[-_.]+", "_", name).lower(): name for name in _PACKAGES}
    found = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for folder in names:
            project, _, version = folder.removesuffix(".dist-info").partition("-")
            name = wanted.get(re.sub(r"[-_.]+", "_", project).lower())
            if folder.endswith(".dist-info") and name and name not in found:
                found[name] = version
    return {"python": platform.python_version(), **{name: found.get(name, "not installed") for name in _PACKAGES}}


@dataclass(frozen=True)
class Table:
    """A CSV table written beside the summary: its header and a function giving its rows (lazily, so
    a large table is never held as Python objects all at once)."""

    header: tuple[str, ...]
    rows: Callable[[], Iterable[Sequence[Any]]]


@dataclass
class Results:
    """Everything one command measured, in the one results format.

    Attributes:
        kind: what was run (``ngram``, ``subword``, ``bernoulli``, ``poisson``, ``zipf``, ``gaussian``, ``gmm``).
        config: the settings that determine the numbers (JSON values).
        generations: rows k = 0..K: ``generation`` and the kind's means and theory (``summary.json``).
        trajectories: the columns of ``generations.csv``, each of shape (T (K+1),): ``trajectory``,
            ``generation`` (trajectory-major), then the kind's measurements.
        timings: seconds spent, by step.
        versions: of Python and the packages (:func:`versions`).
        tables: other CSV tables by file stem (``words`` for n-gram runs; ``words``, ``novel_words``
            and ``text`` for subword runs).
    """

    kind: str
    config: dict[str, Any]
    generations: list[dict[str, Any]]
    trajectories: dict[str, NDArray[Any]]
    timings: dict[str, float] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=versions)
    tables: dict[str, Table] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_finite(self.generations)

    def summary(self) -> dict[str, Any]:
        """The content of ``summary.json``."""
        return {"kind": self.kind, "config": self.config, "versions": self.versions,
                "timings": self.timings, "generations": self.generations}

    def per_trajectory(self, column: str) -> NDArray[Any]:
        """A column of ``generations.csv`` as a matrix, shape (trajectories, K + 1)."""
        values = np.asarray(self.trajectories[column])
        return values.reshape(-1, len(self.generations))

    def column(self, key: str) -> NDArray[np.float64]:
        """A key of the summary rows over k = 0..K, shape (K + 1,); NaN where it is null."""
        return np.array([np.nan if r.get(key) is None else r[key] for r in self.generations], dtype=float)


def spread(values: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64] | None, NDArray[np.float64] | None]:
    """Mean, standard deviation and standard error of the mean over trajectories (axis 0, ddof 1).

    Args:
        values: shape (T, K + 1), one row per trajectory.

    Returns:
        (mean, std, stderr), each of shape (K + 1,); std and stderr are None for a single trajectory.
    """
    values = np.asarray(values, dtype=float)
    mean = values.mean(axis=0)
    if values.shape[0] < 2:
        return mean, None, None
    with np.errstate(invalid="ignore"):  # an infinite value (a perplexity) has no spread
        std = values.std(axis=0, ddof=1)
    return mean, std, std / math.sqrt(values.shape[0])


def rows(columns: Mapping[str, ArrayLike | None]) -> list[dict[str, Any]]:
    """Summary rows from columns over k = 0..K (``None`` for a column with no value, e.g. no theory;
    a list may hold ``None`` where one generation has no value).

    The first column must be ``generation``; every other becomes a float (or None) in every row.
    """
    names = list(columns)
    if not names or names[0] != "generation":
        raise ValueError("the first column must be 'generation'")
    k = np.asarray(columns["generation"]).astype(int).tolist()
    values = {name: None if columns[name] is None else
              [None if v is None else float(v) for v in columns[name]] if isinstance(columns[name], list)
              else np.asarray(columns[name], dtype=float).tolist() for name in names[1:]}
    return [{"generation": g, **{name: None if v is None else v[i] for name, v in values.items()}}
            for i, g in enumerate(k)]


def trajectory_columns(**matrices: ArrayLike) -> dict[str, NDArray[Any]]:
    """The columns of ``generations.csv`` from per-trajectory matrices of shape (T, K + 1)."""
    shapes = {np.shape(m) for m in matrices.values()}
    if len(shapes) != 1 or len(next(iter(shapes))) != 2:
        raise ValueError(f"per-trajectory values must share one shape (T, K + 1), not {shapes}")
    t, k = next(iter(shapes))
    columns: dict[str, NDArray[Any]] = {"trajectory": np.repeat(np.arange(t), k),
                                        "generation": np.tile(np.arange(k), t)}
    columns.update({name: np.asarray(m).ravel() for name, m in matrices.items()})
    return columns


# ------------------------------------------------------------------------------------------- writing

def write(results: Results, out: Path, figures: Mapping[str, Callable[[Path], None]] | None = None) -> None:
    """Write ``results`` into the folder ``out``, whole or not at all: ``summary.json``,
    ``generations.csv``, every table, and every figure (``figures`` maps a file name to a function that
    draws it at a given path).

    """
    from .output import atomic_folder

    summary = results.summary()
    names = {SUMMARY, GENERATIONS, *(f"{name}.csv" for name in results.tables), *(figures or {})}
    if not names <= FILES[results.kind]:
        raise ValueError(f"results.FILES[{results.kind!r}] lacks {sorted(names - FILES[results.kind])}")
    with atomic_folder(Path(out)) as tmp:
        write_json(tmp / SUMMARY, summary)
        write_columns(tmp / GENERATIONS, results.trajectories)
        for name, table in results.tables.items():
            write_csv(tmp / f"{name}.csv", table.header, table.rows())
        for name, draw in (figures or {}).items():
            draw(tmp / name)


def _check_finite(generation_rows: list[dict[str, Any]]) -> None:
    for row in generation_rows:
        for key, value in row.items():
            if isinstance(value, float) and not math.isfinite(value):
                raise InputError(f"{key} is {value} at generation {row['generation']}: the parameters overflow "
                                 "double precision; nothing was written")


def write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON (numpy scalars and arrays converted; NaN and inf refused)."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, default=_to_json, allow_nan=False)
        f.write("\n")


def _to_json(x: Any) -> Any:
    if hasattr(x, "tolist"):
        return x.tolist()
    if isinstance(x, Path):
        return str(x)
    raise TypeError(f"not JSON serialisable: {type(x).__name__}")


def write_csv(path: Path, header: Sequence[str], table_rows: Iterable[Sequence[Any]]) -> None:
    """Write a CSV file with a header row (lines end in \\n, like every CSV file of this package)."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(table_rows)


def write_columns(path: Path, columns: Mapping[str, ArrayLike]) -> None:
    """Write equal-length columns as CSV. All-integer tables are formatted by numpy (millions of rows a
    second); other numeric tables column by column (``repr`` of each float, as the csv module writes
    it, without a Python call per row); tables with text row by row, quoted where needed."""
    arrays = [np.asarray(c) for c in columns.values()]
    if all(a.dtype.kind in "iub" for a in arrays):
        with open(path, "wb") as f:
            f.write((",".join(columns) + "\n").encode())
            f.write(_integer_csv(arrays))
    elif all(a.dtype.kind in "iubf" for a in arrays):
        cells = [map(repr if a.dtype.kind == "f" else str, a.tolist()) for a in arrays]
        lines = "\n".join(map(",".join, zip(*cells)))
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(",".join(columns) + "\n" + lines + ("\n" if lines else ""))
    else:
        write_csv(path, list(columns), zip(*(a.tolist() for a in arrays)))


def _integer_csv(arrays: Sequence[NDArray[np.integer]]) -> bytes:
    """The CSV lines of integer columns: a character matrix, one row per line, each column's digits
    right-aligned in a field of its widest number, the unused cells (zero bytes) dropped at the end."""
    n = arrays[0].size if arrays else 0
    parts = []
    for i, a in enumerate(arrays):
        v = a.astype(np.int64)
        size = np.abs(v)
        width = len(str(int(size.max(initial=0)))) + int(v.min(initial=0) < 0)
        power = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
        field = (size[:, None] // power % 10).astype(np.uint8)
        lead = np.cumsum(field, axis=1) == 0  # leading zeros (all but the last digit of 0)
        lead[:, -1] = False
        field += 48
        field[lead] = 0
        if v.min(initial=0) < 0:  # a minus sign in the last leading cell of a negative number
            sign = lead.sum(axis=1) - 1
            negative = np.flatnonzero(v < 0)
            field[negative, sign[negative]] = 45
        parts += [field, np.full((n, 1), 10 if i == len(arrays) - 1 else 44, np.uint8)]
    chars = np.hstack(parts) if parts else np.zeros((0, 0), np.uint8)
    return chars[chars != 0].tobytes()


# ------------------------------------------------------------------------------------------- reading

def read(folder: Path) -> Results:
    """Read a results folder written by :func:`write` (any kind): the summary, ``generations.csv`` and
    every other ``.csv`` table (read lazily when its rows are asked for).

    Raises:
        InputError: the folder has no readable ``summary.json`` or ``generations.csv`` in this format.
    """
    folder = Path(folder)
    try:
        summary = json.loads((folder / SUMMARY).read_text(encoding="utf-8"))
        missing = [key for key in TOP_LEVEL if key not in summary]
        if missing:
            raise ValueError(f"missing {', '.join(missing)}")
        columns = read_columns(folder / GENERATIONS)
    except (OSError, ValueError, TypeError) as e:
        raise InputError(f"{folder}: not a results folder of this tool ({e})") from None
    tables = {path.stem: _file_table(path) for path in sorted(folder.glob("*.csv")) if path.name != GENERATIONS}
    return Results(summary["kind"], summary["config"], summary["generations"], columns, summary["timings"],
                   summary["versions"], tables)


def is_results(folder: Path, kinds: Collection[str]) -> bool:
    """Whether ``folder`` is a finished results folder of one of ``kinds``, holding nothing but the
    files :func:`write` writes for it (so replacing it loses nothing of anyone else's)."""
    try:
        kind = json.loads((Path(folder) / SUMMARY).read_text(encoding="utf-8")).get("kind")
    except (OSError, ValueError, AttributeError):
        return False
    return kind in kinds and {p.name for p in Path(folder).iterdir()} <= FILES[kind]


def _file_table(path: Path) -> Table:
    with open(path, encoding="utf-8", newline="") as f:
        header = tuple(next(csv.reader(f), ()))

    def table_rows() -> Iterable[Sequence[str]]:
        with open(path, encoding="utf-8", newline="") as f:
            reader = csv.reader(f)
            next(reader, None)
            yield from reader

    return Table(header, table_rows)


def read_columns(path: Path, text: Collection[str] = ()) -> dict[str, NDArray[Any]]:
    """A CSV file as columns: integer columns as int64, other numeric ones as float64 (an empty cell is
    NaN), the columns named in ``text`` and any other as strings (object arrays).

    Raises:
        ValueError: a row has the wrong number of cells.
    """
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        cells = list(reader)
    if any(len(r) != len(header) for r in cells):
        raise ValueError(f"{path.name}: a row has not {len(header)} cells")
    return {name: np.array([r[i] for r in cells], dtype=object) if name in text
            else _parse_column([r[i] for r in cells]) for i, name in enumerate(header)}


def _parse_column(cells: list[str]) -> NDArray[Any]:
    try:
        return np.array(cells, dtype=np.int64)
    except ValueError:
        pass
    try:
        return np.array([c or "nan" for c in cells], dtype=np.float64)
    except ValueError:
        return np.array(cells, dtype=object)


def frame(source: Path | Results, table: str = "summary") -> Any:
    """A table of a results folder (or of a :class:`Results`) as a pandas DataFrame, in one call.

    Args:
        source: a results folder or a Results.
        table: ``summary`` (the rows of ``summary.json``; the config in ``DataFrame.attrs``),
            ``generations`` (``generations.csv``) or the stem of another table (``words``).
    """
    import pandas as pd

    results = source if isinstance(source, Results) else read(Path(source))
    if table == "summary":
        df = pd.DataFrame(results.generations)
    elif table == "generations":
        df = pd.DataFrame(results.trajectories)
    elif table in results.tables and isinstance(source, Results):
        t = results.tables[table]
        df = pd.DataFrame(list(t.rows()), columns=list(t.header))
    elif table in results.tables:
        df = pd.read_csv(Path(source) / f"{table}.csv", keep_default_na=False, na_values=[""])
    else:
        raise InputError(f"table must be summary, generations or one of {', '.join(results.tables) or 'none'}, "
                         f"not {table!r}", "table")
    df.attrs.update(kind=results.kind, config=results.config)
    return df
