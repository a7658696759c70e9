"""Recursive n-gram training on a corpus: many trajectories on the generation loop, with the theory.

:func:`run_experiment` is what ``python -m ngram_collapse`` runs; its :class:`ExperimentResult`
holds every number the command prints and writes.
"""
from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import bounds
from .loop import check_sampling, map_trajectories, recursive_training, trajectory_seeds
from .ngram import NgramModel
from .vocab import Sequences


@dataclass
class Trajectory:
    """What one trajectory measured, for generations k = 0..K.

    Attributes:
        tokens: words in every generation, shape (K+1,).
        distinct_words: distinct words in every generation, shape (K+1,).
        distinct_ngrams: distinct n-grams of words in every generation, shape (K+1,).
        forgotten_at: for every vocabulary id, the first generation in which the word is absent,
            -1 if it survives all K generations (and for ids absent from the original corpus),
            shape (len(vocab),). A word once absent never returns: a model cannot sample it.
    """

    tokens: NDArray[np.int64]
    distinct_words: NDArray[np.int64]
    distinct_ngrams: NDArray[np.int64]
    forgotten_at: NDArray[np.int32]


def run_trajectory(model: NgramModel, generations: int, sampling: str, index: int,
                   seed: np.random.SeedSequence, on_generation=None) -> Trajectory:
    """Run one trajectory from a model fitted on the original corpus (generation 0).

    Args:
        model: fitted on generation 0; not modified.
        generations: K.
        sampling: ``multinomial`` or ``poisson``.
        index: the trajectory's number (for schedulers; the randomness comes from ``seed`` only).
        seed: this trajectory's ``SeedSequence``.
        on_generation: called with no argument after each generation k >= 1 (progress).
    """
    rng = np.random.default_rng(seed)
    data: Sequences = model.data
    shape = generations + 1
    tokens = np.zeros(shape, np.int64)
    distinct_words = np.zeros(shape, np.int64)
    distinct_ngrams = np.zeros(shape, np.int64)
    forgotten_at = np.full(len(data.vocab), -1, np.int32)
    alive = data.counts() > 0
    for gen in recursive_training(model, data, data.num_tokens, generations, rng, sampling):
        present = gen.data.counts() > 0
        forgotten_at[alive & ~present] = gen.k
        alive &= present
        tokens[gen.k] = gen.data.num_tokens
        distinct_words[gen.k] = np.count_nonzero(present)
        distinct_ngrams[gen.k] = gen.model.distinct_ngrams
        if gen.k and on_generation is not None:
            on_generation()
        del gen  # let the loop release this generation's model and data while it makes the next
    return Trajectory(tokens, distinct_words, distinct_ngrams, forgotten_at)


@dataclass
class ExperimentResult:
    """Every trajectory of a recursive n-gram run, its configuration and the theory beside it.

    Attributes:
        config: the run's parameters (order, sampling, generations, trajectories, seed, ...).
        vocab: the original corpus's vocabulary (id -> word).
        counts: original count of every vocabulary id, shape (len(vocab),).
        trajectories: one :class:`Trajectory` per trajectory, in order.
        timings: seconds spent reading/fitting/running.
    """

    config: dict[str, Any]
    vocab: list[str]
    counts: NDArray[np.int64]
    trajectories: list[Trajectory]
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def vocab_size(self) -> int:
        """Distinct words in the original corpus (m)."""
        return int(np.count_nonzero(self.counts))

    @property
    def tokens(self) -> int:
        """Words in the original corpus (n)."""
        return int(self.counts.sum())

    def distinct_words(self) -> NDArray[np.int64]:
        """Distinct words, shape (trajectories, K+1)."""
        return np.stack([t.distinct_words for t in self.trajectories])

    def theory(self) -> dict[str, NDArray[np.float64]]:
        """E[uniq_k] from the original counts, k = 0..K: Corollary 1's ``bound_lower`` and
        ``bound_upper`` (multinomial) or Corollary 2's exact ``expected`` (Poisson)."""
        k = np.arange(self.config["generations"] + 1)
        if self.config["sampling"] == "poisson":
            return {"expected": bounds.corollary2_expected_distinct(self.counts, k)}
        lower, upper = bounds.corollary1_bounds(self.counts, k)
        return {"bound_lower": lower, "bound_upper": upper}

    def generation_rows(self) -> list[tuple[int, int, int, int, int]]:
        """Rows of ``generations.csv``: trajectory, generation, tokens, distinct_words, distinct_ngrams."""
        return [(t, k, int(tr.tokens[k]), int(tr.distinct_words[k]), int(tr.distinct_ngrams[k]))
                for t, tr in enumerate(self.trajectories) for k in range(tr.tokens.size)]

    def word_rows(self) -> Iterator[tuple[str, int, int, int | str]]:
        """Rows of ``words.csv``: word, count, trajectory, forgotten_at.

        One row per word of the original vocabulary and trajectory (word by word, trajectories in
        order); ``forgotten_at`` is the first generation in which the word is absent, or ``""`` if it
        survives the run. Rows are generated lazily: memory stays O(vocabulary x trajectories).
        """
        forgotten = np.stack([t.forgotten_at for t in self.trajectories], axis=1).tolist()
        for i in np.flatnonzero(self.counts).tolist():
            word, count = self.vocab[i], int(self.counts[i])
            for t, k in enumerate(forgotten[i]):
                yield word, count, t, (k if k >= 0 else "")

    def summary(self) -> dict[str, Any]:
        """The content of ``summary.json`` (see the README)."""
        distinct = self.distinct_words().astype(float)
        ddof = 1 if distinct.shape[0] > 1 else 0
        theory = self.theory()
        generations = []
        for k in range(distinct.shape[1]):
            row = {"generation": k, "distinct_mean": float(distinct[:, k].mean()),
                   "distinct_std": float(distinct[:, k].std(ddof=ddof))}
            row.update({name: float(values[k]) for name, values in theory.items()})
            generations.append(row)
        return {
            "config": self.config,
            "vocab_size": self.vocab_size,
            "tokens": self.tokens,
            "timings": self.timings,
            "versions": _versions(),
            "generations": generations,
        }


