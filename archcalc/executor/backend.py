"""Backends: the array module for `numpy`, `cupy` or `auto`, and the memory each has free.

Rules: `numpy` always works; `cupy` needs CuPy and a CUDA device, else an ExecutionError says
which is missing; `auto` takes CuPy when both are there and NumPy otherwise.
"""

from __future__ import annotations

from typing import Any

from ..errors import ExecutionError

BACKENDS = ("numpy", "cupy", "auto")
DTYPES = ("float32", "float64")


def cupy_problem() -> str | None:
    """Why CuPy cannot run here (None when it can)."""
    try:
        import cupy
    except ImportError:
        return "CuPy is not installed (pip install 'archcalc[gpu]')"
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return "no CUDA device is visible"
    except Exception as exc:  # CUDA reports a missing driver or device in many ways
        return f"no usable CUDA device ({' '.join(str(exc).split())})"
    return None


def array_module(backend: str) -> Any:
    """The array module (numpy or cupy) for a backend name."""
    if backend not in BACKENDS:
        raise ExecutionError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if backend == "numpy" or (backend == "auto" and cupy_problem() is not None):
        import numpy

        return numpy
    problem = cupy_problem()
    if problem is not None:
        raise ExecutionError(f"the cupy backend cannot run: {problem}")
    import cupy

    return cupy


def available_memory(xp: Any) -> int | None:
    """Bytes free for the backend: MemAvailable of /proc/meminfo on the CPU, the device's free
    memory (plus what CuPy's pool holds unused) on the GPU; None where it cannot be known."""
    if xp.__name__ == "cupy":
        free, _ = xp.cuda.runtime.memGetInfo()
        pool = xp.get_default_memory_pool()
        return int(free + pool.free_bytes())
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


#: the share of the free memory a run may plan to fill: what the prediction leaves out (a layer's
#: temporaries, BLAS workspace, the interpreter) needs the rest
MEMORY_SHARE = 0.8


def check_fits(needed: int, what: str, xp: Any, hint: str) -> None:
    """ExecutionError `<what> exceeds 80 % of the N bytes available <where>; <hint>` when `needed`
    bytes are more than MEMORY_SHARE of what the backend has free (nothing is checked where that
    cannot be known)."""
    available = available_memory(xp)
    if available is not None and needed > MEMORY_SHARE * available:
        where = "on the GPU" if xp.__name__ == "cupy" else "in RAM"
        raise ExecutionError(f"{what} exceeds {MEMORY_SHARE * 100:.0f} % of the {available:,} bytes available {where}; "
                             f"{hint}")


def to_numpy(array: Any) -> Any:
    """A NumPy copy of a CuPy array; NumPy arrays pass through."""
    return array.get() if hasattr(array, "get") and not hasattr(array, "__array_interface__") else array


def is_real(dtype: Any) -> bool:
    """Whether a NumPy/CuPy dtype holds real numbers (integers or floats, not bool, complex or text)."""
    import numpy

    return numpy.issubdtype(dtype, numpy.integer) or numpy.issubdtype(dtype, numpy.floating)


def check_dtype(dtype: str, file: str | None = None) -> None:
    """ExecutionError unless `dtype` is one the executor computes in."""
    if dtype not in DTYPES:
        raise ExecutionError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}", file=file)
