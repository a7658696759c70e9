"""Section subword of scripts/bench.py: one generation of the subword (BPE) n-gram model split by stage,
retrained and frozen, beside a word-level generation measured in the same run, then a whole retrained
run on several processes with its timings."""
from __future__ import annotations

import argparse
import time

import numpy as np
from bench_timing import timed

from ngram_collapse.output import format_table


def bench_subword(args: argparse.Namespace) -> None:
    """Subword runs (--tokenizer bpe) on wikitext-2/train.txt, order 3, 8,000 BPE tokens: one generation
    (fit generation 1's text, sample the corpus's number of words from it) split by stage, best of
    ``--subword-repeats`` per stage, retrained and frozen, beside a word-level order-3 generation measured
    in the same run; then a whole retrained run (``--subword-run``, default 10 generations x 5
    trajectories) on ``--subword-jobs`` processes, with its timings (stages summed over processes)."""
    import copy

    from ngram_collapse.corpus import load_sequences
    from ngram_collapse.ngram import NgramModel
    from ngram_collapse.subword_model import Stopwatch, SubwordNgram, SubwordSettings
    from ngram_collapse.subword_run import STAGES, reading_options, run_subword

    data = load_sequences("wikitext-2", data_dir=args.data_dir, **reading_options({"tokenizer": "bpe"}))
    rng = np.random.default_rng(0)
    word = min(timed(lambda: NgramModel(3).fit(data).sample(data.num_tokens, rng)) for _ in range(args.subword_repeats))
    columns = {}
    for policy in ("retrained", "frozen"):
        first = SubwordNgram(3, SubwordSettings("bpe", 8000, policy), data.vocab).fit(data)
        text = first.sample(data.num_tokens, rng)  # generation 1's text
        best = dict.fromkeys(STAGES[:-1], np.inf)
        for _ in range(args.subword_repeats):
            model = copy.copy(first)
            model.stopwatch = Stopwatch()
            model.fit(text).sample(data.num_tokens, rng)
            best = {stage: min(best[stage], model.stopwatch.seconds[stage]) for stage in best}
        columns[policy] = best
    rows = [[stage.replace("_", " "), f"{columns['retrained'][stage]:.3f}", f"{columns['frozen'][stage]:.3f}"]
            for stage in STAGES[:-1]]
    totals = {policy: sum(best.values()) for policy, best in columns.items()}
    rows.append(["one generation", f"{totals['retrained']:.3f}", f"{totals['frozen']:.3f}"])
    rows.append(["in word-level order-3 generations", f"{totals['retrained'] / word:.1f}", f"{totals['frozen'] / word:.1f}"])
    print(f"== subword (wikitext-2/train.txt: {data.num_tokens:,} words, order 3, BPE 8000; best of "
          f"{args.subword_repeats} per stage; a word-level order-3 generation: {word:.3f} s)")
    print(format_table(["stage", "retrained s", "frozen s"], rows))
    generations, trajectories = args.subword_run
    start = time.perf_counter()
    run = run_subword(data, order=3, generations=generations, trajectories=trajectories, seed=0,
                      jobs=args.subword_jobs, subword=SubwordSettings("bpe", 8000, "retrained"))
    total = time.perf_counter() - start
    split = ", ".join(f"{stage.replace('_', ' ')} {run.timings[f'{stage}_seconds']:.1f} s" for stage in STAGES)
    print(f"retrained run, {generations} generations x {trajectories} trajectories, {args.subword_jobs} processes: "
          f"{total:.1f} s wall "
          f"(generation 0 {run.timings['generation0_seconds']:.1f} s; summed over processes: {split}; "
          f"{run.timings['sample_redraws']} redraws)")
