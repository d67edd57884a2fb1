"""Keras → archcalc: read a `.keras` archive's `config.json` or `model.to_json()` text as JSON (no
TensorFlow or Keras needed) and map every layer to a layer type; channels-last shapes become archcalc's
(C, H, W)."""

from __future__ import annotations

import gzip
import json
import re
import zipfile
from pathlib import Path
from typing import Any

from ..errors import SpecError
from .graph import NETWORK_INPUT, Graph, Unsupported, pair

ACTIVATIONS = {"relu": "relu", "relu6": "relu6", "sigmoid": "sigmoid", "tanh": "tanh", "softmax": "softmax",
               "silu": "silu", "swish": "silu", "hard_swish": "hardswish", "hard_silu": "hardswish", "elu": "elu",
               "gelu": "gelu", "hard_sigmoid": "hardsigmoid", "leaky_relu": "leakyrelu"}
FUSED = {"relu", "relu6", "sigmoid", "tanh", "softmax", "silu", "hardswish", "elu", "gelu"}
CHANNEL_AXES = (-1, 3, [3], [-1])
KNOWN = {"InputLayer", "Conv2D", "DepthwiseConv2D", "SeparableConv2D", "Dense", "BatchNormalization", "Activation",
         "ReLU", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D", "GlobalMaxPooling2D", "ZeroPadding2D",
         "Add", "Multiply", "Concatenate", "Flatten", "Reshape", "Dropout", "SpatialDropout2D", "Rescaling",
         "Normalization"}


def read_keras(path: str | Path, *, name: str | None = None) -> Graph:
    """The flat graph of the Keras model in `path`: a `.keras` archive, or `model.to_json()` text
    (`.json`, `.json.gz`)."""
    path = Path(path)
    try:
        if path.suffix == ".keras":
            with zipfile.ZipFile(path) as archive:
                text = archive.read("config.json")
        else:
            text = path.read_bytes()
            text = gzip.decompress(text) if path.suffix == ".gz" else text
        config = json.loads(text)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise SpecError(f"not a Keras model: {' '.join(str(exc).split())[:200]}", file=str(path)) from None
    if not isinstance(config, dict) or config.get("class_name") not in ("Functional", "Model", "Sequential"):
        raise SpecError("not a Keras model: expected a Functional or Sequential model config", file=str(path))
    label = name or config["config"].get("name") or re.sub(r"\.(keras|json(\.gz)?)$", "", path.name)
    version = config.get("keras_version") or ("3" if "module" in config else "2")
    graph = Graph(name=label, input=[], source=f"{path.name} (Keras {version} {config['class_name']} model, "
                                                f"read as JSON)")
    _Mapper(graph, Unsupported(label)).run(config)
    return graph


class _Refused(Exception):
    pass


def _path(name: str) -> tuple[str, ...]:
    """A Keras layer name as a path: `conv2_block1_1_conv` → (conv2, block1, 1_conv)."""
    match = re.fullmatch(r"(?:(.+?)_)?(block_?\d+[a-z]?)_(.+)", name)
    return tuple(p for p in match.groups() if p) if match else (name,)


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
        for layer in layers:
            name = layer.get("name") or layer["config"]["name"]
            sources = [previous] if sequential and previous else self._sources(layer)
            try:
                if layer["class_name"] == "InputLayer" or sequential and previous is None:
                    self._input(layer)
                    self.env[name] = NETWORK_INPUT
                    if layer["class_name"] == "InputLayer":
                        previous = name
                        continue
                    sources = [name + "/input"]
                    self.env[sources[0]] = NETWORK_INPUT
                if any(self.env.get(s, 0) is None for s in sources):
                    self.env[name] = None       # reads a refused layer: named only if itself unknown
                    if layer["class_name"] not in KNOWN:
                        raise _Refused(f"{layer['class_name']} has no archcalc layer type")
                elif layer["class_name"] != "InputLayer":
                    self.env[name] = self._layer(layer, name, sources)
            except _Refused as exc:
                self.unsupported.add(name, str(exc))
                self.env[name] = None
            except (KeyError, TypeError, ValueError, IndexError) as exc:
                self.unsupported.add(name, f"unreadable {layer.get('class_name')} config ({exc})")
                self.env[name] = None
            previous = name
        outputs = model.get("output_layers", [[previous]]) if isinstance(model, dict) else [[previous]]
        outputs = outputs if outputs and isinstance(outputs[0], list) else [outputs]
        if len(outputs) != 1:
            self.unsupported.add("output", "the network must return one tensor")
        self.unsupported.check()
        self.graph.output = self.env[outputs[0][0]]
        self.graph.classes = {n.path[:k]: _class(n.path[:k]) for n in self.graph.nodes for k in range(1, len(n.path))}

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
            return [t["config"]["keras_history"][0] for t in tensors]
        return [entry[0] for entry in node]  # Keras 2: [[name, node, tensor, kwargs], ...]

    def _input(self, layer: dict) -> None:
        config = layer["config"]
        shape = config.get("batch_shape") or config.get("batch_input_shape")
        if shape is None or len(shape) != 4 or None in shape[1:]:
            raise SpecError(f"the input {shape} must be a fixed (H, W, C) image", file=self.unsupported.label)
        height, width, channels = shape[1:]
        self.graph.input = [channels, height, width]
        self.shapes[config.get("name", layer.get("name"))] = [height, width, channels]

    def _add(self, path: tuple[str, ...], type_: str, inputs: list[int], **params) -> int:
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
            return self._add(path, "linear", [x], out_features=int(config["units"]), bias=bool(config["use_bias"]),
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
                      "padding": config.get("padding", "valid")}
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
            return self._add(path, "zeropad", [x], padding=[top, bottom, left, right])
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
        return int(shape[-1])

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
                  "padding": config["padding"], "dilation": pair(config.get("dilation_rate", 1))}
        bias = bool(config["use_bias"])
        if kind == "Conv2D":
            return self._add(path, "conv", [x], out_channels=int(config["filters"]),
                             groups=int(config.get("groups", 1)), bias=bias, **window, **self._fused(config))
        depth = channels * int(config.get("depth_multiplier", 1))
        if kind == "DepthwiseConv2D":
            return self._add(path, "conv", [x], out_channels=depth, groups=channels, bias=bias, **window,
                             **self._fused(config))
        inner = self._add((*path, "depthwise"), "conv", [x], out_channels=depth, groups=channels, bias=False, **window)
        return self._add((*path, "pointwise"), "conv", [inner], out_channels=int(config["filters"]), kernel_size=1,
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
