"""What every importer produces: an `ImportedGraph`, the network's layers in execution order, each an
`ImportedLayer` named by its path in the source; `structure.to_mapping` writes it as a file."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import SpecError

NETWORK_INPUT = -1


@dataclass
class ImportedLayer:
    """One layer: its path in the source (`("layer1", "0", "conv1")`), archcalc type, hyper-parameters
    (all of them, defaults included), the indices of the layers it reads (NETWORK_INPUT: the input) and
    how the source runs it (a `profiles.Call`: module, functional or operator); `trainable`: whether the
    source trains its parameters (PyTorch's `requires_grad`, Keras's `trainable`; None where it has none
    or the source does not say)."""

    path: tuple[str, ...]
    type: str
    params: dict[str, Any]
    inputs: list[int]
    call: str = "module"
    trainable: bool | None = None


@dataclass
class ImportedGraph:
    """An imported network; `classes` names the source's module class of each path prefix."""

    name: str
    input: list[int]
    source: str
    layers: list[ImportedLayer] = field(default_factory=list)
    classes: dict[tuple[str, ...], str] = field(default_factory=dict)
    output: int | None = None
    #: several outputs by name (a model returning a mapping or sequence of maps), the first `output`
    outputs: dict[str, int] = field(default_factory=dict)

    def add(self, path: tuple[str, ...], type_: str, inputs: list[int], *, call: str = "module",
            **params: Any) -> int:
        self.layers.append(ImportedLayer(tuple(path), type_, params, list(inputs), call))
        return len(self.layers) - 1


class Unsupported:
    """Collects every node an importer cannot express, to refuse them all in one error."""

    def __init__(self, label: str):
        self.label, self.items = label, []

    def add(self, where: str, what: str) -> None:
        self.items.append(f"{where}: {what}")

    def check(self) -> None:
        if self.items:
            raise SpecError(f"cannot import {len(self.items)} node(s): " + "; ".join(self.items), file=self.label)


def name_part(text: str) -> str:
    """One part of a layer path as an archcalc name: letters, digits, `_` and `-` (anything else becomes
    `_`), never empty and never `input` (which names a scope's input)."""
    part = re.sub(r"[^\w-]", "_", text) or "_"
    return "input_" if part == "input" else part


def check_layer_count(count: int, source: str) -> None:
    """Refuse, before the work, a network with more layers than an architecture file may hold."""
    from ..spec.expand import MAX_NODES

    if count >= MAX_NODES:        # the input is one of the file's nodes
        raise SpecError(f"the network has {count:,} layers or more: an architecture file holds at most "
                        f"{MAX_NODES - 1:,} (and its input)", file=source)
