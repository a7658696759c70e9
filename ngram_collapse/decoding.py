"""Truncated and tempered decoding: how a model's next-symbol distribution is changed at sampling time.

Applied to each distribution p (a context's next words, ``</s>`` included, or a categorical model's
symbols), in this order (docs/theory.md §12.4):

1. ``temperature`` T: p(w) ** (1 / T), renormalised (T < 1 sharpens, T > 1 flattens);
2. ``top_k`` K: rank the outcomes by probability, highest first, ties broken by the smaller id; keep
   the first K (all of them if fewer);
3. ``top_p`` P: renormalise what is left and keep the shortest prefix of the same ranking whose
   probability reaches P (an outcome tied with the last one kept but ranked after it is dropped);

then renormalise. The n-gram engine applies the same rule per context (:meth:`NgramModel.sample`);
:func:`transform` applies it to rows of probabilities, e.g. a batch of categorical models.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import checks
from .measures import distribution


@dataclass(frozen=True)
class Decoding:
    """Decoding settings (validated): ``temperature`` T > 0, ``top_k`` K >= 1 or None, ``top_p`` P in
    (0, 1] or None. The default changes nothing."""

    temperature: float = 1.0
    top_k: int | None = None
    top_p: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "temperature", checks.real("temperature", self.temperature, 0.0, above=True))
        if self.top_k is not None:
            object.__setattr__(self, "top_k", checks.integer("top_k", self.top_k, minimum=1))
        if self.top_p is not None:
            object.__setattr__(self, "top_p", checks.real("top_p", self.top_p, 0.0, 1.0, above=True))

    @property
    def plain(self) -> bool:
        """Whether sampling is untouched (T = 1, no truncation)."""
        return self.temperature == 1.0 and self.top_k is None and self.top_p is None

    def options(self) -> dict[str, Any]:
        """The keyword arguments of a model's ``sample`` (empty when plain, so models without
        decoding options are called as before)."""
        return {} if self.plain else {"temperature": self.temperature, "top_k": self.top_k, "top_p": self.top_p}


def transform(p: ArrayLike, decoding: Decoding) -> NDArray[np.float64]:
    """The decoded distribution of every row of ``p``.

    Args:
        p: probabilities or non-negative weights (e.g. counts), shape (..., V); zeros stay zero. With
            integer counts and T = 1 top-p's comparisons are exact, as the n-gram sampler's are.
        decoding: the settings.

    Returns:
        Rows of the same shape that sum to 1 (a row of zeros stays zeros).
    """
    p = np.asarray(p, dtype=float)
    if decoding.plain:
        return distribution(p)
    present = p > 0
    if decoding.temperature == 1.0:
        w = p
    else:  # (p / max p) ** (1 / T): no overflow or underflow of the largest weight
        with np.errstate(divide="ignore"):
            logp = np.where(present, np.log(np.where(present, p, 1.0)), -np.inf)
        top = logp.max(axis=-1, keepdims=True)
        w = np.where(present, np.exp((logp - np.where(np.isfinite(top), top, 0.0)) / decoding.temperature), 0.0)
    if decoding.top_k is None and decoding.top_p is None:
        return distribution(w)
    order = np.argsort(-w, axis=-1, kind="stable")  # highest first, ties by the smaller id
    ranked = np.take_along_axis(w, order, axis=-1)
    keep = ranked > 0
    if decoding.top_k is not None:
        keep[..., decoding.top_k:] = False
    if decoding.top_p is not None:  # the shortest prefix whose probability reaches P
        kept = np.where(keep, ranked, 0.0)
        before = np.cumsum(kept, axis=-1) - kept  # exact for integer weights (counts at T = 1)
        keep &= before < decoding.top_p * kept.sum(axis=-1, keepdims=True)
    out = np.zeros_like(w)
    np.put_along_axis(out, order, np.where(keep, ranked, 0.0), axis=-1)
    return distribution(out)
