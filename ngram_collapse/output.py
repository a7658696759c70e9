"""Writing outputs whole or not at all, and never over files this tool did not write.

A run writes into a hidden temporary folder beside its destination and renames it into place only
when every file is written, so an interrupted or failed run never leaves half-written outputs; the
temporary names carry the writer's process id, and the next run removes those of dead processes.
:func:`claim` decides, before any work, whether a destination may be written at all.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import InputError


def slug(text: str) -> str:
    """``text`` as a safe file-name part: runs of other characters than letters, digits, '.' and '-'
    become '_'."""
    return re.sub(r"[^A-Za-z0-9.\-]+", "_", text).strip("_.")


_TEMPORARY = re.compile(r"^\.(?:.+\.)?(?:tmp|old|probe)-(?P<pid>\d+)-")


def _temporary_prefix(name: str, what: str) -> str:
    """The prefix of a hidden temporary entry for ``name``: it carries this process's id, so a later
    run can tell the leftovers of a killed run (a dead process) from the work of a running one."""
    return f".{name}.{what}-{os.getpid()}-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale(folder: Path) -> list[Path]:
    """Remove the hidden temporary folders and files that killed runs left in ``folder`` (their
    process is gone); returns what was removed."""
    removed = []
    if not folder.is_dir():
        return removed
    for entry in folder.iterdir():
        found = _TEMPORARY.match(entry.name)
        if found and int(found["pid"]) != os.getpid() and not _alive(int(found["pid"])):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


def claim(out: Path, ours: Callable[[Path], bool], overwrite: bool = False, protect: Iterable[Path] = ()) -> None:
    """Check, before any work, that ``out`` may be written; remove stale temporary folders of killed
    runs beside it.

    ``out`` may be a new folder or an empty one. A folder that ``ours`` recognises as a finished
    output of the same command may be replaced as a whole, only with ``overwrite``. Anything else is
    refused, as is a folder holding a ``protect``-ed path (the corpus) or the current folder.

    Raises:
        InputError: about the parameter ``out``.
    """
    out = Path(out)
    here, target = Path.cwd().resolve(), out.resolve()
    if target == here or target in here.parents:
        raise InputError(f"out {out} is the current folder or holds it; a run writes a new folder: name one", "out")
    for path in protect:
        path = Path(path).resolve()
        if path == target or target in path.parents:
            raise InputError(f"out {out} holds the corpus {path}; choose another folder", "out")
    remove_stale(target.parent)
    if out.exists() or out.is_symlink():
        if not out.is_dir() or out.is_symlink():
            raise InputError(f"out {out} exists and is not a folder", "out")
        entries = sorted(p.name for p in out.iterdir())
        if entries and not ours(out):
            shown = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
            raise InputError(f"out {out} is not empty and not an earlier output of this command (it holds "
                             f"{shown}); choose a new or empty folder", "out")
        if entries and not overwrite:
            raise InputError(f"out {out} holds the results of an earlier run; pass --overwrite to replace them "
                             "or choose another folder", "out")
    check_writable(out)


def check_writable(out: Path) -> None:
    """Fail early (InputError) if ``out`` cannot be created or replaced."""
    parent = Path(out).resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        probe = tempfile.mkdtemp(prefix=_temporary_prefix(Path(out).name, "probe"), dir=parent)
        os.rmdir(probe)
    except OSError as e:
        raise InputError(f"out {out}: cannot write there ({e.strerror or e})", "out") from None


@contextmanager
def atomic_folder(out: Path) -> Iterator[Path]:
    """Yield a temporary folder beside ``out``; on success it becomes ``out`` (replacing an empty
    folder, or one the caller has :func:`claim`-ed), on error it is removed. Only the rename makes
    anything visible, so an interrupted run leaves no half-written output."""
    out = Path(out)
    check_writable(out)
    parent = out.resolve().parent
    tmp = Path(tempfile.mkdtemp(prefix=_temporary_prefix(out.name, "tmp"), dir=parent))
    try:
        yield tmp
        if out.is_dir() and not any(out.iterdir()):
            out.rmdir()
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=_temporary_prefix(out.name, "old"), dir=parent))
            os.replace(out, old / "previous")
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@contextmanager
def locked(folder: Path, name: str, what: str) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (the file ``folder/name`` holds the holder's process id)
    while the block runs; the lock goes with the process, however it ends.

    Raises:
        InputError: another process holds it (its id is named).
    """
    import fcntl

    path = Path(folder) / name
    handle = open(path, "a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise InputError(f"out {folder} is in use by another {what} (PID {holder}); wait for it to finish or "
                         "choose another folder", "out") from None
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield
    finally:
        handle.close()


@contextmanager
def atomic_files(out: Path) -> Iterator[Path]:
    """Yield a temporary folder inside ``out`` (created if needed). On success every file written
    there is renamed into ``out``, each appearing whole and replacing a file of its name (other files
    of ``out`` are kept); on error none is. The temporary folder is removed either way."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=_temporary_prefix("files", "tmp"), dir=out))
    try:
        yield tmp
        for f in sorted(tmp.iterdir()):
            os.replace(f, out / f.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def atomic_file(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` atomically."""
    path = Path(path)
    fd, name = tempfile.mkstemp(prefix=_temporary_prefix(path.name, "tmp"), dir=path.resolve().parent)
    os.close(fd)
    tmp = Path(name)
    os.chmod(tmp, 0o644)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def format_table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """Right-aligned plain-text table; floats with 4 significant digits (one decimal from 1000 up), None as '-'."""
    cells = [[_cell(v) for v in r] for r in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(header)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(header, widths))]
    lines += ["  ".join(v.rjust(w) for v, w in zip(r, widths)) for r in cells]
    return "\n".join(lines)


def _cell(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.1f}" if abs(v) >= 1000 else f"{v:.4g}"
    return str(v)
