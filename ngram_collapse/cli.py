"""The command line: a thin layer over the library (arguments, printing, exit codes).

``python -m ngram_collapse [run options]`` runs recursive n-gram training on a corpus; other
commands are chosen by their first word (``simulate``, ...). Bad input of any kind prints one line
on stderr and exits with status 2.
"""
from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from .errors import InputError
from .output import slug

PROG = "ngram-collapse"


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise InputError(message)


def _number(kind: type, minimum: float | None = None, maximum: float | None = None,
            strict_min: bool = False, strict_max: bool = False) -> Callable[[str], object]:
    """An argparse type: ``kind`` (int or float) within [minimum, maximum] (open ends if strict)."""

    def parse(text: str) -> object:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {'an integer' if kind is int else 'a number'}")
        if minimum is not None and (value <= minimum if strict_min else value < minimum):
            raise argparse.ArgumentTypeError(f"{text} must be {'>' if strict_min else '>='} {minimum}")
        if maximum is not None and (value >= maximum if strict_max else value > maximum):
            raise argparse.ArgumentTypeError(f"{text} must be {'<' if strict_max else '<='} {maximum}")
        return value

    parse.__name__ = kind.__name__
    return parse


positive_int = _number(int, 1)
nonnegative_int = _number(int, 0)


