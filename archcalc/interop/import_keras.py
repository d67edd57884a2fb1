"""Keras → archcalc: read a `.keras` archive's `config.json` or `model.to_json()` text as JSON (no
TensorFlow or Keras needed) and map every layer to the layer type that declares its class
(`Layer.keras_form`, read by `Layer.from_keras`); channels-last shapes become archcalc's (C, H, W).
Written here, once: the input layer, the `Activation` layer (by the activation's name, which each type
declares), the depthwise and separable convolutions (one and two `conv` layers) and `Reshape` (a
flatten, or the (1, 1, C) of a squeeze-and-excitation gate)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ..errors import ArchcalcError, SpecError, shorten
from ..layers.activation import keras_activation, keras_fused
from ..layers.base import layer_class, registered_types
from ..layers.foreign import KerasLayer, Mismatch, Site, pair, whole
from .imported import NETWORK_INPUT, ImportedGraph, Unsupported, check_layer_count
from .importer import Importer, Refused, Value, foreign_index
from .limits import MiB, read_archive_member, read_bounded

# Keras classes read by an idiom here rather than by one layer type's declaration.
IDIOMS = ("Activation", "DepthwiseConv2D", "SeparableConv2D", "Reshape", "Bidirectional")
MAX_CONFIG_BYTES = 16 * MiB     # a model's config.json: DenseNet121's is 0.4 MiB


def read_keras(path: str | Path, *, name: str | None = None) -> ImportedGraph:
    """The flat graph of the Keras model in `path`: a `.keras` archive, or `model.to_json()` text
    (`.json`, `.json.gz`)."""
    path = Path(path)
    source = str(path)
    if path.suffix == ".keras":
        text = read_archive_member(path, "config.json", MAX_CONFIG_BYTES, what="the model's config.json")
    else:
        text = read_bounded(path, MAX_CONFIG_BYTES, what="the model's config")
    try:
        config = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise SpecError(f"not a Keras model: {' '.join(str(exc).split())[:200]}", file=source) from None
    if not isinstance(config, dict) or config.get("class_name") not in ("Functional", "Model", "Sequential"):
        raise SpecError("not a Keras model: expected a Functional or Sequential model config", file=source)
    model = config.get("config")
    layers = model.get("layers") if isinstance(model, dict) else model    # Keras 2's Sequential: a list
    if not isinstance(layers, list) or not all(isinstance(layer, dict) for layer in layers):
        raise SpecError("not a Keras model: its config holds no list of layers", file=source)
    check_layer_count(len(layers), source)
    own = model.get("name") if isinstance(model, dict) else None
    label = name or (own if isinstance(own, str) and own else re.sub(r"\.(keras|json(\.gz)?)$", "", path.name))
    version = config.get("keras_version") or ("3" if "module" in config else "2")
    graph = ImportedGraph(name=label, input=[], source=f"{path.name} (Keras {shorten(str(version))} "
                                                        f"{config['class_name']} model, read as JSON)")
    try:
        _KerasImporter(graph, Unsupported(source)).run(config)
    except ArchcalcError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, ArithmeticError, RecursionError) as exc:
        raise SpecError(f"unreadable Keras config ({type(exc).__name__}: {shorten(' '.join(str(exc).split()), 120)})",
                        file=source) from None
    return graph


def _path(name: str) -> tuple[str, ...]:
    """A Keras layer name as a path: `conv2_block1_1_conv` → (conv2, block1, 1_conv)."""
    match = re.fullmatch(r"(?:(.+?)_)?(block_?\d+[a-z]?)_(.+)", name)
    return tuple(p for p in match.groups() if p) if match else (name,)


def _class(path: tuple[str, ...]) -> str:
    return re.sub(r"[\d_]+[a-z]?$", "", path[-1]) or "block"


class _KerasImporter(Importer):
    def __init__(self, graph: ImportedGraph, unsupported: Unsupported):
        super().__init__(graph, unsupported)
        self.env: dict[str, Value | None] = {}      # layer name → its output (None: refused)
        self.recorded: dict[str, list] = {}         # layer name → its output shape as recorded, channels last

    def run(self, config: dict) -> None:
        model = config["config"]
        layers = model["layers"] if isinstance(model, dict) else model
        sequential = config["class_name"] == "Sequential"
        known = {*foreign_index().keras_classes, *IDIOMS}
        inputs = layer_class("input").keras_form.classes
        stepping = {"Bidirectional", *(name for cls in registered_types().values() if cls.over_time
                                       for name in cls.keras_form.classes)}
        over_time = any(isinstance(layer, dict) and layer.get("class_name") in stepping for layer in layers)
        previous = None
        for position, layer in enumerate(layers):
            name = layer.get("name") or (layer.get("config") or {}).get("name")
            if not isinstance(name, str) or name in self.env:
                problem = "has no name" if not isinstance(name, str) else f"has the name of an earlier one, {name!r}"
                raise SpecError(f"layer {position} {problem}", file=self.unsupported.label)
            try:
                if not isinstance(layer.get("class_name"), str) or not isinstance(layer.get("config"), dict):
                    raise Refused("a layer needs a class_name and a config")
                sources = [previous] if sequential and previous else self._sources(layer)
                if layer["class_name"] in inputs or sequential and previous is None:
                    self._input(layer, name, over_time)
                    self.env[name] = Value(NETWORK_INPUT)
                    if layer["class_name"] in inputs:
                        previous = name
                        continue
                    sources = [name + "/input"]
                    self.env[sources[0]], self.recorded[sources[0]] = Value(NETWORK_INPUT), self.recorded[name]
                if any(self.env.get(s, Value(0)) is None for s in sources):
                    self.env[name] = None       # reads a refused layer: named only if itself unknown
                    if layer["class_name"] not in known:
                        raise Refused(f"{layer['class_name']} has no archcalc layer type")
                else:
                    first = len(self.graph.layers)
                    self.env[name] = self._layer(layer, name, sources)
                    for added in self.graph.layers[first:]:
                        added.trainable = layer["config"].get("trainable") is not False
            except Refused as exc:
                self.unsupported.add(name, str(exc))
                self.env[name] = None
            except (KeyError, TypeError, ValueError, IndexError, ArithmeticError) as exc:
                self.unsupported.add(name, f"unreadable {shorten(str(layer.get('class_name')))} config "
                                     f"({shorten(' '.join(str(exc).split()), 120)})")
                self.env[name] = None
            previous = name
        output = self._output(model, previous)
        if not self.graph.input:
            self.unsupported.check()
            raise SpecError("the model has no input layer", file=self.unsupported.label)
        self.finish(output, ("identity",))
        self.graph.classes = {n.path[:k]: _class(n.path[:k]) for n in self.graph.layers for k in range(1, len(n.path))}

    def _output(self, model: Any, last: str | None) -> Value | None:
        """The layer the model returns: its one `output_layers` entry (`[name, node, tensor]`), else the
        last layer."""
        outputs = model.get("output_layers", [[last]]) if isinstance(model, dict) else [[last]]
        outputs = outputs if isinstance(outputs, list) and outputs and isinstance(outputs[0], list) else [outputs]
        if len(outputs) != 1 or not outputs[0]:
            self.unsupported.add("output", "the network must return one tensor")
            return None
        name = outputs[0][0]
        if not isinstance(name, str) or name not in self.env:
            self.unsupported.add("output", f"output_layers names no layer of the model: {shorten(repr(name))}")
            return None
        return self.env[name]

    def _sources(self, layer: dict) -> list[str]:
        nodes = layer.get("inbound_nodes") or []
        if len(nodes) > 1:
            raise Refused(f"a layer called {len(nodes)} times (shared weights) has no archcalc form")
        if not nodes:
            return []
        node = nodes[0]
        if isinstance(node, dict):          # Keras 3: {"args": [tensor or [tensors]], "kwargs": {}}
            args = node["args"][0] if node["args"] else []
            tensors = args if isinstance(args, list) else [args]
            sources = [t["config"]["keras_history"][0] for t in tensors]
        else:
            sources = [entry[0] for entry in node]  # Keras 2: [[name, node, tensor, kwargs], ...]
        for source in sources:
            if not isinstance(source, str) or source not in self.env:
                raise Refused(f"reads {shorten(repr(source))}, which no layer before it computes")
        return sources

    def _input(self, layer: dict, name: str, over_time: bool) -> None:
        """The network's input, channels first; where the model has recurrent or `TimeDistributed` layers
        (`over_time`), a sequence stays (T, F) and frames become (T, C, H, W)."""
        from ..analysis import check_size

        if self.graph.input:
            raise Refused("a second input: archcalc networks read one")
        config = layer["config"]
        shape = config.get("batch_shape") or config.get("batch_input_shape")
        sizes = shape[1:] if isinstance(shape, list) and len(shape) in (3, 4, 5) else []
        try:
            sizes = [whole(d) for d in sizes]
            if not sizes or min(sizes) < 1:
                raise ValueError
            if over_time and len(sizes) != 3:  # (T, F) a sequence, (T, H, W, C) frames: (T, F), (T, C, H, W)
                ours = sizes if len(sizes) == 2 else [sizes[0], sizes[-1], *sizes[1:-1]]
            else:  # (H, W, C) an image, (L, C) a signal, (T, H, W, C) a clip: channels first
                ours = [sizes[-1], *sizes[:-1]]
            check_size(tuple(ours), "the input")
        except (ValueError, TypeError, ArchcalcError):
            raise SpecError(f"the input {shorten(str(shape))} must be a fixed (H, W, C) image, (L, C) signal, "
                            "(T, H, W, C) clip or frames, or (T, F) sequence", file=self.unsupported.label) from None
        self.graph.input = ours
        self.recorded[name] = sizes

    def _layer(self, layer: dict, name: str, sources: list[str]) -> Value | None:
        kind, config = layer["class_name"], layer["config"]
        inputs = [self.env[s] for s in sources]
        path = _path(name)
        if config.get("data_format", "channels_last") != "channels_last":
            raise Refused("channels_first layers are not read (Keras' default is channels_last)")
        if not inputs:
            raise Refused(f"{kind} reads no tensor")
        x = inputs[0]
        if kind in IDIOMS and len(inputs) != 1:
            raise Refused(f"{kind} must read one tensor")
        if kind == "Activation":
            return self._activation(config, path, x)
        if kind in ("DepthwiseConv2D", "SeparableConv2D"):
            return self._depthwise(kind, config, path, x, self._channels(layer, sources[0]))
        if kind == "Reshape":
            return self._reshape(config, path, x)
        if kind == "Bidirectional":
            return self._bidirectional(config, path, x)

        def add(type_: str, values: list[Value], last: bool, params: dict) -> Value:
            return self.add(path, type_, values, **params)

        site = Site(self.shape(x.index), channels_last=True)
        return self.dispatch(kind, foreign_index().keras_classes.get(kind, ()), inputs,
                             lambda cls, _: cls.from_keras(KerasLayer(kind, config, site)), add, path)

    def _channels(self, layer: dict, source: str) -> int:
        """The input channels of `layer`: from its recorded input shape (channels last), else archcalc's."""
        shape = (layer.get("build_config") or {}).get("input_shape")
        node = (layer.get("inbound_nodes") or [None])[0]
        if isinstance(node, dict) and node["args"] and isinstance(node["args"][0], dict):
            shape = node["args"][0]["config"].get("shape", shape)
        if shape is None and source in self.recorded:
            shape = [None, *self.recorded[source]]
        if shape is None:
            tracked = self.shape(self.env[source].index)
            shape = [None, tracked[0]] if tracked else None
        if not shape or shape[-1] is None:
            raise Refused("its input channels are not recorded in the config")
        return whole(shape[-1])

    def _activation(self, config: dict, path: tuple[str, ...], x: Value) -> Value:
        """An `Activation` layer: the type that declares the activation's name (`linear` is none)."""
        try:
            found = keras_activation(config["activation"])
        except Mismatch as exc:
            raise Refused(str(exc)) from None
        return x if found is None else self.add(path, found[0].type_name, [x], **found[1])

    def _depthwise(self, kind: str, config: dict, path: tuple[str, ...], x: Value, channels: int) -> Value:
        """`DepthwiseConv2D` (a conv of one group per channel, `depth_multiplier` m: C·m outputs), and
        `SeparableConv2D`: that conv, without bias, then a 1×1 conv (`name/depthwise`, `name/pointwise`)."""
        window = {"kernel_size": pair(config["kernel_size"]), "stride": pair(config["strides"]),
                  "padding": config.get("padding", "valid"), "dilation": pair(config.get("dilation_rate", 1))}
        try:
            fused = keras_fused(config)
        except Mismatch as exc:
            raise Refused(str(exc)) from None
        bias = bool(config["use_bias"])
        depth = channels * whole(config.get("depth_multiplier", 1))
        if kind == "DepthwiseConv2D":
            return self.add(path, "conv", [x], out_channels=depth, groups=channels, bias=bias, **window, **fused)
        inner = self.add((*path, "depthwise"), "conv", [x], out_channels=depth, groups=channels, bias=False, **window)
        return self.add((*path, "pointwise"), "conv", [inner], out_channels=whole(config["filters"]), kernel_size=1,
                        bias=bias, **fused)

    def _bidirectional(self, config: dict, path: tuple[str, ...], x: Value) -> Value:
        """`Bidirectional(layer)`: the recurrent layer both ways, the two outputs side by side (`merge_mode`
        concat, Keras' default); a `backward_layer` of its own or another merge has no archcalc form."""
        inner = config.get("layer") or {}
        kind = inner.get("class_name")
        if config.get("merge_mode", "concat") != "concat" or config.get("backward_layer"):
            raise Refused("Bidirectional with a merge_mode other than concat or a backward_layer of its own "
                          "has no archcalc layer type")
        classes = tuple(cls for cls in foreign_index().keras_classes.get(kind, ())
                        if getattr(cls, "returns_state", False))

        def add(type_: str, values: list[Value], last: bool, params: dict) -> Value:
            return self.add(path, type_, values, **params, bidirectional=True)

        site, inner_config = Site(self.shape(x.index), channels_last=True), inner.get("config") or {}
        return self.dispatch(f"Bidirectional({kind})", classes, [x],
                             lambda cls, _: cls.from_keras(KerasLayer(kind, inner_config, site)), add, path)

    def _reshape(self, config: dict, path: tuple[str, ...], x: Value) -> Value:
        """`Reshape` to one axis: a flatten; to (1, 1, C) after a global pooling that dropped them: that
        pooling keeping its dimensions (a squeeze-and-excitation gate)."""
        target = list(config["target_shape"])
        if len(target) == 1:
            return self.add(path, "flatten", [x])
        if target[:2] == [1, 1] and self.params(x).get("keepdims") is False:
            return self.update(x, keepdims=True)
        raise Refused(f"Reshape to {target} has no archcalc layer type")
