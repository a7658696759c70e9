"""A report's grid: its cells and their seeds, running the unfinished ones (local processes or an
existing Dask cluster), resuming, and rebuilding ``cells.csv`` and ``report.html`` from the cell folders
so a resumed report is the same as one run at once.
"""
from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import seeding
from ..errors import InputError
from ..experiment import RunSettings, run_experiment, write_run
from ..output import atomic_file, check_writable, slug
from ..pool import run_unordered
from ..results import Results, read, write_csv
from .analysis import CELLS_HEADER, cell_row, read_cell
from .page import render_report


@dataclass(frozen=True)
class Cell:
    """One point of a report grid: a corpus and the settings that vary across the grid."""

    corpus: str
    order: int
    sampling: str

    @property
    def name(self) -> str:
        """The cell's folder name, e.g. ``wikitext-2_valid-n1-poisson``."""
        return f"{slug(self.corpus) or 'corpus'}-n{self.order}-{self.sampling}"

    @property
    def key(self) -> str:
        """The cell's identity, from which its seed is derived."""
        return f"{self.corpus}\0{self.order}\0{self.sampling}"


@dataclass(frozen=True)
class Settings:
    """What every cell of a grid shares.

    Attributes:
        generations: K.
        trajectories: trajectories per cell.
        seed: the report's root seed; cell c draws from ``seeding.derive(seed, c.key)``, a function of
            the two only, so results do not depend on jobs, scheduler or the order cells run in.
        corpus_options: keyword arguments of :func:`ngram_collapse.corpus.load_sequences`
            (tokenizer, lowercase, segment, max_words, data_dir, encoding_errors).
    """

    generations: int = 10
    trajectories: int = 5
    seed: int = 0
    corpus_options: dict[str, Any] = field(default_factory=dict)

    def run_settings(self, cell: Cell) -> RunSettings:
        """The settings of ``cell``'s run (validated)."""
        return RunSettings(order=cell.order, generations=self.generations, trajectories=self.trajectories,
                           sampling=cell.sampling, seed=seeding.derive(self.seed, cell.key))

    def about(self, cell: Cell) -> dict[str, Any]:
        """The entries of a cell's ``config`` that describe its corpus (as a single run records them)."""
        return {"corpus": cell.corpus, **{k: v for k, v in self.corpus_options.items() if k != "data_dir"}}

    def config(self, cell: Cell) -> dict[str, Any]:
        """The ``config`` a finished cell's ``summary.json`` holds."""
        return {**self.about(cell), **self.run_settings(cell).config()}


def expand_grid(corpora: Sequence[str], orders: Sequence[int], samplings: Sequence[str]) -> list[Cell]:
    """Every (corpus, order, sampling) combination, duplicates removed, in the given order.

    Raises:
        InputError: an empty list, an impossible order or sampling scheme (named as a run names it),
            or two corpora whose folder names would collide.
    """
    for what, values in (("corpus", corpora), ("orders", orders), ("sampling", samplings)):
        if not values:
            raise InputError(f"{what} lists nothing: empty grid", what)
    for order in orders:
        RunSettings(order=order)
    for sampling in samplings:
        RunSettings(sampling=sampling)
    cells = list(dict.fromkeys(Cell(c, o, s) for c in corpora for o in orders for s in samplings))
    names: dict[str, Cell] = {}
    for cell in cells:
        other = names.setdefault(cell.name, cell)
        if other != cell:
            raise InputError(f"corpus {other.corpus} and {cell.corpus} would share the folder {cell.name}", "corpus")
    return cells


@functools.lru_cache(maxsize=4)
def _load(spec: str, options: tuple[tuple[str, Any], ...]):
    """A corpus read once per process (cells of the same corpus share it)."""
    from ..corpus import load_sequences

    return load_sequences(spec, **dict(options))


def run_cell(cell: Cell, settings: Settings, jobs: int = 1, progress: bool = False) -> Results:
    """Run one cell (module level, so local processes and Dask workers can run it)."""
    data = _load(cell.corpus, tuple(sorted(settings.corpus_options.items())))
    return run_experiment(data, settings.run_settings(cell), jobs=jobs, progress=progress,
                          about=settings.about(cell))


def _cell_task(settings: Settings, _shared: None, cell: Cell) -> Results:
    return run_cell(cell, settings)


