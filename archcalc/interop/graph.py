"""The flat graph every importer produces: layers in execution order, each named by its module path."""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import SpecError, shorten

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
        values = [whole(v) for v in value]
        return values[0] if len(set(values)) == 1 else values
    return whole(value)


def whole(value: Any) -> int:
    """`value` as an int; a ValueError for anything that is not a whole number (`1.5`, `true`, `"3"`)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if not isinstance(value, bool):
        try:
            return operator.index(value)
        except TypeError:
            pass
    raise ValueError(f"{shorten(repr(value))} is not a whole number")


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
