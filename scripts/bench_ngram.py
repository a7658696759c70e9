"""Sections ngram, units and longline of scripts/bench.py: one generation of recursive n-gram training
on WikiText-2 at several orders beside NLTK's MLE in the same run, sampling with each decoding
transform, one generation of each workflow; the prediction's effective counts beside the fit they
follow; and one long line against the same words in 50-word lines."""
from __future__ import annotations

import argparse
import time

import numpy as np
from bench_timing import best_of

from ngram_collapse.output import format_table


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


def bench_ngram(args: argparse.Namespace) -> None:
    """One generation of recursive n-gram training (sample the corpus's size from the model of
    generation 0, then fit generation 1 on it) on wikitext-2/train.txt, orders 1, 2, 3, 8, 16, best of
    ``--repeats`` (wall clock, and CPU time of this process: the machine may be shared); beside NLTK's
    MLE fitted on the same sequences and its ``generate``, timed on ``--nltk-tokens`` tokens, in the
    same run. NLTK's time for a whole generation is its fit plus the corpus's size at its measured
    rate. Then sampling at order 3 with each decoding transform beside plain sampling, and one
    generation of each workflow beside replace."""
    from ngram_collapse.corpus import load_sequences
    from ngram_collapse.ngram import NgramModel
    from ngram_collapse.workflows import Workflow

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
        wall, cpu = best_of(lambda: model.sample(n, rng, **kwargs), args.repeats)
        plain = plain or (wall, cpu)
        rows.append([label, f"{wall * 1e3:.1f}", f"{n / wall / 1e6:.1f}M", f"{n / cpu / 1e6:.1f}M",
                     f"{wall / plain[0]:.2f}x", f"{cpu / plain[1]:.2f}x"])
    print(f"\n== ngram decoding (order 3, sampling {n:,} words, best of {args.repeats})")
    print(format_table(["transform", "sample ms", "words/s", "(CPU time)", "time vs plain", "(CPU time)"], rows))

    rows, plain = [], None
    for workflow, fraction in (("replace", None), ("mix-fresh", 0.1), ("mix-fixed", 0.1), ("accumulate", None),
                               ("accumulate-subsample", None)):
        wall, cpu = best_of(lambda: _one_generation(model, Workflow(workflow, fraction)), args.repeats)
        plain = plain or (wall, cpu)
        rows.append([workflow + ("" if fraction is None else f" L={fraction}"), f"{wall * 1e3:.1f}",
                     f"{n / wall / 1e6:.1f}M", f"{n / cpu / 1e6:.1f}M", f"{wall / plain[0]:.2f}x", f"{cpu / plain[1]:.2f}x"])
    print(f"\n== ngram workflows (order 3, generation 1: its data drawn and assembled, its model fitted; "
          f"best of {args.repeats})")
    print(format_table(["workflow", "generation ms", "words/s", "(CPU time)", "time vs replace", "(CPU time)"], rows))


def _one_generation(model, workflow) -> None:
    """Generation 1 of the loop under ``workflow`` from a fitted generation-0 model."""
    from ngram_collapse.loop import recursive_training

    runs = recursive_training(model, model.data, model.data.num_tokens, 1, np.random.default_rng(1), workflow=workflow)
    next(runs)
    next(runs)


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
            fit, _ = best_of(lambda: NgramModel(order).fit(data), args.repeats)
            model = NgramModel(order).fit(data)
            generation, _ = best_of(lambda: NgramModel(order).fit(model.sample(n, rng)), args.repeats)
            times[name] = fit + generation
            rows.append([order, name, f"{len(data):,}", f"{fit:.2f}", f"{generation:.2f}", f"{fit + generation:.2f}"])
        rows[-2].append("")
        rows[-1].append(f"{times['one line'] / times['50-word lines']:.2f}x")
    print(f"== longline ({n:,} words: the WikiText-2 prefix 10 times; best of {args.repeats})")
    print(format_table(["order", "corpus", "sequences", "fit s", "generation s", "total s", "one line / lines"], rows))
