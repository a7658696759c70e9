"""Benchmarks: this project's runs beside notebook-style loops, measured in the same run.

    python scripts/bench.py [--only ngram,units,longline,smoothing,bernoulli,poisson,continuous,subword,scale] [--scale]
                            [--notebook-trajectories 250] [--repeats 3] [--subword-run 10x5]

Each section is a function registered in SECTIONS that prints its own results. The notebook-style
baseline mirrors the authors' published parametric notebook: one trajectory and one generation at
a time, drawing all n samples. It is timed on a subset of the trajectories and extrapolated linearly to
the full count (trajectories are independent and identical in cost), as every line says.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

import bench_ngram
import bench_parametric
import bench_scale
import bench_smoothing
import bench_subword
from _common import parse

from ngram_collapse.simulate import simulate

# The sections in the order they run by default (scale only with --scale); --only picks some.
SECTIONS: dict[str, Callable[[argparse.Namespace], None]] = {
    "bernoulli": bench_parametric.bench_bernoulli,
    "poisson": bench_parametric.bench_poisson,
    "ngram": bench_ngram.bench_ngram,
    "units": bench_ngram.bench_units,
    "longline": bench_ngram.bench_longline,
    "scale": bench_scale.bench_scale,
    "smoothing": bench_smoothing.bench_smoothing,
    "continuous": bench_parametric.bench_continuous,
    "subword": bench_subword.bench_subword,
}


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
    parser.add_argument("--subword-repeats", type=int, default=3,
                        help="subword: repeats of one generation, the best of which is shown per stage (default 3)")
    parser.add_argument("--subword-run", type=lambda s: tuple(int(x) for x in s.split("x")), default=(10, 5),
                        metavar="GxT", help="subword: generations x trajectories of the whole retrained run (default 10x5)")
    parser.add_argument("--subword-jobs", type=int, default=2,
                        help="subword: processes of the whole retrained run (default 2)")
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
