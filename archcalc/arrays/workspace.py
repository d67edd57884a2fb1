"""Scratch memory reused from one kernel call to the next (im2col columns, depthwise products).

Each thread keeps one growing flat buffer per (array module, dtype, slot); a kernel takes a view
of the shape it needs, so a forward pass touches the same few megabytes again and again instead
of allocating (and page-faulting) fresh ones. The contents are never initialised: kernels write
every element they read. `release()` gives the memory back.
"""

from __future__ import annotations

import math
import threading
from typing import Any

_local = threading.local()

# Bytes of im2col columns one matrix product should read: small enough on the CPU for the columns
# to stay in the core's L2 cache between the copy that writes them and the product that reads
# them, large enough on the GPU to keep the device busy with a few big products.
TILE_BYTES = {"numpy": 8 << 20, "cupy": 256 << 20}


def scratch(xp: Any, shape: tuple[int, ...], dtype: Any, slot: int = 0) -> Any:
    """An uninitialised array of `shape` over this thread's reusable buffer number `slot`."""
    buffers = getattr(_local, "buffers", None)
    if buffers is None:
        buffers = _local.buffers = {}
    key = (xp.__name__, str(dtype), slot)
    size = math.prod(shape)
    buffer = buffers.get(key)
    if buffer is None or buffer.size < size:
        buffers.pop(key, None)
        buffer = buffers[key] = xp.empty(max(size, 1), dtype=dtype)
    return buffer[:size].reshape(shape)


def release() -> None:
    """Drop this thread's scratch buffers."""
    _local.buffers = {}


def tile_bytes(xp: Any) -> int:
    """The im2col tile size for an array module (the CPU figure for any module but CuPy)."""
    return TILE_BYTES.get(xp.__name__, TILE_BYTES["numpy"])
