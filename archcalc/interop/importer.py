"""What the three importers share: the values a source's graph carries while it is read, the registry's
index of foreign names, and `Importer`, which adds layers with their shapes, keeps track of
channels-last maps and maps one foreign call, node or layer to the layer type that declares it.

A feature map is a `Value`: the layer that holds it (archcalc's (C, H, W) layout) and whether the
framework holds it channels last, (H, W, C), as ConvNeXt's permuted blocks do. Layers that act per
position (`Layer.positionwise`) keep that layout; any other reader first gets the permute that makes
the framework's layout explicit. Everything else a graph carries (a size, a parameter, a step of an
idiom) is an `Aux`. Each added layer's output shape is inferred at once from its class, so an idiom
that needs a map's channels reads them in constant time.

A single call, node or layer is mapped by `Importer.dispatch`: the classes declaring its name
(`foreign_index`) are asked in turn (`Layer.from_torch`, `from_onnx`, `from_keras`) until one reads
it; if none does, the node is refused with the first class's reason. Forms written as several nodes
(SiLU as x·sigmoid(x), GELU through erf, a channel shuffle, chunks) stay in the importers, which write
each once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from ..errors import ArchcalcError, shorten
from ..layers.base import Layer, Shape, layer_class, registered_types
from ..layers.foreign import Mismatch, Site
from .imported import NETWORK_INPUT, ImportedGraph, Unsupported, check_layer_count

#: A framework's permutation of (N, C, H, W) to channels last and back.
CHANNELS_LAST, CHANNELS_FIRST = [0, 2, 3, 1], [0, 3, 1, 2]
#: archcalc's per-sample permutation that makes a channels-last map explicit: (C, H, W) → (H, W, C).
_TO_CHANNELS_LAST = [1, 2, 0]


@dataclass
class Value:
    """A feature map: the layer that holds it (NETWORK_INPUT: the input) and whether the framework
    holds it channels last."""

    index: int
    channels_last: bool = False


@dataclass
class Aux:
    """Anything else a graph carries: a size, a parameter, an unpacked tuple, a step of an idiom, or
    the output of a refused node (`refused`)."""

    kind: str
    value: Any = None


class Refused(Exception):
    """A node archcalc cannot express: why (collected, all refused at once)."""

    def __init__(self, message: str, where: str = ""):
        super().__init__(message)
        self.where = where


class Skip(Exception):
    """A node that reads a refused one: already reported."""


@dataclass(frozen=True)
class ForeignIndex:
    """The registry by foreign name: the classes declaring each PyTorch module class, PyTorch function,
    ONNX op and Keras class, in registration order, the joins last (`foreign_index`)."""

    torch_modules: dict[str, tuple[type[Layer], ...]]
    torch_functions: dict[str, tuple[type[Layer], ...]]
    onnx_ops: dict[str, tuple[type[Layer], ...]]
    keras_classes: dict[str, tuple[type[Layer], ...]]


@cache
def foreign_index() -> ForeignIndex:
    """The index of every registered type's declared foreign forms. Where several types declare one
    name, those of one map come before the joins of any number (`inputs_allowed` open-ended), so that
    `x * p` is asked first as a map times a parameter or a number, and refused with that reason."""
    tables: list[dict[str, list[type[Layer]]]] = [{}, {}, {}, {}]
    classes = dict.fromkeys(registered_types().values())
    for cls in sorted(classes, key=lambda cls: cls.inputs_allowed[1] is None):
        names = (cls.torch_form.modules, cls.torch_form.functions, cls.onnx_form.ops, cls.keras_form.classes)
        for table, declared in zip(tables, names):
            for name in declared:
                table.setdefault(name, []).append(cls)
    return ForeignIndex(*({name: tuple(classes) for name, classes in table.items()} for table in tables))


class Importer:
    """The graph being built from a source (`graph`), the nodes it refuses (`unsupported`), and the shape
    of every layer added (`shapes`; None where archcalc refuses the layer, which the written file's
    check then names)."""

    def __init__(self, graph: ImportedGraph, unsupported: Unsupported):
        self.graph, self.unsupported = graph, unsupported
        self.shapes: list[Shape | None] = []

    # --- layers and their shapes ---------------------------------------------------------------
    def add(self, path: tuple[str, ...], type_: str, inputs: list[Value], *, call: str = "module",
            channels_last: bool = False, **params: Any) -> Value:
        """A new layer reading the maps `inputs` (in archcalc's layout), its output shape inferred."""
        check_layer_count(len(self.graph.layers) + 1, self.unsupported.label)
        index = self.graph.add(path, type_, [v.index for v in inputs], call=call, **params)
        self.shapes.append(None)
        self._infer(index)
        return Value(index, channels_last)

    def update(self, value: Value, type_: str | None = None, **params: Any) -> Value:
        """The layer holding `value` with `params` changed (and its type, where given), its shape inferred again."""
        layer = self.graph.layers[value.index]
        layer.type = type_ or layer.type
        layer.params.update(params)
        self._infer(value.index)
        return value

    def _infer(self, index: int) -> None:
        layer = self.graph.layers[index]
        inputs = [self.shape(i) for i in layer.inputs]
        shape = None
        if None not in inputs:
            try:
                instance = layer_class(layer.type).from_mapping(layer.params)
                instance.check_arity(inputs)
                shape = tuple(instance.output_shape(inputs))
            except (ArchcalcError, ValueError, TypeError):
                shape = None
        self.shapes[index] = shape

    def shape(self, index: int) -> Shape | None:
        """The per-sample output shape of layer `index` (archcalc's layout; the input's for NETWORK_INPUT)."""
        return tuple(self.graph.input) if index == NETWORK_INPUT else self.shapes[index]

    def layer_type(self, value: Value) -> str | None:
        return None if value.index == NETWORK_INPUT else self.graph.layers[value.index].type

    def params(self, value: Value) -> dict[str, Any]:
        return {} if value.index == NETWORK_INPUT else self.graph.layers[value.index].params

    def site(self, value: Value) -> Site:
        """What a layer class is told of the map `value`."""
        return Site(self.shape(value.index), value.channels_last)

    # --- channels-last maps --------------------------------------------------------------------
    def explicit(self, value: Value, path: tuple[str, ...]) -> Value:
        """`value` as the framework holds it, in archcalc's layout: where it is channels last, the permute
        (C, H, W) → (H, W, C) that makes that layout a layer of its own (at `path`)."""
        if not value.channels_last:
            return value
        return self.add(path, "permute", [Value(value.index)], call="operator", dims=list(_TO_CHANNELS_LAST))

    @staticmethod
    def _explicit_site(site: Site) -> Site:
        shape = site.shape
        if shape is not None and len(shape) == 3:
            shape = tuple(shape[d] for d in _TO_CHANNELS_LAST)
        return Site(shape, False)

    # --- one foreign call, node or layer ---------------------------------------------------------
    def dispatch(self, name: str, classes: tuple[type[Layer], ...], inputs: list[Value],
                 read: Callable[[type[Layer], Site], dict[str, Any] | None], add: Callable[..., Value],
                 permute_path: tuple[str, ...]) -> Value:
        """The layer one foreign call, node or layer `name` (reading the maps `inputs`) is: the first of
        `classes` whose reader `read(cls, site)` returns its hyper-parameters (None: the value passes
        through), added by `add(type, inputs, channels_last, params)`; refused with the first reason
        when none reads it. A class that does not act per position reads the maps as the framework
        holds them (a channels-last map first made explicit at `permute_path`); when a map is channels
        last, the classes that do act per position are asked first."""
        if not classes:
            raise Refused(f"{name} has no archcalc layer type")
        if any(v.channels_last for v in inputs):
            classes = tuple(sorted(classes, key=lambda cls: not cls.positionwise))
        reasons = []
        for cls in classes:
            low, high = cls.inputs_allowed
            if not low <= len(inputs) <= (len(inputs) if high is None else high):
                reasons.append(f"{name} must read {low if low == high else f'at least {low}'} tensor(s)")
                continue
            last = bool(inputs) and all(v.channels_last for v in inputs) and cls.positionwise
            site = self.site(inputs[0]) if inputs else Site()
            if inputs and inputs[0].channels_last and not last:
                site = self._explicit_site(site)
            try:
                params = read(cls, site)
            except Mismatch as exc:
                reasons.append(str(exc))
                continue
            except (ValueError, TypeError, AttributeError, KeyError, IndexError) as exc:
                reasons.append(f"unreadable {name} ({type(exc).__name__}: {shorten(' '.join(str(exc).split()), 120)})")
                continue
            if params is None:
                return inputs[0]
            if not last:
                inputs = [self.explicit(v, permute_path) for v in inputs]
            return add(cls.type_name, inputs, last, params)
        raise Refused(reasons[0])

    # --- the end -------------------------------------------------------------------------------
    def finish(self, output: Any, path: tuple[str, ...]) -> None:
        """Record the network's output (a `Value`, or several by name; anything else is refused) in archcalc's
        layout: a network
        that returns its input unchanged (nothing but identities) is one `identity` layer at `path`. Then
        refuse, in one error, every node that was refused."""
        several = output if isinstance(output, dict) and len(output) > 1 else None
        if several is not None and all(isinstance(v, Value) and v.index != NETWORK_INPUT for v in several.values()):
            for key, value in several.items():
                self.graph.outputs[key] = self.explicit(value, path[:-1] + (f"permute_{key}",)).index
            self.graph.output = next(iter(self.graph.outputs.values()))
        elif isinstance(output, Value):
            output = self.explicit(output, path[:-1] + ("permute",))
            if output.index == NETWORK_INPUT:
                output = self.add(path, "identity", [output])
            self.graph.output = output.index
        elif several is not None and any(isinstance(v, Aux) and v.kind == "refused" for v in several.values()):
            pass
        elif not (isinstance(output, Aux) and output.kind == "refused"):
            self.unsupported.add("output", "the network must return feature maps (one, or several by name)")
        self.unsupported.check()
