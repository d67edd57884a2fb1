"""The layer registry: one class per layer type, one module per family."""

from __future__ import annotations

from .base import Arithmetic, AxisWindow, Layer, Param, Shape, layer_class, registered_types

_FAMILIES = ("conv", "pool", "linear", "norm", "scale", "activation", "merge", "reshape")
_loaded = False


def ensure_loaded() -> None:
    """Import every family module once, so that its classes register themselves."""
    global _loaded
    if not _loaded:
        import importlib

        for family in _FAMILIES:
            importlib.import_module(f"{__name__}.{family}")
        _loaded = True


__all__ = ["Arithmetic", "AxisWindow", "Layer", "Param", "Shape", "ensure_loaded", "layer_class",
           "registered_types"]
