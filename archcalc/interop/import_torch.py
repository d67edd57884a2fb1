"""PyTorch → archcalc: trace an `nn.Module` with torch.fx (symbolically: no weights read, nothing
computed) and map every module call and functional op to a layer type, named by its module path."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Any

from ..errors import ArchcalcError, SpecError, shorten
from .graph import NETWORK_INPUT, Graph, Unsupported, check_layer_count, pair

# Modules traced as one call (not into their forward), by class name.
LEAF_CLASSES = {"LayerNorm2d", "StochasticDepth", "Permute"}
REFUSED = {"MultiheadAttention": "multi-head attention is not a CNN layer type",
           "EncoderBlock": "a transformer encoder block is not a CNN layer type",
           "ShiftedWindowAttention": "shifted-window attention is not a CNN layer type",
           "ShiftedWindowAttentionV2": "shifted-window attention is not a CNN layer type",
           "RelativePositionalMultiHeadAttention": "multi-head attention is not a CNN layer type"}
CHANNELS_LAST, CHANNELS_FIRST = [0, 2, 3, 1], [0, 3, 1, 2]
ACTIVATIONS = {"ReLU": "relu", "ReLU6": "relu6", "Sigmoid": "sigmoid", "Tanh": "tanh", "SiLU": "silu",
               "Hardswish": "hardswish", "Hardsigmoid": "hardsigmoid", "GELU": "gelu", "LeakyReLU": "leakyrelu",
               "ELU": "elu"}
FUNCTIONS = {"relu": "relu", "relu_": "relu", "relu6": "relu6", "sigmoid": "sigmoid", "tanh": "tanh",
             "silu": "silu", "hardswish": "hardswish", "hardsigmoid": "hardsigmoid", "gelu": "gelu",
             "leaky_relu": "leakyrelu", "elu": "elu"}
ALIASES = {"contiguous", "clone", "identity", "dropout2d"}
DEFAULT_TIMEOUT = 120.0     # seconds to load, build and trace a model (RegNet-Y 128GF, built for real, takes ~30)
MAX_LOG_BYTES = 64 * 1024   # what the build printed, passed on
# The separate process: its path is the caller's, so that it finds the same modules (and archcalc).
_CHILD = ("import json, sys; sys.path[:] = json.load(open(sys.argv[1]))['path']; "
          "from archcalc.interop.import_torch import _serve; _serve(sys.argv[1])")


@dataclass
class _Value:
    """A traced tensor: the node that holds it and whether it is laid out (H, W, C) by a permute."""

    index: int
    channels_last: bool = False


@dataclass
class _Aux:
    """A traced non-tensor (a size, an unpacked tuple) or a tensor in the middle of a known idiom."""

    kind: str
    value: Any = None


def torch_version() -> str:
    import torch
    return torch.__version__


def import_callable(spec: str, args: list[str], *, input: tuple[int, ...], name: str | None = None,
                    timeout: float = DEFAULT_TIMEOUT) -> dict[str, Any]:
    """The architecture mapping of the model that `package.module:callable` builds from `args`.

    That is the caller's code, which runs by design: it runs in a separate Python process (with the
    caller's module path) that is stopped after `timeout` seconds, so that whatever it does (fail to
    import, raise, exit, hang, crash) ends in one line naming `spec`."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise SpecError("write a PyTorch model as package.module:callable", file=spec)
    here = str(Path(__file__).resolve().parents[2])
    path = [os.path.abspath(p) for p in sys.path]
    with tempfile.TemporaryDirectory(prefix="archcalc-import-") as folder:
        request, result, log = (Path(folder) / n for n in ("request.json", "result.json", "log.txt"))
        request.write_text(json.dumps({"spec": spec, "args": list(args), "input": list(input), "name": name,
                                       "path": path + ([here] if here not in path else []), "result": str(result)}))
        with open(log, "wb") as output:
            process = subprocess.Popen([sys.executable, "-c", _CHILD, str(request)], stdin=subprocess.DEVNULL,
                                       stdout=output, stderr=output, start_new_session=os.name == "posix")
            try:
                status = process.wait(timeout)
            except subprocess.TimeoutExpired:
                raise SpecError(f"loading, building and tracing the model took longer than {timeout:g} s "
                                "(--timeout)", file=spec) from None
            finally:
                _stop(process)
        answer = json.loads(result.read_text()) if result.exists() else None
        printed = log.read_bytes()[:MAX_LOG_BYTES].decode(errors="replace")
    if not isinstance(answer, dict) or "mapping" not in answer and "error" not in answer:
        raise SpecError(f"the process building the model ended with status {status} and no result", file=spec)
    if "error" in answer:
        raise SpecError(str(answer["error"]), file=spec, layer=answer.get("layer"))
    sys.stderr.write(printed)
    return answer["mapping"]


