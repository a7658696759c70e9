"""Recursive training of continuous models: the Gaussian (Theorem 3) and the symmetric Gaussian
mixture (Theorem 4), all trajectories at once on the one generation loop (``ngram_collapse.loop``).

Importing this package imports numpy only: plots (``continuous.plots``) import matplotlib lazily.
"""
from .bounds import (
    alpha,
    bertrand_bound,
    best_fractional_bound,
    best_fractional_exponent,
    expected_sigma,
    fractional_moment_bound,
    log_beta,
    theorem3_bound,
    theorem4_bound,
)
from .gaussian import Gaussian, GaussianStats
from .gmm import ESTIMATORS, SymmetricGMM, approx_kappa, approx_ml, compare_estimators, joint_ml
from .simulate import parameter_trajectories, simulate_gaussian, simulate_gmm

__all__ = [
    "ESTIMATORS",
    "Gaussian",
    "GaussianStats",
    "SymmetricGMM",
    "alpha",
    "approx_kappa",
    "approx_ml",
    "bertrand_bound",
    "compare_estimators",
    "best_fractional_bound",
    "best_fractional_exponent",
    "expected_sigma",
    "fractional_moment_bound",
    "joint_ml",
    "log_beta",
    "parameter_trajectories",
    "simulate_gaussian",
    "simulate_gmm",
    "theorem3_bound",
    "theorem4_bound",
]
