"""Benchmarks: this project's runs beside notebook-style loops, measured in the same run.

    python scripts/bench.py [--only ngram,units,longline,smoothing,bernoulli,poisson,continuous,scale] [--scale]
                            [--notebook-trajectories 250] [--repeats 3]

Each section is a function registered in SECTIONS that prints its own results. The notebook-style
baseline mirrors the authors' parametric notebook (REFERENCE.md): one trajectory and one generation at
a time, drawing all n samples. It is timed on a subset of the trajectories and extrapolated linearly to
the full count (trajectories are independent and identical in cost), as every line says.
"""
from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from _common import parse

from ngram_collapse.output import format_table
from ngram_collapse.paper import FIGURES, Panel
from ngram_collapse.simulate import simulate

SECTIONS: dict[str, Callable[[argparse.Namespace], None]] = {}


def section(name: str) -> Callable[[Callable[[argparse.Namespace], None]], Callable[[argparse.Namespace], None]]:
    """Register a benchmark section under ``name`` (selectable with ``--only``)."""

    def register(fn: Callable[[argparse.Namespace], None]) -> Callable[[argparse.Namespace], None]:
        SECTIONS[name] = fn
        return fn

    return register


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _notebook_bernoulli(p0: float, n: int, generations: int, trajectories: int, rng: np.random.Generator) -> None:
    for _ in range(trajectories):
        p = p0
        for _ in range(generations):
            p = rng.binomial(1, p, n).mean()


def _notebook_poisson(lam0: float, n: int, generations: int, trajectories: int, rng: np.random.Generator) -> None:
    for _ in range(trajectories):
        lam = lam0
        for _ in range(generations):
            lam = rng.poisson(lam, n).mean()


def _compare(rows: list[list[object]], setting: str, trajectories: int, subset: int,
             ours: Callable[[], object], notebook: Callable[[int], None]) -> None:
    """Time ``ours`` (full run) and ``notebook`` on ``subset`` trajectories, extrapolated to ``trajectories``."""
    t_ours = _timed(ours)
    subset = min(subset, trajectories)
    t_nb = _timed(lambda: notebook(subset)) * trajectories / subset
    rows.append([setting, f"{t_ours:.3f}", f"{t_nb:.1f}", f"{subset}/{trajectories}", f"{t_nb / t_ours:.0f}x"])


_HEADER = ["setting (generations x trajectories)", "ours s", "notebook s (extrap.)", "notebook timed on", "speed-up"]


def _simulated(panel: Panel) -> Callable[[], object]:
    """Our run of a figure's panel (theory included), as a function to time."""
    return lambda: simulate(panel.model, panel.generations, panel.trajectories, **panel.parameters)


def _size(panel: Panel) -> str:
    return f"({panel.generations} x {panel.trajectories})"


@section("bernoulli")
def bench_bernoulli(args: argparse.Namespace) -> None:
    """Figure 3's settings: (p0, n) in {(0.001, 10000), (0.01, 100)}, 50 generations x 5,000 trajectories.
    Ours includes the theory (Theorem 1 and the exact Wright-Fisher chain)."""
    rows: list[list[object]] = []
    rng = np.random.default_rng(0)
    for panel in FIGURES["fig3"]:
        p0, n = panel.parameters["p0"], panel.parameters["n"]
        _compare(rows, f"Bernoulli p0={p0:g} n={n} {_size(panel)}", panel.trajectories, args.notebook_trajectories,
                 _simulated(panel), lambda t: _notebook_bernoulli(p0, n, panel.generations, t, rng))
    print("== bernoulli (Figure 3; the authors' notebook: 71 s for both settings)")
    print(format_table(_HEADER, rows))


@section("poisson")
def bench_poisson(args: argparse.Namespace) -> None:
    """Figure 4's settings: lambda0 in {1, 10}, n = 10, 500 generations x 5,000 trajectories.
    Ours includes the theory (Theorem 2)."""
    rows: list[list[object]] = []
    rng = np.random.default_rng(0)
    for panel in FIGURES["fig4"]:
        lam0, n = panel.parameters["lam0"], panel.parameters["n"]
        _compare(rows, f"Poisson lambda0={lam0:g} n={n} {_size(panel)}", panel.trajectories,
                 args.notebook_trajectories, _simulated(panel),
                 lambda t: _notebook_poisson(lam0, n, panel.generations, t, rng))
    print("== poisson (Figure 4; the authors' notebook: 53 s for lambda0 = 1)")
    print(format_table(_HEADER, rows))


