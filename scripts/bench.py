"""Benchmarks: this project's runs beside notebook-style loops, measured in the same run.

    python scripts/bench.py [--only ngram,bernoulli,poisson,continuous,subword] [--notebook-trajectories 250]

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


@section("ngram")
def bench_ngram(args: argparse.Namespace) -> None:
    """One generation of recursive n-gram training (sample the corpus's size from the model of
    generation 0, then fit generation 1 on it) on wikitext-2/train.txt, orders 1, 2, 3, 8, 16, best of
    3 repeats; beside NLTK's MLE fitted on the same sequences and its ``generate``, timed on
    ``--nltk-tokens`` tokens, in the same run. NLTK's time for a whole generation is its fit plus the
    corpus's size at its measured rate."""
    from ngram_collapse.corpus import load_sequences
    from ngram_collapse.ngram import NgramModel

    data = load_sequences("wikitext-2", data_dir=args.data_dir)
    words = list(data) if args.nltk_orders else []
    n = data.num_tokens
    rows: list[list[object]] = []
    for order in (1, 2, 3, 8, 16):
        rng = np.random.default_rng(order)
        start = time.perf_counter()
        model = NgramModel(order).fit(data)
        first_fit = time.perf_counter() - start
        best_sample = best_fit = np.inf
        for _ in range(3):
            start = time.perf_counter()
            sample = model.sample(n, rng)
            mid = time.perf_counter()
            NgramModel(order).fit(sample)
            end = time.perf_counter()
            if end - start < best_sample + best_fit:
                best_sample, best_fit = mid - start, end - mid
        ours = n / (best_sample + best_fit)
        row = [order, f"{first_fit * 1e3:.0f}", f"{best_sample * 1e3:.0f}", f"{best_fit * 1e3:.0f}", f"{ours / 1e6:.2f}M"]
        if order in args.nltk_orders:
            nltk_fit, nltk_rate = _nltk_generation(words, order, args.nltk_tokens, order)
            nltk_generation = n / (nltk_fit + n / nltk_rate)
            row += [f"{nltk_fit:.1f}", f"{nltk_rate:.0f}", f"{ours / nltk_rate:,.0f}x", f"{ours / nltk_generation:,.0f}x"]
        else:
            row += ["-"] * 4
        rows.append(row)
    print(f"== ngram (wikitext-2/train.txt: {n:,} words, {len(data):,} sequences, {len(data.vocab) - 2:,} word types)")
    print(format_table(["order", "first fit ms", "sample ms", "refit ms", "ours tokens/s",
                        "NLTK fit s", "NLTK generate tokens/s", "vs generate", "vs NLTK generation"], rows))


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


@section("subword")
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
    word = min(_timed(lambda: NgramModel(3).fit(data).sample(data.num_tokens, rng)) for _ in range(args.subword_repeats))
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notebook-trajectories", type=int, default=250,
                        help="trajectories the notebook-style loop is timed on before extrapolating (default 250)")
    parser.add_argument("--nltk-orders", type=lambda s: [int(x) for x in s.split(",") if x], default=[1, 2, 3, 8, 16],
                        help="orders NLTK is timed at, comma-separated, empty for none (default 1,2,3,8,16)")
    parser.add_argument("--nltk-tokens", type=int, default=2000,
                        help="tokens NLTK's generate is timed on (default 2000)")
    parser.add_argument("--subword-repeats", type=int, default=3,
                        help="subword: repeats of one generation, the best of which is shown per stage (default 3)")
    parser.add_argument("--subword-run", type=lambda s: tuple(int(x) for x in s.split("x")), default=(10, 5),
                        metavar="GxT", help="subword: generations x trajectories of the whole retrained run (default 10x5)")
    parser.add_argument("--subword-jobs", type=int, default=2,
                        help="subword: processes of the whole retrained run (default 2)")
    args, names = parse(parser, argv, SECTIONS, "sections")
    simulate("poisson", generations=2, trajectories=2)  # warm-up: imports and first-call costs
    for name in names:
        SECTIONS[name](args)
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
