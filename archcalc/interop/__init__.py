"""Interoperability: archcalc networks to and from other frameworks, one module per framework, each
importing its framework lazily."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import ArchcalcError, SpecError
from ..layers.foreign import whole

EXTRAS = {"torch": "torch", "onnx": "onnx"}


def needs(package: str, what: str) -> None:
    """Fail in one line naming the extra when the optional `package` is missing."""
    import importlib.util

    if importlib.util.find_spec(package) is None:
        raise SpecError(f"{what} needs {package}: pip install 'archcalc[{EXTRAS[package]}]'")


def import_model(source: Any, *, input: Any = None, name: str | None = None, args: tuple = (),
                 timeout: float | None = None) -> dict[str, Any]:
    """The architecture mapping (`archcalc.analyze` accepts it) of a PyTorch `nn.Module`, of a
    `package.module:callable` building one (called with `args`, in a separate process stopped after
    `timeout` seconds: that code runs), of an `.onnx` file or of a Keras `.keras` archive or
    `model.to_json()` file, or of an Ultralytics YOLO model configuration (`.yaml`); `input` is (C, H, W)
    per sample (PyTorch: default 3×224×224; ONNX: replaces the file's input size; Keras: the file's own;
    Ultralytics: default 3×640×640)."""
    from .structure import to_mapping

    text = str(source) if isinstance(source, (str, Path)) else None
    label = text or type(source).__name__
    shape = _sample(input, label)
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise SpecError(f"the name {name!r} must be a non-empty text", file=label)
    if text is None:
        needs("torch", "importing a PyTorch model")
        from .import_torch import import_torch
        return to_mapping(import_torch(source, input=shape or (3, 224, 224), name=name))
    if text.endswith((".onnx", ".onnx.gz")):
        needs("onnx", f"importing {text}")
        from .import_onnx import read_onnx
        return to_mapping(read_onnx(text, input=shape, name=name))
    if text.endswith((".keras", ".json", ".json.gz")):
        if shape:
            raise SpecError("a Keras model's input size is its own (--input is read for PyTorch and ONNX)", file=text)
        from .import_keras import read_keras
        return to_mapping(read_keras(text, name=name))
    if text.endswith((".yaml", ".yml")):
        from .import_ultralytics import import_ultralytics
        return import_ultralytics(text, input=shape, name=name)
    if ":" in text:
        needs("torch", f"importing {text}")
        from .import_torch import DEFAULT_TIMEOUT, import_callable
        return import_callable(text, [str(a) for a in args], input=shape or (3, 224, 224), name=name,
                               timeout=DEFAULT_TIMEOUT if timeout is None else timeout)
    raise SpecError(f"{text}: cannot tell what to import: give an .onnx file, a .keras or .json Keras model, "
                    "an Ultralytics .yaml configuration or a PyTorch package.module:callable")


def _sample(input: Any, label: str) -> tuple[int, ...] | None:
    """The per-sample input size given, checked: 1 to 4 whole sizes, none impossibly large."""
    from ..analysis import check_size

    if input is None or len(input) == 0:
        return None
    try:
        shape = tuple(whole(d) for d in input)
        if not 1 <= len(shape) <= 4 or min(shape) < 1:
            raise ValueError
        check_size(shape, "the input")
    except ValueError:
        raise SpecError(f"the input size {list(input)} must be 1 to 4 whole numbers above 0 "
                        "(C×H×W, C×L, C×T×H×W, T×F, T×C×H×W)",
                        file=label) from None
    except ArchcalcError as exc:
        raise SpecError(exc.message, file=label) from None
    return shape