def _stop(process: subprocess.Popen) -> None:
    """End the build process (and what it started) if it still runs."""
    if process.poll() is None:
        if os.name == "posix":
            import signal

            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
        process.wait()


def _serve(request_path: str) -> None:
    """In the build process: import, build and trace as the request says; write the mapping or the one
    line that says what failed; exit at once (threads the model's code started do not keep it)."""
    request = json.loads(Path(request_path).read_text())
    try:
        answer = {"mapping": _build_and_map(request)}
    except ArchcalcError as exc:
        answer = {"error": exc.message, "layer": exc.layer}
    except BaseException as exc:  # noqa: BLE001 - whatever the caller's code does ends in one line
        answer = {"error": f"cannot import the model: {_described(exc)}"}
    try:
        text = json.dumps(answer)
    except (TypeError, ValueError) as exc:
        text = json.dumps({"error": f"the imported network holds a value that is not JSON: {_described(exc)}"})
    Path(request["result"]).write_text(text)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _build_and_map(request: dict) -> dict[str, Any]:
    from .structure import to_mapping

    spec, args = request["spec"], request["args"]
    module_name, _, attr = spec.partition(":")
    try:
        module = import_module(module_name)
    except BaseException as exc:  # noqa: BLE001 - a module that fails to import, in any way
        raise SpecError(f"importing {module_name} failed: {_described(exc)}") from None
    target = getattr(module, attr, None)
    if not callable(target):
        raise SpecError(f"{module_name} has no callable {attr!r}")
    import torch

    call = f"{attr}({', '.join(args)})"
    try:
        try:
            with torch.device("meta"):
                model = target(*map(_number, args))
        except NotImplementedError:    # computes its configuration with tensors (RegNet): build it for real
            model = target(*map(_number, args))
    except BaseException as exc:  # noqa: BLE001 - the builder's failure, whatever it is (SystemExit too)
        raise SpecError(f"{call} failed: {_described(exc)}") from None
    if not isinstance(model, torch.nn.Module):
        raise SpecError(f"{call} returned {shorten(type(model).__name__)}, not a torch.nn.Module")
    source = f"{spec} {' '.join(args)}".strip()
    return to_mapping(import_torch(model, input=tuple(request["input"]), name=request["name"] or attr, source=source))


def _described(exc: BaseException) -> str:
    """`ValueError: the message` (on one line, shortened), for an exception from the caller's code."""
    try:
        text = " ".join(str(exc).split())
    except Exception:  # noqa: BLE001 - an exception whose text cannot be made
        text = ""
    return f"{type(exc).__name__}: {shorten(text, 200)}" if text else type(exc).__name__


