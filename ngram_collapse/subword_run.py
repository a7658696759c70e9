"""Recursive training through a learned subword tokenizer (docs/theory.md §13).

Generation k's training text (generation 0: the corpus) -> a BPE tokenizer trained on it
(``retrained``) or generation 0's (``frozen``) -> subword sequences -> a maximum-likelihood n-gram
model of them -> a sample of subword sequences -> decoded to text, generation k+1's training text.
It runs on the one generation loop (:func:`ngram_collapse.loop.recursive_training`) with the model
:class:`~ngram_collapse.subword_model.SubwordNgram`, under every seed, sampling rule, workflow and
decoding of word-level runs; sizes are counted in words, as there. This module runs trajectories,
measures every generation (words of the corpus, invented words, subword types, tokenizer drift) and
builds the :class:`~ngram_collapse.results.Results` of kind ``subword``.
"""
from __future__ import annotations

import copy
import functools
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .experiment import prepare_run, theory, words_table
from .loop import recursive_training
from .progress import progress_bar
from .measures import Forgetting
from .orders import WordUnits, word_units
from .pool import run_ordered
from .results import Results, Table, rows, spread, trajectory_columns
from .settings import RunSettings
from .subword import KINDS, distinct_subwords, subwords_per_word, vocabulary_overlap
from .subword_model import SUBWORD_OPTIONS, Stopwatch, SubwordNgram, SubwordSettings
from .vocab import FIRST_WORD_ID, Sequences, Vocabulary

NOVEL_HEADER = ("word", "first_seen", "last_count", "trajectory")
TEXT_HEADER = ("trajectory", "generation", "line")
#: what every trajectory measures per generation (the columns of generations.csv, in order)
MEASURED = ("tokens", "distinct_words", "original_words", "novel_words", "novel_seen", "subword_tokens",
            "distinct_subwords", "vocabulary_overlap", "subwords_per_word", "learned_tokens")
STAGES = ("tokenizer_training", "encoding", "ngram", "decoding", "measures")


