"""One way to run independent tasks (trajectories, report cells) on local processes.

:func:`run_unordered` yields ``(index, result)`` as tasks finish. With more than one job the tasks run
in forked worker processes that inherit ``shared`` (e.g. a generation-0 model) from the parent instead
of receiving a pickled copy, so a large read-only object is held once, not once per process.

Workers never outlive the parent: the kernel kills them when it dies (Linux ``PR_SET_PDEATHSIG``, so
even after SIGKILL), they ignore Ctrl-C (the parent handles it), and when the parent stops early, on
an error, Ctrl-C or SIGTERM, it kills them at once instead of waiting for their current tasks.
"""
from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from . import checks

T = TypeVar("T")
R = TypeVar("R")

_shared: Any = None  # what forked workers inherit; set only while a pool is running
_PR_SET_PDEATHSIG = 1


def _call(fn: Callable[[Any, Any], Any], item: Any) -> Any:
    return fn(_shared, item)


def _worker_start(parent: int) -> None:
    """In each worker: die with the parent, leave Ctrl-C to it."""
    import ctypes

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the parent's own clean-up is all there is
        pass
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def run_unordered(fn: Callable[[Any, T], R], items: Sequence[T], jobs: int = 1,
                  shared: Any = None) -> Iterator[tuple[int, R]]:
    """Apply ``fn(shared, item)`` to every item; yield ``(index, result)`` as each finishes.

    Args:
        fn: a module-level function (or a ``functools.partial`` of one) when ``jobs > 1``.
        items: the tasks' arguments (picklable when ``jobs > 1``).
        jobs: local processes, >= 1 (never more than there are items or CPUs).
        shared: one object every call receives, inherited by forked workers (not pickled).
    """
    global _shared
    jobs = checks.integer("jobs", jobs, minimum=1)
    workers = min(jobs, len(items), os.cpu_count() or 1)
    if workers <= 1:
        for i, item in enumerate(items):
            yield i, fn(shared, item)
        return
    # imported here: a run with one job (the default) never needs them (12 ms at start-up)
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    _shared = shared
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"),
                               initializer=_worker_start, initargs=(os.getpid(),))
    finished = False
    try:
        pending = {pool.submit(_call, fn, item): i for i, item in enumerate(items)}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield pending.pop(future), future.result()
        finished = True
    finally:
        if not finished:  # an error, Ctrl-C, SIGTERM or a consumer that stopped: no waiting for tasks
            for process in list(getattr(pool, "_processes", {}).values()):
                process.kill()
        # with the workers gone the pool's manager thread ends at once; joining it here keeps it from
        # being joined at interpreter exit, after the pipes it uses are closed
        pool.shutdown(wait=True, cancel_futures=True)
        _shared = None


def run_ordered(fn: Callable[[Any, T], R], items: Sequence[T], jobs: int = 1, shared: Any = None,
                on_done: Callable[[R], None] | None = None) -> list[R]:
    """:func:`run_unordered`, results in the order of ``items``; ``on_done`` sees each as it finishes."""
    results: list[Any] = [None] * len(items)
    for i, result in run_unordered(fn, items, jobs, shared):
        results[i] = result
        if on_done is not None:
            on_done(result)
    return results
