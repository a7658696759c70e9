"""What each generation is trained on: the workflows of recursive training (docs/theory.md §12).

* ``replace`` (the paper's): generation k is trained on a sample of generation k-1 only.
* ``mix-fresh`` (Bertrand et al. 2024): a fraction L of every generation is drawn afresh from the
  original distribution (generation 0's model), the rest from generation k-1's.
* ``mix-fixed`` (Shumailov et al. 2024 keep 10% of the original data): every unit (sequence, or
  token of a count vector) of the original data is kept with probability L, once per trajectory;
  that fixed part plus a sample of generation k-1 trains generation k.
* ``accumulate`` (Gerstgrasser et al. 2024): generation k is trained on the original data and every
  sample drawn so far (the pool grows by one corpus size per generation).
* ``accumulate-subsample`` (Kazdan et al. 2024): generation k is trained on a sample of the original
  size drawn without replacement from that pool (whole units; the last one cut at the size).

Sample sizes. N is the original size and N_{k-1} the size of generation k-1's training data. Under
``multinomial`` sampling the synthetic part has the size that completes N (N for the accumulating
workflows, N - fresh or N - fixed for mixing); under ``poisson`` sampling every drawn size is a
Poisson variable: the fresh part Poisson(L N), the synthetic part Poisson((1 - L) N_{k-1}) when
mixing, and Poisson(previous sample's size) otherwise. Under these rules each symbol's count of an
order-1 model is the Poisson process of docs/theory.md §12, which is what makes the theory exact.

Data. A workflow combines data sets through four functions the data type provides: ``size(d)``,
``join(parts)``, ``thin(d, L, rng)`` (keep every unit with probability L) and ``subsample(d, n,
rng)`` (n observations of whole units without replacement). :data:`OPERATIONS` maps a data type to
them; :class:`~ngram_collapse.vocab.Sequences` and :class:`~ngram_collapse.parametric.Counts` are
registered.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import checks
from .errors import InputError
from .parametric import Counts
from .table import NgramCounts
from .vocab import Sequences

SAMPLING_SCHEMES = ("multinomial", "poisson")
WORKFLOWS = ("replace", "mix-fresh", "mix-fixed", "accumulate", "accumulate-subsample")
MIXING = ("mix-fresh", "mix-fixed")


@dataclass(frozen=True)
class Workflow:
    """A workflow and its real-data fraction (validated): ``real_fraction`` L in [0, 1] is given for
    the mixing workflows and only for them."""

    name: str = "replace"
    real_fraction: float | None = None

    def __post_init__(self) -> None:
        checks.choice("workflow", self.name, WORKFLOWS)
        if self.name in MIXING:
            if self.real_fraction is None:
                raise InputError(f"real_fraction is needed by the workflow {self.name} (a fraction in [0, 1])",
                                 "real_fraction")
            object.__setattr__(self, "real_fraction", checks.real("real_fraction", self.real_fraction, 0.0, 1.0))
        elif self.real_fraction is not None:
            raise InputError(f"real_fraction applies to the mixing workflows ({', '.join(MIXING)}), not to "
                             f"{self.name}", "real_fraction")


def next_size(size: Any, sampling: str, rng: np.random.Generator) -> Any:
    """Sample size of the next generation.

    ``multinomial``: the same size every generation (the paper's multinomial sampling, Corollary 1).
    ``poisson``: Poisson(size of the previous generation) (Appendix B.3, Corollary 2), drawn
    elementwise when ``size`` is an array of per-trajectory sizes.
    """
    if sampling == "multinomial":
        return size
    drawn = rng.poisson(size)
    return int(drawn) if np.ndim(drawn) == 0 else drawn


@dataclass(frozen=True)
class Operations:
    """How a workflow combines one data type (see the module docstring)."""

    size: Callable[[Any], Any]
    join: Callable[[list[Any]], Any]
    thin: Callable[[Any, float, np.random.Generator], Any]
    subsample: Callable[[Any, Any, np.random.Generator], Any]


def _sequences_join(parts: list[Sequences]) -> Sequences:
    """The sequences of every part, in order. Parts that all carry n-gram counts over one table
    (samples of the models of one trajectory) give the join their sum, so refitting needs no count."""
    ids = np.concatenate([p.ids for p in parts])
    offsets = np.concatenate([[0], *[p.offsets[1:] + start for p, start in
                                      zip(parts, np.cumsum([0] + [p.num_tokens for p in parts[:-1]]))]])
    counted = [p.ngram_counts for p in parts]
    table = counted[0].table if counted[0] is not None else None
    joined = None
    if table is not None and all(c is not None and c.table is table for c in counted):
        joined = NgramCounts(table, np.sum([c.counts for c in counted], axis=0), int(ids.size),
                             sum(c.sequences for c in counted))
    return Sequences(ids, offsets, parts[0].vocab, ngram_counts=joined)


def _sequences_take(data: Sequences, chosen: np.ndarray, cut: int | None = None) -> Sequences:
    """The sequences ``chosen`` (indices, in that order), the last one cut to ``cut`` words."""
    lengths = data.lengths[chosen]
    if cut is not None and lengths.size:
        lengths = lengths.copy()
        lengths[-1] = cut
    starts = data.offsets[chosen]
    within = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    ids = data.ids[np.repeat(starts, lengths) + within]
    return Sequences(ids, np.concatenate([[0], np.cumsum(lengths)]), data.vocab)


def _sequences_thin(data: Sequences, fraction: float, rng: np.random.Generator) -> Sequences:
    return _sequences_take(data, np.flatnonzero(rng.random(len(data)) < fraction))


def _sequences_subsample(data: Sequences, size: int, rng: np.random.Generator) -> Sequences:
    order = rng.permutation(len(data))
    ends = np.cumsum(data.lengths[order])
    count = int(np.searchsorted(ends, size)) + 1 if size else 0  # the first prefix reaching the size
    count = min(count, len(data))
    chosen = order[:count]
    cut = size - int(ends[count - 2]) if count >= 2 else size
    return _sequences_take(data, chosen, min(cut, int(data.lengths[chosen[-1]])) if count else None)


def _counts_join(parts: list[Counts]) -> Counts:
    return Counts(sum(p.counts for p in parts), sum(np.asarray(p.size) for p in parts))


def _counts_thin(data: Counts, fraction: float, rng: np.random.Generator) -> Counts:
    kept = rng.binomial(np.asarray(data.counts).astype(np.int64), fraction)
    return Counts(kept, kept.sum(axis=-1))


def _counts_subsample(data: Counts, size: Any, rng: np.random.Generator) -> Counts:
    counts = np.atleast_2d(np.asarray(data.counts).astype(np.int64))
    sizes = np.broadcast_to(np.asarray(size), counts.shape[:1])
    drawn = np.stack([rng.multivariate_hypergeometric(row, int(n), method="marginals")
                      for row, n in zip(counts, sizes)])  # one call per trajectory, vectorised over symbols
    return Counts(drawn.reshape(np.shape(data.counts)), np.asarray(size))


OPERATIONS: dict[type, Operations] = {
    Sequences: Operations(lambda d: d.num_tokens, _sequences_join, _sequences_thin, _sequences_subsample),
    Counts: Operations(lambda d: d.size, _counts_join, _counts_thin, _counts_subsample),
}


@dataclass(frozen=True)
class Step:
    """One generation's data: what it is trained on (``train``, of ``size`` observations), and the
    part drawn from generation k-1's model (``sample``)."""

    train: Any
    sample: Any
    size: Any


class Regime:
    """A workflow running in one trajectory (or batch of trajectories): :meth:`step` makes generation
    k's data from generation k-1's model.

    Args:
        workflow: the workflow.
        original_model: generation 0's model (draws the fresh part of ``mix-fresh``).
        original: the original data (None for models that start from parameters, ``replace`` only).
        size: its number of observations (an int, or an int array per trajectory).
        sampling: ``multinomial`` or ``poisson``.
        rng: the trajectory's generator; ``mix-fixed`` draws its fixed part from it first.
        draw: ``draw(model, size)`` samples a model (with the run's decoding).
    """

    def __init__(self, workflow: Workflow, original_model: Any, original: Any, size: Any, sampling: str,
                 rng: np.random.Generator, draw: Callable[[Any, Any], Any]) -> None:
        self.workflow, self.original_model, self.original = workflow, original_model, original
        self.n, self.size, self.sampling, self.rng, self.draw = size, size, sampling, rng, draw
        self.sample_size = size  # the accumulating workflows' last sample size
        if workflow.name != "replace":
            if type(original) not in OPERATIONS:
                raise InputError(f"workflow {workflow.name} needs original data, not {type(original).__name__}",
                                 "workflow")
            self.ops = OPERATIONS[type(original)]
        self.fixed = self.ops.thin(original, workflow.real_fraction, rng) if workflow.name == "mix-fixed" else None
        self.pool = original  # the accumulating workflows' data so far, joined as it grows

    def step(self, model: Any) -> Step:
        """Generation k's data, drawn from ``model`` (generation k-1's) and the workflow's real data."""
        name, rng = self.workflow.name, self.rng
        if name == "replace":
            self.size = next_size(self.size, self.sampling, rng)
            sample = self.draw(model, self.size)
            return Step(sample, sample, self.size)
        if name in MIXING:
            L = self.workflow.real_fraction
            if self.sampling == "poisson":
                real_size = rng.poisson(L * np.asarray(self.n)) if self.fixed is None else self.ops.size(self.fixed)
                synthetic_size = rng.poisson((1 - L) * np.asarray(self.size))
            else:
                real_size = np.rint(L * np.asarray(self.n)).astype(np.int64) if self.fixed is None \
                    else self.ops.size(self.fixed)
                synthetic_size = np.asarray(self.n) - real_size
            real = self.draw(self.original_model, _scalar(real_size)) if self.fixed is None else self.fixed
            sample = self.draw(model, _scalar(synthetic_size))
            train = self.ops.join([real, sample])
        else:
            self.sample_size = next_size(self.sample_size, self.sampling, rng)
            sample = self.draw(model, self.sample_size)
            self.pool = train = self.ops.join([self.pool, sample])
            if name == "accumulate-subsample":
                train = self.ops.subsample(train, next_size(self.n, self.sampling, rng), rng)
        self.size = self.ops.size(train)
        return Step(train, sample, self.size)


def _scalar(size: Any) -> Any:
    size = np.asarray(size)
    return int(size) if size.ndim == 0 else size
