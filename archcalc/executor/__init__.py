"""The forward executor: run an architecture with NumPy (CPU) or CuPy (GPU), and build it in PyTorch.

    >>> import archcalc, numpy as np
    >>> y = archcalc.execute("lenet5", np.zeros((1, 1, 32, 32), dtype="float32"))
    >>> y.shape
    (1, 10, 1, 1)

Modules: `backend` (array module and memory probe), `weights` (initialisation, .npz and PyTorch
state_dicts), `runner` (`execute`), `plan` (`Plan`, the prepared fast path), `inputs`
(`run --input-file`: .npy and images), `demos` (the lecture's worked examples).
Names load on first use. The array kernels the layers' forward functions use are in
`archcalc.arrays`; the PyTorch modules of single layer types in `archcalc.layers.torch_modules`;
`to_torch`, built from the PyTorch export's layer tree, in `archcalc.interop.torch_build`.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "execute": "runner", "Execution": "runner", "Plan": "plan",
    "init_weights": "weights", "load_weights": "weights", "save_weights": "weights",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{module}"), name)
