"""Interoperability: archcalc networks to and from other frameworks, one module per framework, each
importing its framework lazily."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import SpecError

EXTRAS = {"torch": "torch"}


def needs(package: str, what: str) -> None:
    """Fail in one line naming the extra when the optional `package` is missing."""
    import importlib.util

    if importlib.util.find_spec(package) is None:
        raise SpecError(f"{what} needs {package}: pip install 'archcalc[{EXTRAS[package]}]'")


def import_model(source: Any, *, input: Any = None, name: str | None = None, args: tuple = ()) -> dict[str, Any]:
    """The architecture mapping (`archcalc.analyze` accepts it) of a PyTorch `nn.Module` or of a
    `package.module:callable` building one (called with `args`); `input` is (C, H, W) per sample
    (default 3×224×224)."""
    from .structure import to_mapping

    if not isinstance(source, (str, Path)):
        needs("torch", "importing a PyTorch model")
        from .import_torch import import_torch
        return to_mapping(import_torch(source, input=tuple(input or (3, 224, 224)), name=name))
    text = str(source)
    if ":" in text:
        needs("torch", f"importing {text}")
        from .import_torch import import_torch, load_callable
        model = load_callable(text, [str(a) for a in args])
        return to_mapping(import_torch(model, input=tuple(input or (3, 224, 224)),
                                       name=name or text.split(":")[-1], source=f"{text} {' '.join(args)}".strip()))
    raise SpecError(f"{text}: cannot tell what to import: give a PyTorch package.module:callable")
