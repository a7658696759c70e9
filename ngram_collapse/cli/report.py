"""``report [options]``: the vocabulary-survival report over a grid of cells."""
from __future__ import annotations

import argparse
import os
from pathlib import Path

from .options import (add_common, add_corpus_options, add_estimator, corpus_options, default_out, estimator_options,
                      integer, list_of)


def add_command(commands: argparse._SubParsersAction) -> None:
    from ..textfiles import DEFAULT_CORPUS

    description = (
        "Which words are forgotten, and when: recursive n-gram training over a grid of corpora x "
        "orders x sampling schemes, with per-word survival against 1 - exp(-c g_k) (Corollary 2). "
        "Finished cells are skipped when the same command is run again with the same --out.")
    p = commands.add_parser("report", help="vocabulary-survival report over a grid", description=description)
    p.add_argument("--corpus", action="extend", nargs="+", metavar="CORPUS",
                   help=f"one or more corpora, as for the run command (default {DEFAULT_CORPUS})")
    add_corpus_options(p)
    p.add_argument("--orders", dest="order", type=list_of(int), default=[1],
                   help="n-gram orders, e.g. 1,2,3 (default 1)")
    p.add_argument("--sampling", type=list_of(str), default=["multinomial", "poisson"],
                   help="sampling schemes (default multinomial,poisson)")
    for flag, axis, kind, what in (("--workflows", "workflow", str, "workflows (default replace)"),
                                   ("--real-fractions", "real_fraction", float, "real fractions L for the mixing workflows"),
                                   ("--temperatures", "temperature", float, "sampling temperatures (default 1)"),
                                   ("--top-ks", "top_k", int, "top-k truncations (default none)"),
                                   ("--top-ps", "top_p", float, "top-p truncations (default none)")):
        p.add_argument(flag, dest=axis, type=list_of(kind), help=f"{what}, comma-separated: a grid axis")
    add_estimator(p, axis=True)
    p.add_argument("--eval-corpus", metavar="SPEC", help="held-out text every cell is evaluated on")
    p.add_argument("--jobs", type=integer, default=os.cpu_count() or 1,
                   help="local processes running cells (default: one per CPU)")
    p.add_argument("--scheduler", metavar="dask://HOST:PORT",
                   help="run the cells on an existing Dask distributed cluster (needs the dask extra)")
    add_common(p, generations=10, trajectories=5)
    p.set_defaults(command=report_command)


def report_command(args: argparse.Namespace) -> int:
    """``report [options]``: vocabulary-survival report over a grid of corpora, orders and sampling
    schemes; one folder per cell, ``cells.csv`` and ``report.html`` at the top of ``--out``."""
    from ..textfiles import DEFAULT_CORPUS
    from ..report import Settings, expand_grid, run_report
    from ..report.grid import AXES

    shared = estimator_options(args)
    cells = expand_grid(args.corpus or [DEFAULT_CORPUS], args.order, args.sampling, shared,
                        **{axis: getattr(args, axis) for axis in AXES if getattr(args, axis) is not None})
    settings = Settings(args.generations, args.trajectories, args.seed, corpus_options(args), shared,
                        args.eval_corpus)
    out = Path(args.out) if args.out else default_out("report")
    done = run_report(out, cells, settings, jobs=args.jobs, scheduler=args.scheduler, progress=not args.quiet)
    for name, reason in done.damaged.items():
        print(f"{name}: was damaged ({reason}); ran it again")
    print(f"{len(done.ran)} cells run, {len(done.skipped)} already finished; "
          f"open {done.html} (table: {done.cells_csv}; one folder per cell beside them)")
    return 0
