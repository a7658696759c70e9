"""The one generation loop every recursively retrained model runs on.

Recursive training (Suresh et al. 2025, Section 2): generation 0 is fitted on the original data;
for k = 1, 2, ... a sample is drawn from the model of generation k-1 and generation k is fitted on
it. Models differ only in how they fit and how they sample; this module owns everything else: the
sample-size rule, per-trajectory seeding, and scheduling trajectories on processes.

A model is any object with

``fit(data) -> self``
    maximum-likelihood (or near) fit on ``data``. ``fit`` must rebind its fitted attributes, never
    modify fitted arrays in place: the loop shallow-copies a fitted model before refitting the copy,
    so that one generation-0 fit can be shared by every trajectory.
``sample(size, rng) -> data``
    a new data set of ``size`` observations drawn from the fitted model with the
    ``numpy.random.Generator`` ``rng``. ``size`` is an int, or an int array with one entry per
    trajectory for models that hold a batch of trajectories.
"""
from __future__ import annotations

import copy
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, Generic, Protocol, Self, TypeVar

import numpy as np

from .errors import InputError

D = TypeVar("D")
R = TypeVar("R")

SAMPLING_SCHEMES = ("multinomial", "poisson")


class Recursive(Protocol[D]):
    """What the loop needs of a model: ``fit`` on data, ``sample`` new data (see module docstring)."""

    def fit(self, data: D) -> Self: ...

    def sample(self, size: Any, rng: np.random.Generator) -> D: ...


@dataclass(frozen=True)
class Generation(Generic[D]):
    """One generation of a trajectory.

    Attributes:
        k: the generation number (0 is the original data).
        size: number of observations in ``data`` (an int, or an int array per trajectory).
        data: the generation's data set.
        model: the model fitted on ``data``.
    """

    k: int
    size: Any
    data: D
    model: Any


def check_sampling(sampling: str) -> None:
    """Raise :class:`~ngram_collapse.errors.InputError` (a ValueError) unless ``sampling`` is a scheme."""
    if sampling not in SAMPLING_SCHEMES:
        raise InputError(f"sampling must be one of {', '.join(SAMPLING_SCHEMES)}, not {sampling!r}")


def next_size(size: Any, sampling: str, rng: np.random.Generator) -> Any:
    """Sample size of the next generation.

    ``multinomial``: the same size every generation (the paper's multinomial sampling, Corollary 1).
    ``poisson``: Poisson(size of the previous generation) (Appendix B.3, Corollary 2), drawn
    elementwise when ``size`` is an array of per-trajectory sizes.
    """
    check_sampling(sampling)
    if sampling == "multinomial":
        return size
    drawn = rng.poisson(size)
    return int(drawn) if np.ndim(drawn) == 0 else drawn


def recursive_training(
    model: Recursive[D],
    data: D,
    size: Any,
    generations: int,
    rng: np.random.Generator,
    sampling: str = "multinomial",
) -> Iterator[Generation[D]]:
    """Run recursive training and yield every generation, 0 to ``generations``.

    Args:
        model: a model already fitted on ``data`` (generation 0). It is not modified.
        data: the original data set.
        size: its number of observations (int, or int array of shape (trajectories,)).
        generations: number of retraining rounds K >= 0.
        rng: the random generator of this trajectory (or batch of trajectories).
        sampling: ``multinomial`` or ``poisson``; see :func:`next_size`.

    Yields:
        ``Generation(k, size, data, model)`` for k = 0, ..., K, where generation k's data are
        ``model_{k-1}.sample(size_k, rng)`` and its model is a copy of ``model_{k-1}`` refitted on them.
    """
    if generations < 0:
        raise ValueError(f"generations must be >= 0, not {generations}")
    check_sampling(sampling)
    yield Generation(0, size, data, model)
    for k in range(1, generations + 1):
        size = next_size(size, sampling, rng)
        data = model.sample(size, rng)
        model = copy.copy(model)  # the previous model is released here unless the caller keeps it
        model.fit(data)
        yield Generation(k, size, data, model)


def trajectory_seeds(seed: int | None, trajectories: int) -> list[np.random.SeedSequence]:
    """One independent ``SeedSequence`` per trajectory, spawned from ``seed``.

    Trajectory t always gets the same stream for the same seed, whatever the number of processes
    or the order in which trajectories run.
    """
    if trajectories < 1:
        raise ValueError(f"trajectories must be >= 1, not {trajectories}")
    return np.random.SeedSequence(seed).spawn(trajectories)


def map_trajectories(
    run_one: Callable[[int, np.random.SeedSequence], R],
    seeds: Sequence[np.random.SeedSequence],
    jobs: int = 1,
    on_done: Callable[[R], None] | None = None,
) -> list[R]:
    """Apply ``run_one(t, seeds[t])`` to every trajectory t; results in trajectory order.

    With ``jobs > 1`` trajectories run on that many local processes (``run_one`` must then be
    picklable: a module-level function or a ``functools.partial`` of one). ``on_done`` is called with
    each result in trajectory order as it becomes available (e.g. to advance a progress bar).
    Results do not depend on ``jobs``.
    """
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1, not {jobs}")
    if jobs == 1 or len(seeds) == 1:
        results = []
        for t, s in enumerate(seeds):
            results.append(run_one(t, s))
            if on_done is not None:
                on_done(results[-1])
        return results
    with ProcessPoolExecutor(max_workers=min(jobs, len(seeds), os.cpu_count() or 1)) as pool:
        futures = [pool.submit(run_one, t, s) for t, s in enumerate(seeds)]
        for f in futures:
            if on_done is not None:
                on_done(f.result())
        return [f.result() for f in futures]
