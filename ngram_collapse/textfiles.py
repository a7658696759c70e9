"""Text files as blocks of UTF-8 bytes that end at a line end, checked for NUL bytes and UTF-8;
the embedded default text; the lines of a block."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from .arrow import as_arrow
from .errors import InputError


def file_blocks(path: Path, encoding_errors: str, block_bytes: int) -> Iterator[bytes]:
    """Blocks of a UTF-8 file of about ``block_bytes`` (more if a line is longer) that end at a
    line end (the last may lack it), checked for NUL bytes and UTF-8.

    Args:
        encoding_errors: ``strict`` (undecodable bytes are an InputError that says where) or
            ``replace`` (they become U+FFFD).

    Raises:
        InputError: missing, unreadable, binary or undecodable file.
    """
    try:
        f = open(path, "rb")
    except OSError as e:
        raise InputError(f"corpus {path}: cannot read ({e.strerror or e})") from None
    lines_before = 0
    pending: list[bytes] = []
    with f:
        while True:
            try:
                chunk = f.read(block_bytes)
            except OSError as e:
                raise InputError(f"corpus {path}: cannot read ({e.strerror or e})") from None
            cut = chunk.rfind(b"\n")
            if chunk and cut < 0:  # a line longer than a block: read on
                pending.append(chunk)
                continue
            block = b"".join([*pending, chunk[:cut + 1] if chunk else b""])
            pending = [chunk[cut + 1:]] if chunk else []
            if block:
                yield _checked(block, path, lines_before, encoding_errors)
                lines_before += block.count(b"\n")
            if not chunk:
                return


def _checked(block: bytes, path: Path, lines_before: int, encoding_errors: str) -> bytes:
    """``block`` if it has no NUL byte and is valid UTF-8; with ``replace``, undecodable bytes
    become U+FFFD. Errors name the line (counted from 1 over the file) like a line-by-line reader:
    the first line with a NUL byte or undecodable bytes, NUL bytes first."""
    nul = block.find(b"\0")
    bad = -1
    if not _valid_utf8(block):
        try:
            block.decode("utf-8")
        except UnicodeDecodeError as e:
            bad = e.start
    if nul >= 0 and (bad < 0 or encoding_errors == "replace"
                     or block.count(b"\n", 0, nul) <= block.count(b"\n", 0, bad)):
        line = lines_before + block.count(b"\n", 0, nul) + 1
        raise InputError(f"corpus {path}: line {line} has NUL bytes; this looks like a binary file")
    if bad >= 0:
        if encoding_errors == "replace":
            return block.decode("utf-8", errors="replace").encode("utf-8")
        line = lines_before + block.count(b"\n", 0, bad) + 1
        byte = bad - (block.rfind(b"\n", 0, bad) + 1) + 1
        raise InputError(f"corpus {path}: line {line}, byte {byte}: not valid UTF-8 "
                         "(use --encoding-errors replace to go on)")
    return block


def _valid_utf8(block: bytes) -> bool:
    """Whether ``block`` is valid UTF-8 (checked by pyarrow, without building a str)."""
    import pyarrow as pa

    try:
        as_arrow(block).validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


DEFAULT_CORPUS = "python-docs"
"""The name of the embedded text, the corpus of a run that names none."""


def embedded_text() -> str:
    """Real English prose shipped with Python: the help topics of ``pydoc_data`` (about 65K words)."""
    from pydoc_data.topics import topics

    return "\n".join(line for key in sorted(topics) for line in topics[key].splitlines())


def text_lines(text: str) -> Iterator[str]:
    """The lines of a block, without ``\\n`` and trailing ``\\r``."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return (line.rstrip("\r") for line in lines)
