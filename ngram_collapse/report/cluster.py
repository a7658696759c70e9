"""Running report cells on an existing Dask distributed cluster (``--scheduler dask://HOST:PORT``).

Every way the cluster can fail becomes one :class:`~ngram_collapse.errors.InputError` line within a
stated time: an address that is not ``dask://HOST:PORT``, nothing listening, a service that is not a
Dask scheduler or that never answers (:data:`CONNECT_SECONDS`), a scheduler with no workers
(:data:`WORKERS_SECONDS`), and a scheduler lost while cells run. Cells finished before a failure are
already written, so rerunning the same command resumes. Dask's own log messages are silenced: the one
line is the message.
"""
from __future__ import annotations

import logging
import threading
from concurrent.futures import CancelledError
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ..errors import InputError

_LOGGERS = ("distributed", "tornado", "asyncio")
CONNECT_SECONDS = 10.0
WORKERS_SECONDS = 10.0
_RESUME = "finished cells are kept; rerun the same command to resume"


def check_address(scheduler: str) -> str:
    """``tcp://HOST:PORT`` for a ``dask://HOST:PORT`` address; InputError otherwise."""
    host, _, port = scheduler.removeprefix("dask://").rpartition(":")
    if not scheduler.startswith("dask://") or not host or not port.isdigit():
        raise InputError(f"scheduler {scheduler}: expected dask://HOST:PORT", "scheduler")
    return f"tcp://{host}:{port}"


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence the distributed, tornado and asyncio loggers, children included (their tracebacks are
    not for the user)."""
    names = [name for name in logging.root.manager.loggerDict if name.split(".")[0] in _LOGGERS]
    loggers = [logging.getLogger(name) for name in {*names, *_LOGGERS}]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


@contextmanager
def session(scheduler: str) -> Iterator[Any]:
    """A connected client (:func:`connect`) for the block, Dask's loggers silenced throughout, the
    client closed at the end."""
    with _quiet():
        client = connect(scheduler)
        try:
            yield client
        finally:
            close(client)


def connect(scheduler: str) -> Any:
    """A ``distributed.Client`` of the scheduler at ``dask://HOST:PORT``, with at least one worker.

    Raises:
        InputError: within about CONNECT_SECONDS + WORKERS_SECONDS, if that is impossible.
    """
    address = check_address(scheduler)
    try:
        import distributed
    except ImportError:
        raise InputError("scheduler needs Dask: pip install 'ngram-collapse[dask]'", "scheduler") from None
    found: dict[str, Any] = {}

    def attempt() -> None:
        try:
            with _quiet():
                found["client"] = distributed.Client(address, timeout=f"{CONNECT_SECONDS}s")
        except BaseException as e:  # a service that is not Dask can raise anything, MemoryError included
            found["error"] = e

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(CONNECT_SECONDS + 2)
    if "client" not in found:
        reason = "no answer within %.0f s" % CONNECT_SECONDS if thread.is_alive() else _reason(found["error"])
        raise InputError(f"scheduler {scheduler}: not a Dask scheduler that answers ({reason})", "scheduler")
    client = found["client"]
    try:
        with _quiet():
            client.wait_for_workers(1, timeout=WORKERS_SECONDS)
    except Exception:  # noqa: BLE001 - a timeout, or the scheduler going away meanwhile
        close(client)
        raise InputError(f"scheduler {scheduler}: no worker joined within {WORKERS_SECONDS:.0f} s; start "
                         "workers (dask worker ...) or run without --scheduler", "scheduler") from None
    return client


def run(client: Any, run_cell: Any, cells: Sequence[Any], settings: Any) -> Iterator[tuple[Any, Any]]:
    """Run ``run_cell(cell, settings)`` for every cell on the cluster, yielding ``(cell, result)`` as
    each completes.

    Raises:
        InputError: the scheduler or its connection is lost (the cells yielded so far are done).
    """
    import distributed

    with _quiet():
        futures = {client.submit(run_cell, cell, settings, pure=False): cell for cell in cells}
        done = 0
        try:
            for future in distributed.as_completed(list(futures)):
                result = future.result()
                done += 1
                yield futures[future], result
        except (OSError, TimeoutError, CancelledError) as e:  # CommClosedError is an OSError
            raise InputError(f"the Dask scheduler was lost after {done} of {len(cells)} cells ({_reason(e)}); "
                             f"{_RESUME}", "scheduler") from None
        finally:
            try:
                client.cancel(list(futures))
            except Exception:  # noqa: BLE001 - the scheduler may be gone
                pass


def close(client: Any) -> None:
    """Close a client without waiting long for a scheduler that may be gone."""
    with _quiet():
        try:
            client.close(timeout=2)
        except Exception:  # noqa: BLE001
            pass


def _reason(error: BaseException) -> str:
    text = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {text}"[:200] if text else type(error).__name__
