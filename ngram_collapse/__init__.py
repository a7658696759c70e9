"""ngram-collapse: measure model collapse under recursive training.

After Suresh, Thangaraj and Khandavally, "Rate of Model Collapse in Recursive Training" (AISTATS 2025);
the theory the code computes is written up in ``docs/theory.md``, the results format in
``docs/results.md``.

Library use::

    import numpy as np
    from ngram_collapse import NgramModel, load_sequences, run_experiment

    data = load_sequences("wikitext-2:valid")            # or a file, a folder, or None (embedded)
    model = NgramModel(3).fit(data)                      # or .fit([["a", "b"], ["c"]])
    model.prob("of", ["the", "end"])                     # nltk.lm.MLE semantics
    sample = model.sample(1000, np.random.default_rng(0))
    results = run_experiment(data, order=3, generations=10, trajectories=5, seed=0)
    results.generations                                  # what the command prints and writes

The parametric models (Bernoulli, Poisson, Categorical) are in :mod:`ngram_collapse.parametric` and
:func:`ngram_collapse.simulate.simulate`; the continuous ones in :mod:`ngram_collapse.continuous`; the
paper's bounds in :mod:`ngram_collapse.bounds`; reading results back in :mod:`ngram_collapse.results`.
"""
from typing import Any

from . import bounds, results
from .errors import InputError
from .settings import RunSettings
from .loop import Generation, recursive_training
from .ngram import NgramModel
from .results import Results
from .simulate import simulate
from .vocab import Sequences, Vocabulary

# Reading corpora and running experiments pull in the process pool, the corpus registry and the
# dataset readers; they are imported on first use (PEP 562), which keeps ``simulate``'s start-up light.
_ON_FIRST_USE = {"load_sequences": "corpus", "run_experiment": "experiment"}


def __getattr__(name: str) -> Any:
    if name in _ON_FIRST_USE:
        import importlib

        value = getattr(importlib.import_module(f".{_ON_FIRST_USE[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "Generation",
    "InputError",
    "NgramModel",
    "Results",
    "RunSettings",
    "Sequences",
    "Vocabulary",
    "bounds",
    "load_sequences",
    "recursive_training",
    "results",
    "run_experiment",
    "simulate",
]
