"""Analyses of one finished run or report cell, read back from its folder: per-word survival by
original count against 1 - exp(-c g_k) (Corollary 2), the median time to forget, and its slope.

Words are grouped by original count c: counts 1..EXACT_COUNTS have a bucket each, larger counts share
log-spaced buckets (BUCKETS_PER_DECADE per decade).
"""
from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .. import bounds, results
from ..errors import InputError
from ..plot import survivors
from ..results import Results

#: counts 1..EXACT_COUNTS get a bucket each; larger counts share log-spaced buckets
EXACT_COUNTS = 10
BUCKETS_PER_DECADE = 4
#: a bucket takes part in the time-to-forget fit only with at least this many (word, trajectory) pairs
MIN_PAIRS = 20

CELLS_HEADER = ("corpus", "order", "sampling", "trajectories", "generations", "vocab_size",
                "final_distinct_fraction", "theory_final_fraction", "forget_slope", "workflow", "real_fraction",
                "temperature", "top_k", "top_p", "estimator", "final_perplexity")


@dataclass
class CellData:
    """One finished run read back from its folder.

    Attributes:
        name: the folder's name.
        results: its results (:func:`ngram_collapse.results.read`).
        counts: original count of every word, shape (words,).
        forgotten: first generation each (word, trajectory) is absent, +inf if it survives the run,
            shape (words, trajectories).
        effective: every word's effective count at the run's order (docs/theory.md §11), shape (words,).
    """

    name: str
    results: Results
    counts: NDArray[np.int64]
    forgotten: NDArray[np.float64]
    effective: NDArray[np.float64]

    @property
    def generations(self) -> int:
        return int(self.results.config["generations"])

    @functools.cached_property
    def time_to_forget(self) -> dict[str, Any]:
        """:func:`median_time_to_forget` of this cell (computed once)."""
        return median_time_to_forget(self.counts, self.forgotten, self.generations)

    @functools.cached_property
    def forget_fit(self) -> tuple[float, float]:
        """:func:`forget_fit` of this cell: (slope, Spearman)."""
        return forget_fit(self.time_to_forget)


def read_cell(folder: Path) -> CellData:
    """Read a cell (or single run) folder: its results and ``words.csv``.

    Raises:
        InputError: the folder is not a finished n-gram run (missing or damaged files).
    """
    folder = Path(folder)
    run = results.read(folder)
    trajectories = int(run.config["trajectories"])
    try:
        words = results.read_columns(folder / "words.csv", text=("word",))
        counts = np.asarray(words["count"], np.int64)[::trajectories]
        forgotten = np.where(np.isnan(words["forgotten_at"].astype(float)), np.inf,
                             words["forgotten_at"]).reshape(-1, trajectories)
        effective = np.asarray(words["effective_count"], float)[::trajectories]
    except (OSError, KeyError, ValueError) as e:
        raise InputError(f"{folder}: words.csv is missing or damaged ({e})") from None
    return CellData(folder.name, run, counts, forgotten, effective)


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
    """Words grouped by count (only non-empty buckets): original counts, or effective counts (real
    numbers; those below 1 share the first bucket).

    Attributes:
        low, high: inclusive count range of every bucket.
        words: words in every bucket.
        mean_count: their mean count.
        index: for every word, its bucket.
    """

    low: NDArray[np.int64]
    high: NDArray[np.int64]
    words: NDArray[np.int64]
    mean_count: NDArray[np.float64]
    index: NDArray[np.int64]

    @classmethod
    def of(cls, counts: NDArray[np.floating] | NDArray[np.integer]) -> Buckets:
        edges = bucket_edges(int(counts.max()))
        raw = np.searchsorted(edges, np.maximum(counts, 1), side="right") - 1
        used, index = np.unique(raw, return_inverse=True)
        words = np.bincount(index)
        return cls(edges[used], edges[used + 1] - 1, words,
                   np.bincount(index, weights=counts) / words, index)


