"""Recursive n-gram training on a corpus: many trajectories on the generation loop, with the theory.

:func:`run_experiment` is what ``python -m ngram_collapse`` runs and what every report cell runs; it
returns the run's :class:`~ngram_collapse.results.Results` (kind ``ngram``). :class:`RunSettings`
holds and validates everything that determines the numbers besides the corpus.
"""
from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import bounds, checks, regimes, seeding
from .loop import recursive_training
from .progress import progress_bar
from .measures import Forgetting, entropy_bits, total_variation
from .heldout import evaluate
from .ngram import NgramModel
from .orders import WordUnits, predicted_distinct, word_units
from .pool import run_ordered
from .results import Results, Table, rows, spread, trajectory_columns, write
from .settings import RunSettings
from .vocab import Sequences

WORDS_HEADER = ("word", "count", "trajectory", "forgotten_at", "returned_at", "effective_count", "sequences")
#: bytes held per trajectory and word (when it was forgotten and came back, and the words table)
_BYTES_PER_WORD = 16


@dataclass
class Trajectory:
    """What one trajectory measured, for generations k = 0..K.

    Attributes:
        measured: arrays of shape (K+1,) by name: ``tokens`` and ``distinct_words`` of the training
            data, ``sample_distinct_words`` (of the part drawn from generation k-1's model; the
            original data at k = 0), ``entropy_bits`` (unigram entropy of the training data),
            ``tv_from_original`` (its total-variation distance from the original corpus's unigram
            distribution), ``distinct_ngrams``, and with held-out text ``perplexity`` and
            ``heldout_oov_rate``.
        forgotten: when every vocabulary id was first absent from the training data, and when it
            returned (:class:`~ngram_collapse.measures.Forgetting`; under ``replace`` an mle model
            never brings a word back).
        seconds: time spent ``sampling``, ``refitting`` and ``evaluating`` (held-out text).
    """

    measured: dict[str, NDArray[Any]]
    forgotten: Forgetting
    seconds: dict[str, float]


def run_trajectory(model: NgramModel, settings: RunSettings, seed: np.random.SeedSequence,
                   heldout: Sequences | None = None, on_generation=None) -> Trajectory:
    """Run one trajectory from a model fitted on the original corpus (generation 0; not modified).

    Args:
        model: fitted on generation 0.
        settings: generations, sampling rule, workflow, decoding, estimator.
        seed: this trajectory's ``SeedSequence``.
        heldout: held-out text: every generation's perplexity on it and its OOV rate are measured
            (:func:`ngram_collapse.heldout.evaluate`).
        on_generation: called with no argument after each generation k >= 1 (progress).
    """
    rng = np.random.default_rng(seed)
    data: Sequences = model.data
    original = data.counts()
    columns: dict[str, list[Any]] = {name: [] for name in _MEASURED + (_HELDOUT if heldout is not None else ())}
    forgetting = Forgetting(original > 0)
    seconds = {"sampling": 0.0, "refitting": 0.0, "evaluating": 0.0}
    runs = recursive_training(model, data, data.num_tokens, settings.generations, rng, settings.sampling,
                              settings.regime, settings.decoding)
    for gen in runs:
        seconds["sampling"] += gen.sample_seconds
        seconds["refitting"] += gen.fit_seconds
        # generation 0 is the corpus, and under replace a generation's data is its sample: counted once
        counts = original if gen.data is data else gen.data.counts()
        sample_counts = counts if gen.sample is gen.data else gen.sample.counts()
        forgetting.update(gen.k, counts > 0)
        for name, value in (("tokens", gen.data.num_tokens), ("distinct_words", np.count_nonzero(counts)),
                            ("sample_distinct_words", np.count_nonzero(sample_counts)),
                            ("entropy_bits", entropy_bits(counts)),
                            ("tv_from_original", total_variation(counts, original)),
                            ("distinct_ngrams", gen.model.distinct_ngrams)):
            columns[name].append(value)
        if heldout is not None:
            start = time.perf_counter()
            for name, value in zip(_HELDOUT, evaluate(gen.model, settings, heldout)):
                columns[name].append(value)
            seconds["evaluating"] += time.perf_counter() - start
        if gen.k and on_generation is not None:
            on_generation()
        del gen, counts, sample_counts  # let the loop release this generation's model and data while it makes the next
    return Trajectory({name: np.asarray(values) for name, values in columns.items()}, forgetting, seconds)


_MEASURED = ("tokens", "distinct_words", "sample_distinct_words", "entropy_bits", "tv_from_original",
             "distinct_ngrams")
_HELDOUT = ("perplexity", "heldout_oov_rate")


def _trajectory_task(settings: RunSettings, shared: tuple[NgramModel, Sequences | None],
                     seed: np.random.SeedSequence) -> Trajectory:
    """A trajectory as a task of :func:`ngram_collapse.pool.run_ordered` (the model and the held-out
    text are the shared part)."""
    model, heldout = shared
    return run_trajectory(model, settings, seed, heldout)


