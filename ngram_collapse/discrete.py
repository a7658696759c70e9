"""Simulated recursive training of the paper's discrete parametric models, beside their theory.

All trajectories run at once as one batch model (:mod:`ngram_collapse.parametric`) on the one generation
loop, drawing from one ``numpy.random.Generator``; each returns
:class:`~ngram_collapse.results.Results` whose summary rows are the simulated ``survival`` and its
``stderr``, then the theory that exists for the setting (docs/theory.md §3-§6 and §12):

* ``bernoulli`` (Theorem 1; Figures 3 and 9): workflows ``replace``, ``mix-fresh``, ``accumulate``;
* ``poisson`` (Theorem 2; Figure 4): the same workflows;
* ``zipf`` (Corollaries 1 and 2; Figure 7): a categorical model, every workflow and every decoding
  transform (:mod:`ngram_collapse.workflows`, :mod:`ngram_collapse.decoding`).

The data of the Bernoulli and Poisson models are a sufficient statistic (successes, or the sum of n
observations), which cannot be thinned or subsampled unit by unit: the workflows that keep part of the
original data (``mix-fixed``, ``accumulate-subsample``) are defined for the categorical model only.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import bounds, checks, regimes, seeding
from .decoding import Decoding
from .errors import InputError
from .loop import SAMPLING_SCHEMES, Generation, recursive_training
from .progress import progress_bar
from .measures import entropy_bits, total_variation
from .parametric import Bernoulli, Categorical, Counts, Poisson, zipf_mandelbrot
from .results import Results, rows, spread, trajectory_columns
from .workflows import WORKFLOWS, Workflow

#: the workflows of the Bernoulli and Poisson models (see the module docstring)
SUFFICIENT_WORKFLOWS = ("replace", "mix-fresh", "accumulate")
#: above this sample size ``bernoulli`` and ``zipf`` (multinomial) leave ``exact`` out: the Wright-Fisher
#: chain costs about 8 n^1.5 operations per generation (see :func:`bounds.exact_expected_distinct`)
EXACT_CHAIN_MAX_N = 20_000
#: the largest mean of a Poisson draw whose values are still exact integers in double precision
#: (mean + 40 standard deviations < 2^53)
POISSON_MAX_MEAN = 1e15


def batch_states(model: Any, data: Any, size: Any, generations: int, rng: np.random.Generator,
                 sampling: str = "multinomial", progress: bool = False, workflow: Workflow = Workflow(),
                 decoding: Decoding = Decoding(), **states: Callable[[Generation], NDArray[Any]]) -> dict[str, NDArray[Any]]:
    """Run a batch model on the shared loop and record, for every keyword, ``state(generation)`` (one
    value per trajectory) of every generation k = 0..K: name -> array of shape (T, K + 1)."""
    recorded: dict[str, list[NDArray[Any]]] = {name: [] for name in states}
    runs = recursive_training(model, data, size, generations, rng, sampling, workflow, decoding)
    for gen in progress_bar(generations + 1, progress, runs):
        for name, state in states.items():
            recorded[name].append(np.broadcast_to(state(gen), np.shape(gen.data.counts)[:1]))
    return {name: np.stack(values, axis=1) for name, values in recorded.items()}


def survival_results(kind: str, config: dict[str, Any], alive: NDArray[Any],
                     columns: dict[str, NDArray[Any]], theory: Mapping[str, NDArray[np.float64] | None]) -> Results:
    """Results whose summary rows are ``survival`` (mean of ``alive``, shape (T, K + 1)) and its
    ``stderr``, then the ``theory`` columns (and any other summary columns) over k = 0..K; ``columns``
    are the per-trajectory states."""
    mean, _, stderr = spread(alive)
    summary_rows = rows({"generation": np.arange(alive.shape[1]), "survival": mean, "stderr": stderr, **theory})
    return Results(kind, config, summary_rows, trajectory_columns(**columns))


def _config(seed: np.random.SeedSequence, workflow: Workflow, **values: Any) -> dict[str, Any]:
    regime = {"workflow": workflow.name, "real_fraction": workflow.real_fraction}
    return {**values, **regime, "seed": seeding.describe(seed)}


def _check_n(n: Any) -> int:
    return checks.integer("n", n, minimum=1)


def _sufficient_workflow(workflow: str, real_fraction: float | None) -> Workflow:
    checks.choice("workflow", workflow, SUFFICIENT_WORKFLOWS)
    return Workflow(workflow, real_fraction)


def _integral(values: NDArray[Any]) -> NDArray[Any]:
    """Counts as integers where they all are (generation 0's n p0 may not be)."""
    return values.astype(np.int64) if np.all(values == np.round(values)) else values


def run_bernoulli(generations: int, trajectories: int, seed: np.random.SeedSequence, p0: float, n: int,
                  both_sides: bool, workflow: str = "replace", real_fraction: float | None = None,
                  progress: bool = False) -> Results:
    """Bernoulli recursive training against Theorem 1 (Figure 3) or, ``both_sides``, Figure 9.

    ``survival`` is the simulated Pr(P_k != 0) (both sides: Pr(P_k not in {0, 1})). ``replace``:
    Theorem 1's bounds, ``exact`` from the Wright-Fisher chain (:func:`bounds.bernoulli_absorption_exact`)
    for n up to :data:`EXACT_CHAIN_MAX_N` (``None`` above), and with both sides the Seddik et al.
    bounds (docs/theory.md §4 and §5). ``mix-fresh``: the lower bound 1 - exp(-n p0 G_k(L))
    (one side; docs/theory.md §12.2). ``accumulate``: ``exact`` 1 (the original data stay).
    """
    p0 = checks.real("p0", p0, 0.0, 1.0)
    n = _check_n(n)
    regime = _sufficient_workflow(workflow, real_fraction)
    model = Bernoulli(np.full(trajectories, p0))
    count = batch_states(model, Counts(np.full(trajectories, n * p0), n), n, generations, np.random.default_rng(seed),
                         progress=progress, workflow=regime, count=lambda g: g.data.counts)["count"]
    size = n if regime.name != "accumulate" else n * (np.arange(generations + 1) + 1)
    alive = (count > 0) & (count < size) if both_sides else count > 0
    k = np.arange(generations + 1)
    if regime.name == "replace":
        if both_sides:
            lower, upper = bounds.theorem1_two_sided_bounds(p0, n, k)
            seddik_lower, seddik_upper = bounds.seddik_bounds(p0, n, k)
            theory = {"bound_lower": lower, "bound_upper": upper,
                      "seddik_lower": seddik_lower, "seddik_upper": seddik_upper}
        else:
            lower, upper = bounds.theorem1_bounds(p0, n, k)
            theory = {"bound_lower": lower, "bound_upper": upper}
        theory["exact"] = (1.0 - bounds.bernoulli_absorption_exact(p0, n, k, both_sides=both_sides)
                           if n <= EXACT_CHAIN_MAX_N else None)
    elif regime.name == "mix-fresh":
        theory = {} if both_sides else {"bound_lower": regimes.mix_fresh_survival(n * p0, k, regime.real_fraction)}
    else:
        theory = {"exact": np.full(k.size, float(0 < p0 < 1 if both_sides else p0 > 0))}
    config = _config(seed, regime, p0=p0, n=n, both_sides=both_sides, generations=generations,
                     trajectories=trajectories)
    return survival_results("bernoulli", config, alive, {"count": _integral(count)}, theory)


def run_poisson(generations: int, trajectories: int, seed: np.random.SeedSequence, lam0: float, n: int,
                workflow: str = "replace", real_fraction: float | None = None, progress: bool = False) -> Results:
    """Poisson recursive training against Theorem 2 (Figure 4; docs/theory.md §3).

    ``survival`` is the simulated Pr(Lambda_k != 0). ``replace``: ``exact`` is Theorem 2, the bounds
    its envelope 1 - exp(-n lam0 / k) <= . <= 1 - exp(-3 n lam0 / k). ``mix-fresh``: ``exact`` is
    1 - exp(-n lam0 G_k(L)) (docs/theory.md §12.1). ``accumulate``: ``exact`` 1.
    """
    lam0 = checks.real("lam0", lam0, minimum=0.0)
    n = _check_n(n)
    if n * lam0 > POISSON_MAX_MEAN:
        raise InputError(f"lam0 = {lam0:g} makes n lam0 = {n * lam0:g} > {POISSON_MAX_MEAN:g}: Poisson draws of that "
                         "mean are no longer exact integers in double precision", "lam0")
    regime = _sufficient_workflow(workflow, real_fraction)
    model = Poisson(np.full(trajectories, lam0))
    count = batch_states(model, Counts(np.full(trajectories, n * lam0), n), n, generations, np.random.default_rng(seed),
                         progress=progress, workflow=regime, count=lambda g: g.data.counts)["count"]
    k = np.arange(generations + 1)
    if regime.name == "replace":
        lower, upper = bounds.theorem2_envelope(lam0, n, k)
        theory = {"bound_lower": lower, "bound_upper": upper, "exact": bounds.theorem2_survival(lam0, n, k)}
    elif regime.name == "mix-fresh":
        theory = {"exact": regimes.mix_fresh_survival(n * lam0, k, regime.real_fraction)}
    else:
        theory = {"exact": np.full(k.size, float(lam0 > 0))}
    config = _config(seed, regime, lam0=lam0, n=n, generations=generations, trajectories=trajectories)
    return survival_results("poisson", config, count > 0, {"count": _integral(count)}, theory)


def run_zipf(generations: int, trajectories: int, seed: np.random.SeedSequence, m: int, a: float, b: float,
             n: int, sampling: str, workflow: str = "replace", real_fraction: float | None = None,
             temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None,
             progress: bool = False) -> Results:
    """A categorical model started from a Zipf-Mandelbrot sample, against Corollary 1 (Figure 7).

    One original sample of n tokens from p_i proportional to 1/(i+b)^a over m symbols is shared by
    all trajectories; ``survival`` is E[uniq_k] / m', where m' is the number of symbols present in it
    (``distinct_mean`` at generation 0). Per trajectory: ``tokens``, ``distinct_words``,
    ``sample_distinct_words`` (of the part drawn from generation k-1), ``entropy_bits`` and
    ``tv_from_original``; under temperature, ``exponent``, the Zipf exponent fitted to the model.

    Theory, as a fraction of m' (docs/theory.md §6 and §12): ``replace``: Corollary 1's bounds and
    ``exact`` from the Wright-Fisher chain (n up to :data:`EXACT_CHAIN_MAX_N`) under multinomial
    sampling, Corollary 2 under Poisson sampling; ``mix-fresh``: ``exact`` (Poisson) or ``bound_lower``
    (multinomial); ``mix-fixed``: ``exact`` (Poisson); ``accumulate``: ``exact`` 1. With decoding:
    ``support_limit``, the symbols left by k rounds of the truncation in the infinite-sample limit, and
    under temperature ``exponent_limit`` = a / T^k beside the simulated ``exponent``.
    """
    m = checks.integer("m", m, minimum=1)
    checks.memory("m", m, 4 * 8 * m * (trajectories + 1), f"the symbol counts of {trajectories} trajectories")
    a = checks.real("a", a)
    b = checks.real("b", b, minimum=-1.0, above=True)
    checks.choice("sampling", sampling, SAMPLING_SCHEMES)
    n = _check_n(n)
    checks.choice("workflow", workflow, WORKFLOWS)
    regime, decoding = Workflow(workflow, real_fraction), Decoding(temperature, top_k, top_p)
    original_seed, run_seed = seed.spawn(2)
    full = np.random.default_rng(original_seed).multinomial(n, zipf_mandelbrot(m, a, b))
    ranks = np.flatnonzero(full) + 1  # the Zipf-Mandelbrot index i of every symbol present
    counts = full[full > 0]
    present = len(counts)
    model = Categorical(np.tile(counts / n, (trajectories, 1)))
    original = Counts(np.tile(counts, (trajectories, 1)), np.full(trajectories, n))
    states = {"tokens": lambda g: g.data.size, "distinct_words": lambda g: (g.data.counts > 0).sum(axis=1),
              "sample_distinct_words": lambda g: (g.sample.counts > 0).sum(axis=1),
              "entropy_bits": lambda g: entropy_bits(g.data.counts),
              "tv_from_original": lambda g: total_variation(g.data.counts, counts)}
    if decoding.temperature != 1.0:
        states["exponent"] = lambda g: _fitted_exponent(g.data.counts, np.log(ranks + b))
    measured = batch_states(model, original, original.size, generations, np.random.default_rng(run_seed), sampling,
                            progress, regime, decoding, **states)
    distinct = measured["distinct_words"]
    k = np.arange(generations + 1)
    theory = _zipf_theory(counts, k, sampling, regime, decoding, n) if decoding.plain else {}
    if not decoding.plain:
        theory["support_limit"] = regimes.truncation_support(counts / n, decoding, k) / present
        if decoding.temperature != 1.0:  # a trajectory left with fewer than two symbols has no exponent
            exponents = measured["exponent"]
            finite = np.isfinite(exponents).any(axis=0)
            theory["exponent"] = [float(np.nanmean(exponents[:, i])) if finite[i] else None for i in k]
            theory["exponent_limit"] = regimes.tempered_exponent(a, decoding.temperature, k)
    means = {name: measured[name].mean(axis=0) for name in ("sample_distinct_words", "entropy_bits", "tv_from_original")}
    mean, std, _ = spread(distinct)
    config = _config(seed, regime, m=m, a=a, b=b, n=n, sampling=sampling, temperature=decoding.temperature,
                     top_k=decoding.top_k, top_p=decoding.top_p, generations=generations, trajectories=trajectories)
    return survival_results("zipf", config, distinct / present, measured,
                            {**theory, **means, "distinct_mean": mean, "distinct_std": std})


def _zipf_theory(counts: NDArray[np.int64], k: NDArray[np.int64], sampling: str, regime: Workflow,
                 decoding: Decoding, n: int) -> dict[str, Any]:
    """The categorical model's theory as fractions of the symbols present (see :func:`run_zipf`)."""
    present = counts.size
    L = regime.real_fraction
    if regime.name == "replace" and sampling == "multinomial":
        lower, upper = bounds.corollary1_bounds(counts, k)
        exact = bounds.exact_expected_distinct(counts, k) / present if n <= EXACT_CHAIN_MAX_N else None
        return {"bound_lower": lower / present, "bound_upper": upper / present, "exact": exact}
    if regime.name == "replace":
        return {"bound_lower": None, "bound_upper": None, "exact": bounds.corollary2_expected_distinct(counts, k) / present}
    if regime.name == "mix-fresh":
        key = "exact" if sampling == "poisson" else "bound_lower"
        return {key: regimes.mix_fresh_expected_distinct(counts, k, L) / present}
    if regime.name == "mix-fixed" and sampling == "poisson":  # every token is a unit of the fixed part
        return {"exact": regimes.mix_fixed_expected_distinct(counts, counts, k, L) / present}
    if regime.name == "accumulate":
        return {"exact": np.ones(k.size)}
    return {}


def _fitted_exponent(counts: NDArray[np.integer], log_rank: NDArray[np.float64]) -> NDArray[np.float64]:
    """The Zipf exponent of every row of ``counts`` (T, m): minus the least-squares slope of log count
    against log(i + b) over the symbols present (NaN with fewer than two)."""
    present = counts > 0
    x = np.where(present, log_rank[None, :], 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.where(present, np.log(np.where(present, counts, 1)), 0.0)
        m = present.sum(axis=1)
        mx, my = x.sum(axis=1) / m, y.sum(axis=1) / m
        sxy = (present * (x - mx[:, None]) * (y - my[:, None])).sum(axis=1)
        sxx = (present * (x - mx[:, None]) ** 2).sum(axis=1)
        return -sxy / sxx
