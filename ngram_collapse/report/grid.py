"""A report's grid: its cells and their seeds, running the unfinished ones (local processes or an
existing Dask cluster), resuming, and rebuilding ``cells.csv`` and ``report.html`` from the cell folders
so a resumed report is the same as one run at once.
"""
from __future__ import annotations

import functools
import itertools
from contextlib import nullcontext
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import seeding
from ..corpus import describe, load_sequences
from ..errors import InputError
from ..experiment import run_experiment, write_run
from ..settings import RunSettings
from ..output import atomic_file, claim, locked, remove_stale, slug
from ..pool import run_unordered
from ..progress import progress_bar
from ..results import FILES, Results, write_csv, write_json
from ..subword_model import SubwordSettings
from ..subword_run import reading_options, run_subword
from . import cluster
from .analysis import CELLS_HEADER, CellData, cell_row, read_cell
from .page import render_report


REPORT_JSON = "report.json"


#: how a setting that varies over a grid shows in a cell's folder name (value appended to the prefix)
_NAME_PREFIX = {"workflow": "", "real_fraction": "L", "temperature": "T", "top_k": "k", "top_p": "p", "estimator": ""}
#: the grid's axes beyond corpus, order and sampling: RunSettings fields, by their command-line lists
AXES = tuple(_NAME_PREFIX)
#: the estimator parameters that apply to one estimator only (given for a grid, they go to its cells)
_ESTIMATOR_ONLY = {"gamma": "lidstone", "unigram_floor": "kneser-ney"}


def _run_settings(order: int, sampling: str, options: dict[str, Any], shared: dict[str, Any],
                  **fixed: Any) -> RunSettings:
    """A cell's RunSettings: its axes' ``options`` and the grid's ``shared`` run options (an estimator
    parameter only for the estimator it belongs to)."""
    estimator = options.get("estimator", "mle")
    shared = {name: value for name, value in shared.items()
              if name not in _ESTIMATOR_ONLY or _ESTIMATOR_ONLY[name] == estimator}
    return RunSettings(order=order, sampling=sampling, **shared, **options, **fixed)


@dataclass(frozen=True)
class Cell:
    """One point of a report grid: a corpus, an order, a sampling scheme and the other settings that
    vary across the grid, given only where they differ from a run's defaults (``extra``: pairs of
    :class:`~ngram_collapse.experiment.RunSettings` field and value)."""

    corpus: str
    order: int
    sampling: str
    extra: tuple[tuple[str, Any], ...] = ()

    @property
    def name(self) -> str:
        """The cell's folder name, e.g. ``wikitext-2_valid-n1-poisson`` or
        ``wikitext-2_valid-n1-poisson-mix-fresh-L0.1``."""
        parts = [slug(self.corpus) or "corpus", f"n{self.order}", self.sampling]
        parts += [f"{_NAME_PREFIX.get(name, name)}{value}" for name, value in self.extra]
        return "-".join(slug(str(p)) for p in parts)

    @property
    def key(self) -> str:
        """The cell's identity, from which its seed is derived (a default cell's key is the same as
        before the extra axes existed, so its numbers are too)."""
        return "\0".join([self.corpus, str(self.order), self.sampling, *(f"{n}={v}" for n, v in self.extra)])


@dataclass(frozen=True)
class Settings:
    """What every cell of a grid shares.

    Attributes:
        generations: K.
        trajectories: trajectories per cell.
        seed: the report's root seed; cell c draws from ``seeding.derive(seed, c.key)``, a function of
            the two only, so results do not depend on jobs, scheduler or the order cells run in.
        corpus_options: keyword arguments of :func:`ngram_collapse.corpus.load_sequences`
            (tokenizer, lowercase, segment, max_words, data_dir, encoding_errors) and, with a
            subword tokenizer, its settings (subword_vocab_size, tokenizer_policy): every cell is
            then a subword run (:func:`ngram_collapse.subword_run.run_subword`).
        run_options: RunSettings fields every cell shares: ``gamma``, ``discount``,
            ``unigram_floor``, ``vocabulary``, ``eval_estimator`` (``gamma`` and ``unigram_floor``
            reach only the cells of their estimator).
        eval_corpus: held-out text every cell is evaluated on, or None (word-level cells only).
    """

    generations: int = 10
    trajectories: int = 5
    seed: int = 0
    corpus_options: dict[str, Any] = field(default_factory=dict)
    run_options: dict[str, Any] = field(default_factory=dict)
    eval_corpus: str | None = None

    def run_settings(self, cell: Cell) -> RunSettings:
        """The settings of ``cell``'s run (validated)."""
        return _run_settings(cell.order, cell.sampling, dict(cell.extra), self.run_options,
                             generations=self.generations, trajectories=self.trajectories,
                             seed=seeding.derive(self.seed, cell.key))

    def about(self, cell: Cell) -> dict[str, Any]:
        """The entries of a cell's ``config`` that describe its corpus (as a single run records them)."""
        return describe(cell.corpus, self.corpus_options, self.eval_corpus)

    def config(self, cell: Cell) -> dict[str, Any]:
        """The ``config`` a finished cell's ``summary.json`` holds."""
        return {**self.about(cell), **self.run_settings(cell).config()}