def theory(units: WordUnits, settings: RunSettings) -> dict[str, NDArray[np.float64]]:
    """The theory of E[distinct words of generation k's training data], k = 0..K, that exists for the
    run's workflow and decoding, named by what it is (docs/theory.md §6, §11, §12):

    * ``replace``: Corollary 1's ``bound_lower`` and ``bound_upper`` (multinomial sampling) or
      Corollary 2's ``expected`` (Poisson sampling; exact at order 1), and at every order the
      ``predicted`` curve from the effective counts and the ``sequence_limit``;
    * ``mix-fresh``: the closed form, ``expected`` under Poisson sampling (exact at order 1) and
      ``bound_lower`` under multinomial sampling;
    * ``mix-fixed``: the closed form under Poisson sampling, ``expected`` (exact at order 1);
    * ``accumulate``: ``expected``, every original word (the original data stay in the pool);
    * ``accumulate-subsample``, any multinomial ``mix-fixed``, any run with a decoding transform and
      any smoothed estimator: none (no key).
    """
    k = np.arange(settings.generations + 1)
    poisson, L = settings.sampling == "poisson", settings.real_fraction
    if not settings.decoding.plain or settings.estimator != "mle":
        return {}
    if settings.workflow == "replace":
        if poisson:
            corollary = {"expected": bounds.corollary2_expected_distinct(units.counts, k)}
        else:
            lower, upper = bounds.corollary1_bounds(units.counts, k)
            corollary = {"bound_lower": lower, "bound_upper": upper}
        return {**corollary, "predicted": predicted_distinct(units.effective, k, units.segments),
                "sequence_limit": predicted_distinct(units.sequences, k)}
    if settings.workflow == "mix-fresh":
        return {"expected" if poisson else "bound_lower": regimes.mix_fresh_expected_distinct(units.counts, k, L)}
    if settings.workflow == "mix-fixed" and poisson:
        return {"expected": regimes.mix_fixed_expected_distinct(units.counts, units.sequences, k, L)}
    if settings.workflow == "accumulate":
        return {"expected": np.full(k.size, float(np.count_nonzero(units.counts)))}
    return {}


def run_experiment(data: Sequences, settings: RunSettings | None = None, *, heldout: Sequences | None = None,
                   jobs: int = 1, progress: bool = False, about: dict[str, Any] | None = None,
                   **parameters: Any) -> Results:
    """Recursively retrain an n-gram model on its own samples (docs/theory.md §6, §8, §12, §14).

    Generation 0 is fitted on ``data``; generation k on what the workflow makes of a sample of
    generation k-1 (``replace``: the sample itself).
    Trajectory t draws from the t-th ``SeedSequence`` spawned from the seed, so results do not depend on
    ``jobs``.

    Args:
        data: the original corpus (see :func:`ngram_collapse.corpus.load_sequences`).
        settings: a :class:`~ngram_collapse.settings.RunSettings`, or None to build one from
            ``parameters`` (its fields: ``order``, ``generations``, ``trajectories``, ``sampling``,
            ``seed``, ``workflow``, ``real_fraction``, ``temperature``, ``top_k``, ``top_p``,
            ``estimator``, ``gamma``, ``discount``, ``vocabulary``, ``eval_estimator``).
        heldout: held-out text (e.g. ``load_sequences("wikitext-2:valid")``): every generation's
            perplexity on it and its OOV rate are measured (:mod:`ngram_collapse.heldout`).
        jobs: local processes running trajectories.
        progress: show a tqdm bar on stderr.
        about: entries describing the data for ``config`` (e.g. the corpus name and tokenizer).

    Returns:
        Results of kind ``ngram``: ``generations.csv`` holds every trajectory's measurements
        (:class:`Trajectory`); the summary rows k = 0..K hold ``distinct_mean``, ``distinct_std``,
        ``tokens_mean``, the means of the other measurements under their own names (with
        ``perplexity_std``; an infinite perplexity is ``None``) and the theory (:func:`theory`); the
        ``words`` table holds each word's original count, when each trajectory forgot it and when it
        came back, its effective count and sequences.
    """
    settings, seeds = prepare_run(data, settings, parameters)
    start = time.perf_counter()
    with progress_bar(data.num_tokens, progress, unit="word", desc="fitting generation 0") as bar:
        model = settings.model(data.counts() > 0 if settings.vocabulary == "fixed" else None).fit(data)
        bar.update(data.num_tokens)
    fitted = time.perf_counter()
    units = word_units(data, settings.order, model.ngrams)  # the table just fitted, not counted again
    predicted = time.perf_counter()
    n = data.num_tokens  # the words of a generation, for the bar's words/s (the original size)
    with progress_bar(settings.trajectories * settings.generations * n, progress, unit="word") as bar:
        if jobs == 1:
            task = functools.partial(run_trajectory, heldout=heldout, on_generation=lambda: bar.update(n))
            done = [task(model, settings, s) for s in seeds]
        else:
            done = run_ordered(functools.partial(_trajectory_task, settings), seeds, jobs, shared=(model, heldout),
                               on_done=lambda _: bar.update(settings.generations * n))
    seconds = time.perf_counter() - predicted
    timings = {"fit_generation0_seconds": fitted - start, "prediction_seconds": predicted - fitted,
               **{f"{step}_seconds": sum(t.seconds[step] for t in done) for step in done[0].seconds},
               "trajectories_seconds": seconds, "processes": jobs,
               "tokens_per_second": settings.trajectories * settings.generations * n / max(seconds, 1e-12)}
    return _results(data, units, settings, done, {**(about or {}), **settings.config()}, timings)