def reading_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments of :func:`ngram_collapse.corpus.load_sequences` that read a corpus for
    these corpus options: a subword run reads the corpus's white-space words (its normalised text),
    which its tokenizer then learns from."""
    reading = {name: value for name, value in options.items() if name not in SUBWORD_OPTIONS}
    if reading.get("tokenizer") in KINDS:
        reading["tokenizer"] = "whitespace"
    return reading


@dataclass
class SubwordTrajectory:
    """What one trajectory measured.

    Attributes:
        measured: every name of :data:`MEASURED`, shape (K + 1,) each.
        forgotten: when each word of the corpus's vocabulary was first absent and when it came back
            (:class:`~ngram_collapse.measures.Forgetting`, arrays of shape (corpus vocabulary,)).
        novel: the words not in the corpus that some generation's text held, in order of first
            appearance; ``first_seen`` (the first generation holding each) and ``last_count`` (its
            count at generation K), shape (len(novel),).
        lines: with ``keep_text``, the training text (lines) of every generation k >= 1, else empty.
        seconds: per stage (:data:`STAGES`); events: ``sample_redraws``.
    """

    measured: dict[str, NDArray[Any]]
    forgotten: Forgetting
    novel: list[str]
    first_seen: NDArray[np.int32]
    last_count: NDArray[np.int64]
    lines: list[list[str]]
    seconds: dict[str, float]
    events: dict[str, int]


def run_trajectory(model: SubwordNgram, settings: RunSettings, seed: np.random.SeedSequence,
                   keep_text: bool = False, on_generation=None) -> SubwordTrajectory:
    """Run one trajectory from a model fitted on the corpus (generation 0; not modified).

    Args:
        model: fitted on the corpus's word Sequences.
        settings: generations, sampling, workflow and decoding.
        seed: this trajectory's ``SeedSequence``.
        keep_text: keep every generation's training text.
        on_generation: called with no argument after each generation k >= 1 (progress).
    """
    rng = np.random.default_rng(seed)
    corpus = model.data
    m = len(corpus.vocab)
    vocab = Vocabulary(corpus.vocab.words[FIRST_WORD_ID:])  # this trajectory's: the corpus's words, then its own
    data = Sequences(corpus.ids, corpus.offsets, vocab)
    model = copy.copy(model)
    model.vocab, model.stopwatch = vocab, Stopwatch()
    first_vocabulary = model.tokenizer.vocabulary
    forgetting = Forgetting(corpus.counts() > 0)
    first_seen = np.empty(0, np.int32)
    columns: dict[str, list[Any]] = {name: [] for name in MEASURED}
    kept: list[list[str]] = []
    runs = recursive_training(model, data, data.num_tokens, settings.generations, rng, settings.sampling,
                              settings.regime, settings.decoding)
    for gen in runs:
        with model.stopwatch("measures"):
            fitted: SubwordNgram = gen.model
            counts = gen.data.counts()
            present = counts[:m] > 0
            forgetting.update(gen.k, present)
            first_seen = np.concatenate([first_seen, np.full(counts.size - m - first_seen.size, -1, np.int32)])
            first_seen[(counts[m:] > 0) & (first_seen < 0)] = gen.k
            original, novel = int(np.count_nonzero(present)), int(np.count_nonzero(counts[m:]))
            for name, value in (("tokens", gen.data.num_tokens), ("distinct_words", original + novel),
                                ("original_words", original), ("novel_words", novel),
                                ("novel_seen", np.count_nonzero(first_seen >= 0)),
                                ("subword_tokens", fitted.subwords.num_tokens),
                                ("distinct_subwords", distinct_subwords(fitted.subwords)),
                                ("vocabulary_overlap", vocabulary_overlap(fitted.tokenizer.vocabulary, first_vocabulary)),
                                ("subwords_per_word", subwords_per_word(fitted.subwords)),
                                ("learned_tokens", len(fitted.tokenizer.vocabulary))):
                columns[name].append(value)
            if keep_text and gen.k:
                kept.append(fitted.lines)
        if gen.k and on_generation is not None:
            on_generation()
        del gen, fitted  # let the loop release this generation's model and data while it makes the next
    seen = np.flatnonzero(first_seen >= 0)
    last = np.zeros(first_seen.size, np.int64)
    last[:counts.size - m] = counts[m:]
    return SubwordTrajectory({name: np.asarray(values) for name, values in columns.items()}, forgetting,
                             [vocab.words[m + i] for i in seen.tolist()], first_seen[seen], last[seen], kept,
                             dict(model.stopwatch.seconds), dict(model.stopwatch.events))


def _trajectory_task(settings: RunSettings, keep_text: bool, model: SubwordNgram,
                     seed: np.random.SeedSequence) -> SubwordTrajectory:
    """A trajectory as a task of :func:`ngram_collapse.pool.run_ordered` (the model is the shared part)."""
    return run_trajectory(model, settings, seed, keep_text)


@contextmanager
def _one_thread_per_process(jobs: int) -> Iterator[None]:
    """With several processes, the ``tokenizers`` library runs single-threaded (as it would decide
    itself after a fork, with a warning on stderr): its thread pool does not survive a fork, and two
    processes already fill this kind of machine. Its results do not depend on threads (tested)."""
    variable = "TOKENIZERS_PARALLELISM"
    if jobs == 1 or variable in os.environ:
        yield
        return
    os.environ[variable] = "false"
    try:
        yield
    finally:
        os.environ.pop(variable, None)


def run_subword(data: Sequences, settings: RunSettings | None = None, subword: SubwordSettings | None = None, *,
                jobs: int = 1, progress: bool = False, about: dict[str, Any] | None = None, keep_text: bool = False,
                **parameters: Any) -> Results:
    """Recursively retrain an MLE n-gram model of learned subword tokens on its own decoded samples
    (docs/theory.md §13).

    Generation 0 trains the tokenizer on ``data`` and fits the n-gram model on its subwords; generation
    k on what the workflow makes of a sample of generation k-1, decoded to text. Trajectory t draws from
    the t-th ``SeedSequence`` spawned from the seed, so results do not depend on ``jobs``.

    Args:
        data: the corpus as white-space words, one sequence per line (:func:`reading_options` and
            :func:`ngram_collapse.corpus.load_sequences`); its lines are the normalised text.
        settings: a :class:`~ngram_collapse.experiment.RunSettings`, or None to build one from
            ``parameters`` (its fields).
        subword: the tokenizer's settings (default: BPE, 8,000 tokens, retrained).
        jobs: local processes running trajectories.
        progress: show a tqdm bar on stderr.
        about: entries describing the data for ``config`` (e.g. the corpus name and reading options).
        keep_text: keep every generation's training text (the ``text`` table; memory: the text of
            every generation and trajectory).

    Returns:
        Results of kind ``subword`` (docs/results.md): summary rows k = 0..K with the means over
        trajectories of :data:`MEASURED` (``distinct_mean`` and ``distinct_std`` for ``distinct_words``,
        ``original_words_std`` besides) and the word-level theory of the same corpus and settings
        (:func:`ngram_collapse.experiment.theory`); ``generations.csv`` with :data:`MEASURED`; the tables
        ``words`` (as a word-level run's), ``novel_words`` and, with ``keep_text``, ``text``.

    Raises:
        InputError: bad settings, or a corpus that cannot give ``subword_vocab_size`` tokens.
    """
    settings, seeds = prepare_run(data, settings, parameters)
    subword = SubwordSettings() if subword is None else subword
    with _one_thread_per_process(jobs):
        start = time.perf_counter()
        model = SubwordNgram(settings.order, subword, data.vocab).fit(data)
        units = word_units(data, settings.order)
        fitted = time.perf_counter()
        bar = progress_bar(settings.trajectories * settings.generations, progress)
        try:
            if jobs == 1:
                task = functools.partial(run_trajectory, keep_text=keep_text, on_generation=lambda: bar.update(1))
                done = [task(model, settings, s) for s in seeds]
            else:
                done = run_ordered(functools.partial(_trajectory_task, settings, keep_text), seeds, jobs,
                                   shared=model, on_done=lambda _: bar.update(settings.generations))
        finally:
            bar.close()
    timings: dict[str, Any] = {"generation0_seconds": fitted - start,
                               "trajectories_seconds": time.perf_counter() - fitted, "processes": jobs}
    for stage in STAGES:  # summed over generation 0 and every trajectory
        timings[f"{stage}_seconds"] = model.stopwatch.seconds[stage] + sum(t.seconds.get(stage, 0.0) for t in done)
    timings["sample_redraws"] = sum(t.events.get("sample_redraws", 0) for t in done)
    config = {**(about or {}), **subword.config(), **settings.config()}
    return _results(data, units, settings, done, config, timings, keep_text)


def _results(data: Sequences, units: WordUnits, settings: RunSettings, done: list[SubwordTrajectory],
             config: dict[str, Any], timings: dict[str, Any], keep_text: bool) -> Results:
    measured = {name: np.stack([t.measured[name] for t in done]) for name in MEASURED}
    distinct, distinct_std, _ = spread(measured["distinct_words"])
    _, original_std, _ = spread(measured["original_words"])
    means = {("tokens_mean" if name == "tokens" else name): measured[name].mean(axis=0)
             for name in MEASURED if name != "distinct_words"}
    summary_rows = rows({"generation": np.arange(settings.generations + 1), "distinct_mean": distinct,
                         "distinct_std": distinct_std, **means, "original_words_std": original_std,
                         **theory(units, settings)})
    tables = {"words": words_table(data, units, [t.forgotten for t in done]),
              "novel_words": Table(NOVEL_HEADER, functools.partial(_novel_rows, done))}
    if keep_text:
        tables["text"] = Table(TEXT_HEADER, functools.partial(_text_rows, done))
    return Results("subword", config, summary_rows, trajectory_columns(**measured), timings, tables=tables)


def _novel_rows(done: list[SubwordTrajectory]) -> Iterator[tuple[str, int, int, int]]:
    """Rows of ``novel_words.csv``: every word not in the corpus that a trajectory's training text held
    in some generation, trajectory by trajectory, by first generation then first appearance."""
    for t, trajectory in enumerate(done):
        for i in np.argsort(trajectory.first_seen, kind="stable").tolist():
            yield trajectory.novel[i], int(trajectory.first_seen[i]), int(trajectory.last_count[i]), t


def _text_rows(done: list[SubwordTrajectory]) -> Iterator[tuple[int, int, str]]:
    """Rows of ``text.csv``: every line of every generation's training text, k >= 1."""
    for t, trajectory in enumerate(done):
        for k, lines in enumerate(trajectory.lines, 1):
            for line in lines:
                yield t, k, line
