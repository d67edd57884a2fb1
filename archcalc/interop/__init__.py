"""Interoperability: archcalc networks to and from other frameworks, one module per framework, each
importing its framework lazily."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import SpecError

EXTRAS = {"torch": "torch", "onnx": "onnx"}


def needs(package: str, what: str) -> None:
    """Fail in one line naming the extra when the optional `package` is missing."""
    import importlib.util

    if importlib.util.find_spec(package) is None:
        raise SpecError(f"{what} needs {package}: pip install 'archcalc[{EXTRAS[package]}]'")


def import_model(source: Any, *, input: Any = None, name: str | None = None, args: tuple = ()) -> dict[str, Any]:
    """The architecture mapping (`archcalc.analyze` accepts it) of a PyTorch `nn.Module`, of a
    `package.module:callable` building one (called with `args`), of an `.onnx` file or of a Keras
    `.keras` archive or `model.to_json()` file; `input` is (C, H, W) per sample (PyTorch: default
    3×224×224; ONNX: replaces the file's input size)."""
    from .structure import to_mapping

    if not isinstance(source, (str, Path)):
        needs("torch", "importing a PyTorch model")
        from .import_torch import import_torch
        return to_mapping(import_torch(source, input=tuple(input or (3, 224, 224)), name=name))
    text = str(source)
    if text.endswith((".onnx", ".onnx.gz")):
        needs("onnx", f"importing {text}")
        from .import_onnx import read_onnx
        return to_mapping(read_onnx(text, input=tuple(input) if input else None, name=name))
    if text.endswith((".keras", ".json", ".json.gz")):
        from .import_keras import read_keras
        return to_mapping(read_keras(text, name=name))
    if ":" in text:
        needs("torch", f"importing {text}")
        from .import_torch import import_torch, load_callable
        model = load_callable(text, [str(a) for a in args])
        return to_mapping(import_torch(model, input=tuple(input or (3, 224, 224)),
                                       name=name or text.split(":")[-1], source=f"{text} {' '.join(args)}".strip()))
    raise SpecError(f"{text}: cannot tell what to import: give an .onnx file, a .keras or .json Keras model, "
                    "or a PyTorch package.module:callable")
