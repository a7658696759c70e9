"""The settings of the paper's experiments, in one table.

Every figure of Suresh et al. (2025) that this tool reproduces is a list of panels; a panel is a
model, its parameters and the run's size. ``simulate``'s defaults, ``scripts/reproduce_paper.py``,
``scripts/bench.py`` and the tests all read this table.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from collections.abc import Mapping
from typing import Any


@dataclass(frozen=True)
class Panel:
    """One setting of a figure: ``model`` (a ``simulate`` model or ``ngram``), its parameters, and
    the number of generations and trajectories."""

    model: str
    parameters: Mapping[str, Any]
    generations: int
    trajectories: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "parameters", MappingProxyType(dict(self.parameters)))


def _panels(model: str, generations: int, trajectories: int, *parameters: dict[str, Any]) -> tuple[Panel, ...]:
    return tuple(Panel(model, p, generations, trajectories) for p in parameters)


FIGURES: Mapping[str, tuple[Panel, ...]] = MappingProxyType({
    # Gaussian trajectories (Theorem 3)
    "fig2a": _panels("gaussian", 2500, 25, {"n": 100, "mu0": 0.0, "sigma0": 1.0, "eps": 0.1}),
    # Bernoulli trajectories (Theorem 1)
    "fig2b": _panels("bernoulli", 600, 25, {"p0": 0.2, "n": 100}),
    # Pr(P_k != 0) against Theorem 1
    "fig3": _panels("bernoulli", 50, 5000, {"p0": 0.001, "n": 10_000}, {"p0": 0.01, "n": 100}),
    # Pr(P_k not in {0, 1}) against Theorem 1 and Seddik et al.
    "fig9": _panels("bernoulli", 50, 5000, {"p0": 0.001, "n": 10_000, "both_sides": True},
                    {"p0": 0.01, "n": 100, "both_sides": True}),
    # Pr(Lambda_k != 0) against Theorem 2 (log y)
    "fig4": _panels("poisson", 500, 5000, {"lam0": 1.0, "n": 10}, {"lam0": 10.0, "n": 10}),
    # Pr(Sigma_k > eps) against Theorem 3, Bertrand et al. and the fractional-moment bound
    "fig5": _panels("gaussian", 200, 1000, {"n": 10, "mu0": 0.0, "sigma0": 1.0, "eps": 0.1}),
    # E[uniq_k] / m on the WikiText-2 prefix against Corollary 1, orders 1, 2, 8, 16
    "fig6": tuple(Panel("ngram", {"corpus": "wikitext-2:train", "max_words": 500_000, "order": order,
                                  "sampling": "multinomial"}, 10, 5) for order in (1, 2, 8, 16)),
    # E[uniq_k] / m for Zipf-Mandelbrot starts against Corollary 1
    "fig7": _panels("zipf", 10, 200, {"m": 1000, "a": 1.0, "b": 2.7, "n": 1000, "sampling": "multinomial"},
                    {"m": 1000, "a": 2.0, "b": 5.0, "n": 1000, "sampling": "multinomial"}),
    # approximate vs joint ML of the symmetric mixture, 100 samples of n = 10 (no recursion)
    "fig11_12": _panels("gmm", 0, 100, {"n": 10, "mu0": 2.0, "sigma0": 1.0}),
    # Pr(Sigma_k > eps) of the symmetric mixture against Theorem 4, both estimators
    "fig13": _panels("gmm", 200, 500, {"n": 10, "mu0": 1.0, "sigma0": 1.0, "eps": 0.1, "estimator": "joint-ml"},
                     {"n": 10, "mu0": 1.0, "sigma0": 1.0, "eps": 0.1, "estimator": "approx-ml"}),
})

#: ``simulate MODEL``'s defaults: the panel of the paper's figure for that model.
SIMULATE_DEFAULTS: Mapping[str, Panel] = MappingProxyType({
    "bernoulli": FIGURES["fig3"][1],
    "poisson": FIGURES["fig4"][0],
    "zipf": FIGURES["fig7"][0],
    "gaussian": FIGURES["fig5"][0],
    "gmm": FIGURES["fig13"][1],
})
