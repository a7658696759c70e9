"""``python -m ngram_collapse [run] [options]``: recursive n-gram training on a corpus (word-level or
on learned subwords), its table and its files."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from ..errors import InputError
from .options import (PROG, add_common, add_corpus_options, add_estimator, add_overwrite, add_regime, corpus_options,
                      default_out, estimator_options, integer)


def add_command(commands: argparse._SubParsersAction) -> None:
    from ..workflows import SAMPLING_SCHEMES

    p = commands.add_parser("run", help="recursive n-gram training on a corpus (the default command)", description=(
        "Recursively retrain a maximum-likelihood n-gram model on its own samples and compare the "
        "distinct words of every generation with Corollaries 1 and 2 of Suresh et al. (2025). "
        f"Other commands: simulate, report (run '{PROG} COMMAND --help')."))
    p.add_argument("--corpus", help="a text file, a folder of .txt files, or a registered corpus "
                   "such as wikitext-2 or wikitext-2:valid (default: Python's embedded help topics)")
    add_corpus_options(p)
    p.add_argument("--order", type=integer, default=1, help="n-gram order (default 1)")
    p.add_argument("--sampling", choices=SAMPLING_SCHEMES, default="multinomial",
                   help="sample size rule: multinomial = the original size every generation "
                   "(default), poisson = Poisson(previous size)")
    add_regime(p)
    add_estimator(p)
    p.add_argument("--eval-corpus", metavar="SPEC", help="held-out text (a file, folder or registered name such "
                   "as wikitext-2:valid): every generation's perplexity on it and its OOV rate")
    p.add_argument("--jobs", type=integer, default=1, help="local processes (default 1)")
    p.add_argument("--no-plot", action="store_true", help="do not write survival.png (and perplexity.png)")
    p.add_argument("--keep-text", action="store_true",
                   help="bpe: write every generation's training text (text.csv)")
    add_common(p, generations=10, trajectories=5)
    add_overwrite(p)
    p.set_defaults(command=run_command)


def run_command(args: argparse.Namespace) -> int:
    """``python -m ngram_collapse [run] [options]``: the recursive n-gram run."""
    from ..corpus import DEFAULT_CORPUS, describe, load_sequences
    from ..experiment import run_experiment, write_run
    from ..output import claim, format_table
    from ..results import is_results
    from ..settings import RunSettings
    from ..subword_model import SubwordSettings
    from ..subword_run import reading_options, run_subword

    settings = RunSettings(order=args.order, generations=args.generations, trajectories=args.trajectories,
                           sampling=args.sampling, seed=args.seed, workflow=args.workflow,
                           real_fraction=args.real_fraction, temperature=args.temperature, top_k=args.top_k,
                           top_p=args.top_p, estimator=args.estimator, **estimator_options(args))
    options = corpus_options(args)
    subword = SubwordSettings.from_options(options)
    if args.keep_text and subword is None:
        raise InputError("keep_text applies to a subword run (tokenizer bpe): a word-level run's text is its "
                         "corpus's words", "keep_text")
    if subword is not None and (args.eval_corpus is not None or settings.estimator != "mle"):
        raise InputError("tokenizer bpe runs maximum-likelihood models of subwords: --estimator and --eval-corpus "
                         "apply to word-level runs", "tokenizer")
    corpus = DEFAULT_CORPUS if args.corpus is None else args.corpus
    out = Path(args.out) if args.out else default_out(corpus, *([subword.tokenizer] if subword else []),
                                                      f"n{args.order}", args.sampling)
    claim(out, lambda folder: is_results(folder, {"ngram", "subword"}), args.overwrite,
          protect=[Path(spec) for spec in (args.corpus, args.eval_corpus) if spec])
    start = time.perf_counter()
    data = load_sequences(args.corpus, progress=not args.quiet, **reading_options(options))
    heldout = None if args.eval_corpus is None else _load_heldout(args.eval_corpus, options)
    reading = time.perf_counter() - start
    about = describe(corpus, options, args.eval_corpus)
    if subword is None:
        results = run_experiment(data, settings, heldout=heldout, jobs=args.jobs, progress=not args.quiet, about=about)
    else:
        results = run_subword(data, settings, subword, jobs=args.jobs, progress=not args.quiet, about=about,
                              keep_text=args.keep_text)
    results.timings = {"reading_seconds": reading, **results.timings}
    write_run(results, out, plot=not args.no_plot)
    first = results.generations[0]
    regime = "" if args.workflow == "replace" else f", workflow {args.workflow}"
    tokens = "" if subword is None else (f"; {subword.tokenizer.upper()} {subword.subword_vocab_size} tokens "
                                         f"({subword.tokenizer_policy}): {round(first['subword_tokens'])} subwords")
    print(f"{corpus}: {round(first['tokens_mean'])} words, {round(first['distinct_mean'])} distinct{tokens}; "
          f"order {args.order}, {args.sampling} sampling{regime}, {args.trajectories} trajectories")
    header, rows = _survival_table(results.generations) if subword is None else _subword_table(results.generations)
    if heldout is not None:  # perplexity beside the distinct words
        print(f"perplexity on {args.eval_corpus} ({heldout.num_tokens} words): {_scorer(settings)}")
        header = [*header, "perplexity", "sd", "held-out OOV rate"]
        rows = [[*row, "inf" if r["perplexity"] is None else r["perplexity"], r.get("perplexity_std"),
                 r["heldout_oov_rate"]] for row, r in zip(rows, results.generations)]
    print(format_table(header, rows))
    print(f"wrote {out}")
    return 0


def _load_heldout(spec: str, options: dict[str, object]):
    """Held-out text read as the corpus is (every word: no --max-words)."""
    from ..corpus import load_sequences

    try:
        return load_sequences(spec, **{**options, "max_words": None})
    except InputError as e:
        raise InputError(f"eval_corpus: {e}", "eval_corpus") from None


def _scorer(settings) -> str:
    """What scores held-out text (:func:`ngram_collapse.heldout.evaluator`), in words."""
    if settings.estimator != "mle":
        floor = " with the unigram floor" if settings.estimator == "kneser-ney" else ""
        return f"each generation's own {settings.estimator} model{floor}"
    name, options = settings.evaluator()
    floor = " with the unigram floor" if options["unigram_floor"] else ""
    return f"{name}{floor} fitted on each generation's data (an mle model's perplexity is infinite at the first " \
           "unseen n-gram)"


def _survival_table(rows: list[dict]) -> tuple[list[str], list[list]]:
    """Header and rows of the per-generation table printed by a run: distinct words of the training
    data, their fraction of the original vocabulary, and every theory the run has, as fractions."""
    m = rows[0]["distinct_mean"]
    theory = [t for t in ("expected", "bound_lower", "bound_upper", "predicted", "sequence_limit") if t in rows[0]]
    header = ["k", "distinct", "sd", "fraction"] + [f"{t} fraction" for t in theory]
    return header, [[r["generation"], round(r["distinct_mean"], 1),
                     None if r["distinct_std"] is None else round(r["distinct_std"], 1),
                     r["distinct_mean"] / m] + [r[t] / m for t in theory] for r in rows]


def _subword_table(rows: list[dict]) -> tuple[list[str], list[list]]:
    """Header and rows of the per-generation table printed by a subword run: the original words still
    present (mean, sd, fraction) beside the word-level theory as fractions, invented words (in the text,
    seen so far), distinct subword types, the vocabulary overlap with generation 0 and subwords per word."""
    m = rows[0]["original_words"]
    theory = [t for t in ("expected", "bound_lower", "bound_upper", "predicted") if t in rows[0]]
    header = (["k", "original", "sd", "fraction"] + [f"{t} fraction" for t in theory]
              + ["novel", "novel seen", "subword types", "overlap", "subwords/word"])
    return header, [[r["generation"], round(r["original_words"], 1),
                     None if r["original_words_std"] is None else round(r["original_words_std"], 1),
                     r["original_words"] / m] + [r[t] / m for t in theory]
                    + [round(r["novel_words"], 1), round(r["novel_seen"], 1),
                       round(r["distinct_subwords"], 1), r["vocabulary_overlap"], r["subwords_per_word"]]
                    for r in rows]
