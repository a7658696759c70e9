"""Simulated recursive training of the paper's parametric models, beside their theory.

``simulate(model, ...)`` runs one registered model on the shared generation loop, all trajectories at
once as one batch drawing from ``np.random.default_rng(seed)``, and returns its
:class:`~ngram_collapse.results.Results`: summary rows k = 0..K of the simulated quantity's mean over
trajectories with its ``stderr``, and the theory (``None`` where none is known); ``generations.csv``
holds every trajectory's state. The models:

* ``bernoulli`` (Theorem 1; Figures 3 and 9): ``survival`` = Pr(P_k != 0), or Pr(P_k not in {0,1})
  with ``both_sides``; per trajectory ``count`` = n P_k.
* ``poisson`` (Theorem 2; Figure 4): ``survival`` = Pr(Lambda_k != 0); per trajectory ``count`` =
  n Lambda_k.
* ``zipf`` (Corollaries 1 and 2; Figure 7): ``survival`` = E[uniq_k] / m'; per trajectory ``tokens``
  and ``distinct_words``.
* ``gaussian`` and ``gmm`` (Theorems 3 and 4; Figures 5 and 13): see :mod:`ngram_collapse.continuous`.

Every model's defaults are the paper's settings (:data:`ngram_collapse.paper.SIMULATE_DEFAULTS`). The
command line builds its options from :data:`SIMULATIONS`.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import bounds, checks, seeding
from .continuous import ESTIMATORS, simulate_gaussian, simulate_gmm
from .errors import InputError
from .loop import SAMPLING_SCHEMES, progress_bar, recursive_training
from .paper import SIMULATE_DEFAULTS
from .parametric import Bernoulli, Categorical, Counts, Poisson, zipf_mandelbrot
from .results import Results, rows, spread, trajectory_columns


@dataclass(frozen=True)
class Option:
    """A model parameter: keyword ``name`` of the model's run function, ``--name`` on the command line.

    ``kind`` converts a command-line string (``bool`` means a flag); ``default`` is used where the
    paper's setting (:data:`ngram_collapse.paper.SIMULATE_DEFAULTS`) does not give the parameter.
    Range checks are the run function's (they hold for Python callers too).
    """

    name: str
    kind: type
    help: str
    default: Any = None
    choices: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Simulation:
    """A registered model: ``run(generations=, trajectories=, seed=, **options) -> Results``, its
    options, and ``figures(results)``: the figures to write beside the results (file name -> drawer)."""

    name: str
    run: Callable[..., Results]
    options: tuple[Option, ...]
    description: str
    figures: Callable[[Results], dict[str, Callable[[Path], None]]]

    def defaults(self) -> dict[str, Any]:
        """Every option's default, and the run's size: ``generations`` and ``trajectories``."""
        panel = SIMULATE_DEFAULTS[self.name]
        return {**{o.name: o.default for o in self.options}, **panel.parameters,
                "generations": panel.generations, "trajectories": panel.trajectories}


SIMULATIONS: dict[str, Simulation] = {}
#: bytes held per trajectory and generation: the recorded states, their indicators and CSV columns
_BYTES_PER_VALUE = 64
#: the largest mean of a Poisson draw whose values are still exact integers in double precision
#: (mean + 40 standard deviations < 2^53)
POISSON_MAX_MEAN = 1e15


def simulate(model: str, generations: int | None = None, trajectories: int | None = None,
             seed: seeding.Seed = 0, progress: bool = False, **options: Any) -> Results:
    """Run the registered model ``model`` and return its results (see the module docstring).

    Args:
        model: a key of :data:`SIMULATIONS` (``bernoulli``, ``poisson``, ``zipf``, ``gaussian``, ``gmm``).
        generations: number of retraining rounds K >= 0 (default: the paper's setting).
        trajectories: number of independent trajectories T >= 1 (default: the paper's setting).
        seed: the seed of the batch's Generator (see :mod:`ngram_collapse.seeding`).
        progress: show a tqdm bar over generations on stderr (if it is a terminal).
        **options: the model's parameters (default: the paper's setting).

    Raises:
        InputError: unknown model or option, or an impossible parameter.
    """
    sim = SIMULATIONS.get(checks.choice("model", model, list(SIMULATIONS)))
    defaults = sim.defaults()
    unknown = set(options) - {o.name for o in sim.options}
    if unknown:
        raise InputError(f"{model}: unknown option(s) {', '.join(sorted(unknown))}")
    size = {"generations": generations, "trajectories": trajectories}
    size = {key: defaults[key] if value is None else value for key, value in size.items()}
    checks.integer("generations", size["generations"], minimum=0)
    checks.integer("trajectories", size["trajectories"], minimum=1)
    checks.run_size(size["generations"], size["trajectories"], _BYTES_PER_VALUE, "the per-trajectory states")
    parameters = {o.name: options.get(o.name, defaults[o.name]) for o in sim.options}
    start = time.perf_counter()
    results = sim.run(**size, seed=seeding.seed_sequence(seed), progress=progress, **parameters)
    results.timings["simulate_seconds"] = time.perf_counter() - start
    return results


def batch_states(model: Any, data: Any, size: Any, generations: int, rng: np.random.Generator,
                 sampling: str = "multinomial", progress: bool = False,
                 **states: Callable[[Any], NDArray[Any]]) -> dict[str, NDArray[Any]]:
    """Run a batch model on the shared loop and record, for every keyword, ``state(data)`` (one value
    per trajectory) of every generation k = 0..K: name -> array of shape (T, K + 1)."""
    recorded: dict[str, list[NDArray[Any]]] = {name: [] for name in states}
    runs = recursive_training(model, data, size, generations, rng, sampling)
    for gen in progress_bar(generations + 1, progress, runs):
        for name, state in states.items():
            recorded[name].append(np.broadcast_to(state(gen.data), np.shape(gen.data.counts)[:1]))
    return {name: np.stack(values, axis=1) for name, values in recorded.items()}


def survival_results(kind: str, config: dict[str, Any], alive: NDArray[Any],
                     columns: dict[str, NDArray[Any]], theory: Mapping[str, NDArray[np.float64] | None]) -> Results:
    """Results whose summary rows are ``survival`` (mean of ``alive``, shape (T, K + 1)) and its
    ``stderr``, then the ``theory`` columns over k = 0..K; ``columns`` are the per-trajectory states."""
    mean, _, stderr = spread(alive)
    summary_rows = rows({"generation": np.arange(alive.shape[1]), "survival": mean, "stderr": stderr, **theory})
    return Results(kind, config, summary_rows, trajectory_columns(**columns))


#: above this sample size, ``simulate bernoulli`` and ``zipf`` (multinomial) leave ``exact`` out: the Wright-Fisher
#: chain costs about 8 n^1.5 operations per generation (see :func:`bounds.exact_expected_distinct`)
EXACT_CHAIN_MAX_N = 20_000


def _config(seed: np.random.SeedSequence, **values: Any) -> dict[str, Any]:
    return {**values, "seed": seeding.describe(seed)}


def _check_n(n: Any) -> int:
    return checks.integer("n", n, minimum=1)


def run_bernoulli(generations: int, trajectories: int, seed: np.random.SeedSequence, p0: float, n: int,
                  both_sides: bool, progress: bool = False) -> Results:
    """Bernoulli recursive training against Theorem 1 (Figure 3) or, ``both_sides``, Figure 9.

    ``survival`` is the simulated Pr(P_k != 0) (both sides: Pr(P_k not in {0, 1})); ``exact`` comes
    from the Wright-Fisher chain (:func:`bounds.bernoulli_absorption_exact`) for n up to
    :data:`EXACT_CHAIN_MAX_N` (``None`` above); both sides adds the Seddik et al. bounds
    (docs/theory.md §4 and §5).
    """
    p0 = checks.real("p0", p0, 0.0, 1.0)
    n = _check_n(n)
    model = Bernoulli(np.full(trajectories, p0))
    count = batch_states(model, Counts(np.full(trajectories, n * p0), n), n, generations,
                         np.random.default_rng(seed), progress=progress, count=lambda d: d.counts)["count"]
    alive = (count > 0) & (count < n) if both_sides else count > 0
    k = np.arange(generations + 1)
    if both_sides:
        lower, upper = bounds.theorem1_two_sided_bounds(p0, n, k)
        seddik_lower, seddik_upper = bounds.seddik_bounds(p0, n, k)
        extra = {"seddik_lower": seddik_lower, "seddik_upper": seddik_upper}
    else:
        lower, upper = bounds.theorem1_bounds(p0, n, k)
        extra = {}
    exact = 1.0 - bounds.bernoulli_absorption_exact(p0, n, k, both_sides=both_sides) if n <= EXACT_CHAIN_MAX_N else None
    config = _config(seed, p0=p0, n=n, both_sides=both_sides, generations=generations, trajectories=trajectories)
    return survival_results("bernoulli", config, alive, {"count": _integral(count)},
                            {"bound_lower": lower, "bound_upper": upper, "exact": exact, **extra})


def run_poisson(generations: int, trajectories: int, seed: np.random.SeedSequence, lam0: float, n: int,
                progress: bool = False) -> Results:
    """Poisson recursive training against Theorem 2 (Figure 4; docs/theory.md §3).

    ``survival`` is the simulated Pr(Lambda_k != 0); ``exact`` is Theorem 2; the bounds are its
    envelope 1 - exp(-n lam0 / k) <= . <= 1 - exp(-3 n lam0 / k).
    """
    lam0 = checks.real("lam0", lam0, minimum=0.0)
    n = _check_n(n)
    if n * lam0 > POISSON_MAX_MEAN:
        raise InputError(f"lam0 = {lam0:g} makes n lam0 = {n * lam0:g} > {POISSON_MAX_MEAN:g}: Poisson draws of that "
                         "mean are no longer exact integers in double precision", "lam0")
    model = Poisson(np.full(trajectories, lam0))
    count = batch_states(model, Counts(np.full(trajectories, n * lam0), n), n, generations,
                         np.random.default_rng(seed), progress=progress, count=lambda d: d.counts)["count"]
    k = np.arange(generations + 1)
    lower, upper = bounds.theorem2_envelope(lam0, n, k)
    config = _config(seed, lam0=lam0, n=n, generations=generations, trajectories=trajectories)
    return survival_results("poisson", config, count > 0, {"count": _integral(count)},
                            {"bound_lower": lower, "bound_upper": upper, "exact": bounds.theorem2_survival(lam0, n, k)})


def _integral(values: NDArray[Any]) -> NDArray[Any]:
    """Counts as integers where they all are (generation 0's n p0 may not be)."""
    return values.astype(np.int64) if np.all(values == np.round(values)) else values


def run_zipf(generations: int, trajectories: int, seed: np.random.SeedSequence, m: int, a: float, b: float,
             n: int, sampling: str, progress: bool = False) -> Results:
    """A categorical model started from a Zipf-Mandelbrot sample, against Corollary 1 (Figure 7).

    One original sample of n tokens from p_i proportional to 1/(i+b)^a over m symbols is shared by
    all trajectories; ``survival`` is E[uniq_k] / m', where m' is the number of symbols present in it
    (``distinct_mean`` at generation 0). Multinomial sampling: bounds from Corollary 1, ``exact``
    from the Wright-Fisher chain (:func:`bounds.exact_expected_distinct`) for n up to
    :data:`EXACT_CHAIN_MAX_N`. Poisson sampling: ``exact`` from Corollary 2 (docs/theory.md §6).
    """
    m = checks.integer("m", m, minimum=1)
    checks.memory("m", m, 4 * 8 * m * (trajectories + 1), f"the symbol counts of {trajectories} trajectories")
    a = checks.real("a", a)
    b = checks.real("b", b, minimum=-1.0, above=True)
    checks.choice("sampling", sampling, SAMPLING_SCHEMES)
    n = _check_n(n)
    original_seed, run_seed = seed.spawn(2)
    counts = np.random.default_rng(original_seed).multinomial(n, zipf_mandelbrot(m, a, b))
    counts = counts[counts > 0]
    present = len(counts)
    model = Categorical(np.tile(counts / n, (trajectories, 1)))
    original = Counts(np.tile(counts, (trajectories, 1)), np.full(trajectories, n))
    states = batch_states(model, original, original.size, generations, np.random.default_rng(run_seed), sampling,
                          progress, tokens=lambda d: d.size, distinct_words=lambda d: (d.counts > 0).sum(axis=1))
    distinct = states["distinct_words"]
    k = np.arange(generations + 1)
    if sampling == "multinomial":
        lower, upper = bounds.corollary1_bounds(counts, k)
        exact = bounds.exact_expected_distinct(counts, k) / present if n <= EXACT_CHAIN_MAX_N else None
        theory = {"bound_lower": lower / present, "bound_upper": upper / present, "exact": exact}
    else:
        theory = {"bound_lower": None, "bound_upper": None,
                  "exact": bounds.corollary2_expected_distinct(counts, k) / present}
    mean, std, _ = spread(distinct)
    results = survival_results(
        "zipf", _config(seed, m=m, a=a, b=b, n=n, sampling=sampling, generations=generations,
                        trajectories=trajectories),
        distinct / present, states, theory)
    for row, distinct_mean, distinct_std in zip(results.generations, mean.tolist(),
                                                [None] * mean.size if std is None else std.tolist()):
        row.update(distinct_mean=distinct_mean, distinct_std=distinct_std)
    return results


def _survival_figure(results: Results) -> dict[str, Callable[[Path], None]]:
    from . import plot

    return {"survival.png": lambda path: plot.figure_survival_vs_theory([results], path)}


def _continuous_figures(results: Results) -> dict[str, Callable[[Path], None]]:
    from . import plot
    from .continuous import plots

    return {"prob_above_eps.png": lambda path: plots.plot_prob_above_eps(results, path),
            "trajectories.png": lambda path: plot.plot_trajectories(
                results.per_trajectory("sigma")[:plot.TRAJECTORIES_SHOWN], path, "Sigma_k")}


def register(simulation: Simulation) -> Simulation:
    """Add a model to :data:`SIMULATIONS` (and so to ``ngram-collapse simulate``)."""
    SIMULATIONS[simulation.name] = simulation
    return simulation


register(Simulation(
    "bernoulli", run_bernoulli,
    (Option("p0", float, "initial probability P_0 in [0, 1]"),
     Option("n", int, "samples per generation"),
     Option("both_sides", bool, "measure Pr(P_k not in {0,1}) and add the Seddik et al. bounds", False)),
    "Bernoulli recursive training vs Theorem 1 (Figures 3 and 9)", _survival_figure))
register(Simulation(
    "poisson", run_poisson,
    (Option("lam0", float, "initial rate lambda_0 >= 0"),
     Option("n", int, "samples per generation")),
    "Poisson recursive training vs Theorem 2 (Figure 4)", _survival_figure))
register(Simulation(
    "zipf", run_zipf,
    (Option("m", int, "symbols of the Zipf-Mandelbrot law"),
     Option("a", float, "exponent a of p_i ~ 1/(i+b)^a"),
     Option("b", float, "offset b > -1"),
     Option("n", int, "tokens per generation"),
     Option("sampling", str, "sample-size rule", choices=SAMPLING_SCHEMES)),
    "a categorical model from a Zipf-Mandelbrot sample vs Corollary 1 (Figure 7)", _survival_figure))

_CONTINUOUS_OPTIONS = (Option("n", int, "samples per generation, >= 2"),
                       Option("mu0", float, "initial mean parameter mu_0"),
                       Option("sigma0", float, "initial standard deviation sigma_0 > 0"),
                       Option("eps", float, "threshold eps > 0 of Pr(Sigma_k > eps)"))
register(Simulation(
    "gaussian", simulate_gaussian, _CONTINUOUS_OPTIONS,
    "Gaussian recursive training vs Theorem 3 (Figure 5)", _continuous_figures))
register(Simulation(
    "gmm", simulate_gmm,
    (*_CONTINUOUS_OPTIONS,
     Option("estimator", str, "refit by approx-ml (Algorithm 1, the estimator of Theorem 4) or joint-ml",
            choices=tuple(ESTIMATORS)),
     Option("eta", float, "parameter eta > 1 of Algorithm 1", 2.0)),
    "symmetric Gaussian mixture recursive training vs Theorem 4 (Figure 13)", _continuous_figures))
