"""The command line: a thin layer over the library (flags, printing, exit codes).

``python -m ngram_collapse [run] [options]`` runs recursive n-gram training on a corpus (``run`` is
the default command); ``simulate MODEL`` and ``report`` are the others. The library validates every
parameter; its errors name the parameter, which is shown here as the flag that sets it. Bad input of
any kind prints one line on stderr and exits with status 2.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from .errors import InputError, Terminated
from .output import slug

PROG = "ngram-collapse"
COMMANDS = ("run", "simulate", "report")


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise InputError(message)


def _typed(kind: type, what: str) -> Callable[[str], object]:
    """An argparse type converting to ``kind`` (ranges are the library's to check)."""

    def parse(text: str) -> object:
        try:
            return kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None

    parse.__name__ = kind.__name__
    return parse


_int = _typed(int, "an integer")
_float = _typed(float, "a number")


def _list_of(kind: type) -> Callable[[str], list]:
    """An argparse type: a comma-separated list of ``kind`` (empty items dropped)."""

    def parse(text: str) -> list:
        try:
            return [kind(item.strip()) for item in text.split(",") if item.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of {kind.__name__}") from None

    parse.__name__ = f"list of {kind.__name__}"
    return parse


def _add_common(p: argparse.ArgumentParser, generations: int | None, trajectories: int | None) -> None:
    """Options every command shares: generations, trajectories, seed, output folder, quiet."""
    p.add_argument("--generations", type=_int, default=generations,
                   help=f"number of retraining rounds K (default {generations})")
    p.add_argument("--trajectories", type=_int, default=trajectories,
                   help=f"independent trajectories (default {trajectories})")
    p.add_argument("--seed", type=_int, default=0, help="random seed (default 0)")
    p.add_argument("--out", help="output folder: new or empty (default: a new folder under runs/)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _add_overwrite(p: argparse.ArgumentParser) -> None:
    p.add_argument("--overwrite", action="store_true",
                   help="replace the results of an earlier run in --out (never other files)")


def _add_corpus_options(p: argparse.ArgumentParser) -> None:
    """How a corpus is read and tokenized (every option but ``--corpus`` itself); see :func:`_corpus_options`."""
    from .subword import DEFAULT_VOCAB_SIZE, KINDS
    from .subword_model import POLICIES
    from .tokenize import SEGMENTS, TOKENIZERS

    p.add_argument("--data-dir", help="where registered corpora live (default $NGRAM_COLLAPSE_DATA)")
    p.add_argument("--max-words", type=_int, help="keep only the first W words")
    p.add_argument("--tokenizer", choices=TOKENIZERS + KINDS, default="whitespace",
                   help="words (default: whitespace), or bpe: subword tokens of a byte-pair encoding learned from "
                   "the white-space normalised text, the n-gram model runs on them")
    p.add_argument("--subword-vocab-size", type=_int, metavar="V",
                   help=f"bpe: tokens to learn (default {DEFAULT_VOCAB_SIZE})")
    p.add_argument("--tokenizer-policy", choices=POLICIES,
                   help="bpe: retrain the tokenizer on every generation's text (retrained, the default) or keep "
                   "generation 0's (frozen)")
    p.add_argument("--lowercase", action="store_true", help="lower-case the text first")
    p.add_argument("--segment", choices=SEGMENTS, default="line",
                   help="one sequence per line (default) or per sentence (NLTK Punkt)")
    p.add_argument("--encoding-errors", choices=("strict", "replace"), default="strict",
                   help="undecodable bytes: stop with an error (default) or replace them")


def _corpus_options(args: argparse.Namespace) -> dict[str, object]:
    """The keyword arguments of :func:`ngram_collapse.corpus.load_sequences` (but the spec) and, for
    a subword tokenizer, its settings (validated, defaults filled in; see
    :meth:`ngram_collapse.subword_model.SubwordSettings.from_options`)."""
    from .subword_model import SubwordSettings

    options = {"tokenizer": args.tokenizer, "lowercase": args.lowercase, "segment": args.segment,
               "max_words": args.max_words, "data_dir": args.data_dir, "encoding_errors": args.encoding_errors}
    subword = SubwordSettings.from_options({**options, "subword_vocab_size": args.subword_vocab_size,
                                            "tokenizer_policy": args.tokenizer_policy})
    return {**options, **(subword.config() if subword else {})}


def default_out(*parts: object) -> Path:
    """A new folder ``runs/<time>-<parts>`` (never an existing one)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    name = "-".join(slug(str(p)) for p in parts)
    out = Path("runs") / f"{stamp}-{name}"
    n = 1
    while out.exists():
        n += 1
        out = Path("runs") / f"{stamp}-{name}-{n}"
    return out


# ---------------------------------------------------------------------------------------------- run

def _run_parser(commands: argparse._SubParsersAction) -> None:
    from .loop import SAMPLING_SCHEMES

    p = commands.add_parser("run", help="recursive n-gram training on a corpus (the default command)", description=(
        "Recursively retrain a maximum-likelihood n-gram model on its own samples and compare the "
        "distinct words of every generation with Corollaries 1 and 2 of Suresh et al. (2025). "
        f"Other commands: simulate, report (run '{PROG} COMMAND --help')."))
    p.add_argument("--corpus", help="a text file, a folder of .txt files, or a registered corpus "
                   "such as wikitext-2 or wikitext-2:valid (default: Python's embedded help topics)")
    _add_corpus_options(p)
    p.add_argument("--order", type=_int, default=1, help="n-gram order (default 1)")
    p.add_argument("--sampling", choices=SAMPLING_SCHEMES, default="multinomial",
                   help="sample size rule: multinomial = the original size every generation "
                   "(default), poisson = Poisson(previous size)")
    _add_regime(p)
    _add_estimator(p)
    p.add_argument("--eval-corpus", metavar="SPEC", help="held-out text (a file, folder or registered name such "
                   "as wikitext-2:valid): every generation's perplexity on it and its OOV rate")
    p.add_argument("--jobs", type=_int, default=1, help="local processes (default 1)")
    p.add_argument("--no-plot", action="store_true", help="do not write survival.png (and perplexity.png)")
    p.add_argument("--keep-text", action="store_true",
                   help="bpe: write every generation's training text (text.csv)")
    _add_common(p, generations=10, trajectories=5)
    _add_overwrite(p)
    p.set_defaults(command=run_command)


def _add_estimator(p: argparse.ArgumentParser, axis: bool = False) -> None:
    """The n-gram estimator and how held-out text is scored (``axis``: the estimator is a grid axis)."""
    from .settings import VOCABULARY_POLICIES
    from .smoothing import ESTIMATORS

    if axis:
        p.add_argument("--estimators", dest="estimator", type=_list_of(str),
                       help=f"estimators, comma-separated: a grid axis ({', '.join(ESTIMATORS)}; default mle)")
    else:
        p.add_argument("--estimator", choices=ESTIMATORS, default="mle",
                       help="n-gram estimator (default mle; the others are NLTK's smoothed models)")
    p.add_argument("--gamma", type=_float, help="lidstone: the count added to every n-gram")
    p.add_argument("--discount", type=_float, default=0.1, help="kneser-ney: the discount d in (0, 1) (default 0.1)")
    p.add_argument("--unigram-floor", action="store_true",
                   help="kneser-ney: discount the unigram level too, giving every vocabulary word some probability")
    p.add_argument("--vocabulary", choices=VOCABULARY_POLICIES, default="retrained",
                   help="smoothed estimators: re-learn the vocabulary from each generation (default) or keep "
                   "the original corpus's (smoothing can then bring a word back)")
    p.add_argument("--eval-estimator", choices=[e for e in ESTIMATORS if e != "mle"],
                   help="scores held-out text for mle runs, fitted on each generation's data (default "
                   "kneser-ney with the unigram floor; laplace at order 1)")


def _estimator_options(args: argparse.Namespace) -> dict[str, object]:
    """RunSettings fields of :func:`_add_estimator`'s options (the estimator aside)."""
    return {"gamma": args.gamma, "discount": args.discount, "unigram_floor": args.unigram_floor,
            "vocabulary": args.vocabulary, "eval_estimator": args.eval_estimator}


def _add_regime(p: argparse.ArgumentParser) -> None:
    """What each generation is trained on and how models are sampled (see the README's table)."""
    from .workflows import WORKFLOWS

    p.add_argument("--workflow", choices=WORKFLOWS, default="replace",
                   help="what each generation is trained on (default replace: the previous generation's sample)")
    p.add_argument("--real-fraction", type=_float, metavar="L",
                   help="mix-fresh, mix-fixed: the fraction L in [0, 1] of real data in every generation")
    p.add_argument("--temperature", type=_float, default=1.0, metavar="T",
                   help="sample every context's p^(1/T), renormalised (default 1)")
    p.add_argument("--top-k", type=_int, metavar="K", help="sample only the K most probable next words")
    p.add_argument("--top-p", type=_float, metavar="P",
                   help="sample only the most probable next words that hold probability P")


def run_command(args: argparse.Namespace) -> int:
    """``python -m ngram_collapse [run] [options]``: the recursive n-gram run."""
    from .corpus import DEFAULT_CORPUS, load_sequences
    from .experiment import run_experiment, write_run
    from .settings import RunSettings
    from .output import claim, format_table
    from .results import is_results
    from .subword_model import SubwordSettings
    from .subword_run import reading_options, run_subword

    settings = RunSettings(order=args.order, generations=args.generations, trajectories=args.trajectories,
                           sampling=args.sampling, seed=args.seed, workflow=args.workflow,
                           real_fraction=args.real_fraction, temperature=args.temperature, top_k=args.top_k,
                           top_p=args.top_p, estimator=args.estimator, **_estimator_options(args))
    options = _corpus_options(args)
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
    about = {"corpus": corpus, **{k: v for k, v in options.items() if k != "data_dir"}, "eval_corpus": args.eval_corpus}
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
                                         f"({subword.tokenizer_policy}): {round(first['subword_tokens_mean'])} subwords")
    print(f"{corpus}: {round(first['tokens_mean'])} words, {round(first['distinct_mean'])} distinct{tokens}; "
          f"order {args.order}, {args.sampling} sampling{regime}, {args.trajectories} trajectories")
    table = _survival_table(results.generations) if subword is None else _subword_table(results.generations)
    print(format_table(*table))
    if heldout is not None:
        print(f"perplexity on {args.eval_corpus} ({heldout.num_tokens} words): {_scorer(settings)}")
        print(format_table(["k", "perplexity", "sd", "held-out OOV rate"],
                           [[r["generation"], "inf" if r["perplexity"] is None else r["perplexity"],
                             r.get("perplexity_std"), r["heldout_oov_rate"]] for r in results.generations]))
    print(f"wrote {out}")
    return 0


def _load_heldout(spec: str, options: dict[str, object]):
    """Held-out text read as the corpus is (every word: no --max-words)."""
    from .corpus import load_sequences

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
    m = rows[0]["original_words_mean"]
    theory = [t for t in ("expected", "bound_lower", "bound_upper", "predicted") if t in rows[0]]
    header = (["k", "original", "sd", "fraction"] + [f"{t} fraction" for t in theory]
              + ["novel", "novel seen", "subword types", "overlap", "subwords/word"])
    return header, [[r["generation"], round(r["original_words_mean"], 1),
                     None if r["original_words_std"] is None else round(r["original_words_std"], 1),
                     r["original_words_mean"] / m] + [r[t] / m for t in theory]
                    + [round(r["novel_words_mean"], 1), round(r["novel_seen_mean"], 1),
                       round(r["distinct_subwords_mean"], 1), r["vocabulary_overlap_mean"], r["subwords_per_word_mean"]]
                    for r in rows]


# ----------------------------------------------------------------------------------------- simulate

def _simulate_parser(commands: argparse._SubParsersAction) -> None:
    from .simulate import SIMULATIONS

    description = "Recursive training of a parametric model, simulated beside its theory."
    p = commands.add_parser("simulate", help="a parametric model of the paper beside its theory",
                            description=description)
    models = p.add_subparsers(dest="model", required=True, metavar="MODEL")
    for sim in SIMULATIONS.values():
        defaults = sim.defaults()
        sub = models.add_parser(sim.name, help=sim.description, description=sim.description)
        for opt in sim.options:
            flag = "--" + opt.name.replace("_", "-")
            if opt.kind is bool:
                sub.add_argument(flag, dest=opt.name, action="store_true", help=opt.help)
            else:
                kind = {int: _int, float: _float}.get(opt.kind, opt.kind)
                sub.add_argument(flag, dest=opt.name, type=kind, default=defaults[opt.name], choices=opt.choices,
                                 help=f"{opt.help} (default {defaults[opt.name]})")
        sub.add_argument("--no-plot", action="store_true", help="write summary.json and generations.csv only")
        _add_common(sub, defaults["generations"], defaults["trajectories"])
        _add_overwrite(sub)
        sub.set_defaults(command=simulate_command)


def simulate_command(args: argparse.Namespace) -> int:
    """``simulate MODEL [options]``: simulated recursive training of a parametric model beside its
    theory; prints a table, writes the results and the model's figures into ``--out``."""
    from .output import claim, format_table
    from .plot import label, quantity
    from .results import is_results, write
    from .simulate import SIMULATIONS, simulate

    sim = SIMULATIONS[args.model]
    out = Path(args.out) if args.out else default_out("simulate", sim.name)
    claim(out, lambda folder: is_results(folder, {sim.name}), args.overwrite)
    results = simulate(sim.name, generations=args.generations, trajectories=args.trajectories, seed=args.seed,
                       progress=not args.quiet, **{opt.name: getattr(args, opt.name) for opt in sim.options})
    rows = results.generations
    columns = [c for c in rows[0] if any(r[c] is not None for r in rows)]
    # long runs: about 30 generations, spaced geometrically (always generation 0 and K)
    shown = rows if len(rows) <= 30 else [rows[i] for i in sorted({0, *(round((len(rows) - 1) ** (j / 28))
                                                                         for j in range(29))})]
    print(label(results), "-", quantity(results))
    print(format_table(columns, [[r[c] for c in columns] for r in shown]))
    if len(shown) < len(rows):
        print(f"({len(shown)} of {len(rows)} generations shown; all are in summary.json)")
    write(results, out, {} if args.no_plot else sim.figures(results))
    print(f"wrote {out}")
    return 0


# ------------------------------------------------------------------------------------------- report

def _report_parser(commands: argparse._SubParsersAction) -> None:
    import os

    from .corpus import DEFAULT_CORPUS

    description = (
        "Which words are forgotten, and when: recursive n-gram training over a grid of corpora x "
        "orders x sampling schemes, with per-word survival against 1 - exp(-c g_k) (Corollary 2). "
        "Finished cells are skipped when the same command is run again with the same --out.")
    p = commands.add_parser("report", help="vocabulary-survival report over a grid", description=description)
    p.add_argument("--corpus", action="extend", nargs="+", metavar="CORPUS",
                   help=f"one or more corpora, as for the run command (default {DEFAULT_CORPUS})")
    _add_corpus_options(p)
    p.add_argument("--orders", dest="order", type=_list_of(int), default=[1],
                   help="n-gram orders, e.g. 1,2,3 (default 1)")
    p.add_argument("--sampling", type=_list_of(str), default=["multinomial", "poisson"],
                   help="sampling schemes (default multinomial,poisson)")
    for flag, axis, kind, what in (("--workflows", "workflow", str, "workflows (default replace)"),
                                   ("--real-fractions", "real_fraction", float, "real fractions L for the mixing workflows"),
                                   ("--temperatures", "temperature", float, "sampling temperatures (default 1)"),
                                   ("--top-ks", "top_k", int, "top-k truncations (default none)"),
                                   ("--top-ps", "top_p", float, "top-p truncations (default none)")):
        p.add_argument(flag, dest=axis, type=_list_of(kind), help=f"{what}, comma-separated: a grid axis")
    _add_estimator(p, axis=True)
    p.add_argument("--eval-corpus", metavar="SPEC", help="held-out text every cell is evaluated on")
    p.add_argument("--jobs", type=_int, default=os.cpu_count() or 1,
                   help="local processes running cells (default: one per CPU)")
    p.add_argument("--scheduler", metavar="dask://HOST:PORT",
                   help="run the cells on an existing Dask distributed cluster (needs the dask extra)")
    _add_common(p, generations=10, trajectories=5)
    p.set_defaults(command=report_command)


def report_command(args: argparse.Namespace) -> int:
    """``report [options]``: vocabulary-survival report over a grid of corpora, orders and sampling
    schemes; one folder per cell, ``cells.csv`` and ``report.html`` at the top of ``--out``."""
    from .corpus import DEFAULT_CORPUS
    from .report import Settings, expand_grid, run_report

    from .report.grid import AXES

    shared = _estimator_options(args)
    cells = expand_grid(args.corpus or [DEFAULT_CORPUS], args.order, args.sampling, shared,
                        **{axis: getattr(args, axis) for axis in AXES if getattr(args, axis) is not None})
    settings = Settings(args.generations, args.trajectories, args.seed, _corpus_options(args), shared,
                        args.eval_corpus)
    out = Path(args.out) if args.out else default_out("report")
    done = run_report(out, cells, settings, jobs=args.jobs, scheduler=args.scheduler, progress=not args.quiet)
    for name, reason in done.damaged.items():
        print(f"{name}: was damaged ({reason}); ran it again")
    print(f"{len(done.ran)} cells run, {len(done.skipped)} already finished; "
          f"open {done.html} (table: {done.cells_csv}; one folder per cell beside them)")
    return 0


# --------------------------------------------------------------------------------------------- main

def parser() -> argparse.ArgumentParser:
    """The whole command line: ``run`` (default), ``simulate MODEL``, ``report``."""
    p = _Parser(prog=PROG, description="Measure model collapse under recursive training. Without a COMMAND "
                f"the run command is meant: '{PROG} --order 3' is '{PROG} run --order 3'.")
    commands = p.add_subparsers(dest="name", required=True, metavar="COMMAND")
    _run_parser(commands)
    _simulate_parser(commands)
    _report_parser(commands)
    return p


def _flags(p: argparse.ArgumentParser, argv: Sequence[str]) -> dict[str, str]:
    """Parameter name -> flag, over the parser of the command (and model) that ``argv`` chose."""
    found: dict[str, str] = {}
    stack = [p]
    while stack:
        current = stack.pop()
        for action in current._actions:
            if isinstance(action, argparse._SubParsersAction):
                stack += [sub for name, sub in action.choices.items() if name in argv]
            elif action.option_strings:
                found.setdefault(action.dest, action.option_strings[0])
    return found


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m ngram_collapse`` and the ``ngram-collapse`` script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in (*COMMANDS, "-h", "--help"):
        argv.insert(0, "run")
    p = parser()
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if in_main else None
    try:
        args = p.parse_args(argv)
        return args.command(args)
    except InputError as e:
        message = str(e)
        flag = _flags(p, argv).get(e.parameter or "")
        if flag and message.startswith(e.parameter):
            message = flag + message[len(e.parameter):]
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader of stdout went away (e.g. | head): nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except KeyboardInterrupt as e:
        stopped = "terminated" if isinstance(e, Terminated) else "interrupted"
        print(f"{PROG}: {stopped}; nothing half-written was kept", file=sys.stderr)
        return 143 if isinstance(e, Terminated) else 130
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous)


def _terminate(signum: int, frame: object) -> None:
    raise Terminated()
