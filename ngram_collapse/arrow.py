"""Bytes and numpy buffers as pyarrow arrays and back, without a copy and without pandas (which
``pa.array`` and pyarrow's ``to_numpy`` import: 0.3 s). pyarrow is imported only when called."""
from __future__ import annotations

import numpy as np


def as_arrow(block: bytes | memoryview):
    """``block`` as a pyarrow ``large_string`` array of one element, without a copy."""
    import pyarrow as pa

    data = pa.py_buffer(block)
    return pa.LargeStringArray.from_buffers(1, offsets_buffer(data.size), data)


def numpy_view(values, dtype: type) -> np.ndarray:
    """A pyarrow array of numbers without nulls as a numpy array, without a copy (not with its
    ``to_numpy``, which imports pandas)."""
    return np.frombuffer(values.buffers()[1], dtype)[values.offset:values.offset + len(values)]


def offsets_buffer(end: int):
    """The pyarrow buffer of the int64 offsets [0, end] (not from ``pa.array``, which imports
    pandas: 0.3 s)."""
    import pyarrow as pa

    return pa.py_buffer(np.array([0, end], np.int64))
