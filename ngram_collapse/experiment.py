"""Recursive n-gram training on a corpus: many trajectories on the generation loop, with the theory.

:func:`run_experiment` is what ``python -m ngram_collapse`` runs and what every report cell runs; it
returns the run's :class:`~ngram_collapse.results.Results` (kind ``ngram``). :class:`RunSettings`
holds and validates everything that determines the numbers besides the corpus.
"""
from __future__ import annotations

import functools
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import bounds, checks, seeding
from .loop import SAMPLING_SCHEMES, progress_bar, recursive_training
from .ngram import MAX_ORDER, NgramModel
from .orders import WordUnits, predicted_distinct, word_units
from .pool import run_ordered
from .results import Results, Table, rows, spread, trajectory_columns, write
from .vocab import Sequences

WORDS_HEADER = ("word", "count", "trajectory", "forgotten_at", "effective_count", "sequences")
#: bytes held per trajectory and generation (measurements, their copies in the results and the CSV
#: columns) and per trajectory and word (when it was forgotten, and the words table built from it)
_BYTES_PER_GENERATION = 128
_BYTES_PER_WORD = 16


@dataclass(frozen=True)
class RunSettings:
    """The settings of a recursive n-gram run (validated on construction).

    Attributes:
        order: n-gram order, 1 to ``MAX_ORDER``.
        generations: K >= 0 retraining rounds.
        trajectories: T >= 1 independent trajectories.
        sampling: ``multinomial`` (Corollary 1) or ``poisson`` (Corollary 2); see
            :func:`ngram_collapse.loop.next_size`.
        seed: the root seed (see :mod:`ngram_collapse.seeding`); trajectory t draws from its t-th child.
    """

    order: int = 1
    generations: int = 10
    trajectories: int = 5
    sampling: str = "multinomial"
    seed: seeding.Seed = 0

    def __post_init__(self) -> None:
        checks.integer("order", self.order, 1, MAX_ORDER)
        checks.integer("generations", self.generations, minimum=0)
        checks.integer("trajectories", self.trajectories, minimum=1)
        checks.choice("sampling", self.sampling, SAMPLING_SCHEMES)
        checks.run_size(self.generations, self.trajectories, _BYTES_PER_GENERATION, "the per-generation results")
        object.__setattr__(self, "seed", seeding.seed_sequence(self.seed))

    def config(self) -> dict[str, Any]:
        """The settings as JSON values (the seed as :func:`ngram_collapse.seeding.describe` gives it)."""
        return {**asdict(self), "seed": seeding.describe(self.seed)}


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


def run_trajectory(model: NgramModel, settings: RunSettings, seed: np.random.SeedSequence,
                   on_generation=None) -> Trajectory:
    """Run one trajectory from a model fitted on the original corpus (generation 0; not modified).

    Args:
        model: fitted on generation 0.
        settings: generations and sampling rule.
        seed: this trajectory's ``SeedSequence``.
        on_generation: called with no argument after each generation k >= 1 (progress).
    """
    rng = np.random.default_rng(seed)
    data: Sequences = model.data
    shape = settings.generations + 1
    tokens = np.zeros(shape, np.int64)
    distinct_words = np.zeros(shape, np.int64)
    distinct_ngrams = np.zeros(shape, np.int64)
    forgotten_at = np.full(len(data.vocab), -1, np.int32)
    alive = data.counts() > 0
    for gen in recursive_training(model, data, data.num_tokens, settings.generations, rng, settings.sampling):
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


def _trajectory_task(settings: RunSettings, model: NgramModel, seed: np.random.SeedSequence) -> Trajectory:
    """A trajectory as a task of :func:`ngram_collapse.pool.run_ordered` (the model is the shared part)."""
    return run_trajectory(model, settings, seed)


def theory(units: WordUnits, settings: RunSettings) -> dict[str, NDArray[np.float64]]:
    """E[uniq_k], k = 0..K: from the original counts, Corollary 1's ``bound_lower`` and
    ``bound_upper`` (multinomial sampling) or Corollary 2's exact ``expected`` (Poisson sampling)
    (docs/theory.md §6); at every order, the ``predicted`` curve from the effective counts and the
    ``sequence_limit`` from the number of sequences holding each word (docs/theory.md §11)."""
    k = np.arange(settings.generations + 1)
    if settings.sampling == "poisson":
        corollary = {"expected": bounds.corollary2_expected_distinct(units.counts, k)}
    else:
        lower, upper = bounds.corollary1_bounds(units.counts, k)
        corollary = {"bound_lower": lower, "bound_upper": upper}
    return {**corollary, "predicted": predicted_distinct(units.effective, k),
            "sequence_limit": predicted_distinct(units.sequences, k)}