def is_finished(folder: Path, cell: Cell, settings: Settings) -> bool:
    """Whether ``folder`` holds this cell, finished (cell folders appear whole or not at all).

    Raises:
        InputError: the folder holds the cell run with other settings (a rerun must not mix them).
    """
    summary_path = folder / "summary.json"
    if not summary_path.is_file():
        if folder.exists():
            raise InputError(f"{folder} exists but is not a finished cell; remove it or use another out folder")
        return False
    found = read(folder).config
    for key, value in settings.config(cell).items():
        if found.get(key) != value:
            raise InputError(f"{folder} was run with {key}={found.get(key)!r}, not {value!r}; "
                             "use another out folder")
    return True


@dataclass
class ReportRun:
    """What :func:`run_report` did: the report page, and the cells run now or found finished."""

    html: Path
    cells_csv: Path
    ran: list[Cell]
    skipped: list[Cell]


def run_report(out: Path, cells: Sequence[Cell], settings: Settings, *, jobs: int = 1,
               scheduler: str | None = None, progress: bool = True) -> ReportRun:
    """Run every unfinished cell of a grid, then (re)build ``cells.csv`` and ``report.html``.

    Each finished cell is written atomically to ``out/<cell.name>`` by the process that collects the
    results (workers need the corpora at the same path, but no shared output folder); cells already
    there are skipped, so a rerun after an interruption loses at most the cells that were running.

    Args:
        out: the report folder (created if needed).
        cells: from :func:`expand_grid`.
        settings: shared by every cell.
        jobs: local processes running cells (a single cell to run uses them for its trajectories
            and shows its own progress bar).
        scheduler: ``dask://HOST:PORT`` to run cells on an existing Dask distributed cluster.
        progress: tqdm bars on stderr.
    """
    from tqdm import tqdm

    out = Path(out)
    check_writable(out)
    todo = [c for c in cells if not is_finished(out / c.name, c, settings)]
    client = _dask_client(scheduler) if scheduler is not None and todo else None
    out.mkdir(parents=True, exist_ok=True)
    bar = tqdm(total=len(cells), initial=len(cells) - len(todo), unit="cell", desc="cells",
               disable=None if progress else True)
    try:
        if client is not None:
            finished = _run_on_dask(client, todo, settings)
        elif len(todo) == 1:
            finished = iter([(todo[0], run_cell(todo[0], settings, jobs=jobs, progress=progress))])
        else:
            finished = ((todo[i], r) for i, r in run_unordered(functools.partial(_cell_task, settings), todo, jobs))
        for cell, results in finished:
            write_run(results, out / cell.name)
            bar.update(1)
    finally:
        bar.close()
        if client is not None:
            client.close()
    html, cells_csv = build_report(out, cells)
    return ReportRun(html, cells_csv, todo, [c for c in cells if c not in todo])


def _dask_client(scheduler: str):
    """A ``distributed.Client`` for ``dask://HOST:PORT``; InputError if impossible."""
    if not scheduler.startswith("dask://") or len(scheduler) == len("dask://"):
        raise InputError(f"scheduler {scheduler}: expected dask://HOST:PORT", "scheduler")
    try:
        import distributed
    except ImportError:
        raise InputError("scheduler needs Dask: pip install 'ngram-collapse[dask]'", "scheduler") from None
    try:
        return distributed.Client("tcp://" + scheduler[len("dask://"):], timeout="5s")
    except (OSError, TimeoutError, ValueError) as e:
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise InputError(f"scheduler {scheduler}: cannot connect ({reason})", "scheduler") from None


def _run_on_dask(client, cells: Sequence[Cell], settings: Settings) -> Iterator[tuple[Cell, Results]]:
    """Run cells on a Dask cluster, yielding each as it completes."""
    import distributed

    futures = {client.submit(run_cell, cell, settings, pure=False): cell for cell in cells}
    try:
        for future in distributed.as_completed(list(futures)):
            yield futures[future], future.result()
    finally:
        client.cancel(list(futures))


def build_report(out: Path, cells: Sequence[Cell]) -> tuple[Path, Path]:
    """Write ``cells.csv`` and ``report.html`` into ``out`` from the cells' folders (each file
    replaced atomically). Returns their paths."""
    data = [read_cell(out / cell.name) for cell in cells]
    table = [cell_row(d) for d in data]
    cells_csv, html = out / "cells.csv", out / "report.html"
    with atomic_file(cells_csv) as tmp:
        write_csv(tmp, CELLS_HEADER, ([r[c] for c in CELLS_HEADER] for r in table))
    page = render_report(data, table)
    with atomic_file(html) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return html, cells_csv