def _number(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return {"true": True, "false": False, "none": None}.get(text.lower(), text)


def import_torch(model: Any, *, input: tuple[int, ...] = (3, 224, 224), name: str | None = None,
                 source: str | None = None) -> Graph:
    """The flat graph of `model` (an `nn.Module`), for one sample of shape `input`."""
    import torch.fx as fx

    class Tracer(fx.Tracer):
        def is_leaf_module(self, module, qualified_name):
            return (type(module).__name__ in LEAF_CLASSES | set(REFUSED) or _is_archcalc(module)
                    or super().is_leaf_module(module, qualified_name))

    label = name or type(model).__name__.lower()
    import inspect

    extra = list(inspect.signature(model.forward).parameters.values())[1:]
    concrete = {p.name: p.default for p in extra if p.default is not inspect.Parameter.empty}
    try:
        traced = Tracer().trace(model, concrete_args=concrete or None)
    except Exception as exc:  # noqa: BLE001 - any failure of tracing is the model's, reported in one line
        raise SpecError(f"torch.fx cannot trace {type(model).__name__}: {' '.join(str(exc).split())[:300]}",
                        file=label) from None
    modules = dict(model.named_modules())
    graph = Graph(name=label, input=list(input),
                  source=source or f"{type(model).__module__}.{type(model).__name__} via torch.fx "
                                   f"(torch {torch_version()})")
    graph.classes = {tuple(path.split(".")): type(m).__name__ for path, m in modules.items() if path}
    _Mapper(graph, modules, Unsupported(label)).run(traced)
    return graph


class _Mapper:
    def __init__(self, graph: Graph, modules: dict, unsupported: Unsupported):
        self.graph, self.modules, self.unsupported = graph, modules, unsupported
        self.env: dict[Any, Any] = {}

    def run(self, traced) -> None:
        for node in traced.nodes:
            if node.op == "placeholder":
                self.env[node] = _Value(NETWORK_INPUT) if not self.env else _Aux("extra input")
            elif node.op == "get_attr":
                self.env[node] = _Aux("attr", node.target)
            elif node.op == "output":
                result = self.env.get(node.args[0])
                if isinstance(result, _Value):
                    self.graph.output = self._chw(result, self._path(node, "output")).index
                elif not (isinstance(result, _Aux) and result.kind == "refused"):
                    self.unsupported.add("output", "the network must return one tensor")
            else:
                try:
                    self.env[node] = self._map(node)
                except _Refused as exc:
                    self.unsupported.add("/".join(self._path(node, exc.where or node.name)), str(exc))
                    self.env[node] = _Aux("refused")
                check_layer_count(len(self.graph.nodes), self.unsupported.label)
        self.unsupported.check()

    # --- naming ------------------------------------------------------------------------------
    def _path(self, node, op: str) -> tuple[str, ...]:
        if node.op == "call_module":
            return tuple(re.split(r"[./]", node.target))
        stack = node.meta.get("nn_module_stack") or {}
        owner = list(stack.values())[-1][0] if stack else ""
        return (*(re.split(r"[./]", owner) if owner else ()), op)

    def _add(self, node, op: str, type_: str, inputs: list[int], **params) -> _Value:
        call = _call(node, self.modules.get(node.target) if node.op == "call_module" else None)
        return _Value(self.graph.add(self._path(node, op), type_, inputs, call=call, **params))

    # --- values --------------------------------------------------------------------------------
    def _tensor(self, arg) -> _Value:
        value = self.env.get(arg)
        if isinstance(value, _Value):
            return value
        if isinstance(value, _Aux) and value.kind == "refused":
            raise _Skip
        raise _Refused("an argument that is not a traced tensor")

    def _chw(self, value: _Value, path: tuple[str, ...]) -> _Value:
        """`value` in (C, H, W) layout (a `permute` layer where it is still (H, W, C))."""
        if not value.channels_last:
            return value
        return _Value(self.graph.add(path[:-1] + ("permute",), "permute", [value.index], call="operator",
                                     dims=[2, 0, 1]))

    # --- mapping -------------------------------------------------------------------------------
    def _map(self, node) -> Any:
        try:
            if node.op == "call_module":
                return self._module(node, self.modules[node.target])
            name = node.target if isinstance(node.target, str) else getattr(node.target, "__name__", str(node.target))
            return self._function(node, name)
        except _Skip:
            return _Aux("refused")

    def _module(self, node, m) -> Any:
        cls = type(m).__name__
        if cls in REFUSED:
            raise _Refused(REFUSED[cls])
        if _is_archcalc(m):
            return self._archcalc(node, m, cls)
        x = self._tensor(node.args[0])
        op = node.target.split(".")[-1]
        if cls == "Identity":
            return x
        if cls == "Permute":
            dims = list(m.dims)
            if dims == CHANNELS_LAST and not x.channels_last:
                return _Value(x.index, True)
            if dims == CHANNELS_FIRST and x.channels_last:
                return _Value(x.index, False)
            return self._add(node, op, "permute", [self._chw(x, self._path(node, op)).index],
                             dims=[d - 1 for d in dims[1:]])
        keeps_layout = cls in ACTIVATIONS or cls in ("LayerNorm", "Linear", "Dropout", "StochasticDepth")
        if not keeps_layout:
            x = self._chw(x, self._path(node, op))
        mapped = _module_layer(m, cls, x.channels_last)
        if mapped is None:
            raise _Refused(f"{cls} has no archcalc layer type")
        return _Value(self._add(node, op, mapped[0], [x.index], **mapped[1]).index, x.channels_last)

    def _archcalc(self, node, m, cls: str) -> _Value:
        """A module of `archcalc.to_torch` (its own padding and fused activation), as its layer."""
        op = re.split(r"[./]", node.target)[-1]
        inputs = [self._chw(self._tensor(a), self._path(node, op)).index for a in node.args]
        if cls in ("Add", "Multiply", "Concat"):
            return self._add(node, op, cls.lower(), inputs)
        if cls == "Slice":
            return self._add(node, op, "slice", inputs, start=m.start, end=m.end)
        if cls == "GlobalPool":
            return self._add(node, op, f"global{m.mode}pool", inputs, keepdims=m.keepdims)
        if cls == "Pool2d":
            (top, bottom), (left, right) = m.pads
            params = {"kernel_size": pair(m.kernel), "stride": pair(m.stride), "padding": [top, bottom, left, right],
                      "ceil_mode": m.ceil_mode}
            if m.mode == "max":
                params["dilation"] = pair(m.dilation)
            elif m.mode == "avg":
                params["count_include_pad"] = m.count_include_pad
            return self._add(node, op, f"{m.mode}pool", inputs, **params)
        base = {"Conv2d": "Conv2d", "Linear": "Linear", "BatchNorm": "BatchNorm2d"}[cls]
        layer, params = _module_layer(m, base, False)
        if cls == "Conv2d" and m.explicit_pad is not None:
            left, right, top, bottom = m.explicit_pad
            params["padding"] = [top, bottom, left, right]
        value = self._add(node, op, layer, inputs, **params)
        act = type(m.act).__name__
        if act == "Identity":
            return value
        mapped = _module_layer(m.act, act, False)
        if mapped is None:
            raise _Refused(f"{act} has no archcalc layer type")
        return _Value(self.graph.add(self._path(node, op)[:-1] + (f"{op}_{mapped[0]}",), mapped[0], [value.index],
                                     call=_call(node, m), **mapped[1]))

    def _function(self, node, name: str) -> Any:
        args, kwargs = node.args, node.kwargs
        arg = lambda i, key, default=None: args[i] if len(args) > i else kwargs.get(key, default)  # noqa: E731
        if name in ("mul", "imul"):
            return self._multiply(node, args[:2])
        first = self.env.get(args[0]) if args else None
        if isinstance(first, _Aux) and first.kind == "refused":
            return first
        if isinstance(first, _Aux):
            return self._aux(node, name, first)
        if name in ("size", "dim") or name == "getattr" and args[1] == "shape":
            return _Aux("size")
        if name in ALIASES or name == "dropout" and not arg(2, "training", True):
            return self._tensor(args[0])
        if name in ("add", "iadd"):
            return self._join(node, "add", args[:2])
        if name in ("cat", "concat"):
            if arg(1, "dim", 0) not in (1, -3):
                raise _Refused("torch.cat must join channels (dim=1)")
            return self._join(node, "concat", list(args[0]))
        x = self._tensor(args[0])
        if name in FUNCTIONS or name == "dropout":
            if name == "dropout":
                return self._add(node, name, "dropout", [x.index], p=float(arg(1, "p", 0.5)), inplace=False)
            params = {"inplace": bool(kwargs.get("inplace", False))}
            if name == "gelu" and kwargs.get("approximate", "none") != "none":
                raise _Refused("tanh-approximated GELU has no archcalc layer type")
            if name == "leaky_relu":
                params["negative_slope"] = float(arg(1, "negative_slope", 0.01))
            return _Value(self._add(node, name, FUNCTIONS[name], [x.index], **params).index, x.channels_last)
        if name == "stochastic_depth":
            return _Value(self._add(node, name, "stochasticdepth", [x.index], p=float(arg(1, "p")),
                                    mode=arg(2, "mode")).index, x.channels_last)
        x = self._chw(x, self._path(node, name))
        if name == "flatten":
            if arg(1, "start_dim", 0) != 1 or arg(2, "end_dim", -1) != -1:
                raise _Refused("flatten must keep the batch axis and flatten the rest (start_dim=1)")
            return self._add(node, name, "flatten", [x.index])
        if name in ("view", "reshape"):
            shape = list(args[1:]) if len(args) > 2 or not isinstance(args[1], (list, tuple)) else list(args[1])
            return self._reshape(node, name, x, shape)
        if name == "mean":
            dims = arg(1, "dim")
            if sorted(d % 4 for d in ([dims] if isinstance(dims, int) else dims)) != [2, 3]:
                raise _Refused("mean must be over the spatial axes [2, 3]")
            return self._add(node, name, "globalavgpool", [x.index], keepdims=bool(arg(2, "keepdim", False)))
        if name in ("adaptive_avg_pool2d", "adaptive_max_pool2d"):
            size = pair(arg(1, "output_size"))
            kind = "adaptiveavgpool" if "avg" in name else "adaptivemaxpool"
            return self._add(node, name, kind, [x.index], output_size=size)
        if name in ("max_pool2d", "avg_pool2d"):
            kernel = pair(arg(1, "kernel_size"))
            stride = arg(2, "stride") or kernel
            params = {"kernel_size": kernel, "stride": pair(stride), "padding": pair(arg(3, "padding", 0)),
                      "ceil_mode": bool(arg(5 if name == "max_pool2d" else 4, "ceil_mode", False))}
            if name == "max_pool2d":
                params["dilation"] = pair(arg(4, "dilation", 1))
                return self._add(node, name, "maxpool", [x.index], **params)
            params["count_include_pad"] = bool(arg(5, "count_include_pad", True))
            if arg(6, "divisor_override") is not None:
                raise _Refused("avg_pool2d with divisor_override has no archcalc layer type")
            return self._add(node, name, "avgpool", [x.index], **params)
        if name in ("chunk", "split"):
            return _Aux("chunks", (x, args, kwargs, name))
        if name == "transpose":
            raise _Refused("transpose of a feature map has no archcalc layer type")
        raise _Refused(f"{name} has no archcalc layer type")

    def _aux(self, node, name: str, first: _Aux) -> Any:
        """Ops on sizes, chunks and the channel-shuffle idiom (view → transpose(1, 2) → view)."""
        args = node.args
        if first.kind in ("size", "extra input"):      # sizes; fx's checks of a fixed keyword argument
            return _Aux(first.kind)
        if first.kind == "chunks" and name == "getitem":
            x, chunk_args, kwargs, how = first.value
            dim = chunk_args[2] if len(chunk_args) > 2 else kwargs.get("dim", 0)
            if dim not in (1, -3) or not isinstance(chunk_args[1], int):
                raise _Refused(f"{how} must cut channels (dim=1) into a fixed number of parts")
            width = self._channels(x.index)
            step = -(-width // chunk_args[1]) if how == "chunk" else chunk_args[1]
            start = args[1] * step
            return self._add(node, "slice", "slice", [x.index], start=start, end=min(start + step, width))
        if first.kind == "shuffle5d" and name == "transpose" and sorted(args[1:3]) == [1, 2]:
            return _Aux("shuffled", first.value)
        if first.kind == "shuffled" and name == "contiguous":
            return first
        if first.kind == "shuffled" and name in ("view", "reshape"):
            x, groups = first.value
            return self._add(node, "channel_shuffle", "channelshuffle", [x.index], groups=groups)
        if first.kind == "attr":
            raise _Refused(f"{name} of a parameter has no archcalc layer type")
        raise _Refused(f"{name} has no archcalc layer type")

    def _channels(self, index: int) -> int:
        """The channels of a traced tensor, from archcalc's own shape inference of the graph so far."""
        from ..analysis import analyze
        from .structure import to_mapping

        graph = Graph(self.graph.name, self.graph.input, "", list(self.graph.nodes[:index + 1]), {}, index)
        return analyze(to_mapping(graph)).layers[-1].output_shape[0]

    def _reshape(self, node, name: str, x: _Value, shape: list) -> Any:
        constants = [s for s in shape[1:] if isinstance(s, int)]
        if len(shape) == 2 and shape[1] == -1 or len(shape) == 2 and isinstance(self.env.get(shape[1]), _Aux):
            return self._add(node, name, "flatten", [x.index])
        if len(shape) == 5 and constants and isinstance(shape[1], int):
            return _Aux("shuffle5d", (x, shape[1]))
        raise _Refused(f"{name} to {len(shape)} axes has no archcalc layer type")

    def _join(self, node, kind: str, sources: list) -> _Value:
        values = [self.env.get(s) for s in sources]
        if any(isinstance(v, _Aux) and v.kind == "refused" for v in values):
            raise _Skip
        if not all(isinstance(v, _Value) for v in values):
            raise _Refused(f"{kind} of a tensor and a constant has no archcalc layer type")
        last = any(v.channels_last for v in values)
        if last and not all(v.channels_last for v in values):
            values = [self._chw(v, self._path(node, kind)) for v in values]
            last = False
        op = {"add": "add", "concat": "cat"}[kind]
        return _Value(self._add(node, op, kind, [v.index for v in values]).index, last)

    def _multiply(self, node, sources: list) -> _Value:
        values = [self.env.get(s) for s in sources]
        attrs = [v for v in values if isinstance(v, _Aux) and v.kind == "attr"]
        tensors = [v for v in values if isinstance(v, _Value)]
        if attrs and len(tensors) == 1:
            x = self._chw(tensors[0], self._path(node, "mul"))
            return self._add(node, attrs[0].value.split(".")[-1], "layerscale", [x.index])
        return self._join_multiply(node, values)

    def _join_multiply(self, node, values: list) -> _Value:
        if not all(isinstance(v, _Value) for v in values):
            raise _Refused("multiplying by a constant has no archcalc layer type")
        values = [self._chw(v, self._path(node, "mul")) for v in values]
        return self._add(node, "mul", "multiply", [v.index for v in values])


class _Refused(Exception):
    def __init__(self, message: str, where: str = ""):
        super().__init__(message)
        self.where = where


class _Skip(Exception):
    """An op that reads a refused one: already reported."""


def _call(node, module) -> str:
    """How the traced model runs `node` (a `profiles.Call`), as the hook- and patch-based counting tools
    see it: a module of a `torch.nn` class is a module call (hooks match the exact class); a module of
    any other class (torchvision's LayerNorm2d) runs its functional inside, unseen by hooks; torch.nn.functional
    calls and torch.add / torch.mul (function or tensor method: ptflops wraps both) are functional calls;
    Python operators (`x + y`, `x * y`), tensor methods (`x.mean()`) and other torch functions are operators."""
    import torch

    if node.op == "call_module":
        return "module" if type(module).__module__.startswith("torch.nn.") else "functional"
    if node.op == "call_method":
        return "functional" if node.target in ("add", "mul") else "operator"
    target = node.target
    functional = getattr(torch.nn.functional, getattr(target, "__name__", ""), None) is target
    return "functional" if functional or target in (torch.add, torch.mul) else "operator"


def _module_layer(m, cls: str, channels_last: bool) -> tuple[str, dict] | None:
    """The archcalc type and hyper-parameters of a leaf module, or None."""
    if cls in ACTIVATIONS:
        params = {"inplace": bool(getattr(m, "inplace", False))}
        if cls == "LeakyReLU":
            params["negative_slope"] = float(m.negative_slope)
        if cls == "ELU":
            params["alpha"] = float(m.alpha)
        if cls == "GELU" and m.approximate != "none":
            return None
        return ACTIVATIONS[cls], params
    if cls == "Conv2d" and m.padding_mode == "zeros":
        padding = m.padding if isinstance(m.padding, str) else pair(m.padding)
        return "conv", {"out_channels": m.out_channels, "kernel_size": pair(m.kernel_size),
                        "stride": pair(m.stride), "padding": padding, "dilation": pair(m.dilation),
                        "groups": m.groups, "bias": m.bias is not None}
    if cls == "ConvTranspose2d" and m.padding_mode == "zeros":
        return "convtranspose", {"out_channels": m.out_channels, "kernel_size": pair(m.kernel_size),
                                 "stride": pair(m.stride), "padding": pair(m.padding),
                                 "output_padding": pair(m.output_padding), "dilation": pair(m.dilation),
                                 "groups": m.groups, "bias": m.bias is not None}
    if cls == "Linear":
        return ("pointlinear" if channels_last else "linear"), {"out_features": m.out_features,
                                                                "bias": m.bias is not None}
    if cls in ("BatchNorm2d", "BatchNorm1d"):
        params = {"eps": float(m.eps), "affine": m.affine, "track_running_stats": m.track_running_stats}
        if m.momentum is not None:
            params["momentum"] = float(m.momentum)
        return "batchnorm", params
    if cls in ("LayerNorm", "LayerNorm2d") and len(m.normalized_shape) == 1:
        return "layernorm", {"eps": float(m.eps), "elementwise_affine": m.elementwise_affine}
    if cls == "GroupNorm":
        return "groupnorm", {"num_groups": m.num_groups, "eps": float(m.eps), "affine": m.affine}
    if cls == "MaxPool2d" and not m.return_indices:
        return "maxpool", {"kernel_size": pair(m.kernel_size), "stride": pair(m.stride), "padding": pair(m.padding),
                           "dilation": pair(m.dilation), "ceil_mode": m.ceil_mode}
    if cls == "AvgPool2d" and m.divisor_override is None:
        return "avgpool", {"kernel_size": pair(m.kernel_size), "stride": pair(m.stride), "padding": pair(m.padding),
                           "ceil_mode": m.ceil_mode, "count_include_pad": m.count_include_pad}
    if cls in ("AdaptiveAvgPool2d", "AdaptiveMaxPool2d") and None not in _tuple(m.output_size):
        return cls[:-2].lower(), {"output_size": pair(m.output_size)}
    if cls == "Flatten" and m.start_dim == 1 and m.end_dim == -1:
        return "flatten", {}
    if cls.startswith("Dropout"):
        return "dropout", {"p": float(m.p), "inplace": m.inplace}
    if cls == "LocalResponseNorm":
        return "lrn", {"size": m.size, "alpha": float(m.alpha), "beta": float(m.beta), "k": float(m.k)}
    if cls == "ZeroPad2d":
        left, right, top, bottom = m.padding
        return "zeropad", {"padding": [top, bottom, left, right]}
    if cls == "ChannelShuffle":
        return "channelshuffle", {"groups": m.groups}
    if cls == "PReLU":
        return "prelu", {"num_parameters": m.num_parameters}
    if cls == "Softmax" and m.dim in (1, -1):
        return "softmax", {}
    if cls == "StochasticDepth":
        return "stochasticdepth", {"p": float(m.p), "mode": m.mode}
    return None


def _is_archcalc(module) -> bool:
    return type(module).__module__ == "archcalc.layers.torch_modules"


def _tuple(value: Any) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)

