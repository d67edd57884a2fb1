"""Keras → archcalc: read a `.keras` archive's `config.json` or `model.to_json()` text as JSON (no
TensorFlow or Keras needed) and map every layer to a layer type; channels-last shapes become archcalc's
(C, H, W)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ..errors import ArchcalcError, SpecError, shorten
from .graph import NETWORK_INPUT, Graph, Unsupported, check_layer_count, pair, whole
from .limits import MiB, read_archive_member, read_bounded

ACTIVATIONS = {"relu": "relu", "relu6": "relu6", "sigmoid": "sigmoid", "tanh": "tanh", "softmax": "softmax",
               "silu": "silu", "swish": "silu", "hard_swish": "hardswish", "hard_silu": "hardswish", "elu": "elu",
               "gelu": "gelu", "hard_sigmoid": "hardsigmoid", "leaky_relu": "leakyrelu"}
FUSED = {"relu", "relu6", "sigmoid", "tanh", "softmax", "silu", "hardswish", "elu", "gelu"}
CHANNEL_AXES = (-1, 3, [3], [-1])
KNOWN = {"InputLayer", "Conv2D", "DepthwiseConv2D", "SeparableConv2D", "Dense", "BatchNormalization", "Activation",
         "ReLU", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D", "GlobalMaxPooling2D", "ZeroPadding2D",
         "Add", "Multiply", "Concatenate", "Flatten", "Reshape", "Dropout", "SpatialDropout2D", "Rescaling",
         "Normalization"}
MAX_CONFIG_BYTES = 16 * MiB     # a model's config.json: DenseNet121's is 0.4 MiB


def read_keras(path: str | Path, *, name: str | None = None) -> Graph:
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
    graph = Graph(name=label, input=[], source=f"{path.name} (Keras {shorten(str(version))} {config['class_name']} "
                                                "model, read as JSON)")
    try:
        _Mapper(graph, Unsupported(source)).run(config)
    except ArchcalcError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, ArithmeticError, RecursionError) as exc:
        raise SpecError(f"unreadable Keras config ({type(exc).__name__}: {shorten(' '.join(str(exc).split()), 120)})",
                        file=source) from None
    return graph


class _Refused(Exception):
    pass


def _path(name: str) -> tuple[str, ...]:
    """A Keras layer name as a path: `conv2_block1_1_conv` → (conv2, block1, 1_conv)."""
    match = re.fullmatch(r"(?:(.+?)_)?(block_?\d+[a-z]?)_(.+)", name)
    return tuple(p for p in match.groups() if p) if match else (name,)


def _padding(config: dict) -> str:
    padding = config.get("padding", "valid")
    if padding not in ("valid", "same"):
        raise _Refused(f"padding {shorten(repr(padding))} has no archcalc form (valid or same)")
    return padding


def _class(path: tuple[str, ...]) -> str:
    return re.sub(r"[\d_]+[a-z]?$", "", path[-1]) or "block"


class _Mapper:
    def __init__(self, graph: Graph, unsupported: Unsupported):
        self.graph, self.unsupported = graph, unsupported
        self.env: dict[str, int | None] = {}        # layer name → node index (None: refused)
        self.shapes: dict[str, list] = {}           # layer name → its output shape, channels last, no batch

    def run(self, config: dict) -> None:
        model = config["config"]
        layers = model["layers"] if isinstance(model, dict) else model
        sequential = config["class_name"] == "Sequential"
        previous = None
        for position, layer in enumerate(layers):
            name = layer.get("name") or (layer.get("config") or {}).get("name")
            if not isinstance(name, str) or name in self.env:
                problem = "has no name" if not isinstance(name, str) else f"has the name of an earlier one, {name!r}"
                raise SpecError(f"layer {position} {problem}", file=self.unsupported.label)
            try:
                if not isinstance(layer.get("class_name"), str) or not isinstance(layer.get("config"), dict):
                    raise _Refused("a layer needs a class_name and a config")
                sources = [previous] if sequential and previous else self._sources(layer)
                if layer["class_name"] == "InputLayer" or sequential and previous is None:
                    self._input(layer, name)
                    self.env[name] = NETWORK_INPUT
                    if layer["class_name"] == "InputLayer":
                        previous = name
                        continue
                    sources = [name + "/input"]
                    self.env[sources[0]], self.shapes[sources[0]] = NETWORK_INPUT, self.shapes[name]
                if any(self.env.get(s, 0) is None for s in sources):
                    self.env[name] = None       # reads a refused layer: named only if itself unknown
                    if layer["class_name"] not in KNOWN:
                        raise _Refused(f"{layer['class_name']} has no archcalc layer type")
                elif layer["class_name"] != "InputLayer":
                    self.env[name] = self._layer(layer, name, sources)
            except _Refused as exc:
                self.unsupported.add(name, str(exc))
                self.env[name] = None
            except (KeyError, TypeError, ValueError, IndexError, ArithmeticError) as exc:
                self.unsupported.add(name, f"unreadable {shorten(str(layer.get('class_name')))} config "
                                     f"({shorten(' '.join(str(exc).split()), 120)})")
                self.env[name] = None
            previous = name
        output = self._output(model, previous)
        self.unsupported.check()
        if not self.graph.input:
            raise SpecError("the model has no input layer", file=self.unsupported.label)
        if output == NETWORK_INPUT:
            raise SpecError("the model returns its input: it has no layer", file=self.unsupported.label)
        self.graph.output = output
        self.graph.classes = {n.path[:k]: _class(n.path[:k]) for n in self.graph.nodes for k in range(1, len(n.path))}

    def _output(self, model: Any, last: str | None) -> int | None:
        """The node the model returns: its one `output_layers` entry (`[name, node, tensor]`), else the
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
            raise _Refused(f"a layer called {len(nodes)} times (shared weights) has no archcalc form")
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
                raise _Refused(f"reads {shorten(repr(source))}, which no layer before it computes")
        return sources

    def _input(self, layer: dict, name: str) -> None:
        from ..analysis import check_size

        if self.graph.input:
            raise _Refused("a second input: archcalc networks read one")
        config = layer["config"]
        shape = config.get("batch_shape") or config.get("batch_input_shape")
        sizes = shape[1:] if isinstance(shape, list) and len(shape) == 4 else []
        try:
            height, width, channels = (whole(d) for d in sizes)
            check_size((channels, height, width), "the input")
            if min(sizes) < 1:
                raise ValueError
        except (ValueError, ArchcalcError):
            raise SpecError(f"the input {shorten(str(shape))} must be a fixed (H, W, C) image",
                            file=self.unsupported.label) from None
        self.graph.input = [channels, height, width]
        self.shapes[name] = [height, width, channels]

    def _add(self, path: tuple[str, ...], type_: str, inputs: list[int], **params) -> int:
        check_layer_count(len(self.graph.nodes) + 1, self.unsupported.label)
        return self.graph.add(path, type_, inputs, **params)

    def _layer(self, layer: dict, name: str, sources: list[str]) -> int:
        kind, config = layer["class_name"], layer["config"]
        inputs = [self.env[s] for s in sources]
        path = _path(name)
        if config.get("data_format", "channels_last") != "channels_last":
            raise _Refused("channels_first layers are not read (Keras' default is channels_last)")
        if kind in ("Add", "Multiply"):
            return self._add(path, kind.lower(), inputs)
        if kind == "Concatenate":
            if config.get("axis", -1) not in CHANNEL_AXES:
                raise _Refused("Concatenate must join channels (the last axis)")
            return self._add(path, "concat", inputs)
        if len(inputs) != 1:
            raise _Refused(f"{kind} must read one tensor")
        x = inputs[0]
        if kind in ("Conv2D", "DepthwiseConv2D", "SeparableConv2D"):
            return self._conv(kind, config, path, x, self._channels(layer, sources[0]))
        if kind == "Dense":
            return self._add(path, "linear", [x], out_features=whole(config["units"]), bias=bool(config["use_bias"]),
                             **self._fused(config))
        if kind == "BatchNormalization":
            if config.get("axis") not in CHANNEL_AXES:
                raise _Refused("BatchNormalization must normalise the channels (the last axis)")
            center, scale = config.get("center", True), config.get("scale", True)
            if scale and not center:
                raise _Refused("BatchNormalization with scale but no center has no archcalc layer type")
            return self._add(path, "batchnorm", [x], eps=float(config["epsilon"]),
                             momentum=round(1.0 - float(config["momentum"]), 6), affine=bool(center),
                             scale=bool(scale))
        if kind in ("Activation", "ReLU"):
            return self._activation(kind, config, path, x)
        if kind in ("MaxPooling2D", "AveragePooling2D"):
            size = config["pool_size"]
            params = {"kernel_size": pair(size), "stride": pair(config.get("strides") or size),
                      "padding": _padding(config)}
            if kind == "MaxPooling2D":
                return self._add(path, "maxpool", [x], **params)
            return self._add(path, "avgpool", [x], count_include_pad=False, **params)
        if kind in ("GlobalAveragePooling2D", "GlobalMaxPooling2D"):
            type_ = "globalavgpool" if "Average" in kind else "globalmaxpool"
            return self._add(path, type_, [x], keepdims=bool(config.get("keepdims", False)))
        if kind == "ZeroPadding2D":
            padding = config["padding"]
            (top, bottom), (left, right) = ((p, p) if isinstance(p, int) else p
                                            for p in ([padding] * 2 if isinstance(padding, int) else padding))
            return self._add(path, "zeropad", [x], padding=[whole(p) for p in (top, bottom, left, right)])
        if kind in ("Dropout", "SpatialDropout2D"):
            return self._add(path, "dropout", [x], p=float(config["rate"]), inplace=False)
        if kind == "Flatten":
            return self._add(path, "flatten", [x])
        if kind == "Reshape":
            return self._reshape(config, path, x)
        if kind == "Rescaling":
            if not all(isinstance(config.get(k, 0.0), (int, float)) for k in ("scale", "offset")):
                raise _Refused("Rescaling per channel has no archcalc layer type")
            return self._add(path, "rescaling", [x], scale=float(config["scale"]),
                             offset=float(config.get("offset", 0)))
        if kind == "Normalization":
            if config.get("axis", -1) not in CHANNEL_AXES or config.get("invert"):
                raise _Refused("Normalization must standardise each channel (axis -1, invert false)")
            return self._add(path, "normalization", [x])
        raise _Refused(f"{kind} has no archcalc layer type")

    def _channels(self, layer: dict, source: str) -> int:
        """The input channels of `layer`: from its recorded input shape (channels last)."""
        shape = (layer.get("build_config") or {}).get("input_shape")
        node = (layer.get("inbound_nodes") or [None])[0]
        if isinstance(node, dict) and node["args"] and isinstance(node["args"][0], dict):
            shape = node["args"][0]["config"].get("shape", shape)
        if shape is None:
            shape = [None, *self.shapes.get(source, [None])]
        if not shape or shape[-1] is None:
            raise _Refused("its input channels are not recorded in the config")
        return whole(shape[-1])

    def _fused(self, config: dict) -> dict[str, Any]:
        activation = config.get("activation", "linear")
        if activation in (None, "linear"):
            return {}
        mapped = ACTIVATIONS.get(activation)
        if mapped not in FUSED:
            raise _Refused(f"fused activation {activation!r} has no archcalc form")
        return {"activation": mapped}

    def _conv(self, kind: str, config: dict, path: tuple[str, ...], x: int, channels: int) -> int:
        window = {"kernel_size": pair(config["kernel_size"]), "stride": pair(config["strides"]),
                  "padding": _padding(config), "dilation": pair(config.get("dilation_rate", 1))}
        bias = bool(config["use_bias"])
        if kind == "Conv2D":
            return self._add(path, "conv", [x], out_channels=whole(config["filters"]),
                             groups=whole(config.get("groups", 1)), bias=bias, **window, **self._fused(config))
        depth = channels * whole(config.get("depth_multiplier", 1))
        if kind == "DepthwiseConv2D":
            return self._add(path, "conv", [x], out_channels=depth, groups=channels, bias=bias, **window,
                             **self._fused(config))
        inner = self._add((*path, "depthwise"), "conv", [x], out_channels=depth, groups=channels, bias=False, **window)
        return self._add((*path, "pointwise"), "conv", [inner], out_channels=whole(config["filters"]), kernel_size=1,
                         bias=bias, **self._fused(config))

    def _activation(self, kind: str, config: dict, path: tuple[str, ...], x: int) -> int:
        if kind == "ReLU":
            top, slope, threshold = config.get("max_value"), config.get("negative_slope", 0), config.get("threshold", 0)
            if threshold or top not in (None, 6) or slope and top is not None:
                raise _Refused("ReLU with a threshold or a cap other than 6 has no archcalc layer type")
            if slope:
                return self._add(path, "leakyrelu", [x], negative_slope=float(slope))
            return self._add(path, "relu6" if top else "relu", [x])
        activation = config["activation"]
        if activation == "linear":
            return x
        if activation not in ACTIVATIONS:
            raise _Refused(f"activation {activation!r} has no archcalc layer type")
        params = {"negative_slope": 0.2} if activation == "leaky_relu" else {}
        return self._add(path, ACTIVATIONS[activation], [x], **params)

    def _reshape(self, config: dict, path: tuple[str, ...], x: int) -> int:
        target = list(config["target_shape"])
        if len(target) == 1:
            return self._add(path, "flatten", [x])
        producer = self.graph.nodes[x] if x != NETWORK_INPUT else None
        if target[:2] == [1, 1] and producer is not None and producer.type.startswith("global") \
                and not producer.params["keepdims"]:
            producer.params["keepdims"] = True      # pooled to (C,) then reshaped to (1, 1, C): (C, 1, 1)
            return x
        raise _Refused(f"Reshape to {target} has no archcalc layer type")