def expand_grid(corpora: Sequence[str], orders: Sequence[int], samplings: Sequence[str],
                shared: dict[str, Any] | None = None, **axes: Sequence[Any]) -> list[Cell]:
    """Every combination of corpus, order, sampling scheme and the values of ``axes`` (RunSettings
    fields of :data:`AXES`: ``workflow``, ``real_fraction``, ``temperature``, ``top_k``, ``top_p``,
    ``estimator``; an axis not given keeps its default), duplicates removed, in the given order. Real
    fractions combine with the mixing workflows only. Every cell's settings, with the grid's
    ``shared`` run options (:attr:`Settings.run_options`), are checked before any work.

    Raises:
        InputError: an empty list, an impossible value (named as a run names it), real fractions
            without a mixing workflow or a mixing workflow without them, or two corpora whose folder
            names would collide.
    """
    from ..workflows import MIXING

    lists = {"corpus": corpora, "order": orders, "sampling": samplings, **axes}
    for what, values in lists.items():
        if not values:
            raise InputError(f"{what} lists nothing: empty grid", what)
    unknown = set(axes) - set(AXES)
    if unknown:
        raise TypeError(f"not grid axes: {', '.join(sorted(unknown))}")
    defaults, cells = RunSettings(), []
    values = {name: axes.get(name, [getattr(defaults, name)]) for name in AXES}
    workflows, fractions = values["workflow"], values["real_fraction"]
    if "real_fraction" in axes and not set(workflows) & set(MIXING):
        raise InputError(f"real_fraction applies to the mixing workflows ({', '.join(MIXING)}), not to "
                         f"{', '.join(workflows)}", "real_fraction")
    regimes = [{"workflow": w, "real_fraction": f} for w in workflows for f in (fractions if w in MIXING else [None])]
    options = [dict(regime, temperature=t, top_k=k, top_p=p, estimator=e) for regime in regimes
               for t in values["temperature"] for k in values["top_k"] for p in values["top_p"]
               for e in values["estimator"]]
    for corpus, order, sampling, opts in itertools.product(corpora, orders, samplings, options):
        _run_settings(order, sampling, opts, shared or {})  # every value checked before any work
        cells.append(Cell(corpus, order, sampling, tuple((n, v) for n, v in opts.items() if v != getattr(defaults, n))))
    cells = list(dict.fromkeys(cells))
    names: dict[str, Cell] = {}
    for cell in cells:
        other = names.setdefault(cell.name, cell)
        if other != cell:
            raise InputError(f"corpus {other.corpus} and {cell.corpus} would share the folder {cell.name}", "corpus")
    return cells


@functools.lru_cache(maxsize=4)
def _load(spec: str, options: tuple[tuple[str, Any], ...], full: bool = False):
    """A corpus read once per process (cells of the same corpus share it); ``full``: every word (the
    held-out text), whatever ``max_words``."""
    return load_sequences(spec, **{**dict(options), **({"max_words": None} if full else {})})


def run_cell(cell: Cell, settings: Settings, jobs: int = 1, progress: bool = False) -> Results:
    """Run one cell (module level, so local processes and Dask workers can run it)."""
    options = tuple(sorted(reading_options(settings.corpus_options).items()))
    data = _load(cell.corpus, options)
    subword = SubwordSettings.from_options(settings.corpus_options)
    if subword is not None:
        return run_subword(data, settings.run_settings(cell), subword, jobs=jobs, progress=progress,
                           about=settings.about(cell))
    heldout = None if settings.eval_corpus is None else _load(settings.eval_corpus, options, full=True)
    return run_experiment(data, settings.run_settings(cell), heldout=heldout, jobs=jobs, progress=progress,
                          about=settings.about(cell))


def _cell_task(settings: Settings, _shared: None, cell: Cell) -> Results:
    return run_cell(cell, settings)