def survival_by_count(counts: NDArray[np.floating] | NDArray[np.integer], forgotten: NDArray[np.float64],
                      generations: Iterable[int]) -> dict[str, Any]:
    """Fraction of (word, trajectory) pairs still present at generation k, per count bucket, with
    the theory 1 - exp(-c g_k) (Corollary 2) averaged over the bucket's words. ``counts`` are the
    original counts, or the effective counts (then the theory is the order's prediction).

    Returns:
        ``buckets`` (:class:`Buckets`), ``generations`` (the k, shape (G,)), and arrays of shape
        (G, buckets): ``survival``, ``stderr`` (binomial, over pairs) and ``theory``.
    """
    buckets = Buckets.of(counts)
    k = np.asarray(list(generations), np.int64)
    pairs = buckets.words * forgotten.shape[1]
    alive = np.array([np.bincount(buckets.index, weights=(forgotten > g).sum(axis=1), minlength=buckets.words.size)
                      for g in k]).reshape(k.size, buckets.words.size) / pairs
    return {"buckets": buckets, "generations": k, "survival": alive,
            "stderr": np.sqrt(alive * (1 - alive) / pairs), "theory": _theory(counts, buckets, k)}


def _theory(counts: NDArray[np.int64], buckets: Buckets, k: NDArray[np.int64]) -> NDArray[np.float64]:
    """Mean over each bucket's words of 1 - exp(-c g_k) (Corollary 2), shape (len(k), buckets)."""
    word_theory = -np.expm1(-counts[None, :] * bounds.g_k(k)[:, None])
    return np.array([np.bincount(buckets.index, weights=row, minlength=buckets.words.size)
                     for row in word_theory]).reshape(k.size, buckets.words.size) / buckets.words


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


def forget_fit(median: dict[str, Any]) -> tuple[float, float]:
    """Slope (generations per occurrence) of the least-squares line through the median time to
    forget against mean original count, and Spearman's rank correlation (scipy), over the buckets
    with a median and at least MIN_PAIRS pairs; NaN when fewer than two such buckets."""
    use = np.isfinite(median["median"]) & (median["pairs"] >= MIN_PAIRS)
    x, y = median["buckets"].mean_count[use], median["median"][use]
    if x.size < 2:
        return float("nan"), float("nan")
    from scipy.stats import spearmanr

    rho = spearmanr(x, y).statistic if np.ptp(x) and np.ptp(y) else float("nan")
    return float(np.polyfit(x, y, 1)[0]), float(rho)


def regime_label(config: dict[str, Any]) -> str:
    """A short name of a run's workflow and decoding, e.g. ``mix-fresh L=0.1``, ``replace T=0.5``."""
    parts = [config.get("workflow", "replace")]
    if config.get("estimator", "mle") != "mle":
        parts.append(config["estimator"])
    if config.get("real_fraction") is not None:
        parts.append(f"L={config['real_fraction']:g}")
    if config.get("temperature", 1.0) != 1.0:
        parts.append(f"T={config['temperature']:g}")
    parts += [f"{name}={config[name]:g}" for name in ("top_k", "top_p") if config.get(name) is not None]
    return " ".join(parts)


def chosen_generations(generations: int) -> list[int]:
    """Generations shown in the survival-against-count plots: about K/10, K/4, K/2 and K."""
    return sorted({max(1, round(generations * f)) for f in (0.1, 0.25, 0.5, 1.0)}) if generations else []


def cell_row(data: CellData) -> dict[str, Any]:
    """The ``cells.csv`` row of a cell. ``theory_final_fraction`` is sum_i [1 - exp(-c_i g_K)] / m:
    Corollary 2's exact expectation (Poisson) or Corollary 1's lower bound (multinomial) of the
    paper's workflow (``replace``), whatever the cell's workflow, as the baseline it is compared to.
    ``final_distinct_fraction`` counts the original words still present (a subword run's invented
    words are not among them)."""
    config = data.results.config
    key = survivors(data.results)
    m = data.results.generations[0][key]
    final = data.results.generations[-1]
    slope, _ = data.forget_fit
    return {"corpus": config["corpus"], "order": config["order"], "sampling": config["sampling"],
            "trajectories": config["trajectories"], "generations": data.generations,
            "vocab_size": int(m), "final_distinct_fraction": final[key] / m,
            "theory_final_fraction": float(bounds.corollary2_expected_distinct(data.counts, data.generations)) / m,
            "forget_slope": "" if np.isnan(slope) else slope,
            **{name: "" if config.get(name) is None else config[name]
               for name in ("workflow", "real_fraction", "temperature", "top_k", "top_p", "estimator")},
            "final_perplexity": "" if final.get("perplexity") is None else final["perplexity"]}
