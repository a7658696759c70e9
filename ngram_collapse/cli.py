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
