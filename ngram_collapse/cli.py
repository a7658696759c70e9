"""The command line: a thin layer over the library (arguments, printing, exit codes).

``python -m ngram_collapse [run options]`` runs recursive n-gram training on a corpus; other
commands are chosen by their first word (``simulate``, ...). Bad input of any kind prints one line
on stderr and exits with status 2.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from .errors import InputError

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
positive_float = _number(float, 0, strict_min=True)


def _add_common(p: argparse.ArgumentParser, generations: int, trajectories: int) -> None:
    """Options every command shares: generations, trajectories, seed, output folder, quiet."""
    p.add_argument("--generations", type=nonnegative_int, default=generations,
                   help=f"number of retraining rounds K (default {generations})")
    p.add_argument("--trajectories", type=positive_int, default=trajectories,
                   help=f"independent trajectories (default {trajectories})")
    p.add_argument("--seed", type=nonnegative_int, default=0, help="random seed (default 0)")
    p.add_argument("--out", help="output folder (default: a new folder under runs/)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


COMMANDS: dict[str, Callable[[Sequence[str]], int]] = {}


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
        print(f"{PROG}: interrupted; no output written", file=sys.stderr)
        return 130


def simulate_command(argv: Sequence[str]) -> int:
    """``simulate MODEL [options]``: simulated recursive training of a parametric model beside its
    theory; prints a table, writes ``summary.json`` and ``survival.png`` into ``--out``."""
    import time
    from pathlib import Path

    from . import output, plot
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
        _add_common(sub, sim.generations, sim.trajectories)
    args = parser.parse_args(argv)
    sim = SIMULATIONS[args.model]
    out = Path(args.out or f"runs/simulate-{sim.name}-{time.strftime('%Y%m%d-%H%M%S')}")
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
        output.write_json(tmp / "summary.json", summary)
        if rows:
            plot.figure_survival_vs_theory([summary], tmp / "survival.png")
    print(f"wrote {out}")
    return 0


COMMANDS["simulate"] = simulate_command