def _nltk_generation(sequences: list[list[str]], order: int, tokens: int, seed: int) -> tuple[float, float]:
    """NLTK's MLE fitted on padded_everygram_pipeline, then ``MLE.generate`` one word per call (as the
    authors' script does), each sequence from the all-<s> context to </s>. Returns (fit s, tokens/s)."""
    import random

    from nltk.lm import MLE
    from nltk.lm.preprocessing import padded_everygram_pipeline

    start = time.perf_counter()
    train, vocab = padded_everygram_pipeline(order, sequences)
    model = MLE(order)
    model.fit(train, vocab)
    fit = time.perf_counter() - start
    rnd = random.Random(seed)
    begin = ["<s>"] * (order - 1)
    context, drawn = begin, 0
    start = time.perf_counter()
    while drawn < tokens:
        word = model.generate(text_seed=context, random_seed=rnd)
        if word == "</s>":
            context = begin
        else:
            context = (context + [word])[1:] if order > 1 else []
            drawn += 1
    return fit, tokens / (time.perf_counter() - start)


def _best(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Best wall-clock and best CPU seconds of ``repeats`` calls of ``fn``."""
    wall = cpu = np.inf
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        fn()
        wall, cpu = min(wall, time.perf_counter() - w), min(cpu, time.process_time() - c)
    return wall, cpu


@section("ngram")
def bench_ngram(args: argparse.Namespace) -> None:
    """One generation of recursive n-gram training (sample the corpus's size from the model of
    generation 0, then fit generation 1 on it) on wikitext-2/train.txt, orders 1, 2, 3, 8, 16, best of
    ``--repeats`` (wall clock, and CPU time of this process: the machine may be shared); beside NLTK's
    MLE fitted on the same sequences and its ``generate``, timed on ``--nltk-tokens`` tokens, in the
    same run. NLTK's time for a whole generation is its fit plus the corpus's size at its measured
    rate. Then sampling at order 3 with each decoding transform beside plain sampling."""
    from ngram_collapse.corpus import load_sequences
    from ngram_collapse.ngram import NgramModel

    data = load_sequences("wikitext-2", data_dir=args.data_dir)
    words = list(data) if args.nltk_orders else []
    n = data.num_tokens
    rows: list[list[object]] = []
    models = {}
    for order in (1, 2, 3, 8, 16):
        rng = np.random.default_rng(order)
        start = time.perf_counter()
        model = models[order] = NgramModel(order).fit(data)
        first_fit = time.perf_counter() - start
        best = best_cpu = best_sample = best_fit = np.inf
        for _ in range(args.repeats):
            start, cpu = time.perf_counter(), time.process_time()
            sample = model.sample(n, rng)
            mid = time.perf_counter()
            NgramModel(order).fit(sample)
            end = time.perf_counter()
            best_cpu = min(best_cpu, time.process_time() - cpu)
            if end - start < best:
                best, best_sample, best_fit = end - start, mid - start, end - mid
        ours = n / best
        row = [order, f"{first_fit * 1e3:.0f}", f"{best_sample * 1e3:.1f}", f"{best_fit * 1e3:.1f}",
               f"{ours / 1e6:.1f}M", f"{n / best_cpu / 1e6:.1f}M"]
        if order in args.nltk_orders:
            nltk_fit, nltk_rate = _nltk_generation(words, order, args.nltk_tokens, order)
            nltk_generation = n / (nltk_fit + n / nltk_rate)
            row += [f"{nltk_fit:.1f}", f"{nltk_rate:.0f}", f"{ours / nltk_rate:,.0f}x", f"{ours / nltk_generation:,.0f}x"]
        else:
            row += ["-"] * 4
        rows.append(row)
    print(f"== ngram (wikitext-2/train.txt: {n:,} words, {len(data):,} sequences, {len(data.vocab) - 2:,} word types; "
          f"best of {args.repeats})")
    print(format_table(["order", "first fit ms", "sample ms", "refit ms", "ours words/s", "(CPU time)",
                        "NLTK fit s", "NLTK generate words/s", "vs generate", "vs NLTK generation"], rows))

    model, rng = models[3], np.random.default_rng(0)
    rows = []
    plain = None
    for label, kwargs in (("plain", {}), ("temperature 0.7", {"temperature": 0.7}), ("top-k 10", {"top_k": 10}),
                          ("top-p 0.9", {"top_p": 0.9}), ("temperature 0.7, top-k 10, top-p 0.9",
                                                          {"temperature": 0.7, "top_k": 10, "top_p": 0.9})):
        wall, cpu = _best(lambda: model.sample(n, rng, **kwargs), args.repeats)
        plain = plain or (wall, cpu)
        rows.append([label, f"{wall * 1e3:.1f}", f"{n / wall / 1e6:.1f}M", f"{n / cpu / 1e6:.1f}M",
                     f"{wall / plain[0]:.2f}x", f"{cpu / plain[1]:.2f}x"])
    print(f"\n== ngram decoding (order 3, sampling {n:,} words, best of {args.repeats})")
    print(format_table(["transform", "sample ms", "words/s", "(CPU time)", "time vs plain", "(CPU time)"], rows))


@section("units")
def bench_units(args: argparse.Namespace) -> None:
    """The prediction (``word_units``) beside the fit of generation 0 it follows in a run, which it
    must not exceed (issue 12), on wikitext-2/train.txt, orders 1, 2, 3, 6, 8, 16: CPU seconds of this
    process (the machine may be shared), best of ``--repeats``, the two interleaved in every repeat;
    ``word_units`` is given the fitted model's table, as ``run_experiment`` does."""
    from ngram_collapse.corpus import load_sequences
    from ngram_collapse.ngram import NgramModel
    from ngram_collapse.orders import word_units

    data = load_sequences("wikitext-2", data_dir=args.data_dir)
    rows: list[list[object]] = []
    for order in (1, 2, 3, 6, 8, 16):
        fit = units = np.inf
        for _ in range(args.repeats):
            start = time.process_time()
            model = NgramModel(order).fit(data)
            mid = time.process_time()
            word_units(data, order, model.ngrams)
            fit, units = min(fit, mid - start), min(units, time.process_time() - mid)
        rows.append([order, f"{fit * 1e3:.1f}", f"{units * 1e3:.1f}", f"{units / fit:.2f}"])
    print(f"== units (wikitext-2/train.txt: {data.num_tokens:,} words; CPU time, best of {args.repeats})")
    print(format_table(["order", "fit ms", "word_units ms", "word_units / fit"], rows))


@section("longline")
def bench_longline(args: argparse.Namespace) -> None:
    """One long line against the same words in 50-word lines: the WikiText-2 prefix repeated 10 times
    (5.13M words) as one sequence and as sequences of 50 words; fit generation 0 and one generation
    (sample + refit), orders 3 and 8, best of ``--repeats``."""
    from ngram_collapse.corpus import load_sequences
    from ngram_collapse.ngram import NgramModel
    from ngram_collapse.vocab import Sequences

    base = load_sequences("wikitext-2", data_dir=args.data_dir)
    ids = np.tile(base.ids, 10)
    n = ids.size
    shapes = {"one line": np.array([0, n]), "50-word lines": np.append(np.arange(0, n, 50), n)}
    rows: list[list[object]] = []
    for order in (3, 8):
        times = {}
        for name, offsets in shapes.items():
            data = Sequences(ids, offsets, base.vocab)
            rng = np.random.default_rng(order)
            fit, _ = _best(lambda: NgramModel(order).fit(data), args.repeats)
            model = NgramModel(order).fit(data)
            generation, _ = _best(lambda: NgramModel(order).fit(model.sample(n, rng)), args.repeats)
            times[name] = fit + generation
            rows.append([order, name, f"{len(data):,}", f"{fit:.2f}", f"{generation:.2f}", f"{fit + generation:.2f}"])
        rows[-2].append("")
        rows[-1].append(f"{times['one line'] / times['50-word lines']:.2f}x")
    print(f"== longline ({n:,} words: the WikiText-2 prefix 10 times; best of {args.repeats})")
    print(format_table(["order", "corpus", "sequences", "fit s", "generation s", "total s", "one line / lines"], rows))


SCALE_REPEATS = 196  # the WikiText-2 prefix 196 times: 100,472,540 words
SCALE_GENERATIONS = 2  # the second generation holds two samples at once, as the loop does


def _peak_rss_mb(pid: int | str = "self") -> float:
    """Peak resident memory (VmHWM) of a process, MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/status")


def _pss_mb(pid: int) -> float:
    """Proportional set size of a process, MB: its private pages plus its share of shared ones, so that
    the sum over processes counts every page once."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    for line in text.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _scale_read(corpus: str, folder: str) -> dict:
    """Child: read and encode the corpus with load_sequences, save it as arrays for the other children."""
    import json

    from ngram_collapse.corpus import load_sequences

    start = time.perf_counter()
    data = load_sequences(corpus)
    seconds = time.perf_counter() - start
    np.save(Path(folder) / "ids.npy", data.ids)
    np.save(Path(folder) / "offsets.npy", data.offsets)
    (Path(folder) / "vocab.json").write_text(json.dumps(data.vocab.words))
    return {"seconds": seconds, "peak_mb": _peak_rss_mb(), "words": data.num_tokens, "sequences": len(data)}


def _scale_load(folder: str):
    import json

    from ngram_collapse.vocab import Sequences, Vocabulary

    vocab = Vocabulary(json.loads((Path(folder) / "vocab.json").read_text())[2:])
    return Sequences(np.load(Path(folder) / "ids.npy"), np.load(Path(folder) / "offsets.npy"), vocab)


def _scale_generations(model, seed: int) -> list[float]:
    """Run SCALE_GENERATIONS generations as the generation loop does (sample, copy, refit; the words
    present counted as run_trajectory does) and return the seconds of each sample + refit."""
    import copy

    rng = np.random.default_rng(seed)
    size = model.data.num_tokens
    alive = model.data.counts() > 0
    seconds = []
    for _ in range(SCALE_GENERATIONS):
        start = time.perf_counter()
        data = model.sample(size, rng)
        model = copy.copy(model)
        model.fit(data)
        seconds.append(time.perf_counter() - start)
        alive &= data.counts() > 0
        del data
    return seconds


def _scale_trajectory(folder: str, order: int) -> dict:
    """Child: one trajectory in this process: load the corpus ids, fit generation 0, run the generations."""
    from ngram_collapse.ngram import NgramModel

    data = _scale_load(folder)
    loaded = _peak_rss_mb()
    start = time.perf_counter()
    model = NgramModel(order).fit(data)
    fit = time.perf_counter() - start
    fitted = _peak_rss_mb()
    seconds = _scale_generations(model, 0)
    return {"fit": fit, "generations": seconds, "loaded_mb": loaded, "fitted_mb": fitted, "peak_mb": _peak_rss_mb(),
            "entries": model.ngrams.table.num_entries}


def _scale_two_jobs(folder: str, order: int) -> dict:
    """Child: load and fit generation 0, then fork two processes that run a trajectory each on the shared
    model; the peak memory of the three processes together is the largest sum of their PSS, sampled
    every 20 ms (shared pages counted once)."""
    import os
    import pickle

    from ngram_collapse.ngram import NgramModel

    model = NgramModel(order).fit(_scale_load(folder))
    before = _pss_mb(os.getpid())
    children = []
    for seed in (1, 2):
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # a worker: one trajectory, its times and peak back through the pipe
            os.close(read)
            seconds = _scale_generations(model, seed)
            with os.fdopen(write, "wb") as out:
                pickle.dump({"generations": seconds, "peak_mb": _peak_rss_mb()}, out)
            os._exit(0)
        os.close(write)
        children.append((pid, read))
    peak, running = 0.0, {pid for pid, _ in children}
    while running:
        peak = max(peak, _pss_mb(os.getpid()) + sum(_pss_mb(pid) for pid in running))
        running = {pid for pid in running if os.waitpid(pid, os.WNOHANG) == (0, 0)}
        time.sleep(0.02)
    results = []
    for _, read in children:
        with os.fdopen(read, "rb") as f:
            results.append(pickle.load(f))
    return {"parent_mb": before, "tree_peak_mb": peak, "workers": results}


def _in_child(fn: Callable[..., dict], *args: object) -> dict:
    """Run ``fn(*args)`` in a new process (its own peak memory) and return its result."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


@section("scale")
def bench_scale(args: argparse.Namespace) -> None:
    """Issue 14's scale: the WikiText-2 prefix repeated 196 times (100M words), written to a temporary
    folder. Reading it (load_sequences, another module's job) is timed apart, in its own process.
    Then, for orders 3 and 8, each in a new process: fitting generation 0 from the corpus ids and two
    generations (sample + refit) of one trajectory, with the process's peak resident memory
    (VmHWM, corpus ids and generation-0 model included); and two trajectories in two forked
    processes sharing generation 0 (as --jobs 2), with the peak of the summed PSS of the three
    processes. Run with --scale or --only scale (minutes, about 3 GB)."""
    import tempfile

    text = (Path(args.data_dir) / "wikitext-2" / "train.txt").read_bytes()
    with tempfile.TemporaryDirectory(prefix="ngram-scale-") as folder:
        corpus = Path(folder) / "wikitext-2-x196.txt"
        with open(corpus, "wb") as f:
            for _ in range(SCALE_REPEATS):
                f.write(text)
        read = _in_child(_scale_read, str(corpus), folder)
        corpus.unlink()
        print(f"== scale ({read['words']:,} words, {read['sequences']:,} sequences: wikitext-2/train.txt "
              f"{SCALE_REPEATS} times)")
        print(f"reading (load_sequences): {read['seconds']:.1f} s, peak {read['peak_mb']:,.0f} MB (its own process)")
        rows: list[list[object]] = []
        for order in (3, 8):
            one = _in_child(_scale_trajectory, folder, order)
            two = _in_child(_scale_two_jobs, folder, order)
            gens = " / ".join(f"{s:.1f}" for s in one["generations"])
            jobs2 = " / ".join(f"{max(w['generations']):.1f}" for w in two["workers"])
            rows.append([order, f"{one['entries']:,}", f"{one['fit']:.1f}", gens,
                         f"{read['words'] / min(one['generations']) / 1e6:.1f}M", f"{one['loaded_mb']:,.0f}",
                         f"{one['fitted_mb']:,.0f}", f"{one['peak_mb']:,.0f}", jobs2, f"{two['parent_mb']:,.0f}",
                         f"{two['tree_peak_mb']:,.0f}", f"{two['tree_peak_mb'] - one['peak_mb']:,.0f}"])
        print(format_table(["order", "table entries", "fit gen 0 s", "generations s", "words/s", "MB corpus loaded",
                            "MB after fit", "peak MB (1 trajectory)", "jobs 2: slowest generation s",
                            "jobs 2: parent PSS MB", "jobs 2: peak PSS MB (3 processes)",
                            "jobs 2 adds MB"], rows))


_SMOOTHED = (("kneser-ney", {}), ("kneser-ney", {"unigram_floor": True}), ("witten-bell", {}),
             ("lidstone", {"gamma": 0.01}))


def _nltk_kneser_ney(sequences: list[list[str]], heldout: list[tuple[str, ...]], seconds: float,
                     seed: int) -> tuple[float, int, float, float]:
    """NLTK's KneserNeyInterpolated(3) fitted on padded_everygram_pipeline; ``generate`` one word
    per call on a walk from <s> <s> until ``seconds`` have passed (a word in progress is interrupted
    by SIGALRM); ``perplexity`` of ``heldout`` n-grams. Returns (fit s, words generated, generate s,
    perplexity s)."""
    import random
    import signal

    from nltk.lm import KneserNeyInterpolated
    from nltk.lm.preprocessing import padded_everygram_pipeline

    start = time.perf_counter()
    model = KneserNeyInterpolated(3)
    model.fit(*padded_everygram_pipeline(3, sequences))
    fit = time.perf_counter() - start

    class Deadline(Exception):
        pass

    def deadline(signum, frame):
        raise Deadline

    previous = signal.signal(signal.SIGALRM, deadline)
    rnd, context, words = random.Random(seed), ["<s>", "<s>"], 0
    start = time.perf_counter()
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        while True:
            word = model.generate(text_seed=context, random_seed=rnd)
            words += 1
            context = ["<s>", "<s>"] if word == "</s>" else [context[-1], word]
    except Deadline:
        pass
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    generate = time.perf_counter() - start
    start = time.perf_counter()
    model.perplexity(heldout)
    return fit, words, generate, time.perf_counter() - start


@section("smoothing")
def bench_smoothing(args: argparse.Namespace) -> None:
    """Order-3 smoothed models (SmoothedNgram) on wikitext-2/train.txt: fit (the everygram counts),
    the sampler's tables, a sample of the corpus's size, and the perplexity of wikitext-2/valid.txt,
    best of 3 repeats. Sampling walks whole sequences in parallel, so its time grows with the longest
    sequence drawn (lidstone with a small gamma rarely draws </s>: see words/sequence). Beside NLTK's KneserNeyInterpolated(3) on the same sequences in the same run:
    its fit, ``generate`` one word per call from <s> <s> for ``--nltk-seconds``, and ``perplexity`` on
    the first ``--nltk-ngrams`` held-out trigrams."""
    from nltk.lm.preprocessing import pad_both_ends
    from nltk.util import ngrams

    from ngram_collapse.corpus import load_sequences
    from ngram_collapse.smoothing import SmoothedNgram
    from ngram_collapse.vocab import Sequences

    data = load_sequences("wikitext-2", data_dir=args.data_dir)
    valid = load_sequences("wikitext-2:valid", data_dir=args.data_dir)
    heldout = Sequences.encode(valid, data.vocab)
    n, grams = data.num_tokens, heldout.num_tokens + 2 * len(heldout)
    rows: list[list[object]] = []
    kn_rate = kn_ppl = 0.0
    for estimator, kw in _SMOOTHED:
        best = [np.inf] * 4
        for repeat in range(3):
            times = [time.perf_counter()]
            model = SmoothedNgram(3, estimator, **kw).fit(data)
            times.append(time.perf_counter())
            model._sampler()
            times.append(time.perf_counter())
            sample = model.sample(n, np.random.default_rng(repeat))
            times.append(time.perf_counter())
            perplexity = model.perplexity(heldout)
            times.append(time.perf_counter())
            best = [min(b, t1 - t0) for b, t0, t1 in zip(best, times, times[1:])]
        name = estimator + "".join(f" {k}={v}" for k, v in kw.items())
        rows.append([name, f"{best[0] * 1e3:.0f}", f"{best[1] * 1e3:.0f}", f"{best[2] * 1e3:.0f}",
                     f"{n / best[2] / 1e6:.2f}M", f"{n / len(sample):.0f}", f"{best[3] * 1e3:.0f}",
                     f"{grams / best[3] / 1e6:.2f}M", perplexity])
        if (estimator, kw) == _SMOOTHED[0]:
            kn_rate, kn_ppl = n / best[2], grams / best[3]
    print(f"== smoothing, order 3 (wikitext-2/train.txt: {n:,} words; held-out wikitext-2/valid.txt: "
          f"{grams:,} trigrams)")
    print(format_table(["estimator", "fit ms", "tables ms", "sample ms", "sample words/s", "words/sequence",
                        "perplexity ms", "trigrams/s", "perplexity"], rows))
    if args.nltk_seconds > 0:
        trigrams = [g for s in valid for g in ngrams(pad_both_ends(s, n=3), 3)][:args.nltk_ngrams]
        fit, words, generate, ppl = _nltk_kneser_ney(list(data), trigrams, args.nltk_seconds, 0)
        rate = words / generate
        shown = f"{rate:.3g}" if words else f"< {1 / generate:.2g}"
        speedup = f"{kn_rate / rate:,.0f}x" if words else f"> {kn_rate * generate:,.0f}x"
        print(f"NLTK KneserNeyInterpolated(3), same run: fit {fit:.1f} s; generate {words} words in "
              f"{generate:.0f} s ({shown} words/s; ours {speedup} faster); perplexity "
              f"{len(trigrams) / ppl:.3g} trigrams/s on {len(trigrams)} (ours {kn_ppl / (len(trigrams) / ppl):,.0f}x "
              f"faster; NLTK would take {grams * ppl / len(trigrams) / 3600:.1f} h for the held-out set)")


def _notebook_gaussian(n: int, mu0: float, sigma0: float, generations: int, trajectories: int,
                       rng: np.random.Generator) -> None:
    for _ in range(trajectories):
        mu, sigma = mu0, sigma0
        for _ in range(generations):
            x = rng.normal(mu, sigma, n)
            mu, sigma = float(np.mean(x)), float(np.std(x, ddof=1))


def _notebook_gmm(n: int, mu0: float, sigma0: float, generations: int, trajectories: int, estimator: str,
                  rng: np.random.Generator) -> None:
    """Joint ML by ``scipy.optimize.fsolve`` from the previous generation's mu, as in the authors'
    notebook; approximate ML (Algorithm 1) by this project's ``approx_ml`` on one sample at a time."""
    from scipy.optimize import fsolve

    from ngram_collapse.continuous import approx_ml

    for _ in range(trajectories):
        mu, sigma = mu0, sigma0
        for _ in range(generations):
            x = np.where(rng.random(n) < 0.5, mu, -mu) + sigma * rng.standard_normal(n)
            if estimator == "joint-ml":
                m2 = float(np.mean(x * x))
                h = lambda t: np.sum(x * np.tanh(t * x / (m2 - t * t))) - n * t  # noqa: E731
                mu = abs(float(fsolve(h, mu, full_output=True)[0][0]))
                sigma = float(np.sqrt(max(m2 - mu * mu, 0.0)))
            else:
                mu, sigma = (float(v) for v in approx_ml(x))


@section("continuous")
def bench_continuous(args: argparse.Namespace) -> None:
    """Figure 13's setting (symmetric mixture, Theorem 4: n = 10, mu0 = 1, 200 generations x 500
    trajectories, joint ML and approximate ML) and Figure 5's (Gaussian, Theorem 3: n = 10, 200 x 1,000),
    beside the per-trajectory loop. Ours includes the bounds."""
    rows: list[list[object]] = []
    rng = np.random.default_rng(0)
    for panel in (*FIGURES["fig13"], *FIGURES["fig5"]):
        p = panel.parameters
        if panel.model == "gmm":
            name, notebook = f"mixture {p['estimator']}", lambda t: _notebook_gmm(
                p["n"], p["mu0"], p["sigma0"], panel.generations, t, p["estimator"], rng)
        else:
            name, notebook = "Gaussian", lambda t: _notebook_gaussian(p["n"], p["mu0"], p["sigma0"], panel.generations,
                                                                    t, rng)
        _compare(rows, f"{name} n={p['n']} {_size(panel)}", panel.trajectories, args.notebook_trajectories,
                 _simulated(panel), notebook)
    print("== continuous (Figure 13, both estimators; Figure 5. The loop fits one trajectory and one "
          "generation at a time, joint ML by scipy's fsolve)")
    print(format_table(_HEADER, rows))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notebook-trajectories", type=int, default=250,
                        help="trajectories the notebook-style loop is timed on before extrapolating (default 250)")
    parser.add_argument("--nltk-orders", type=lambda s: [int(x) for x in s.split(",") if x], default=[1, 2, 3, 8, 16],
                        help="orders NLTK is timed at, comma-separated, empty for none (default 1,2,3,8,16)")
    parser.add_argument("--nltk-seconds", type=float, default=60,
                        help="seconds NLTK's Kneser-Ney generate is timed for in the smoothing section, 0 for "
                             "none (default 60)")
    parser.add_argument("--nltk-ngrams", type=int, default=50,
                        help="held-out trigrams NLTK's Kneser-Ney perplexity is timed on (default 50)")
    parser.add_argument("--nltk-tokens", type=int, default=2000,
                        help="tokens NLTK's generate is timed on (default 2000)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="repeats of every n-gram timing; the best is reported (default 3)")
    parser.add_argument("--scale", action="store_true",
                        help="also run the scale section (a 100M-word corpus: minutes and about 3 GB; "
                             "not part of the default set)")
    args, names = parse(parser, argv, SECTIONS, "sections")
    if not args.only:
        names = [name for name in names if name != "scale"] + (["scale"] if args.scale else [])
    simulate("poisson", generations=2, trajectories=2)  # warm-up: imports and first-call costs
    for name in names:
        SECTIONS[name](args)
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
