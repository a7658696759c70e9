"""Vocabulary-survival reports: which words are forgotten, when, over grids of settings.

A word seen c times in the original corpus is still present at generation k with probability
1 - exp(-c g_k) under Poisson sampling (Corollary 2, exact for unigrams: each count is an
independent critical Galton-Watson process); under multinomial sampling the same sum is Corollary 1's
lower bound. Since k g_k -> 2, survival is about 1 - exp(-2c/k) and the median time to forget a word
is about 2c / ln 2: linear in its original count. This module measures that, word by word:

* a *cell* is one (corpus, order, sampling) setting; :func:`expand_grid` makes a grid of them;
* :func:`run_report` runs the cells not yet finished (local processes or a Dask cluster), writes each
  one's folder atomically with :func:`ngram_collapse.experiment.write_run`, then rebuilds
  ``cells.csv`` and ``report.html`` from the cell folders, so a resumed run gives the same report;
* :func:`survival_by_count`, :func:`median_time_to_forget` and :func:`forget_fit` are the analyses
  of one cell's ``words.csv``.
"""
from __future__ import annotations

import csv
import functools
import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import bounds
from .errors import InputError
from .experiment import ExperimentResult, run_experiment, write_run
from .loop import check_sampling
from .output import slug

#: counts 1..EXACT_COUNTS get a bucket each; larger counts share log-spaced buckets
EXACT_COUNTS = 10
BUCKETS_PER_DECADE = 4
#: a bucket takes part in the time-to-forget fit only with at least this many (word, trajectory) pairs
MIN_PAIRS = 20

CELLS_HEADER = ("corpus", "order", "sampling", "trajectories", "generations", "vocab_size",
                "final_distinct_fraction", "theory_final_fraction", "forget_slope")


@dataclass(frozen=True)
class Cell:
    """One setting of a report grid: a corpus, an n-gram order, a sampling scheme."""

    corpus: str
    order: int
    sampling: str

    @property
    def name(self) -> str:
        """The cell's folder name, e.g. ``wikitext-2_valid-n1-poisson``."""
        return f"{slug(self.corpus) or 'corpus'}-n{self.order}-{self.sampling}"

    def seed(self, root: int) -> int:
        """The cell's seed: a function of ``root`` and the cell only (a stable hash, not Python's
        salted ``hash``), so results do not depend on jobs, scheduler or the order cells run in."""
        digest = hashlib.sha256(f"{self.corpus}\0{self.order}\0{self.sampling}".encode()).digest()
        state = np.random.SeedSequence([root, int.from_bytes(digest[:16], "little")]).generate_state(2)
        return int(state[0]) << 32 | int(state[1])


@dataclass(frozen=True)
class Settings:
    """What every cell of a grid shares.

    Attributes:
        generations: K.
        trajectories: trajectories per cell.
        seed: the report's root seed (each cell derives its own, see :meth:`Cell.seed`).
        corpus_options: keyword arguments of :func:`ngram_collapse.corpus.load_sequences`
            (tokenizer, lowercase, segment, max_words, data_dir, encoding_errors).
    """

    generations: int = 10
    trajectories: int = 5
    seed: int = 0
    corpus_options: dict[str, Any] = field(default_factory=dict)

    def cell_config(self, cell: Cell) -> dict[str, Any]:
        """The ``config`` entries a cell's ``summary.json`` holds (``jobs`` aside)."""
        options = {k: v for k, v in self.corpus_options.items() if k != "data_dir"}
        return {"order": cell.order, "sampling": cell.sampling, "generations": self.generations,
                "trajectories": self.trajectories, "seed": cell.seed(self.seed), "corpus": cell.corpus,
                **options, "report_seed": self.seed}


def expand_grid(corpora: Sequence[str], orders: Sequence[int], samplings: Sequence[str]) -> list[Cell]:
    """Every (corpus, order, sampling) combination, duplicates removed, in the given order.

    Raises:
        InputError: an empty list, an order outside 1..MAX_ORDER, an unknown sampling scheme, or two
            corpora whose folder names would collide.
    """
    from .ngram import MAX_ORDER

    for what, values in (("--corpus", corpora), ("--orders", orders), ("--sampling", samplings)):
        if not values:
            raise InputError(f"empty grid: {what} lists nothing")
    for order in orders:
        if not 1 <= order <= MAX_ORDER:
            raise InputError(f"--orders: {order} is not an n-gram order from 1 to {MAX_ORDER}")
    for sampling in samplings:
        check_sampling(sampling)
    cells = list(dict.fromkeys(Cell(c, o, s) for c in corpora for o in orders for s in samplings))
    names: dict[str, Cell] = {}
    for cell in cells:
        other = names.setdefault(cell.name, cell)
        if other != cell:
            raise InputError(f"--corpus {other.corpus} and {cell.corpus} would share the folder {cell.name}")
    return cells