def _add_common(p: argparse.ArgumentParser, generations: int, trajectories: int) -> None:
    """Options every command shares: generations, trajectories, seed, output folder, quiet."""
    p.add_argument("--generations", type=nonnegative_int, default=generations,
                   help=f"number of retraining rounds K (default {generations})")
    p.add_argument("--trajectories", type=positive_int, default=trajectories,
                   help=f"independent trajectories (default {trajectories})")
    p.add_argument("--seed", type=nonnegative_int, default=0, help="random seed (default 0)")
    p.add_argument("--out", help="output folder (default: a new folder under runs/)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


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


def _add_corpus_options(p: argparse.ArgumentParser) -> None:
    """How a corpus is read (every option but ``--corpus`` itself); see :func:`_corpus_options`."""
    from .tokenize import SEGMENTS, TOKENIZERS

    p.add_argument("--data-dir", help="where registered corpora live (default $NGRAM_COLLAPSE_DATA)")
    p.add_argument("--max-words", type=positive_int, help="keep only the first W words")
    p.add_argument("--tokenizer", choices=TOKENIZERS, default="whitespace", help="default: whitespace")
    p.add_argument("--lowercase", action="store_true", help="lower-case the text first")
    p.add_argument("--segment", choices=SEGMENTS, default="line",
                   help="one sequence per line (default) or per sentence (NLTK Punkt)")
    p.add_argument("--encoding-errors", choices=("strict", "replace"), default="strict",
                   help="undecodable bytes: stop with an error (default) or replace them")


def _corpus_options(args: argparse.Namespace) -> dict[str, object]:
    """The keyword arguments of :func:`ngram_collapse.corpus.load_sequences` (but the spec) from
    the options of :func:`_add_corpus_options`."""
    return {"tokenizer": args.tokenizer, "lowercase": args.lowercase, "segment": args.segment,
            "max_words": args.max_words, "data_dir": args.data_dir,
            "encoding_errors": args.encoding_errors}


def _run_parser() -> argparse.ArgumentParser:
    from .loop import SAMPLING_SCHEMES

    p = _Parser(prog=PROG, description=(
        "Recursively retrain a maximum-likelihood n-gram model on its own samples and compare the "
        "distinct words of every generation with Corollaries 1 and 2 of Suresh et al. (2025). "
        "Other commands: simulate, report (run '%(prog)s COMMAND --help')."))
    p.add_argument("--corpus", help="a text file, a folder of .txt files, or a registered corpus "
                   "such as wikitext-2 or wikitext-2:valid (default: Python's embedded help topics)")
    _add_corpus_options(p)
    p.add_argument("--order", type=positive_int, default=1, help="n-gram order (default 1)")
    p.add_argument("--sampling", choices=SAMPLING_SCHEMES, default="multinomial",
                   help="sample size rule: multinomial = the original size every generation "
                   "(default), poisson = Poisson(previous size)")
    p.add_argument("--jobs", type=positive_int, default=1, help="local processes (default 1)")
    p.add_argument("--no-plot", action="store_true", help="do not write survival.png")
    _add_common(p, generations=10, trajectories=5)
    return p


def run_command(argv: Sequence[str]) -> int:
    """``python -m ngram_collapse [options]``: the recursive n-gram run."""
    args = _run_parser().parse_args(argv)
    from .corpus import DEFAULT_CORPUS, load_sequences
    from .experiment import run_experiment, write_run
    from .ngram import MAX_ORDER
    from .output import check_writable, format_table

    if args.order > MAX_ORDER:
        raise InputError(f"--order must be at most {MAX_ORDER}, not {args.order}")
    corpus = args.corpus or DEFAULT_CORPUS
    out = Path(args.out) if args.out else default_out(corpus, f"n{args.order}", args.sampling)
    check_writable(out)
    options = _corpus_options(args)
    data = load_sequences(args.corpus, **options)
    config = {"corpus": corpus, **{k: v for k, v in options.items() if k != "data_dir"}}
    result = run_experiment(data, args.order, generations=args.generations,
                            trajectories=args.trajectories, sampling=args.sampling, seed=args.seed,
                            jobs=args.jobs, progress=not args.quiet, config=config)
    summary = write_run(result, out, plot=not args.no_plot)
    print(f"{corpus}: {result.tokens} words, {result.vocab_size} distinct; order {args.order}, "
          f"{args.sampling} sampling, {args.trajectories} trajectories")
    print(format_table(*_survival_table(summary)))
    print(f"wrote {out}")
    return 0


def _survival_table(summary: dict) -> tuple[list[str], list[list]]:
    """Header and rows of the per-generation table printed by a run."""
    m = summary["vocab_size"]
    rows = summary["generations"]
    theory = ["expected"] if "expected" in rows[0] else ["bound_lower", "bound_upper"]
    header = ["k", "distinct", "sd", "fraction"] + [f"{t} fraction" for t in theory]
    return header, [[r["generation"], round(r["distinct_mean"], 1), round(r["distinct_std"], 1),
                     r["distinct_mean"] / m] + [r[t] / m for t in theory] for r in rows]


COMMANDS: dict[str, Callable[[Sequence[str]], int]] = {"run": run_command}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m ngram_collapse`` and the ``ngram-collapse`` script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv.pop(0) if argv and argv[0] in COMMANDS else "run"
    try:
        return COMMANDS[command](argv)
    except InputError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; nothing half-written was kept", file=sys.stderr)
        return 130


def simulate_command(argv: Sequence[str]) -> int:
    """``simulate MODEL [options]``: simulated recursive training of a parametric model beside its
    theory; prints a table, writes ``summary.json`` and the setting's figures into ``--out``
    (``survival.png``; ``prob_above_eps.png`` and ``trajectories.png`` for gaussian and gmm)."""
    from . import output
    from .simulate import SIMULATIONS, simulate

    parser = _Parser(prog=f"{PROG} simulate",
                     description="Recursive training of a parametric model, simulated beside its theory.")
    models = parser.add_subparsers(dest="model", required=True, metavar="MODEL")
    for sim in SIMULATIONS.values():
        sub = models.add_parser(sim.name, help=sim.description, description=sim.description)
        for opt in sim.options:
            flag = "--" + opt.name.replace("_", "-")
            if opt.kind is bool:
                sub.add_argument(flag, dest=opt.name, action="store_true", help=opt.help)
            else:
                sub.add_argument(flag, dest=opt.name, type=opt.kind, default=opt.default,
                                 choices=opt.choices, help=opt.help)
        sub.add_argument("--no-plot", action="store_true", help="write summary.json only, no figures")
        _add_common(sub, sim.generations, sim.trajectories)
    args = parser.parse_args(argv)
    sim = SIMULATIONS[args.model]
    out = Path(args.out) if args.out else default_out("simulate", sim.name)
    output.check_writable(out)
    summary = simulate(sim.name, generations=args.generations, trajectories=args.trajectories,
                       seed=args.seed, **{opt.name: getattr(args, opt.name) for opt in sim.options})
    rows = summary["generations"]
    columns = [c for c in rows[0] if any(r[c] is not None for r in rows)] if rows else ["generation"]
    # long runs: about 30 generations, spaced geometrically
    shown = rows if len(rows) <= 30 else [
        rows[i - 1] for i in sorted({round(len(rows) ** (j / 29)) for j in range(30)})]
    print(summary["label"], "-", summary["quantity"])
    print(output.format_table(columns, [[r[c] for c in columns] for r in shown]))
    if len(shown) < len(rows):
        print(f"({len(shown)} of {len(rows)} generations shown; all are in summary.json)")
    with output.atomic_folder(out) as tmp:
        sim.write(summary, tmp, not args.no_plot)
    print(f"wrote {out}")
    return 0


COMMANDS["simulate"] = simulate_command


def _list_of(kind: type) -> Callable[[str], list]:
    """An argparse type: a comma-separated list of ``kind`` (empty items dropped)."""

    def parse(text: str) -> list:
        try:
            return [kind(item.strip()) for item in text.split(",") if item.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of {kind.__name__}")

    parse.__name__ = f"list of {kind.__name__}"
    return parse


def report_command(argv: Sequence[str]) -> int:
    """``report [options]``: vocabulary-survival report over a grid of corpora, orders and sampling
    schemes; one folder per cell, ``cells.csv`` and ``report.html`` at the top of ``--out``."""
    import os

    from .corpus import DEFAULT_CORPUS
    from .report import Settings, expand_grid, run_report

    p = _Parser(prog=f"{PROG} report", description=(
        "Which words are forgotten, and when: recursive n-gram training over a grid of corpora x "
        "orders x sampling schemes, with per-word survival against 1 - exp(-c g_k) (Corollary 2). "
        "Finished cells are skipped when the same command is run again with the same --out."))
    p.add_argument("--corpus", action="extend", nargs="+", metavar="CORPUS",
                   help=f"one or more corpora, as for the run command (default {DEFAULT_CORPUS})")
    _add_corpus_options(p)
    p.add_argument("--orders", type=_list_of(int), default=[1], help="n-gram orders, e.g. 1,2,3 (default 1)")
    p.add_argument("--sampling", type=_list_of(str), default=["multinomial", "poisson"],
                   help="sampling schemes (default multinomial,poisson)")
    p.add_argument("--jobs", type=positive_int, default=os.cpu_count() or 1,
                   help="local processes running cells (default: one per CPU)")
    p.add_argument("--scheduler", metavar="dask://HOST:PORT",
                   help="run the cells on an existing Dask distributed cluster (needs the dask extra)")
    _add_common(p, generations=10, trajectories=5)
    args = p.parse_args(argv)
    cells = expand_grid(args.corpus or [DEFAULT_CORPUS], args.orders, args.sampling)
    settings = Settings(args.generations, args.trajectories, args.seed, _corpus_options(args))
    out = Path(args.out) if args.out else default_out("report")
    done = run_report(out, cells, settings, jobs=args.jobs, scheduler=args.scheduler,
                      progress=not args.quiet)
    print(f"{len(done.ran)} cells run, {len(done.skipped)} already finished; "
          f"open {done.html} (table: {done.cells_csv}; one folder per cell beside them)")
    return 0


COMMANDS["report"] = report_command
