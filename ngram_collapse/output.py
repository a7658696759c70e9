"""Writing a run's outputs whole or not at all.

A run writes into a hidden temporary folder beside its destination and renames it into place only
when every file is written, so an interrupted or failed run never leaves half-written outputs.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import InputError


def slug(text: str) -> str:
    """``text`` as a safe file-name part: runs of other characters than letters, digits, '.' and '-'
    become '_'."""
    return re.sub(r"[^A-Za-z0-9.\-]+", "_", text).strip("_.")


def check_writable(out: Path) -> None:
    """Fail early (InputError) if ``out`` cannot be created or replaced."""
    parent = out.resolve().parent
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: exists and is not a folder")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        probe = tempfile.mkdtemp(prefix=f".{out.name}.probe-", dir=parent)
        os.rmdir(probe)
    except OSError as e:
        raise InputError(f"--out {out}: cannot write there ({e.strerror or e})") from None


@contextmanager
def atomic_folder(out: Path) -> Iterator[Path]:
    """Yield a temporary folder; on success it replaces ``out`` atomically, on error it is removed."""
    out = Path(out)
    check_writable(out)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.resolve().parent))
    try:
        yield tmp
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.resolve().parent))
            os.replace(out, old / "previous")
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@contextmanager
def atomic_files(out: Path) -> Iterator[Path]:
    """Yield a temporary folder inside ``out`` (created if needed). On success every file written
    there is renamed into ``out``, each appearing whole and replacing a file of its name (other files
    of ``out`` are kept); on error none is. The temporary folder is removed either way."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=out))
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
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.resolve().parent)
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
