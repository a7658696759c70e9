"""The command line: a thin layer over the library (flags, printing, exit codes).

``python -m ngram_collapse [run] [options]`` runs recursive n-gram training on a corpus (``run`` is
the default command); ``simulate MODEL`` and ``report`` are the others, each in its module here with
``add_command`` (its flags) and its command function. The library validates every parameter; its
errors name the parameter, which is shown here as the flag that sets it. Bad input of any kind prints
one line on stderr and exits with status 2.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence

from ..errors import InputError, Terminated
from . import report, run, simulate
from .options import PROG, Parser

COMMANDS = ("run", "simulate", "report")


def parser() -> argparse.ArgumentParser:
    """The whole command line: ``run`` (default), ``simulate MODEL``, ``report``."""
    p = Parser(prog=PROG, description="Measure model collapse under recursive training. Without a COMMAND "
                f"the run command is meant: '{PROG} --order 3' is '{PROG} run --order 3'.")
    commands = p.add_subparsers(dest="name", required=True, metavar="COMMAND")
    for command in (run, simulate, report):
        command.add_command(commands)
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
