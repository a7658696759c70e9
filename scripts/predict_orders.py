"""The prediction at every n-gram order against simulation: the evidence of docs/theory.md §11.4.

    python scripts/predict_orders.py [--corpus SPEC ...] [--segments line,sentence]
        [--sampling multinomial,poisson] [--orders 1,2,3,4,6,8,16] [--generations 10] [--trajectories 10]
        [--seed 0] [--jobs 4] [--full] [--data-dir CORPORA]

For every corpus, segmentation, sampling scheme and order, one recursive run (``run_experiment``) and
one row of a table: the worst difference over k = 1..K between the prediction
(``predicted``: Corollary 1/2's formula with effective counts, clumped in every generation) and the
observed mean fraction of the vocabulary still present, in points and in standard errors of the observed mean (sd over trajectories
/ sqrt(T)), the largest |difference| in standard errors, and the same for the Corollary with counts
(Corollary 1's lower bound under multinomial sampling, Corollary 2 under Poisson) and for the first
prediction (effective counts in Corollary 2's formula, clumps in generation 1 only: docs/theory.md
§11.3). The last lines give
the worst run. ``--full`` adds every run's per-generation table (observed, standard error, Corollary,
prediction, sequence limit). Corpus specs are those of ``python -m ngram_collapse --corpus``.
"""
from __future__ import annotations

import argparse
import math

import numpy as np

from ngram_collapse.corpus import DEFAULT_CORPUS, load_sequences
from ngram_collapse.experiment import run_experiment
from ngram_collapse.orders import predicted_distinct, word_units
from ngram_collapse.output import format_table


def _list(kind: type):
    return lambda text: [kind(item) for item in text.split(",") if item]


def compare(rows: list[dict], trajectories: int, first: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Per generation k = 1..K, in percent of the vocabulary: the observed mean, its standard error,
    the Corollary with counts, the prediction, the sequence-level limit and, if given (expected
    distinct words for k = 0..K), the first prediction."""
    m = rows[0]["distinct_mean"]
    corollary = "expected" if "expected" in rows[0] else "bound_lower"
    pick = lambda key: np.array([r[key] for r in rows[1:]], dtype=float) * 100 / m  # noqa: E731
    sd = np.array([r["distinct_std"] for r in rows[1:]], dtype=float)
    return {"observed": pick("distinct_mean"), "se": sd * 100 / m / math.sqrt(trajectories),
            "corollary": pick(corollary), "predicted": pick("predicted"), "sequence_limit": pick("sequence_limit"),
            **({} if first is None else {"first": np.asarray(first[1:], dtype=float) * 100 / m})}


def worst(table: dict[str, np.ndarray], key: str) -> tuple[float, int, float, float]:
    """(difference in points, its generation, in standard errors, largest |difference| in standard
    errors) of ``table[key]`` - observed, at the generation where |difference| is largest."""
    diff = table[key] - table["observed"]
    i = int(np.argmax(np.abs(diff)))
    z = diff / np.where(table["se"] > 0, table["se"], np.nan)
    return float(diff[i]), i + 1, float(z[i]), float(np.nanmax(np.abs(z)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", action="extend", nargs="+", help=f"corpus specs (default {DEFAULT_CORPUS})")
    parser.add_argument("--segments", type=_list(str), default=["line"], help="line, sentence or both (default line)")
    parser.add_argument("--sampling", type=_list(str), default=["multinomial"],
                        help="multinomial, poisson or both (default multinomial)")
    parser.add_argument("--orders", type=_list(int), default=[1, 2, 3, 4, 6, 8, 16])
    parser.add_argument("--generations", type=int, default=10)
    parser.add_argument("--trajectories", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=1, help="processes per run (results do not depend on it)")
    parser.add_argument("--max-words", type=int, help="keep only the first W words of every corpus")
    parser.add_argument("--data-dir", help="where registered corpora live (default $NGRAM_COLLAPSE_DATA)")
    parser.add_argument("--full", action="store_true", help="also every run's per-generation table")
    args = parser.parse_args(argv)

    header = ["corpus", "segment", "sampling", "order", "prediction - observed (points, k, se)", "max |z|",
              "Corollary - observed (points, k, se)", "first prediction - observed (points, k, se)"]
    lines, full, runs = [], [], []
    for spec in args.corpus or [DEFAULT_CORPUS]:
        for segment in args.segments:
            data = load_sequences(spec, segment=segment, max_words=args.max_words, data_dir=args.data_dir)
            gens = np.arange(args.generations + 1)  # the first prediction does not depend on the sampling
            firsts = {order: predicted_distinct(word_units(data, order).effective, gens) for order in args.orders}
            for sampling in args.sampling:
                for order in args.orders:
                    results = run_experiment(data, order=order, generations=args.generations,
                                             trajectories=args.trajectories, sampling=sampling, seed=args.seed,
                                             jobs=args.jobs)
                    table = compare(results.generations, args.trajectories, firsts[order])
                    d, k, z, zmax = worst(table, "predicted")
                    cd, ck, cz, _ = worst(table, "corollary")
                    fd, fk, fz, _ = worst(table, "first")
                    name = spec or DEFAULT_CORPUS
                    runs.append((abs(d), name, segment, sampling, order, d, k, z, zmax))
                    lines.append([name, segment, sampling, order, f"{d:+.2f} (k={k}, {z:+.1f})", f"{zmax:.1f}",
                                  f"{cd:+.2f} (k={ck}, {cz:+.1f})", f"{fd:+.2f} (k={fk}, {fz:+.1f})"])
                    if args.full:
                        full.append((f"{name}, {segment}, {sampling}, order {order} (percent of "
                                     f"{results.generations[0]['distinct_mean']:.0f} words)", table))
    print(format_table(header, lines))
    _, *w = max(runs)
    print(f"\nworst: {w[0]}, {w[1]}, {w[2]}, order {w[3]}: {w[4]:+.2f} points at k = {w[5]} ({w[6]:+.1f} se)")
    within = sum(r[-1] <= 4 for r in runs)
    print(f"{sum(r[0] <= 1 for r in runs)} of {len(runs)} runs within 1 point at every generation; "
          f"{within} within 4 standard errors")
    for title, table in full:
        print(f"\n{title}")
        print(format_table(["k", *table], [[k + 1, *(round(float(v[k]), 3) for v in table.values())]
                                           for k in range(args.generations)]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
