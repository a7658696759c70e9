"""Seeds in numpy's forms, one way everywhere.

Every function that takes randomness takes a ``seed``: an int >= 0, None (fresh entropy), a
``numpy.random.SeedSequence`` or a ``numpy.random.Generator`` (which contributes its SeedSequence).
A batch of trajectories held as arrays draws from one ``np.random.default_rng(seed)``; trajectories run
one by one draw from ``spawn(seed, T)[t]``; a report cell derives its own sequence from the report's
seed and the cell's identity with :func:`derive` (numpy's ``spawn_key``), so no result depends on the
number of processes or the order in which things run.
"""
from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from .errors import InputError

Seed = int | None | np.random.SeedSequence | np.random.Generator


def seed_sequence(seed: Seed) -> np.random.SeedSequence:
    """``seed`` as a SeedSequence (a Generator's own; an int or None through ``SeedSequence(seed)``)."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator):
        return seed.bit_generator.seed_seq
    if seed is None or (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0):
        return np.random.SeedSequence(None if seed is None else int(seed))
    raise InputError(f"seed must be an integer >= 0, a SeedSequence or a Generator, not {seed!r}", "seed")


def spawn(seed: Seed, n: int) -> list[np.random.SeedSequence]:
    """``n`` independent child sequences of ``seed`` (``SeedSequence.spawn``): trajectory t gets child t."""
    return seed_sequence(seed).spawn(n)


def derive(seed: Seed, key: str) -> np.random.SeedSequence:
    """The SeedSequence of ``seed`` extended by a stable 128-bit digest of ``key`` in its ``spawn_key``
    (e.g. a report cell's identity): a function of the two only."""
    root = seed_sequence(seed)
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    words = tuple(int.from_bytes(digest[i:i + 4], "little") for i in range(0, 16, 4))
    return np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, *words))


def describe(seed: Seed) -> Any:
    """A JSON value that reproduces ``seed``: its entropy (an int) if it is a root sequence, else
    ``{"entropy": ..., "spawn_key": [...]}`` (``SeedSequence(entropy, spawn_key=...)`` rebuilds it)."""
    ss = seed_sequence(seed)
    if not ss.spawn_key:
        return ss.entropy
    return {"entropy": ss.entropy, "spawn_key": list(ss.spawn_key)}
