"""Validation of parameters, one helper per kind of value. Each raises
:class:`~ngram_collapse.errors.InputError` naming the parameter, so every caller (library or command
line) gets the same one-line message, and a parameter is checked in one place: where it is used.
"""
from __future__ import annotations

import math
import os
from collections.abc import Collection
from typing import Any

import numpy as np

from .errors import InputError


def integer(name: str, value: Any, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as an int, if it is an integer (not a bool, not a float) in [minimum, maximum]."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InputError(f"{name} must be an integer, not {value!r}", name)
    value = int(value)
    _in_range(name, value, minimum, maximum, False, False)
    return value


def real(name: str, value: Any, minimum: float | None = None, maximum: float | None = None, *,
         above: bool = False, below: bool = False) -> float:
    """``value`` as a finite float in [minimum, maximum] (``above``/``below``: the bound itself excluded)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InputError(f"{name} must be a number, not {value!r}", name)
    value = float(value)
    if not math.isfinite(value):
        raise InputError(f"{name} must be a finite number, not {value!r}", name)
    _in_range(name, value, minimum, maximum, above, below)
    return value


def choice(name: str, value: Any, choices: Collection[str]) -> str:
    """``value`` if it is one of ``choices``."""
    if value not in choices:
        raise InputError(f"{name} must be one of {', '.join(choices)}, not {value!r}", name)
    return value


def memory(name: str, value: Any, nbytes: float, what: str) -> None:
    """Refuse a ``value`` of ``name`` for which the run would need ``nbytes`` of memory (for
    ``what``) when that is more than this machine has available (``MemAvailable`` of /proc/meminfo,
    else its physical memory): better one line now than a MemoryError or a swapping machine later."""
    available = available_memory()
    if nbytes > available:
        raise InputError(f"{name} = {value} needs about {_size(nbytes)} of memory for {what}, more than the "
                         f"{_size(available)} this machine has available", name)


def run_size(generations: int, trajectories: int, bytes_per_value: float, what: str) -> None:
    """:func:`memory` for ``trajectories`` x (``generations`` + 1) values of ``bytes_per_value``
    bytes each, naming the larger of the two."""
    name, value = ("generations", generations) if generations + 1 >= trajectories else ("trajectories", trajectories)
    memory(name, value, (generations + 1) * trajectories * bytes_per_value,
           f"{what} ({trajectories} trajectories x {generations + 1} generations)")


def available_memory() -> int:
    """Bytes of memory available to a new allocation on this machine."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _size(nbytes: float) -> str:
    return f"{nbytes / 2**30:.3g} GB" if nbytes >= 2**30 else f"{nbytes / 2**20:.3g} MB"


def _in_range(name: str, value: float, minimum: float | None, maximum: float | None,
              above: bool, below: bool) -> None:
    low = minimum is not None and (value <= minimum if above else value < minimum)
    high = maximum is not None and (value >= maximum if below else value > maximum)
    if low or high:
        if minimum is not None and maximum is not None:
            span = f"in {'(' if above else '['}{minimum:g}, {maximum:g}{')' if below else ']'}"
        elif minimum is not None:
            span = f"{'>' if above else '>='} {minimum:g}"
        else:
            span = f"{'<' if below else '<='} {maximum:g}"
        raise InputError(f"{name} must be {span}, not {value:g}", name)