GENERATIONS_HEADER = ("trajectory", "generation", "tokens", "distinct_words", "distinct_ngrams")
WORDS_HEADER = ("word", "count", "trajectory", "forgotten_at")


def write_run(result: ExperimentResult, out: Path, plot: bool = True) -> dict[str, Any]:
    """Write a run's files into the folder ``out``, whole or not at all (:func:`output.atomic_folder`):
    ``generations.csv``, ``words.csv`` (per-word survival), ``summary.json`` and, if ``plot``,
    ``survival.png``. Used by the single run and by every cell of a report.

    Returns:
        The summary written to ``summary.json``.
    """
    from .output import atomic_folder, write_csv, write_json

    summary = result.summary()
    with atomic_folder(Path(out)) as tmp:
        write_csv(tmp / "generations.csv", GENERATIONS_HEADER, result.generation_rows())
        write_csv(tmp / "words.csv", WORDS_HEADER, result.word_rows())
        write_json(tmp / "summary.json", summary)
        if plot:
            from .plot import plot_survival

            plot_survival(summary, tmp / "survival.png")
    return summary


def run_experiment(
    data: Sequences,
    order: int,
    *,
    generations: int = 10,
    trajectories: int = 5,
    sampling: str = "multinomial",
    seed: int | None = 0,
    jobs: int = 1,
    progress: bool = False,
    config: dict[str, Any] | None = None,
) -> ExperimentResult:
    """Recursively retrain an order-``order`` MLE n-gram model on its own samples.

    Generation 0 is fitted on ``data``; generation k on ``NgramModel.sample`` of generation k-1
    (sample sizes by ``sampling``, see :func:`ngram_collapse.loop.next_size`). Trajectory t uses the
    t-th ``SeedSequence`` spawned from ``seed``, so results do not depend on ``jobs``.

    Args:
        data: the original corpus (see :func:`ngram_collapse.corpus.load_sequences`).
        order: n-gram order >= 1.
        generations: K >= 0.
        trajectories: >= 1.
        sampling: ``multinomial`` (Corollary 1) or ``poisson`` (Corollary 2).
        seed: the root seed.
        jobs: local processes running trajectories.
        progress: show a tqdm bar on stderr.
        config: extra entries for ``result.config`` (e.g. the corpus name and tokenizer).
    """
    check_sampling(sampling)
    if generations < 0:
        raise ValueError(f"generations must be >= 0, not {generations}")
    seeds = trajectory_seeds(seed, trajectories)
    start = time.perf_counter()
    model = NgramModel(order).fit(data)
    fitted = time.perf_counter()
    bar = _progress_bar(trajectories * generations, progress)
    try:
        if jobs == 1:
            run_one = functools.partial(run_trajectory, model, generations, sampling,
                                        on_generation=lambda: bar.update(1))
            results = map_trajectories(run_one, seeds)
        else:
            run_one = functools.partial(run_trajectory, model, generations, sampling)
            results = map_trajectories(run_one, seeds, jobs, on_done=lambda _: bar.update(generations))
    finally:
        bar.close()
    done = time.perf_counter()
    full_config = {"order": order, "sampling": sampling, "generations": generations,
                   "trajectories": trajectories, "seed": seed, "jobs": jobs, **(config or {})}
    return ExperimentResult(
        config=full_config,
        vocab=list(data.vocab.words),
        counts=data.counts(),
        trajectories=results,
        timings={"fit_generation0_seconds": fitted - start, "trajectories_seconds": done - fitted,
                 "tokens_per_second": float(trajectories * generations * data.num_tokens
                                            / max(done - fitted, 1e-12))},
    )


def _progress_bar(total: int, enabled: bool):
    from tqdm import tqdm

    # disable=None: shown only when stderr is a terminal
    return tqdm(total=total, disable=None if enabled else True, unit="gen", desc="generations", leave=False)


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("ngram-collapse", "numpy", "nltk", "tqdm", "matplotlib"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    import platform

    found["python"] = platform.python_version()
    return found
