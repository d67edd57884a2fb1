"""The flat graph every importer produces: layers in execution order, each named by its module path."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import SpecError

NETWORK_INPUT = -1


@dataclass
class Node:
    """One layer: its path in the source (`("layer1", "0", "conv1")`), archcalc type, hyper-parameters
    (all of them, defaults included), the indices of the nodes it reads (NETWORK_INPUT: the input) and
    how the source runs it (a `profiles.Call`: module, functional or operator)."""

    path: tuple[str, ...]
    type: str
    params: dict[str, Any]
    inputs: list[int]
    call: str = "module"


@dataclass
class Graph:
    """An imported network; `classes` names the source's module class of each path prefix."""

    name: str
    input: list[int]
    source: str
    nodes: list[Node] = field(default_factory=list)
    classes: dict[tuple[str, ...], str] = field(default_factory=dict)
    output: int | None = None

    def add(self, path: tuple[str, ...], type_: str, inputs: list[int], *, call: str = "module",
            **params: Any) -> int:
        self.nodes.append(Node(tuple(path), type_, params, list(inputs), call))
        return len(self.nodes) - 1


class Unsupported:
    """Collects every node an importer cannot express, to refuse them all in one error."""

    def __init__(self, label: str):
        self.label, self.items = label, []

    def add(self, where: str, what: str) -> None:
        self.items.append(f"{where}: {what}")

    def check(self) -> None:
        if self.items:
            raise SpecError(f"cannot import {len(self.items)} node(s): " + "; ".join(self.items), file=self.label)


def pair(value: Any) -> Any:
    """An int for a symmetric pair (`(3, 3)` → 3), a list otherwise (YAML-friendly)."""
    if isinstance(value, (tuple, list)):
        values = [int(v) for v in value]
        return values[0] if len(set(values)) == 1 else values
    return int(value)