def run_experiment(data: Sequences, settings: RunSettings | None = None, *, jobs: int = 1,
                   progress: bool = False, about: dict[str, Any] | None = None, **parameters: Any) -> Results:
    """Recursively retrain an MLE n-gram model on its own samples (docs/theory.md §6 and §8).

    Generation 0 is fitted on ``data``; generation k on ``NgramModel.sample`` of generation k-1.
    Trajectory t draws from the t-th ``SeedSequence`` spawned from the seed, so results do not depend on
    ``jobs``.

    Args:
        data: the original corpus (see :func:`ngram_collapse.corpus.load_sequences`).
        settings: a :class:`RunSettings`, or None to build one from ``parameters`` (``order``,
            ``generations``, ``trajectories``, ``sampling``, ``seed``).
        jobs: local processes running trajectories.
        progress: show a tqdm bar on stderr.
        about: entries describing the data for ``config`` (e.g. the corpus name and tokenizer).

    Returns:
        Results of kind ``ngram``: summary rows k = 0..K with ``distinct_mean``, ``distinct_std``,
        ``tokens_mean`` and the theory; ``generations.csv`` columns ``tokens``, ``distinct_words``,
        ``distinct_ngrams``; the ``words`` table (each word's original count and the generation at which
        each trajectory forgot it).
    """
    if settings is None:
        settings = RunSettings(**parameters)
    elif parameters:
        raise TypeError("give either settings or its parameters, not both")
    if not isinstance(data, Sequences):
        raise TypeError(f"data must be Sequences (see load_sequences or Sequences.encode), not {type(data).__name__}")
    checks.memory("trajectories", settings.trajectories, settings.trajectories * len(data.vocab) * _BYTES_PER_WORD,
                  f"when each of {len(data.vocab):,} words is forgotten in every trajectory")
    seeds = seeding.spawn(settings.seed, settings.trajectories)
    start = time.perf_counter()
    model = NgramModel(settings.order).fit(data)
    fitted = time.perf_counter()
    units = word_units(data, settings.order)
    predicted = time.perf_counter()
    bar = progress_bar(settings.trajectories * settings.generations, progress)
    try:
        if jobs == 1:
            task = functools.partial(run_trajectory, on_generation=lambda: bar.update(1))
            done = [task(model, settings, s) for s in seeds]
        else:
            done = run_ordered(functools.partial(_trajectory_task, settings), seeds, jobs, shared=model,
                               on_done=lambda _: bar.update(settings.generations))
    finally:
        bar.close()
    seconds = time.perf_counter() - predicted
    timings = {"fit_generation0_seconds": fitted - start, "prediction_seconds": predicted - fitted,
               "trajectories_seconds": seconds, "processes": jobs,
               "tokens_per_second": settings.trajectories * settings.generations * data.num_tokens / max(seconds, 1e-12)}
    return _results(data, units, settings, done, {**(about or {}), **settings.config()}, timings)


def _results(data: Sequences, units: WordUnits, settings: RunSettings, done: list[Trajectory],
             config: dict[str, Any], timings: dict[str, Any]) -> Results:
    distinct = np.stack([t.distinct_words for t in done])
    tokens = np.stack([t.tokens for t in done])
    mean, std, _ = spread(distinct)
    summary_rows = rows({"generation": np.arange(settings.generations + 1), "distinct_mean": mean,
                         "distinct_std": std, "tokens_mean": tokens.mean(axis=0), **theory(units, settings)})
    columns = trajectory_columns(tokens=tokens, distinct_words=distinct,
                                 distinct_ngrams=np.stack([t.distinct_ngrams for t in done]))
    forgotten = np.stack([t.forgotten_at for t in done], axis=1)
    words = Table(WORDS_HEADER, functools.partial(_word_rows, list(data.vocab.words), units, forgotten))
    return Results("ngram", config, summary_rows, columns, timings, tables={"words": words})


def _word_rows(vocab: list[str], units: WordUnits, forgotten: NDArray[np.int32]):
    """Rows of ``words.csv``: one per word of the original vocabulary and trajectory (word by word,
    trajectories in order): its count, ``forgotten_at`` (the first generation the word is absent, or
    ``""`` if it survives the run), its effective count (4 decimals) and the number of sequences
    holding it (:func:`ngram_collapse.orders.word_units`). Generated lazily: memory stays
    O(vocabulary x trajectories)."""
    effective = np.round(units.effective, 4).tolist()
    for i in np.flatnonzero(units.counts).tolist():
        word, count, e, s = vocab[i], int(units.counts[i]), effective[i], int(units.sequences[i])
        for t, k in enumerate(forgotten[i].tolist()):
            yield word, count, t, (k if k >= 0 else ""), e, s


def write_run(results: Results, out: Path, plot: bool = True) -> None:
    """Write a run's files into the folder ``out``, whole or not at all: the results
    (:func:`ngram_collapse.results.write`) and, if ``plot``, ``survival.png``. Used by the single run
    and by every cell of a report."""
    from .plot import plot_survival

    write(results, out, {"survival.png": lambda path: plot_survival(results, path)} if plot else {})
