"""Small helpers several test modules share (imported as ``from helpers import ...``)."""
from __future__ import annotations

import os

import numpy as np


def mean_and_se(values):
    """Mean over trajectories (axis 0 of ``values``) and its standard error."""
    values = np.asarray(values, dtype=float)
    return values.mean(0), values.std(0, ddof=1) / np.sqrt(values.shape[0])


def clean_env(**extra):
    """This process's environment without the hub's and this tool's variables, plus ``extra``: what a
    subprocess that must not find local corpora or reach the hub by accident runs with."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "NGRAM_COLLAPSE"))}
    return {**env, **extra}