@functools.lru_cache(maxsize=4)
def _load(spec: str, options: tuple[tuple[str, Any], ...]):
    """A corpus read once per process (cells of the same corpus share it)."""
    from .corpus import load_sequences

    return load_sequences(spec, **dict(options))


def run_cell(cell: Cell, settings: Settings, jobs: int = 1, progress: bool = False) -> ExperimentResult:
    """Run one cell (module level, so local processes and Dask workers can run it)."""
    data = _load(cell.corpus, tuple(sorted(settings.corpus_options.items())))
    config = settings.cell_config(cell)
    return run_experiment(data, cell.order, generations=settings.generations,
                          trajectories=settings.trajectories, sampling=cell.sampling,
                          seed=config["seed"], jobs=jobs, progress=progress, config=config)


def is_finished(folder: Path, cell: Cell, settings: Settings) -> bool:
    """Whether ``folder`` holds this cell, finished (cell folders appear whole or not at all).

    Raises:
        InputError: the folder holds the cell run with other settings (a rerun must not mix them).
    """
    summary_path = folder / "summary.json"
    if not summary_path.is_file():
        if folder.exists():
            raise InputError(f"{folder} exists but is not a finished cell; remove it or use another --out")
        return False
    found = json.loads(summary_path.read_text(encoding="utf-8"))["config"]
    for key, value in settings.cell_config(cell).items():
        if found.get(key) != value:
            raise InputError(f"{folder} was run with {key}={found.get(key)!r}, not {value!r}; "
                             "use another --out")
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

    from .output import check_writable

    out = Path(out)
    check_writable(out)
    todo = [c for c in cells if not is_finished(out / c.name, c, settings)]
    client = _dask_client(scheduler) if scheduler is not None and todo else None
    out.mkdir(parents=True, exist_ok=True)
    bar = tqdm(total=len(cells), initial=len(cells) - len(todo), unit="cell", desc="cells",
               disable=None if progress else True)
    try:
        if client is not None:
            results = _run_on_dask(client, todo, settings)
        elif len(todo) == 1:
            results = iter([(todo[0], run_cell(todo[0], settings, jobs=jobs, progress=progress))])
        else:
            results = _run_locally(todo, settings, jobs)
        for cell, result in results:
            write_run(result, out / cell.name)
            bar.update(1)
    finally:
        bar.close()
        if client is not None:
            client.close()
    html, cells_csv = build_report(out, cells)
    return ReportRun(html, cells_csv, todo, [c for c in cells if c not in todo])


def _run_locally(cells: Sequence[Cell], settings: Settings, jobs: int) -> Iterator[tuple[Cell, ExperimentResult]]:
    """Run cells on ``jobs`` local processes, yielding each as it completes."""
    from concurrent.futures import ProcessPoolExecutor, as_completed

    if jobs <= 1 or len(cells) <= 1:
        for cell in cells:
            yield cell, run_cell(cell, settings)
        return
    pool = ProcessPoolExecutor(max_workers=min(jobs, len(cells)))
    try:
        futures = {pool.submit(run_cell, cell, settings): cell for cell in cells}
        for future in as_completed(futures):
            yield futures[future], future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _dask_client(scheduler: str):
    """A ``distributed.Client`` for ``dask://HOST:PORT``; InputError if impossible."""
    if not scheduler.startswith("dask://") or len(scheduler) == len("dask://"):
        raise InputError(f"--scheduler {scheduler}: expected dask://HOST:PORT")
    try:
        import distributed
    except ImportError:
        raise InputError("--scheduler needs Dask: pip install 'ngram-collapse[dask]'") from None
    try:
        return distributed.Client("tcp://" + scheduler[len("dask://"):], timeout="5s")
    except (OSError, TimeoutError, ValueError) as e:
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise InputError(f"--scheduler {scheduler}: cannot connect ({reason})") from None


def _run_on_dask(client, cells: Sequence[Cell], settings: Settings) -> Iterator[tuple[Cell, ExperimentResult]]:
    """Run cells on a Dask cluster, yielding each as it completes."""
    import distributed

    futures = {client.submit(run_cell, cell, settings, pure=False): cell for cell in cells}
    try:
        for future in distributed.as_completed(list(futures)):
            yield futures[future], future.result()
    finally:
        client.cancel(list(futures))


# ---------------------------------------------------------------------------------------- analyses

