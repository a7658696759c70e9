"""Simulated recursive training of the paper's parametric models, beside their theory.

``simulate(model, ...)`` runs one registered setting on the shared generation loop, all trajectories
at once, and returns a summary dict (the content of ``summary.json`` of ``ngram-collapse simulate``)::

    {"model": ..., "parameters": {...}, "label": ..., "quantity": ..., "log_y": ...,
     "generations": [{"generation": k, "survival": ..., "stderr": ...,
                      "bound_lower": ..., "bound_upper": ..., "exact": ..., ...}, ...]}

for k = 1..K, where ``survival`` is the simulated mean over trajectories of the measured quantity,
``stderr`` its standard error, and the other keys the theory (``None`` where none is known).

New models are added with :func:`register` (a :class:`Simulation`: a run function returning the
summary, its options, default sizes, and a writer of its output files); the command line builds its
options from the registry. A run function typically builds a batch model, calls
:func:`measure_generations`, computes its theory over k = 1..K and returns :func:`make_summary`.

The continuous models (``gaussian``, Theorem 3; ``gmm``, Theorem 4) are registered with their own
summaries (:mod:`ngram_collapse.continuous.simulate`: rows of ``prob_above_eps``, ``stderr``,
``sigma_mean`` and bounds) and their own writer, :func:`write_continuous`.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import bounds, output, plot
from .continuous import ESTIMATORS, simulate_gaussian, simulate_gmm
from .continuous import plots as continuous_plots
from .errors import InputError
from .loop import SAMPLING_SCHEMES, check_sampling, recursive_training
from .parametric import Bernoulli, Categorical, Counts, Poisson, zipf_mandelbrot


@dataclass(frozen=True)
class Option:
    """A model-specific parameter: keyword ``name`` of the run function, ``--name`` on the command line.

    ``kind`` converts a command-line string (``bool`` means a flag); range checks are the run
    function's job (it raises :class:`InputError`), so they hold for Python callers too.
    """

    name: str
    kind: type
    default: Any
    help: str
    choices: tuple[str, ...] | None = None


def write_survival(summary: Mapping[str, Any], folder: Path, plot_figures: bool = True) -> None:
    """The default output files: ``summary.json`` and (with ``plot_figures``) ``survival.png``
    (simulated survival vs theory)."""
    output.write_json(folder / "summary.json", summary)
    if plot_figures and summary["generations"]:
        plot.figure_survival_vs_theory([summary], folder / "survival.png")


@dataclass(frozen=True)
class Simulation:
    """A registered setting: ``run(generations=, trajectories=, seed=, **options) -> summary``;
    ``write(summary, folder, plot_figures)`` writes its output files (``summary.json`` and, unless
    ``plot_figures`` is False, figures) into a folder."""

    name: str
    run: Callable[..., dict[str, Any]]
    options: tuple[Option, ...]
    generations: int
    trajectories: int
    description: str
    write: Callable[[Mapping[str, Any], Path, bool], None] = write_survival


SIMULATIONS: dict[str, Simulation] = {}


def register(simulation: Simulation) -> Simulation:
    """Add a setting to :data:`SIMULATIONS` (and so to ``ngram-collapse simulate``)."""
    SIMULATIONS[simulation.name] = simulation
    return simulation


def simulate(model: str, generations: int | None = None, trajectories: int | None = None,
             seed: int = 0, **options: Any) -> dict[str, Any]:
    """Run the registered setting ``model`` and return its summary (see the module docstring).

    Args:
        model: a key of :data:`SIMULATIONS` (``bernoulli``, ``poisson``, ``zipf``, ``gaussian``, ``gmm``).
        generations: number of retraining rounds K >= 0 (default: the setting's).
        trajectories: number of independent trajectories T >= 1 (default: the setting's).
        seed: seed of the one ``numpy.random.Generator`` of the batch.
        **options: the setting's options (default: their defaults).

    Raises:
        InputError: unknown model or option, or an impossible parameter.
    """
    if model not in SIMULATIONS:
        raise InputError(f"unknown model {model!r}; choose one of {', '.join(SIMULATIONS)}")
    sim = SIMULATIONS[model]
    known = {o.name: o.default for o in sim.options}
    unknown = set(options) - set(known)
    if unknown:
        raise InputError(f"{model}: unknown option(s) {', '.join(sorted(unknown))}")
    generations = sim.generations if generations is None else generations
    trajectories = sim.trajectories if trajectories is None else trajectories
    if generations < 0:
        raise InputError(f"generations must be >= 0, not {generations}")
    if trajectories < 1:
        raise InputError(f"trajectories must be >= 1, not {trajectories}")
    if seed < 0:
        raise InputError(f"seed must be >= 0, not {seed}")
    return sim.run(generations=generations, trajectories=trajectories, seed=seed, **{**known, **options})


def measure_generations(model: Any, data: Any, size: Any, generations: int, trajectories: int,
                        rng: np.random.Generator, measure: Callable[[Any], NDArray[Any]],
                        sampling: str = "multinomial") -> NDArray[np.float64]:
    """Run a batch model on the shared loop; ``measure`` of every generation k = 1..K, shape (K, trajectories).

    ``measure(data)`` maps a generation's data to one number per trajectory (e.g. survival indicators).
    """
    runs = recursive_training(model, data, size, generations, rng, sampling)
    next(runs)  # generation 0 is the original data
    return np.array([measure(gen.data) for gen in runs], dtype=float).reshape(generations, trajectories)


def make_summary(model: str, parameters: Mapping[str, Any], label: str, quantity: str, log_y: bool,
                 values: NDArray[np.float64], theory: Mapping[str, NDArray[np.float64] | None]) -> dict[str, Any]:
    """The summary dict (module docstring) from measured ``values`` (K, T) and theory arrays over k = 1..K.

    ``theory`` maps row keys (``bound_lower``, ``bound_upper``, ``exact``, ...) to arrays of length K,
    or to ``None`` where no theory is known; ``survival`` and ``stderr`` are the mean over trajectories
    and its standard error (``None`` for a single trajectory).
    """
    generations, trajectories = values.shape
    mean = values.mean(axis=1)
    stderr = values.std(axis=1, ddof=1) / np.sqrt(trajectories) if trajectories > 1 else None
    rows = []
    for i in range(generations):
        row = {"generation": i + 1, "survival": float(mean[i]),
               "stderr": None if stderr is None else float(stderr[i])}
        row.update({key: None if arr is None else float(arr[i]) for key, arr in theory.items()})
        rows.append(row)
    return {"model": model, "parameters": dict(parameters), "label": label, "quantity": quantity,
            "log_y": log_y, "generations": rows}


def _check_n(n: int) -> None:
    if n < 1 or int(n) != n:
        raise InputError(f"n must be an integer >= 1, not {n}")


def run_bernoulli(generations: int, trajectories: int, seed: int, p0: float, n: int,
                  both_sides: bool) -> dict[str, Any]:
    """Bernoulli recursive training against Theorem 1 (Figure 3) or, ``both_sides``, Figure 9.

    ``survival`` is the simulated Pr(P_k != 0) (both sides: Pr(P_k not in {0, 1})); ``exact`` comes
    from the Wright-Fisher chain (:func:`bounds.bernoulli_absorption_exact`); both sides adds the
    Seddik et al. bounds.
    """
    if not 0.0 <= p0 <= 1.0:
        raise InputError(f"p0 must be in [0, 1], not {p0}")
    _check_n(n)
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    model = Bernoulli(np.full(trajectories, p0))
    original = Counts(np.full(trajectories, n * p0), n)
    if both_sides:
        def measure(d: Counts) -> NDArray[Any]:
            return (d.counts > 0) & (d.counts < d.size)
    else:
        def measure(d: Counts) -> NDArray[Any]:
            return d.counts > 0
    values = measure_generations(model, original, n, generations, trajectories, rng, measure)
    k = np.arange(1, generations + 1)
    if both_sides:
        lower, upper = bounds.theorem1_two_sided_bounds(p0, n, k)
        seddik_lower, seddik_upper = bounds.seddik_bounds(p0, n, k)
        extra = {"seddik_lower": seddik_lower, "seddik_upper": seddik_upper}
    else:
        lower, upper = bounds.theorem1_bounds(p0, n, k)
        extra = {}
    exact = 1.0 - bounds.bernoulli_absorption_exact(p0, n, k, both_sides=both_sides)
    return make_summary(
        "bernoulli",
        {"p0": p0, "n": n, "both_sides": both_sides, "generations": generations,
         "trajectories": trajectories, "seed": seed},
        f"Bernoulli p0={p0:g}, n={n}",
        "Pr(P_k not in {0,1})" if both_sides else "Pr(P_k != 0)",
        False, values, {"bound_lower": lower, "bound_upper": upper, "exact": exact, **extra})


def run_poisson(generations: int, trajectories: int, seed: int, lam0: float, n: int) -> dict[str, Any]:
    """Poisson recursive training against Theorem 2 (Figure 4).

    ``survival`` is the simulated Pr(Lambda_k != 0); ``exact`` is Theorem 2; the bounds are its
    envelope 1 - exp(-n lam0 / k) <= . <= 1 - exp(-3 n lam0 / k).
    """
    if not lam0 >= 0.0:
        raise InputError(f"lam0 must be >= 0, not {lam0}")
    _check_n(n)
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    model = Poisson(np.full(trajectories, lam0))
    values = measure_generations(model, Counts(np.full(trajectories, n * lam0), n), n, generations,
                                 trajectories, rng, lambda d: d.counts > 0)
    k = np.arange(1, generations + 1)
    lower, upper = bounds.theorem2_envelope(lam0, n, k)
    return make_summary(
        "poisson",
        {"lam0": lam0, "n": n, "generations": generations, "trajectories": trajectories, "seed": seed},
        f"Poisson lambda0={lam0:g}, n={n}", "Pr(Lambda_k != 0)", True, values,
        {"bound_lower": lower, "bound_upper": upper, "exact": bounds.theorem2_survival(lam0, n, k)})


#: above this sample size, ``simulate zipf`` (multinomial) leaves ``exact`` out: the Wright-Fisher
#: chain costs about 8 n^1.5 operations per generation (see :func:`bounds.exact_expected_distinct`)
EXACT_CHAIN_MAX_N = 20_000


def run_zipf(generations: int, trajectories: int, seed: int, m: int, a: float, b: float, n: int,
             sampling: str) -> dict[str, Any]:
    """A categorical model started from a Zipf-Mandelbrot sample, against Corollary 1 (Figure 7).

    One original sample of n tokens from p_i proportional to 1/(i+b)^a over m symbols is shared by
    all trajectories; ``survival`` is E[uniq_k] / m', where m' is the number of symbols present in it.
    Multinomial sampling: bounds from Corollary 1, ``exact`` from the Wright-Fisher chain
    (:func:`bounds.exact_expected_distinct`) for n up to :data:`EXACT_CHAIN_MAX_N`. Poisson
    sampling: ``exact`` from Corollary 2.
    """
    if m < 1 or int(m) != m:
        raise InputError(f"m must be an integer >= 1, not {m}")
    if not b > -1:
        raise InputError(f"b must be > -1, not {b}")
    check_sampling(sampling)
    _check_n(n)
    original_seed, run_seed = np.random.SeedSequence(seed).spawn(2)
    counts = np.random.default_rng(original_seed).multinomial(n, zipf_mandelbrot(m, a, b))
    counts = counts[counts > 0]
    present = len(counts)
    rng = np.random.default_rng(run_seed)
    model = Categorical(np.tile(counts / n, (trajectories, 1)))
    original = Counts(np.tile(counts, (trajectories, 1)), np.full(trajectories, n))
    values = measure_generations(model, original, original.size, generations, trajectories, rng,
                                 lambda d: (d.counts > 0).sum(axis=1) / present, sampling)
    k = np.arange(1, generations + 1)
    if sampling == "multinomial":
        lower, upper = bounds.corollary1_bounds(counts, k)
        exact = bounds.exact_expected_distinct(counts, k) / present if n <= EXACT_CHAIN_MAX_N else None
        theory = {"bound_lower": lower / present, "bound_upper": upper / present, "exact": exact}
    else:
        theory = {"bound_lower": None, "bound_upper": None,
                  "exact": bounds.corollary2_expected_distinct(counts, k) / present}
    return make_summary(
        "zipf",
        {"m": m, "a": a, "b": b, "n": n, "sampling": sampling, "symbols_present": present,
         "generations": generations, "trajectories": trajectories, "seed": seed},
        f"Zipf-Mandelbrot a={a:g}, b={b:g}, m={m}, n={n}", "E[uniq_k] / m", False, values, theory)


register(Simulation(
    "bernoulli", run_bernoulli,
    (Option("p0", float, 0.01, "initial probability P_0 in [0, 1] (default 0.01)"),
     Option("n", int, 100, "samples per generation (default 100)"),
     Option("both_sides", bool, False, "measure Pr(P_k not in {0,1}) and add the Seddik et al. bounds")),
    generations=50, trajectories=5000,
    description="Bernoulli recursive training vs Theorem 1 (Figures 3 and 9)"))
register(Simulation(
    "poisson", run_poisson,
    (Option("lam0", float, 1.0, "initial rate lambda_0 >= 0 (default 1)"),
     Option("n", int, 10, "samples per generation (default 10)")),
    generations=500, trajectories=5000,
    description="Poisson recursive training vs Theorem 2 (Figure 4)"))
register(Simulation(
    "zipf", run_zipf,
    (Option("m", int, 1000, "symbols of the Zipf-Mandelbrot law (default 1000)"),
     Option("a", float, 1.0, "exponent a of p_i ~ 1/(i+b)^a (default 1)"),
     Option("b", float, 2.7, "offset b > -1 (default 2.7)"),
     Option("n", int, 1000, "tokens per generation (default 1000)"),
     Option("sampling", str, "multinomial", "sample-size rule (default multinomial)", SAMPLING_SCHEMES)),
    generations=10, trajectories=200,
    description="a categorical model from a Zipf-Mandelbrot sample vs Corollary 1 (Figure 7)"))


TRAJECTORIES_SHOWN = 25  # as many lines as Figure 2a draws


def write_continuous(summary: Mapping[str, Any], folder: Path, plot_figures: bool = True) -> None:
    """Output files of a ``gaussian`` (Theorem 3) or ``gmm`` (Theorem 4) run.

    ``summary.json`` is the summary without its ``sigma_trajectories`` array, which is drawn instead:
    ``trajectories.png`` (like Figure 2a, the first :data:`TRAJECTORIES_SHOWN` trajectories) beside
    ``prob_above_eps.png`` (simulated Pr(Sigma_k > eps) against the bounds, like Figures 5 and 13).
    """
    output.write_json(folder / "summary.json", {k: v for k, v in summary.items() if k != "sigma_trajectories"})
    if not plot_figures:
        return
    continuous_plots.plot_sigma_trajectories(summary["sigma_trajectories"][:TRAJECTORIES_SHOWN],
                                             folder / "trajectories.png")
    if summary["generations"]:
        continuous_plots.plot_prob_above_eps(summary, folder / "prob_above_eps.png")


def _continuous_options(mu0: float) -> tuple[Option, ...]:
    """Options shared by ``gaussian`` and ``gmm`` (the paper's settings, mu0 aside)."""
    return (Option("n", int, 10, "samples per generation, >= 2 (default 10)"),
            Option("mu0", float, mu0, f"initial mean parameter mu_0 (default {mu0:g})"),
            Option("sigma0", float, 1.0, "initial standard deviation sigma_0 > 0 (default 1)"),
            Option("eps", float, 0.1, "threshold eps > 0 of Pr(Sigma_k > eps) (default 0.1)"))


register(Simulation(
    "gaussian", simulate_gaussian, _continuous_options(mu0=0.0), generations=200, trajectories=1000,
    description="Gaussian recursive training vs Theorem 3 (Figure 5)", write=write_continuous))
register(Simulation(
    "gmm", simulate_gmm,
    (*_continuous_options(mu0=1.0),
     Option("estimator", str, "approx-ml", "refit by approx-ml (Algorithm 1, the estimator of "
            "Theorem 4; default) or joint-ml", tuple(ESTIMATORS)),
     Option("eta", float, 2.0, "parameter eta > 1 of Algorithm 1 (default 2)")),
    generations=200, trajectories=500,
    description="symmetric Gaussian mixture recursive training vs Theorem 4 (Figure 13)",
    write=write_continuous))
