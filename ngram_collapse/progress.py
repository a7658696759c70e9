"""Progress bars on stderr (tqdm), shown only when asked for and stderr is a terminal; otherwise a
silent stand-in, so that tqdm is not even imported."""
from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import Any


def progress_bar(total: int | None, enabled: bool, generations: Iterable[Any] | None = None, unit: str = "gen",
                 desc: str = "generations", **options: Any) -> Any:
    """A tqdm bar on stderr (shown only when ``enabled`` and stderr is a terminal) counting
    generations, or words with ``unit="word"`` (then with a words/s rate); wrapping ``generations``
    (e.g. the loop's iterator) when given; ``options`` go to tqdm (e.g. ``initial``, ``leave``). When it
    would not be shown, a silent stand-in with the same use (iteration, ``update``, ``close``, ``with``),
    so that tqdm is not even imported (25 ms)."""
    if not (enabled and sys.stderr is not None and sys.stderr.isatty()):
        return _Silent(generations)
    from tqdm import tqdm

    options = {"unit_scale": unit.strip() in ("word", "words"), "leave": False, **options}
    return tqdm(generations, total=total, unit=unit, desc=desc, **options)


class _Silent:
    """A progress bar that shows nothing: :func:`progress_bar` when no bar is shown."""

    def __init__(self, iterable: Iterable[Any] | None) -> None:
        self.iterable = iterable

    def __iter__(self) -> Iterator[Any]:
        return iter(self.iterable if self.iterable is not None else ())

    def update(self, n: float = 1) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> _Silent:
        return self

    def __exit__(self, *exc: object) -> None:
        pass
