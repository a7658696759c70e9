"""Simulated recursive training of the paper's parametric models, beside their theory: the registry
behind ``ngram-collapse simulate MODEL``.

``simulate(model, ...)`` runs one registered model on the shared generation loop, all trajectories at
once as one batch drawing from ``np.random.default_rng(seed)``, and returns its
:class:`~ngram_collapse.results.Results`: summary rows k = 0..K of the simulated quantity's mean over
trajectories with its ``stderr``, and the theory (``None`` where none is known); ``generations.csv``
holds every trajectory's state. The models:

* ``bernoulli`` (Theorem 1; Figures 3 and 9): ``survival`` = Pr(P_k != 0), or Pr(P_k not in {0,1})
  with ``both_sides``; per trajectory ``count`` = n P_k.
* ``poisson`` (Theorem 2; Figure 4): ``survival`` = Pr(Lambda_k != 0); per trajectory ``count`` =
  n Lambda_k.
* ``zipf`` (Corollaries 1 and 2; Figure 7): ``survival`` = E[uniq_k] / m'; per trajectory ``tokens``,
  ``distinct_words`` and the drift metrics.
* ``gaussian`` and ``gmm`` (Theorems 3 and 4; Figures 5 and 13): see :mod:`ngram_collapse.continuous`.

The discrete models take a workflow (:mod:`ngram_collapse.workflows`), the categorical one decoding
transforms too (:mod:`ngram_collapse.discrete`).

Every model's defaults are the paper's settings (:data:`ngram_collapse.paper.SIMULATE_DEFAULTS`). The
command line builds its options from :data:`SIMULATIONS`.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import checks, seeding
from .continuous import ESTIMATORS, simulate_gaussian, simulate_gmm
from .discrete import SUFFICIENT_WORKFLOWS, run_bernoulli, run_poisson, run_zipf
from .errors import InputError
from .loop import SAMPLING_SCHEMES
from .paper import SIMULATE_DEFAULTS
from .results import Results
from .workflows import WORKFLOWS


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


def _workflow_options(choices: tuple[str, ...]) -> tuple[Option, ...]:
    return (Option("workflow", str, "what each generation is trained on", "replace", choices),
            Option("real_fraction", float, "L in [0, 1], the real part of every generation (mixing workflows)"))


_DECODING_OPTIONS = (Option("temperature", float, "sample p^(1/T), renormalised; T > 0", 1.0),
                     Option("top_k", int, "sample only the K most probable symbols, K >= 1"),
                     Option("top_p", float, "sample only the most probable symbols holding P in (0, 1]"))

register(Simulation(
    "bernoulli", run_bernoulli,
    (Option("p0", float, "initial probability P_0 in [0, 1]"),
     Option("n", int, "samples per generation"),
     Option("both_sides", bool, "measure Pr(P_k not in {0,1}) and add the Seddik et al. bounds", False),
     *_workflow_options(SUFFICIENT_WORKFLOWS)),
    "Bernoulli recursive training vs Theorem 1 (Figures 3 and 9)", _survival_figure))
register(Simulation(
    "poisson", run_poisson,
    (Option("lam0", float, "initial rate lambda_0 >= 0"),
     Option("n", int, "samples per generation"),
     *_workflow_options(SUFFICIENT_WORKFLOWS)),
    "Poisson recursive training vs Theorem 2 (Figure 4)", _survival_figure))
register(Simulation(
    "zipf", run_zipf,
    (Option("m", int, "symbols of the Zipf-Mandelbrot law"),
     Option("a", float, "exponent a of p_i ~ 1/(i+b)^a"),
     Option("b", float, "offset b > -1"),
     Option("n", int, "tokens per generation"),
     Option("sampling", str, "sample-size rule", choices=SAMPLING_SCHEMES),
     *_workflow_options(WORKFLOWS), *_DECODING_OPTIONS),
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