@dataclass
class CellData:
    """One finished cell read back from its folder.

    Attributes:
        cell: its identity.
        summary: its ``summary.json``.
        counts: original count of every word, shape (words,).
        forgotten: first generation each (word, trajectory) is absent, +inf if it survives the run,
            shape (words, trajectories).
    """

    cell: Cell
    summary: dict[str, Any]
    counts: NDArray[np.int64]
    forgotten: NDArray[np.float64]

    @property
    def generations(self) -> int:
        return int(self.summary["config"]["generations"])

    @functools.cached_property
    def time_to_forget(self) -> dict[str, Any]:
        """:func:`median_time_to_forget` of this cell (computed once)."""
        return median_time_to_forget(self.counts, self.forgotten, self.generations)

    @functools.cached_property
    def forget_fit(self) -> tuple[float, float]:
        """:func:`forget_fit` of this cell: (slope, Spearman)."""
        return forget_fit(self.time_to_forget)


def read_cell(folder: Path) -> CellData:
    """Read a cell (or single run) folder: ``summary.json`` and ``words.csv``."""
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    config = summary["config"]
    trajectories = int(config["trajectories"])
    counts, forgotten = [], []
    with open(folder / "words.csv", encoding="utf-8", newline="") as f:
        rows = csv.reader(f)
        next(rows)
        for _word, count, _t, k in rows:
            counts.append(int(count))
            forgotten.append(float(k) if k else np.inf)
    cell = Cell(config["corpus"], int(config["order"]), config["sampling"])
    return CellData(cell, summary, np.array(counts[::trajectories], np.int64),
                    np.array(forgotten).reshape(-1, trajectories))


def bucket_edges(max_count: int) -> NDArray[np.int64]:
    """Lower edges of the count buckets, then one past the last: bucket b holds counts in
    ``[edges[b], edges[b+1])``. Counts 1..EXACT_COUNTS each have their own; then
    BUCKETS_PER_DECADE log-spaced buckets per decade."""
    edges = list(range(1, EXACT_COUNTS + 2))
    while edges[-1] <= max_count:
        edges.append(max(edges[-1] + 1, int(np.ceil(edges[-1] * 10 ** (1 / BUCKETS_PER_DECADE)))))
    return np.array(edges, np.int64)


@dataclass
class Buckets:
    """Words grouped by original count (only non-empty buckets).

    Attributes:
        low, high: inclusive count range of every bucket.
        words: words in every bucket.
        mean_count: their mean original count.
        index: for every word, its bucket.
    """

    low: NDArray[np.int64]
    high: NDArray[np.int64]
    words: NDArray[np.int64]
    mean_count: NDArray[np.float64]
    index: NDArray[np.int64]

    @classmethod
    def of(cls, counts: NDArray[np.int64]) -> Buckets:
        edges = bucket_edges(int(counts.max()))
        raw = np.searchsorted(edges, counts, side="right") - 1
        used, index = np.unique(raw, return_inverse=True)
        words = np.bincount(index)
        return cls(edges[used], edges[used + 1] - 1, words,
                   np.bincount(index, weights=counts) / words, index)


def survival_by_count(counts: NDArray[np.int64], forgotten: NDArray[np.float64],
                      generations: Iterable[int]) -> dict[str, Any]:
    """Fraction of (word, trajectory) pairs still present at generation k, per count bucket, with
    the theory 1 - exp(-c g_k) (Corollary 2) averaged over the bucket's words.

    Returns:
        ``buckets`` (:class:`Buckets`), ``generations`` (the k, shape (G,)), and arrays of shape
        (G, buckets): ``survival``, ``stderr`` (binomial, over pairs) and ``theory``.
    """
    buckets = Buckets.of(counts)
    k = np.asarray(list(generations), np.int64)
    pairs = buckets.words * forgotten.shape[1]
    alive = np.stack([np.bincount(buckets.index, weights=(forgotten > g).sum(axis=1),
                                  minlength=buckets.words.size) for g in k]) / pairs
    return {"buckets": buckets, "generations": k, "survival": alive,
            "stderr": np.sqrt(alive * (1 - alive) / pairs), "theory": _theory(counts, buckets, k)}


def _theory(counts: NDArray[np.int64], buckets: Buckets, k: NDArray[np.int64]) -> NDArray[np.float64]:
    """Mean over each bucket's words of 1 - exp(-c g_k) (Corollary 2), shape (len(k), buckets)."""
    word_theory = -np.expm1(-counts[None, :] * bounds.g_k(k)[:, None])
    return np.stack([np.bincount(buckets.index, weights=row, minlength=buckets.words.size)
                     for row in word_theory]) / buckets.words


