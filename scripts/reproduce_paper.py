"""Regenerate the paper's figures with its parameters (the table ``ngram_collapse.paper.FIGURES``).

    python scripts/reproduce_paper.py --out DIR [--only fig3,fig4] [--seed 0] [--data-dir CORPORA]

Every figure is written as ``DIR/<name>.png`` plus ``DIR/<name>.csv`` holding the plotted numbers;
a figure's files appear whole once it is done (an interrupted figure leaves none). Figures are
functions registered in FIGURES (``@figure("name")``); add new ones the same way. Figure 6 reads
``wikitext-2/train.txt`` under ``--data-dir`` (default $NGRAM_COLLAPSE_DATA, else ../shared/corpora
next to this checkout).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from _common import parse

from ngram_collapse import paper, plot
from ngram_collapse.continuous import compare_estimators
from ngram_collapse.continuous import plots as continuous_plots
from ngram_collapse.corpus import load_sequences, resolve
from ngram_collapse.errors import InputError
from ngram_collapse.experiment import run_experiment
from ngram_collapse.output import atomic_files
from ngram_collapse.results import Results, write_csv
from ngram_collapse.simulate import simulate

FigureFunction = Callable[[Path, argparse.Namespace], None]
FIGURES: dict[str, FigureFunction] = {}


def figure(name: str) -> Callable[[FigureFunction], FigureFunction]:
    """Register ``fn(out_dir, args)`` as the figure ``name`` (``args``: the parsed command line, with
    ``seed`` and ``data_dir``); it writes ``name.png`` and ``name.csv`` into ``out_dir``."""

    def register(fn: FigureFunction) -> FigureFunction:
        FIGURES[name] = fn
        return fn

    return register


def simulated(name: str, seed: int) -> list[Results]:
    """Every panel of the paper's figure ``name`` simulated with its settings (``paper.FIGURES``)."""
    return [simulate(p.model, p.generations, p.trajectories, seed, **p.parameters) for p in paper.FIGURES[name]]


def write_summaries(name: str, out: Path, runs: Sequence[Results], draw=plot.figure_survival_vs_theory) -> None:
    """``name.png`` drawn by ``draw(runs, path)`` (by default one panel per run, survival against the
    theory) and ``name.csv`` (:func:`write_summaries_csv`)."""
    draw(runs, out / f"{name}.png")
    write_summaries_csv(out / f"{name}.csv", runs)


def write_summaries_csv(path: Path, runs: Sequence[Results]) -> None:
    """One row per setting (the run's label) and generation, with every key of the summary rows."""
    columns = list(dict.fromkeys(key for r in runs for row in r.generations for key in row))
    write_csv(path, ["setting", *columns],
              ([plot.label(r), *(row.get(c) for c in columns)] for r in runs for row in r.generations))


def write_trajectories_csv(path: Path, values: np.ndarray) -> None:
    """``values`` of shape (trajectories, generations + 1): one row per generation k = 0..K."""
    write_csv(path, ["generation", *(f"trajectory_{t}" for t in range(values.shape[0]))],
              ([k, *row] for k, row in enumerate(values.T.tolist())))


@figure("fig2a")
def fig2a(out: Path, args: argparse.Namespace) -> None:
    """Figure 2(a): Sigma_k of 25 Gaussian trajectories, n = 100, 2,500 generations (the collapse of
    Theorem 3)."""
    sigmas = simulated("fig2a", args.seed)[0].per_trajectory("sigma")
    plot.plot_trajectories(sigmas, out / "fig2a.png", "Sigma_k")
    write_trajectories_csv(out / "fig2a.csv", sigmas)


@figure("fig2b")
def fig2b(out: Path, args: argparse.Namespace) -> None:
    """Figure 2(b): 25 Bernoulli trajectories, p0 = 0.2, n = 100, 600 generations."""
    (run,) = simulated("fig2b", args.seed)
    values = run.per_trajectory("count") / run.config["n"]
    plot.plot_trajectories(values, out / "fig2b.png", "P_k", f"Bernoulli recursive training, {plot.label(run)}")
    write_trajectories_csv(out / "fig2b.csv", values)


@figure("fig3")
def fig3(out: Path, args: argparse.Namespace) -> None:
    """Figure 3: Pr(P_k != 0) vs Theorem 1, (p0, n) in {(0.001, 10000), (0.01, 100)}, 50 x 5,000."""
    write_summaries("fig3", out, simulated("fig3", args.seed))


@figure("fig9")
def fig9(out: Path, args: argparse.Namespace) -> None:
    """Figure 9: Pr(P_k not in {0,1}) vs Theorem 1 and Seddik et al., Figure 3's settings."""
    write_summaries("fig9", out, simulated("fig9", args.seed))


@figure("fig4")
def fig4(out: Path, args: argparse.Namespace) -> None:
    """Figure 4: Pr(Lambda_k != 0) vs Theorem 2, lambda0 in {1, 10}, n = 10, 500 x 5,000, log y."""
    write_summaries("fig4", out, simulated("fig4", args.seed))