def read_finished(folder: Path, cell: Cell, settings: Settings) -> CellData | None:
    """This cell's data, read back from ``folder`` if it holds the cell finished and readable (cell
    folders appear whole or not at all, but a file can be damaged later); None if it does not exist.

    Raises:
        InputError: the folder holds files this tool did not write, or the cell run with other
            settings (a rerun must not mix them).
        DamagedCell: it holds this cell's files but they cannot be read; running it again replaces them.
    """
    if not folder.exists():
        return None
    if not folder.is_dir() or not {p.name for p in folder.iterdir()} <= FILES["ngram"] | FILES["subword"]:
        raise InputError(f"{folder} holds files this tool did not write; move them or choose another out folder")
    try:
        data = read_cell(folder)
    except InputError as e:
        raise DamagedCell(str(e)) from None
    found = data.results.config
    for key, value in settings.config(cell).items():
        if found.get(key) != value:
            raise InputError(f"{folder} was run with {key}={found.get(key)!r}, not {value!r}; "
                             "use another out folder")
    return data


class DamagedCell(Exception):
    """A cell folder whose files cannot be read (its message says why)."""


@dataclass
class ReportRun:
    """What :func:`run_report` did: the report page, the cells run now or found finished, and the
    damaged cells that were run again (with why)."""

    html: Path
    cells_csv: Path
    ran: list[Cell]
    skipped: list[Cell]
    damaged: dict[str, str] = field(default_factory=dict)


def run_report(out: Path, cells: Sequence[Cell], settings: Settings, *, jobs: int = 1,
               scheduler: str | None = None, progress: bool = True) -> ReportRun:
    """Run every unfinished cell of a grid, then (re)build ``cells.csv`` and ``report.html``.

    ``out`` must be new, empty or a report folder (it holds ``report.json``); while the report runs it
    holds ``report.lock``, so a second report on the same folder refuses. Each finished cell is
    written atomically to ``out/<cell.name>`` by the process that collects the results (workers need
    the corpora at the same path, but no shared output folder); finished cells are skipped and damaged
    ones run again, so a rerun after an interruption loses at most the cells that were running.

    Args:
        out: the report folder (created if needed).
        cells: from :func:`expand_grid`.
        settings: shared by every cell.
        jobs: local processes running cells (a single cell to run uses them for its trajectories
            and shows its own progress bar).
        scheduler: ``dask://HOST:PORT`` to run cells on an existing Dask distributed cluster.
        progress: tqdm bars on stderr.
    """
    out = Path(out)
    if scheduler is not None:
        cluster.check_address(scheduler)
    claim(out, lambda folder: (folder / REPORT_JSON).is_file(), overwrite=True)
    out.mkdir(parents=True, exist_ok=True)
    with locked(out, "report.lock", "report"):
        remove_stale(out)
        _write_report_json(out, settings)
        todo, damaged, known = [], {}, {}
        for cell in cells:
            try:
                data = read_finished(out / cell.name, cell, settings)
            except DamagedCell as e:
                damaged[cell.name], data = str(e), None
            if data is None:
                todo.append(cell)
            else:
                known[cell.name] = data
        remote = scheduler is not None and todo
        with cluster.session(scheduler) if remote else nullcontext() as client, \
                progress_bar(len(cells), progress, unit="cell", desc="cells", initial=len(cells) - len(todo),
                             leave=True) as bar:
            if remote:
                finished = cluster.run(client, run_cell, todo, settings)
            elif len(todo) == 1:
                finished = iter([(todo[0], run_cell(todo[0], settings, jobs=jobs, progress=progress))])
            else:
                finished = ((todo[i], r) for i, r in run_unordered(functools.partial(_cell_task, settings), todo, jobs))
            for cell, results in finished:
                write_run(results, out / cell.name)
                bar.update(1)
        html, cells_csv = build_report(out, cells, known)
    return ReportRun(html, cells_csv, todo, [c for c in cells if c not in todo], damaged)


def _write_report_json(out: Path, settings: Settings) -> None:
    """``report.json``: what the report folder is, and the settings every cell shares."""
    options = {k: v for k, v in settings.corpus_options.items() if k != "data_dir"}
    with atomic_file(out / REPORT_JSON) as tmp:
        write_json(tmp, {"kind": "report", "generations": settings.generations,
                         "trajectories": settings.trajectories, "seed": settings.seed, "corpus_options": options,
                         "run_options": settings.run_options, "eval_corpus": settings.eval_corpus})


def build_report(out: Path, cells: Sequence[Cell], known: Mapping[str, CellData] | None = None) -> tuple[Path, Path]:
    """Write ``cells.csv`` and ``report.html`` into ``out`` from the cells' folders (each file
    replaced atomically; ``known``: cells already read back, by folder name). Returns their paths."""
    known = known or {}
    data = [known[cell.name] if cell.name in known else read_cell(out / cell.name) for cell in cells]
    table = [cell_row(d) for d in data]
    cells_csv, html = out / "cells.csv", out / "report.html"
    with atomic_file(cells_csv) as tmp:
        write_csv(tmp, CELLS_HEADER, ([r[c] for c in CELLS_HEADER] for r in table))
    page = render_report(data, table)
    with atomic_file(html) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return html, cells_csv