def _results(data: Sequences, units: WordUnits, settings: RunSettings, done: list[Trajectory],
             config: dict[str, Any], timings: dict[str, Any]) -> Results:
    measured = {name: np.stack([t.measured[name] for t in done]) for name in done[0].measured}
    mean, std, _ = spread(measured["distinct_words"])
    means = {name: measured[name].mean(axis=0) for name in ("sample_distinct_words", "entropy_bits", "tv_from_original",
                                                              "heldout_oov_rate") if name in measured}
    if "perplexity" in measured:  # infinite (an unseen word under a model without a floor): no value
        perplexity, spread_of = spread(measured["perplexity"])[:2]
        finite = np.isfinite(perplexity)
        means["perplexity"] = [float(v) if ok else None for v, ok in zip(perplexity, finite)]
        means["perplexity_std"] = None if spread_of is None else [float(v) if ok else None
                                                                  for v, ok in zip(spread_of, finite)]
    summary_rows = rows({"generation": np.arange(settings.generations + 1), "distinct_mean": mean,
                         "distinct_std": std, "tokens_mean": measured["tokens"].mean(axis=0), **means,
                         **theory(units, settings)})
    return Results("ngram", config, summary_rows, trajectory_columns(**measured), timings,
                   tables={"words": words_table(data, units, [t.forgotten for t in done])})


def prepare_run(data: Sequences, settings: RunSettings | None,
                parameters: dict[str, Any]) -> tuple[RunSettings, list[np.random.SeedSequence]]:
    """What every recursive run (word-level or subword) checks before any work: ``settings``, or the
    :class:`~ngram_collapse.settings.RunSettings` its ``parameters`` make; ``data`` of the right type;
    memory for when each word is forgotten in every trajectory. Returns the settings and the
    trajectories' seeds (the t-th spawned from the root seed)."""
    if settings is None:
        settings = RunSettings(**parameters)
    elif parameters:
        raise TypeError("give either settings or its parameters, not both")
    if not isinstance(data, Sequences):
        raise TypeError(f"data must be Sequences (see load_sequences or Sequences.encode), not {type(data).__name__}")
    checks.memory("trajectories", settings.trajectories, settings.trajectories * len(data.vocab) * _BYTES_PER_WORD,
                  f"when each of {len(data.vocab):,} words is forgotten in every trajectory")
    return settings, seeding.spawn(settings.seed, settings.trajectories)


def words_table(data: Sequences, units: WordUnits, forgetting: list[Forgetting]) -> Table:
    """The ``words`` table of a run (:func:`word_rows`), from every trajectory's :class:`Forgetting`."""
    forgotten = np.stack([f.forgotten_at for f in forgetting], axis=1)
    returned = np.stack([f.returned_at for f in forgetting], axis=1)
    return Table(WORDS_HEADER, functools.partial(word_rows, list(data.vocab.words), units, forgotten, returned))


def word_rows(vocab: list[str], units: WordUnits, forgotten: NDArray[np.int32], returned: NDArray[np.int32]):
    """Rows of ``words.csv`` (shared by n-gram and subword runs). ``forgotten`` and ``returned`` have
    shape (vocabulary, trajectories), -1 for never; ``units`` is the run's
    :class:`~ngram_collapse.orders.WordUnits`. One row per word of the original vocabulary and trajectory (word by word,
    trajectories in order): its count, ``forgotten_at`` (the first generation the word is absent from
    the training data) and ``returned_at`` (the first generation after that in which it is present
    again: only where real data or smoothing bring words back), each ``""`` if it never happened; its
    effective count (4 decimals) and the number of sequences holding it
    (:func:`ngram_collapse.orders.word_units`). Generated lazily: memory stays O(vocabulary x
    trajectories)."""
    effective = np.round(units.effective, 4).tolist()
    for i in np.flatnonzero(units.counts).tolist():
        word, count, e, s = vocab[i], int(units.counts[i]), effective[i], int(units.sequences[i])
        for t, (k, back) in enumerate(zip(forgotten[i].tolist(), returned[i].tolist())):
            yield word, count, t, (k if k >= 0 else ""), (back if back >= 0 else ""), e, s


def write_run(results: Results, out: Path, plot: bool = True) -> None:
    """Write a run's files into the folder ``out``, whole or not at all: the results
    (:func:`ngram_collapse.results.write`) and, if ``plot``, ``survival.png`` and, with held-out text,
    ``perplexity.png``. Used by the single run and by every cell of a report (n-gram and subword runs)."""
    from .plot import plot_perplexity, plot_run

    figures = {"survival.png": lambda path: plot_run(results, path)}
    if "perplexity" in results.trajectories:
        figures["perplexity.png"] = lambda path: plot_perplexity(results, path)
    write(results, out, figures if plot else {})
