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
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Generic, Protocol, Self, TypeVar

import numpy as np

from . import checks
from .decoding import Decoding
from .workflows import SAMPLING_SCHEMES, Regime, Workflow

D = TypeVar("D")

REPLACE = Workflow()
PLAIN = Decoding()


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
        data: the generation's training data.
        model: the model fitted on ``data``.
        sample: the part of ``data`` drawn from generation k-1's model (all of it under ``replace``;
            the original data at k = 0).
        sample_seconds, fit_seconds: the time spent drawing ``data`` and fitting ``model`` (0 at k = 0).
    """

    k: int
    size: Any
    data: D
    model: Any
    sample: D
    sample_seconds: float = 0.0
    fit_seconds: float = 0.0


def recursive_training(
    model: Recursive[D],
    data: D,
    size: Any,
    generations: int,
    rng: np.random.Generator,
    sampling: str = "multinomial",
    workflow: Workflow = REPLACE,
    decoding: Decoding = PLAIN,
) -> Iterator[Generation[D]]:
    """Run recursive training and yield every generation, 0 to ``generations``.

    Args:
        model: a model already fitted on ``data`` (generation 0). It is not modified.
        data: the original data set.
        size: its number of observations (int, or int array of shape (trajectories,)).
        generations: number of retraining rounds K >= 0.
        rng: the random generator of this trajectory (or batch of trajectories).
        sampling: ``multinomial`` or ``poisson``; see :func:`next_size`.
        workflow: what each generation is trained on (:mod:`ngram_collapse.workflows`; default
            ``replace``: the sample of generation k-1 only).
        decoding: how models are sampled (:mod:`ngram_collapse.decoding`; default: untouched).

    Yields:
        ``Generation(k, size, data, model, sample)`` for k = 0, ..., K: ``sample`` is drawn from
        ``model_{k-1}`` (``model_{k-1}.sample(size_k, rng)`` under ``replace``), ``data`` is what the
        workflow makes of it, and ``model`` a copy of ``model_{k-1}`` refitted on ``data``.
    """
    generations = checks.integer("generations", generations, minimum=0)
    checks.choice("sampling", sampling, SAMPLING_SCHEMES)
    yield Generation(0, size, data, model, data)
    options = decoding.options()
    regime = Regime(workflow, model, data, size, sampling, rng, lambda m, n: m.sample(n, rng, **options))
    for k in range(1, generations + 1):
        start = time.perf_counter()
        step = regime.step(model)
        drawn = time.perf_counter()
        model = copy.copy(model)  # the previous model is released here unless the caller keeps it
        model.fit(step.train)
        yield Generation(k, step.size, step.train, model, step.sample, drawn - start, time.perf_counter() - drawn)
