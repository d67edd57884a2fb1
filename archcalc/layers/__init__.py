"""The layer registry: one class per layer type, one module per family of types.

Every module of this package holds layer types, but for the registry's own machinery and the exports'
helpers (`MACHINERY`); `ensure_loaded` imports each of them once, so that its classes register
themselves. A new module of layer types needs no edit here."""

from __future__ import annotations

from .base import Arithmetic, AxisWindow, Layer, Param, Shape, layer_class, registered_types

#: The modules that hold no layer type: the registry (`base`, `family`, `foreign`) and the helpers of
#: the PyTorch and ONNX exports, which need torch or NumPy and load only with them.
MACHINERY = frozenset({"base", "family", "foreign", "onnx_nodes", "torch_code", "torch_modules"})
_loaded = False


def type_modules() -> list[str]:
    """The names of the package's modules that hold layer types, in alphabetical order."""
    import pkgutil

    return sorted(module.name for module in pkgutil.iter_modules(__path__) if module.name not in MACHINERY)


def ensure_loaded() -> None:
    """Import every module of layer types once, so that its classes register themselves."""
    global _loaded
    if not _loaded:
        import importlib

        for name in type_modules():
            importlib.import_module(f"{__name__}.{name}")
        _loaded = True


__all__ = ["Arithmetic", "AxisWindow", "Layer", "Param", "Shape", "ensure_loaded", "layer_class",
           "registered_types"]