@figure("fig7")
def fig7(out: Path, args: argparse.Namespace) -> None:
    """Figure 7: E[uniq_k]/m for Zipf-Mandelbrot starts vs Corollary 1, m = n = 1000, (a, b) in
    {(1, 2.7), (2, 5)}, 200 trajectories x 10 generations, multinomial sampling."""
    write_summaries("fig7", out, simulated("fig7", args.seed))


@figure("fig5")
def fig5(out: Path, args: argparse.Namespace) -> None:
    """Figure 5: Pr(Sigma_k > 0.1) of the Gaussian vs Theorem 3, Bertrand et al. and the best
    fractional-moment bound, n = 10, 1,000 trajectories x 200 generations, log y."""
    write_summaries("fig5", out, simulated("fig5", args.seed), continuous_plots.plot_prob_above_eps)


@figure("fig11_12")
def fig11_12(out: Path, args: argparse.Namespace) -> None:
    """Figures 11 and 12: approximate ML (Algorithm 1, the estimator of Theorem 4) against joint ML
    for mu and sigma, 100 samples of n = 10 from the mixture with mu0 = 2, sigma0 = 1."""
    (panel,) = paper.FIGURES["fig11_12"]
    p = panel.parameters
    data = compare_estimators(p["n"], p["mu0"], p["sigma0"], panel.trajectories, np.random.default_rng(args.seed))
    continuous_plots.plot_estimator_scatter((data["joint_mu"], data["joint_sigma"]),
                                            (data["approx_mu"], data["approx_sigma"]), out / "fig11_12.png")
    write_csv(out / "fig11_12.csv", ["trial", *data], zip(range(panel.trajectories), *data.values()))


@figure("fig13")
def fig13(out: Path, args: argparse.Namespace) -> None:
    """Figure 13: Pr(Sigma_k > 0.1) of the symmetric mixture vs Theorem 4, n = 10, mu0 = 1,
    500 trajectories x 200 generations, joint ML and approximate ML, log y."""
    write_summaries("fig13", out, simulated("fig13", args.seed), continuous_plots.plot_prob_above_eps)


def figure6(out: Path, seed: int, data_dir: str | os.PathLike, max_words: int | None = None,
            generations: int | None = None, orders: Sequence[int] | None = None) -> None:
    """Figure 6's numbers and plot: E[uniq_k]/m of recursive n-gram training on the first ``max_words``
    words of WikiText-2's train split against Corollary 1, one panel per order (``fig6.png``), and
    ``fig6.csv`` with one row per order and generation (the plotted fractions of m). The paper's
    settings (``paper.FIGURES["fig6"]``) unless given.

    Raises:
        InputError: ``data_dir`` has no ``wikitext-2/train.txt``.
    """
    panels = paper.FIGURES["fig6"]
    first = panels[0]
    corpus = first.parameters["corpus"]
    if not resolve(corpus, data_dir).files:
        raise InputError(f"figure 6 needs WikiText-2's train split: no wikitext-2/train.txt in {data_dir} "
                         "(pass --data-dir or set $NGRAM_COLLAPSE_DATA)")
    data = load_sequences(corpus, data_dir=data_dir, max_words=max_words or first.parameters["max_words"])
    about = {"corpus": f"WikiText-2 ({data.num_tokens:,} words)"}
    runs = [run_experiment(data, order=order, generations=first.generations if generations is None else generations,
                           trajectories=first.trajectories, sampling=first.parameters["sampling"], seed=seed,
                           about=about)
            for order in (orders or [p.parameters["order"] for p in panels])]
    plot.plot_survival(runs, out / "fig6.png")
    columns = ("distinct_mean", "distinct_std", "bound_lower", "bound_upper")
    write_csv(out / "fig6.csv", ["order", "generation", *(f"{c}_over_m" for c in columns)],
              ([r.config["order"], row["generation"], *(row[c] / r.generations[0]["distinct_mean"] for c in columns)]
               for r in runs for row in r.generations))


@figure("fig6")
def fig6(out: Path, args: argparse.Namespace) -> None:
    """Figure 6: E[uniq_k]/m on a 500K-word prefix of WikiText-2's train split vs Corollary 1, orders
    1, 2, 8 and 16, 5 trajectories x 10 generations, multinomial sampling."""
    figure6(out, args.seed, args.data_dir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, type=Path, help="folder for the PNG and CSV files")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    args, names = parse(parser, argv, FIGURES, "figures")
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        parser.error(f"--out {args.out}: {e.strerror or e}")
    for name in names:
        start = time.perf_counter()
        try:
            with atomic_files(args.out) as tmp:
                FIGURES[name](tmp, args)
        except InputError as e:
            print(f"{name}: {e}", file=sys.stderr)
            return 2
        print(f"{name}: {args.out / name}.png, .csv ({time.perf_counter() - start:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