def median_time_to_forget(counts: NDArray[np.int64], forgotten: NDArray[np.float64],
                          generations: int) -> dict[str, Any]:
    """Median time to forget per count bucket, over (word, trajectory) pairs.

    Words that survive the run are censored at K: they count as +inf, and the median (the smallest k
    with at least half the pairs forgotten by k) is reported only where it is finite, i.e. where at
    least half the pairs were forgotten within the run; elsewhere NaN. The theory median is the
    smallest k <= K at which the bucket's mean of 1 - exp(-c g_k) is at most 1/2 (NaN beyond K); the
    linear law is 2c / ln 2 (from g_k ~ 2/k).

    Returns:
        ``buckets``, ``pairs`` and, per bucket, ``median`` and ``theory_median``.
    """
    buckets = Buckets.of(counts)
    order = np.argsort(buckets.index, kind="stable")
    starts = np.searchsorted(buckets.index[order], np.arange(buckets.words.size))
    median = np.full(buckets.words.size, np.nan)
    for b, (start, n) in enumerate(zip(starts, buckets.words)):
        times = np.sort(forgotten[order[start:start + n]].ravel())
        middle = times[(times.size - 1) // 2]
        median[b] = middle if np.isfinite(middle) else np.nan
    k = np.arange(1, generations + 1)
    theory_median = np.full(buckets.words.size, np.nan)
    if generations:
        reached = _theory(counts, buckets, k) <= 0.5
        found = reached.any(axis=0)
        theory_median[found] = k[reached.argmax(axis=0)[found]]
    return {"buckets": buckets, "pairs": buckets.words * forgotten.shape[1], "median": median,
            "theory_median": theory_median}


def ranks(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Ranks 1..n of ``x``, ties sharing their average rank."""
    x = np.asarray(x, float)
    order = np.argsort(x, kind="stable")
    ordered = x[order]
    first = np.r_[True, ordered[1:] != ordered[:-1]]
    group = np.cumsum(first) - 1
    start = np.flatnonzero(first)
    end = np.r_[start[1:], x.size]
    result = np.empty(x.size)
    result[order] = ((start + end + 1) / 2)[group]
    return result


def spearman(x: NDArray[np.float64], y: NDArray[np.float64]) -> float:
    """Spearman's rank correlation (Pearson correlation of average ranks); NaN if undefined."""
    if len(x) < 2:
        return float("nan")
    rx, ry = ranks(x), ranks(y)
    if rx.std() == 0 or ry.std() == 0:
        return float("nan")
    return float(np.corrcoef(rx, ry)[0, 1])


def forget_fit(median: dict[str, Any]) -> tuple[float, float]:
    """Slope (generations per occurrence) of the least-squares line through the median time to
    forget against mean original count, and Spearman's rank correlation, over the buckets with a
    median and at least MIN_PAIRS pairs; NaN when fewer than two such buckets."""
    use = np.isfinite(median["median"]) & (median["pairs"] >= MIN_PAIRS)
    x, y = median["buckets"].mean_count[use], median["median"][use]
    if x.size < 2:
        return float("nan"), float("nan")
    return float(np.polyfit(x, y, 1)[0]), spearman(x, y)


def chosen_generations(generations: int) -> list[int]:
    """Generations shown in the survival-against-count plots: about K/10, K/4, K/2 and K."""
    return sorted({max(1, round(generations * f)) for f in (0.1, 0.25, 0.5, 1.0)}) if generations else []


def cell_row(data: CellData) -> dict[str, Any]:
    """The ``cells.csv`` row of a cell. ``theory_final_fraction`` is sum_i [1 - exp(-c_i g_K)] / m:
    Corollary 2's exact expectation (Poisson) or Corollary 1's lower bound (multinomial)."""
    summary = data.summary
    m = summary["vocab_size"]
    final = summary["generations"][-1]
    slope, _ = data.forget_fit
    return {"corpus": data.cell.corpus, "order": data.cell.order, "sampling": data.cell.sampling,
            "trajectories": summary["config"]["trajectories"], "generations": data.generations,
            "vocab_size": m, "final_distinct_fraction": final["distinct_mean"] / m,
            "theory_final_fraction": float(bounds.corollary2_expected_distinct(data.counts, data.generations)) / m,
            "forget_slope": "" if np.isnan(slope) else slope}


def build_report(out: Path, cells: Sequence[Cell]) -> tuple[Path, Path]:
    """Write ``cells.csv`` and ``report.html`` into ``out`` from the cells' folders (each file
    replaced atomically). Returns their paths."""
    from .output import atomic_file, write_csv
    from .report_html import render_report

    data = [read_cell(out / cell.name) for cell in cells]
    rows = [cell_row(d) for d in data]
    cells_csv, html = out / "cells.csv", out / "report.html"
    with atomic_file(cells_csv) as tmp:
        write_csv(tmp, CELLS_HEADER, ([r[c] for c in CELLS_HEADER] for r in rows))
    page = render_report(data, rows)
    with atomic_file(html) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return html, cells_csv


__all__ = ["Cell", "Settings", "expand_grid", "run_cell", "run_report", "ReportRun", "is_finished",
           "CellData", "read_cell", "Buckets", "bucket_edges", "survival_by_count",
           "median_time_to_forget", "forget_fit", "spearman", "ranks", "chosen_generations",
           "cell_row", "build_report", "CELLS_HEADER"]
