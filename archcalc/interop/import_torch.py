"""PyTorch → archcalc: trace an `nn.Module` with torch.fx (symbolically: no weights read, nothing
computed) and map every module call, function, method and operator to the layer type that declares
it (`Layer.torch_form`, read by `Layer.from_torch`), named by its module path. Written here, once:
the idioms of several calls (a view as a flatten, chunks, ShuffleNet's channel shuffle, archcalc's
own Keras normalisation and rescaling) and the layout of ConvNeXt's channels-last blocks."""

from __future__ import annotations

import json
import operator
import os
import re
import subprocess
import sys
import tempfile
from functools import cache
from importlib import import_module
from pathlib import Path
from typing import Any

from ..errors import ArchcalcError, SpecError, shorten
from ..layers.base import layer_class, registered_types
from ..layers.foreign import MAP, Mismatch, Parameter, Site, TorchCall, whole
from .imported import NETWORK_INPUT, ImportedGraph, Unsupported, check_layer_count
from .importer import CHANNELS_FIRST, CHANNELS_LAST, Aux, Importer, Refused, Skip, Value, foreign_index

# Modules that are no CNN layer, refused with a reason (and not traced into).
REFUSED = {"MultiheadAttention": "multi-head attention is not a CNN layer type",
           "EncoderBlock": "a transformer encoder block is not a CNN layer type",
           "ShiftedWindowAttention": "shifted-window attention is not a CNN layer type",
           "ShiftedWindowAttentionV2": "shifted-window attention is not a CNN layer type",
           "RelativePositionalMultiHeadAttention": "multi-head attention is not a CNN layer type",
           "MultiscaleAttention": "multiscale vision transformer: pooling attention is not a CNN layer type",
           "ShiftedWindowAttention3d":
               "3-D shifted-window transformer: windowed self-attention is not a CNN layer type"}
# Methods of a module's parameter that leave it a parameter (a view, or values computed from it).
SPATIAL = (slice(-2, None), slice(2, None), slice(2, 4))   # the (H, W) of an (N, C, H, W) shape
HEIGHT_WIDTH = {-2: 0, 2: 0, -1: 1, 3: 1}     # the index of H or W in an (N, C, H, W) shape: which of (H, W)
PARAMETER_METHODS = {"reshape", "view", "unsqueeze", "squeeze", "flatten", "contiguous", "sqrt", "clamp_min", "clamp",
                     "getitem"}
# Attributes of a tensor that describe it (`x.shape[0]`): sizes, not maps.
DESCRIPTIVE = {"shape", "ndim", "dtype", "device"}
# A subclass of a torch.nn normalisation (`_normalisations`) may follow it with its own submodules `drop`
# and `act` (timm's BatchNormAct2d, GroupNormAct): read as the normalisation, then those submodules, in order.
NORM_ACT_CHILDREN = ("drop", "act")
DEFAULT_TIMEOUT = 120.0     # seconds to load, build and trace a model (RegNet-Y 128GF, built for real, takes ~30)
MAX_LOG_BYTES = 64 * 1024   # what the build printed, passed on
# The separate process: its path is the caller's, so that it finds the same modules (and archcalc).
_CHILD = ("import json, sys; sys.path[:] = json.load(open(sys.argv[1]))['path']; "
          "from archcalc.interop.import_torch import _serve; _serve(sys.argv[1])")


def known_class(module: Any, names: set[str]) -> str:
    """The name of `module`'s class, or of the first class it derives from that `names` holds when it computes
    what that class does (its forward is that class's: torchvision's `Conv3DSimple` is an `nn.Conv3d`)."""
    cls = type(module)
    for base in cls.__mro__:
        if base.__name__ in names and getattr(base, "forward", None) is cls.forward:
            return base.__name__
    return cls.__name__


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
                 source: str | None = None) -> ImportedGraph:
    """The flat graph of `model` (an `nn.Module`), for one sample of shape `input`."""
    import torch.fx as fx

    leaves = set(foreign_index().torch_modules) | set(REFUSED)

    class Tracer(fx.Tracer):
        proxy_buffer_attributes = True      # a buffer read in a forward is a named value, as a parameter is

        def is_leaf_module(self, module, qualified_name):
            if _impostor(module):
                return False
            return _reads_as(module, leaves) in leaves or super().is_leaf_module(module, qualified_name)

        def call_module(self, module, forward, args, kwargs):
            """A normalisation followed by its own activation: the normalisation, then each of those modules."""
            children = _norm_act_children(module)
            if not children:
                return super().call_module(module, forward, args, kwargs)
            value = self.create_proxy("call_module", self.path_of_module(module), args, kwargs)
            for child in children:
                value = self.call_module(child, child.forward, (value,), {})
            return value

    label = name or type(model).__name__.lower()
    import inspect

    extra = list(inspect.signature(model.forward).parameters.values())[1:]
    concrete = {p.name: p.default for p in extra if p.default is not inspect.Parameter.empty}
    modules = dict(model.named_modules())

    def read(traced, capture: str) -> ImportedGraph:
        graph = ImportedGraph(name=label, input=list(input),
                              source=source or f"{type(model).__module__}.{type(model).__name__} via {capture} "
                                               f"(torch {torch_version()})")
        graph.classes = {tuple(path.split(".")): type(m).__name__ for path, m in modules.items() if path}
        _TorchImporter(graph, modules, Unsupported(label)).run(traced)
        return graph

    def exported() -> ImportedGraph:
        from .torch_export import capture

        return read(capture(model, tuple(input), lambda m: Tracer().is_leaf_module(m, ""), _norm_act_children),
                    "torch.export")

    try:
        traced = Tracer().trace(model, concrete_args=concrete or None)
    except Exception as exc:  # noqa: BLE001 - any failure of tracing is the model's, reported in one line
        why = " ".join(str(exc).split())[:300]
        try:
            return exported()
        except ArchcalcError:
            raise
        except Exception as second:  # noqa: BLE001 - the same, through torch.export
            raise SpecError(f"neither torch.fx nor torch.export can capture {type(model).__name__}: torch.fx: {why}; "
                            f"torch.export: {' '.join(str(second).split())[:300]}", file=label) from None
    try:
        return read(traced, "torch.fx")
    except SpecError as refused:        # what fx leaves traced (a size computed in Python) export may know
        if any(type(m).__name__ in REFUSED for m in modules.values()):
            raise                       # a module refused by its kind (attention): no capture reads it
        try:
            return exported()
        except Exception:  # noqa: BLE001 - torch.export reads no more: torch.fx's refusal stands
            raise refused from None


def _impostor(module: Any) -> bool:
    """Whether `module`'s class has the name of a `torch.nn` class it does not derive from (timm's own
    `GELU`, without `nn.GELU`'s `approximate`): it is traced into, not read as that class."""
    from torch import nn

    same = getattr(nn, type(module).__name__, None)
    return isinstance(same, type) and issubclass(same, nn.Module) and not isinstance(module, same)


@cache
def _normalisations() -> frozenset[str]:
    """The torch.nn classes of the normalisation layer types (BatchNorm1d/2d/3d, GroupNorm, LayerNorm, ...)."""
    from ..layers.family import Group

    return frozenset(name for cls in registered_types().values() if cls.family in Group.NORMALIZATION.families
                     for name in cls.torch_form.modules)


def _norm_act_base(module: Any) -> str | None:
    """For a subclass of a torch.nn normalisation whose only submodules are `NORM_ACT_CHILDREN`, the
    normalisation's class name; else None."""
    cls = type(module)
    norms = _normalisations()
    if cls.__name__ not in norms and set(dict(module.named_children())) <= set(NORM_ACT_CHILDREN):
        base = next((c for c in cls.__mro__[1:] if c.__name__ in norms and c.__module__.startswith("torch.nn")),
                    None)
        if base is not None:
            return base.__name__
    return None


def _reads_as(module: Any, names: set[str]) -> str:
    """The class name a module is read as: `known_class` where a class it derives from computes what it
    does (timm's `LayerNorm2dNoBias` is a `LayerNorm2d`), else a normalisation followed by its own
    activation as the normalisation (`_norm_act_base`), else its own."""
    known = known_class(module, names)
    return known if known != type(module).__name__ else _norm_act_base(module) or known


def _norm_act_children(module: Any) -> list:
    """The submodules run after a normalisation read as its base class (`_norm_act_base`), in order."""
    if _norm_act_base(module) is None:
        return []
    return [getattr(module, name) for name in NORM_ACT_CHILDREN if name in dict(module.named_children())]


class _TorchImporter(Importer):
    def __init__(self, graph: ImportedGraph, modules: dict, unsupported: Unsupported):
        super().__init__(graph, unsupported)
        self.modules = modules
        self.env: dict[Any, Any] = {}
        self.nodes: dict[int, Any] = {}         # layer index → the traced node whose value it holds (the last)
        self.holders: dict[int, str] = {}        # id of a parameter → the first module called that holds it

    def run(self, traced) -> None:
        output: tuple[Any, tuple[str, ...]] = (None, ("output",))
        for node in traced.nodes:
            if node.op == "placeholder":
                self.env[node] = Value(NETWORK_INPUT) if not self.env else Aux("extra input")
            elif node.op == "get_attr":
                self.env[node] = Aux("parameter", (node.target, (), self._parameter_shape(node.target)))
            elif node.op == "output":
                output = (self._returned(node.args[0]), self._path(node, "output"))
            else:
                try:
                    self.env[node] = self._map(node)
                except Refused as exc:
                    self.unsupported.add("/".join(self._path(node, exc.where or node.name)), str(exc))
                    self.env[node] = Aux("refused")
                check_layer_count(len(self.graph.layers), self.unsupported.label)
        self.finish(*output)

    def _returned(self, result: Any) -> Any:
        """What the model returns: a map, or several by name (a mapping's keys, a sequence's positions
        `out0`, `out1`, ...); a mapping or sequence of one map is that map (torchvision's `{"out": x}`)."""
        if isinstance(result, (list, tuple)):
            result = {f"out{k}": value for k, value in enumerate(result)}
        if isinstance(result, dict):
            found = {str(key): self.env.get(value) for key, value in result.items()}
            return next(iter(found.values())) if len(found) == 1 else found or None
        return self.env.get(result)

    # --- naming ------------------------------------------------------------------------------
    def _path(self, node, op: str) -> tuple[str, ...]:
        if node.op == "call_module":
            *owner, own = node.target.split(".")
            if owner and _norm_act_children(self.modules.get(".".join(owner))):     # bn.act: bn_act, beside bn
                owner[-1] += f"_{own}"
                return tuple(re.split(r"[./]", ".".join(owner)))
            return tuple(re.split(r"[./]", node.target))
        stack = node.meta.get("nn_module_stack") or {}
        owner = list(stack.values())[-1][0] if stack else ""
        return (*(re.split(r"[./]", owner) if owner else ()), op)

    def _add(self, node, op: str, type_: str, inputs: list[Value], channels_last: bool = False,
             **params) -> Value:
        module = self.modules.get(node.target) if node.op == "call_module" else None
        call = _call(node, module)
        value = self.add(self._path(node, op), type_, inputs, call=call, channels_last=channels_last, **params)
        if module is not None:
            self._refuse_shared(node.target, module)
            flags = [p.requires_grad for p in module.parameters()]
            self.graph.layers[value.index].trainable = any(flags) if flags else None
        self.nodes[value.index] = node
        return value

    def _refuse_shared(self, target: str, module: Any) -> None:
        """Refuse a module holding a parameter of another module called before it (a head on every pyramid
        level): its weights would be counted twice. A file says it with `shares:`, which import does not write."""
        for parameter in module.parameters():
            holder = self.holders.setdefault(id(parameter), target)
            if holder != target:
                raise SpecError(f"module {target!r} holds the weights of {holder!r}: import does not write `shares:` "
                                "for a layer that applies another's weights (docs/format.md); write it by hand",
                                file=self.unsupported.label)

    # --- values --------------------------------------------------------------------------------
    def _tensor(self, arg) -> Value:
        value = self.env.get(arg)
        if isinstance(value, Value):
            return value
        if isinstance(value, Aux) and value.kind == "refused":
            raise Skip
        raise Refused("an argument that is not a traced tensor")

    def _operands(self, args: Any, maps: list[Value], sized: bool = False) -> Any:
        """`args` as a layer class reads them: each traced map `MAP` (collected in `maps`, in order), each
        module parameter a `Parameter`; where `sized` (a resizing), another map's `x.shape[-2:]` is that map
        too, read for its size; any other size or anything else traced is refused."""
        import torch.fx as fx

        if isinstance(args, (list, tuple)):
            if sized and (x := self._height_width(args)) is not None:     # (x.shape[-2], x.shape[-1])
                maps.append(x)
                return MAP
            return type(args)(self._operands(a, maps, sized) for a in args)
        if isinstance(args, slice):
            return slice(*(self._operands(a, maps, sized) for a in (args.start, args.stop, args.step)))
        if not isinstance(args, fx.Node):
            return args
        value = self.env.get(args)
        if isinstance(value, Value):
            maps.append(value)
            return MAP
        if isinstance(value, Aux) and value.kind == "parameter":
            return Parameter(value.value[0], value.value[2], self._is_buffer(value.value[0]))
        if sized and isinstance(value, Aux) and value.kind == "spatial size":
            maps.append(value.value)
            return MAP
        if isinstance(value, Aux) and value.kind == "refused":
            raise Skip
        raise Refused(f"an argument computed from {value.kind if isinstance(value, Aux) else 'the model'} "
                      "has no archcalc form here")

    def _height_width(self, args: tuple | list) -> Value | None:
        """The map x whose (H, W) `args` is, as `(x.shape[-2], x.shape[-1])`; else None."""
        import torch.fx as fx

        found = [self.env.get(a) for a in args if isinstance(a, fx.Node)] if len(args) == 2 else []
        if len(found) == 2 and all(isinstance(v, Aux) and v.kind == "height or width" for v in found) \
                and [v.value[1] for v in found] == [0, 1] and found[0].value[0] == found[1].value[0]:
            return found[0].value[0]
        return None

    def _is_buffer(self, target: str) -> bool:
        owner, _, attr = target.rpartition(".")
        return attr in getattr(self.modules.get(owner), "_buffers", {})

    def _parameter_shape(self, target: str) -> tuple[int, ...] | None:
        owner, _, attr = target.rpartition(".")
        tensor = getattr(self.modules.get(owner), attr, None)
        return tuple(tensor.shape) if hasattr(tensor, "shape") else None

    # --- mapping -------------------------------------------------------------------------------
    def _map(self, node) -> Any:
        try:
            if node.op == "call_module":
                found = self._module(node, self.modules[node.target])
                return Aux("recurrent", (found, "tuple")) if self._recurrent(found) else found
            name = node.target if isinstance(node.target, str) else getattr(node.target, "__name__", str(node.target))
            return self._function(node, name)
        except Skip:
            return Aux("refused")

    def _module(self, node, m) -> Any:
        cls = _reads_as(m, set(foreign_index().torch_modules) | set(REFUSED))
        if cls in REFUSED:
            raise Refused(REFUSED[cls])
        op = node.target.split(".")[-1]
        folded = self.env.get(node.args[0])
        if isinstance(folded, Aux) and folded.kind == "frames":
            return self._frame_layer(node, op, cls, m, folded.value)
        padded = self.env.get(node.args[0])
        if isinstance(padded, Aux) and padded.kind == "padded_for_max":
            return self._padded_max(node, op, lambda site: TorchCall(type(m).__name__, m, (MAP,), {}, site),
                                    *padded.value)
        if cls == "ZeroPad2d" and min(m.padding) < 0:
            return self._negative_pad(node, op, self._tensor(node.args[0]), m.padding)
        classes = foreign_index().torch_modules.get(cls, ())
        if classes and all(c.inputs_allowed != (1, 1) for c in classes):   # a module of several maps
            maps: list[Value] = []
            args = self._operands(tuple(node.args), maps)
        else:
            maps, args = [self._tensor(node.args[0])], (MAP,)
        return self._dispatch(node, op, cls, classes, maps, lambda site: TorchCall(cls, m, args, {}, site))

    def _padded_max(self, node, op: str, call, x: Value, pads: tuple) -> Value:
        """A max pooling (the module or function `call(site)`) after `F.pad(x, pads, value=-inf)`
        (archcalc's uneven padding, TensorFlow's `same`): its padding."""
        maxpool = layer_class("maxpool")
        try:
            read = call(self.site(x))
            if read.name not in (*maxpool.torch_form.modules, *maxpool.torch_form.functions):
                raise Mismatch(f"a padding of -inf read by {read.name}")
            params = maxpool.from_torch(read)
            if params["padding"] != 0:
                raise Mismatch("a max pooling padded twice")
        except Mismatch as exc:
            raise Refused(str(exc)) from None
        left, right, top, bottom = (whole(p) for p in pads)
        return self._add(node, op, "maxpool", [x], **{**params, "padding": [top, bottom, left, right]})

    def _negative_pad(self, node, op: str, x: Value, pads: Any) -> Value:
        """A zero padding (left, right, top, bottom) with negative widths, which cut rows and columns off
        (NASNet's shift by one pixel, (−1, 1, −1, 1)): a `crop` of those, then a `zeropad` of the others."""
        left, right, top, bottom = (whole(p) for p in pads)
        widths = (top, bottom, left, right)
        x = self.explicit(x, self._path(node, "permute"))
        if max(widths) <= 0:
            return self._add(node, op, "crop", [x], cropping=[max(-w, 0) for w in widths])
        path = self._path(node, op)
        crop = self.add(path[:-1] + (f"{path[-1]}_crop",), "crop", [x], cropping=[max(-w, 0) for w in widths],
                        call=_call(node, self.modules.get(node.target) if node.op == "call_module" else None))
        return self._add(node, op, "zeropad", [crop], padding=[max(w, 0) for w in widths])

    def _dispatch(self, node, op: str, name: str, classes: tuple, inputs: list[Value], call) -> Any:
        """The layer the call `call(site)` is, by the classes declaring `name`; a permute that only moves
        the channels last, or back, changes the map's layout instead."""
        if classes and classes[0].type_name == "permute" and len(inputs) == 1:
            turned = self._turn(inputs[0], call)
            if turned is not None:
                return turned

        def add(type_: str, maps: list[Value], last: bool, params: dict) -> Value:
            return self._add(node, op, type_, maps, channels_last=last, **params)

        return self.dispatch(name, classes, inputs, lambda cls, site: cls.from_torch(call(site)), add,
                             self._path(node, op)[:-1] + ("permute",))

    def _turn(self, x: Value, call) -> Value | None:
        """`x` with its channels moved last, or back to second, where the permute does only that."""
        try:
            dims = layer_class("permute").from_torch(call(self.site(x)))["dims"]
        except Mismatch as exc:
            raise Refused(str(exc)) from None
        if dims == [d - 1 for d in CHANNELS_LAST[1:]] and not x.channels_last:
            return Value(x.index, True)
        if dims == [d - 1 for d in CHANNELS_FIRST[1:]] and x.channels_last:
            return Value(x.index, False)
        return None

    def _function(self, node, name: str) -> Any:
        args, kwargs = node.args, node.kwargs
        first = self.env.get(args[0]) if args else None
        if isinstance(first, Aux) and first.kind == "refused":
            return first
        if isinstance(first, Aux) and (first.kind != "parameter" or name in PARAMETER_METHODS):
            return self._aux(node, name, first)
        if name in ("size", "dim") or name == "getattr" and args[1] in DESCRIPTIVE:
            whole = name == "getattr" and args[1] == "shape" or name == "size" and len(args) == 1 and not kwargs
            return Aux("size", first if whole and isinstance(first, Value) and not first.channels_last else None)
        if _operator_name(name) == "add" and len(args) == 2 and 0 in [a for a in args if type(a) is int]:
            return self._tensor(next(a for a in args if type(a) is not int))   # `sum(parts)` starts at 0
        if _operator_name(name) == "add" and len(args) == 2 and self._broadcasts(args):
            maps = [self.explicit(self._tensor(a), self._path(node, "permute")) for a in args]
            return self._add(node, "add", "add", maps, broadcast=True)            # x + context (GCNet)
        if name in ("view", "reshape"):
            x = self._tensor(args[0])
            shape = list(args[1:]) if len(args) > 2 or not isinstance(args[1], (list, tuple)) else list(args[1])
            return self._reshape(node, name, self.explicit(x, self._path(node, "permute")), shape)
        if name == "flatten" and tuple(args[1:]) == (0, 1) and isinstance(first, Value) and \
                len(self.shape(first.index) or ()) >= 2:
            return Aux("frames", self.explicit(self._tensor(args[0]), self._path(node, "permute")))
        if name == "mean" and isinstance(first, Value) and first.channels_last:
            pooled = self._channels_last_mean(node, first, args, kwargs)
            if pooled is not None:
                return pooled
        if name in ("chunk", "split"):
            x = self._tensor(args[0])
            dim = args[2] if len(args) > 2 else kwargs.get("dim", 0)
            if not Site(self.shape(x.index), x.channels_last).is_channel_axis(dim):   # the channels stay last
                x = self.explicit(x, self._path(node, "permute"))
            return Aux("chunks", (x, self._parts(x, name, args, kwargs)))
        if name == "sub" and isinstance(self.env.get(args[1]), Aux) and self.env[args[1]].kind == "parameter":
            return Aux("centred", (self._tensor(args[0]), self.env[args[1]].value))
        if name == "getitem" and isinstance(first, Value) and self._recurrent(first):
            return self._last_step(first, args[1])
        joined = self._offset(node, name) or self._chain(node, name)
        if joined is not None:
            return joined
        if name == "pad" and len(args) == 2 and _negative_zero_pad(args[1], kwargs):
            return self._negative_pad(node, "pad", self._tensor(args[0]), args[1])
        if name == "pad" and kwargs.get("value") == float("-inf") and len(args) == 2 and len(node.users) == 1:
            x = self.explicit(self._tensor(args[0]), self._path(node, "permute"))
            return Aux("padded_for_max", (x, tuple(args[1])))
        maps: list[Value] = []
        # a resizing's size may be another map's `x.shape[-2:]`: that map becomes its second input (`like:`)
        sized = any(cls.sized_by_second_input for cls in foreign_index().torch_functions.get(name, ()))
        operands = self._operands(tuple(args), maps, sized)
        keywords = {key: self._operands(value, maps, sized) for key, value in kwargs.items()}
        if not maps:
            raise Refused(f"{name} of no traced tensor has no archcalc layer type")
        parameter = next((a for a in operands if isinstance(a, Parameter)), None)
        op = parameter.name.split(".")[-1] if parameter else _operator_name(name)
        return self._dispatch(node, op, name, foreign_index().torch_functions.get(name, ()), maps,
                              lambda site: TorchCall(name, None, operands, keywords, site))

    def _offset(self, node, name: str) -> Value | None:
        """`x * s + o` as archcalc writes a rescaling: the `+ o` is the offset of the rescaling `x * s` it
        alone reads."""
        if _operator_name(name) != "add" or len(node.args) != 2:
            return None
        values = [self.env.get(a) for a in node.args]
        x = next((v for v in values if isinstance(v, Value)), None)
        number = next((a for a in node.args if isinstance(a, (int, float)) and not isinstance(a, bool)), None)
        if x is None or number is None or self.layer_type(x) != "rescaling" or self.params(x).get("offset", 0.0) \
                or not self._sole_reader(x, node):
            return None
        self.nodes[x.index] = node                  # the layer now holds this node's value: its readers count
        return self.update(x, offset=float(number))

    def _sole_reader(self, value: Value, node) -> bool:
        """Whether `node` alone reads the map `value`, also through the nodes that pass it on as it is
        (`nn.Identity`)."""
        readers, todo = set(), [self.nodes[value.index]]
        while todo:
            for user in todo.pop().users:
                if user is not node and self.env.get(user) == value:
                    todo.append(user)
                else:
                    readers.add(user)
        return readers == {node}

    def _chain(self, node, name: str) -> Value | None:
        """`a + b + c`, `a * b * c`: one sum (product) of three maps, where `a + b` is read by nothing else
        and called alike."""
        joins = {cls.type_name for cls in foreign_index().torch_functions.get(name, ())
                 if cls.inputs_allowed[1] is None}
        if not joins or len(node.args) != 2:
            return None
        first, second = (self.env.get(a) for a in node.args)
        if not (isinstance(first, Value) and isinstance(second, Value)) or self.layer_type(first) not in joins \
                or first.channels_last != second.channels_last or not self._sole_reader(first, node):
            return None
        layer = self.graph.layers[first.index]
        if layer.call != _call(node, None):
            return None
        layer.inputs.append(second.index)
        self.nodes[first.index] = node              # the layer now holds this node's value: its readers count
        return self.update(first)

    def _aux(self, node, name: str, first: Aux) -> Any:
        """Ops on sizes, parameters, chunks and the steps of an idiom: the channel shuffle (view →
        transpose(1, 2) → view) and archcalc's Keras normalisation ((x − mean) / √variance)."""
        args = node.args
        if first.kind == "size" and name == "getitem" and isinstance(first.value, Value) and args[1] in SPATIAL:
            return Aux("spatial size", first.value)  # x.shape[-2:]: (H, W) of the map x
        if first.kind == "size" and name == "getitem" and isinstance(first.value, Value) \
                and isinstance(args[1], int) and args[1] in HEIGHT_WIDTH:
            return Aux("height or width", (first.value, HEIGHT_WIDTH[args[1]]))    # x.shape[-2]: H of the map x
        if first.kind == "size" and name == "getitem" and isinstance(first.value, Value) and type(args[1]) is int:
            return Aux("size", self._extent(first.value, args[1]))          # x.shape[1]: C, known
        if first.kind in ("size", "height or width") and _operator_name(name) == "mul" and len(args) == 2:
            extents = [self._known(a) for a in args]                        # H * W of known sizes
            return Aux("size", extents[0] * extents[1] if None not in extents else None)
        if first.kind in ("size", "extra input", "spatial size", "height or width"):
            # sizes; fx's checks of a fixed keyword argument
            return Aux("extra input" if first.kind == "extra input" else "size")
        context = self._context_step(node, name, first)
        if context is not None:
            return context
        if first.kind == "padded_for_max":
            operands = (MAP, *self._operands(tuple(args[1:]), []))
            keywords = {key: self._operands(value, []) for key, value in node.kwargs.items()}
            return self._padded_max(node, name, lambda site: TorchCall(name, None, operands, keywords, site),
                                    *first.value)
        if first.kind == "parameter" and name in PARAMETER_METHODS:
            target, steps, shape = first.value
            return Aux("parameter", (target, (*steps, name), _shape_after(shape, name, args[1:], node.kwargs)))
        if first.kind == "chunks" and name == "getitem":
            x, parts = first.value
            if not isinstance(args[1], int) or not -len(parts) <= args[1] < len(parts):
                raise Refused(f"part {args[1]!r} of {len(parts)}")
            start, end = parts[args[1]]
            return self._add(node, "slice", "slice", [x], channels_last=x.channels_last, start=start, end=end)
        if first.kind == "recurrent":
            return self._recurrent_state(node, name, *first.value)
        if first.kind == "frame layer" and name == "unflatten":
            x, entry, steps = first.value
            if tuple(args[1:]) not in ((0, (-1, steps)), (0, [-1, steps])):
                raise Refused(f"unflatten must give the {steps} frames back (unflatten(0, (-1, {steps})))")
            return self._add(node, entry.pop("op"), "timedistributed", [x], layer=entry)
        if first.kind == "shuffle5d" and name == "transpose" and sorted(args[1:3]) == [1, 2]:
            return Aux("shuffled", first.value)
        if first.kind == "shuffled" and name == "contiguous":
            return first
        if first.kind == "shuffled" and name in ("view", "reshape"):
            x, groups = first.value
            return self._add(node, "channel_shuffle", "channelshuffle", [x], groups=groups)
        if first.kind == "centred" and name == "truediv" and self._standardises(first.value[1], self.env.get(args[1])):
            x = self.explicit(first.value[0], self._path(node, "permute"))
            return self._add(node, "normalization", "normalization", [x])
        raise Refused(f"{name} has no archcalc layer type")

    def _frame_layer(self, node, op: str, cls: str, m, x: Value) -> Aux:
        """A module run on the frames of `x` folded into the batch (`m(x.flatten(0, 1))`): the layer it is on
        one frame, which the `unflatten` after it makes a `timedistributed` layer."""
        steps, *frame = self.shape(x.index) or (None,)
        try:
            entry = layer_class("timedistributed").frame_layer(cls, m, tuple(frame))
        except Mismatch as exc:
            raise Refused(str(exc)) from None
        return Aux("frame layer", (x, {**entry, "op": op}, steps))

    def _recurrent(self, value: Any) -> bool:
        """Whether `value` is the output of a recurrent module, which returns (output, h_n)."""
        return isinstance(value, Value) and value.index != NETWORK_INPUT and \
            getattr(layer_class(self.layer_type(value)), "returns_state", False)

    def _recurrent_state(self, node, name: str, x: Value, stage: str) -> Any:
        """The parts of a recurrent module's (output, h_n) (an LSTM's (output, (h_n, c_n))): [0] every step's
        output; the last step of each direction as `h_n[-D:].transpose(0, 1).flatten(1)` (how archcalc exports
        it), or of the one direction as `h_n[-1]`."""
        params, args = self.params(x), node.args
        directions = 2 if params.get("bidirectional") else 1
        lstm = layer_class(self.layer_type(x)).keeps_state
        steps = [(("tuple", "getitem", 0), x), (("tuple", "getitem", 1), "pair" if lstm else "h_n"),
                 (("pair", "getitem", 0), "h_n"), (("h_n", "getitem", slice(-directions, None)), "last"),
                 (("last", "transpose", (0, 1)), "turned"), (("turned", "flatten", 1), None)]
        if directions == 1:
            steps.append((("h_n", "getitem", -1), None))          # h_n[-1]: the last layer's last state
        key = (stage, name, args[1] if len(args) == 2 else tuple(args[1:]))
        found = next((then for when, then in steps if when == key), "refused")
        if found == "refused":
            raise Refused(f"{name} of a recurrent layer's state has no archcalc form: take the output, its last "
                          "step, or h_n[-D:].transpose(0, 1).flatten(1)")
        if found is None:
            return self.update(x, return_sequences=False)
        return found if isinstance(found, Value) else Aux("recurrent", (x, found))

    def _last_step(self, x: Value, index: Any) -> Value:
        """`output[:, -1]` of a one-directional recurrent layer: its last step."""
        if index not in ((slice(None), -1), (slice(None), -1, slice(None))) or \
                not self.params(x).get("return_sequences", True):
            raise Refused("indexing a recurrent layer's output must take its last step (x[:, -1])")
        if self.params(x).get("bidirectional"):
            raise Refused("the last step of a bidirectional output holds the reverse direction's first step: "
                          "take h_n[-2:] for the last of each")
        return self.update(x, return_sequences=False)

    def _channels_last_mean(self, node, x: Value, args: tuple, kwargs: dict) -> Value | None:
        """`x.mean((1, 2))` of an N×H×W×C map (MambaOut's head): the global average pooling of its positions,
        kept channels last with `keepdim`; None for any other mean."""
        shape = self.shape(x.index)
        dims = args[1] if len(args) > 1 else kwargs.get("dim")
        dims = [dims] if isinstance(dims, int) else dims
        if shape is None or not isinstance(dims, (list, tuple)) or not all(type(d) is int for d in dims):
            return None
        rank = len(shape) + 1
        if sorted(d % rank for d in dims) != list(range(1, rank - 1)):
            return None
        keep = bool(args[2] if len(args) > 2 else kwargs.get("keepdim", False))
        return self._add(node, "mean", "globalavgpool", [x], channels_last=keep, keepdims=keep)

    def _parts(self, x: Value, how: str, args: tuple, kwargs: dict) -> list[tuple[int, int]]:
        """The channels [start, end) of each part `x.chunk(n, dim)` or `x.split(size or sizes, dim)` cuts (dim 1,
        or the last of a map held channels last)."""
        size = args[1] if len(args) > 1 else kwargs.get("chunks" if how == "chunk" else "split_size_or_sections",
                                                         kwargs.get("split_size"))
        dim = args[2] if len(args) > 2 else kwargs.get("dim", 0)
        shape = self.shape(x.index)
        sizes = list(size) if isinstance(size, (list, tuple)) else None
        if shape is None or not Site(shape, x.channels_last).is_channel_axis(dim) or not (
                isinstance(size, int) and size > 0 or sizes and all(isinstance(s, int) and s >= 0 for s in sizes)):
            raise Refused(f"{how} must cut the channels (dim=1) into parts of fixed sizes")
        width = shape[0]
        if sizes is None:
            step = -(-width // size) if how == "chunk" else size
            sizes = [min(step, width - start) for start in range(0, width, step)]
        if sum(sizes) != width:
            raise Refused(f"{how} into {sizes} of {width} channels")
        ends = [sum(sizes[:k + 1]) for k in range(len(sizes))]
        return [(end - part, end) for part, end in zip(sizes, ends)]

    def _standardises(self, mean: Any, divisor: Any) -> bool:
        """Whether `(x − mean) / divisor` is a Keras normalisation as archcalc writes it: the divisor the
        square root of a variance, both stored by one module that holds exactly the tensors the
        `normalization` type declares (mean, variance and the count of samples)."""
        if not (isinstance(divisor, Aux) and divisor.kind == "parameter" and "sqrt" in divisor.value[1]):
            return False
        owner = mean[0].rpartition(".")[0]
        module = self.modules.get(owner)
        declared = {p.name for p in layer_class("normalization")().parameters([(1,)])}
        return divisor.value[0].rpartition(".")[0] == owner and module is not None and \
            {name for name, _ in module.named_buffers(recurse=False)} == declared

    def _broadcasts(self, args: tuple) -> bool:
        """Whether `args` are two maps of one rank and different shapes that broadcast ((C, H, W), (C, 1, 1))."""
        values = [self.env.get(a) for a in args]
        if not all(isinstance(v, Value) for v in values):
            return False
        shapes = [self.shape(v.index) for v in values]
        if None in shapes or len(shapes[0]) != len(shapes[1]) or shapes[0] == shapes[1] or \
                any(v.channels_last for v in values):
            return False
        return all(a == b or 1 in (a, b) for a, b in zip(*shapes))

    def _extent(self, x: Value, axis: int) -> int | None:
        """The size of the framework's axis `axis` of the map `x` (None for the batch, or where unknown)."""
        shape = self.shape(x.index)
        if shape is None or x.channels_last or not -len(shape) - 1 <= axis <= len(shape) or \
                axis % (len(shape) + 1) == 0:
            return None
        return shape[axis % (len(shape) + 1) - 1]

    def _known(self, arg: Any) -> int | None:
        """A size given as a number or read from a map's shape (`x.shape[2] * x.shape[3]`); None where unknown."""
        value = self.env.get(arg) if not isinstance(arg, (int, float, str, type(None), slice, tuple, list)) else None
        if isinstance(value, Aux) and value.kind == "size" and type(value.value) is int:
            return value.value
        if isinstance(value, Aux) and value.kind == "height or width":       # x.shape[-2]: H of the map x
            x, which = value.value
            return self._extent(x, 2 + which)
        return arg if type(arg) is int else None

    def _context_step(self, node, name: str, first: Aux) -> Any:
        """The steps of GCNet's attention pooling (timm's `GlobalContext`): `x.reshape(N, C, H·W).unsqueeze(1) @
        softmax(a.reshape(N, 1, H·W), -1).unsqueeze(3)`, viewed as (N, C, 1, 1), is an `attentionpool` of x and
        the logits a."""
        args, kwargs = node.args, node.kwargs
        if first.kind not in ("positions", "weights", "pooled"):
            return None
        if first.kind in ("positions", "weights") and name == "unsqueeze" and len(args) == 2 and not kwargs:
            return Aux(first.kind, (first.value[0], args[1]))
        dim = args[1] if len(args) > 1 else kwargs.get("dim")
        if first.kind == "positions" and name == "softmax" and first.value[1] is None and dim in (-1, 2) and \
                self.shape(first.value[0].index)[0] == 1:
            return Aux("weights", (first.value[0], None))
        second = self.env.get(args[1]) if len(args) == 2 and _operator_name(name) == "matmul" else None
        if first.kind == "positions" and _operator_name(name) == "matmul" and first.value[1] == 1 and \
                isinstance(second, Aux) and second.kind == "weights" and second.value[1] in (3, -1):
            x, a = first.value[0], second.value[0]
            return Aux("pooled", self._add(node, "attention_pool", "attentionpool", [x, a]))
        if first.kind == "pooled" and name in ("view", "reshape"):
            shape = list(args[1:]) if len(args) > 2 or not isinstance(args[1], (list, tuple)) else list(args[1])
            if len(shape) == 4 and [self._known(s) for s in shape[1:]] == list(self.shape(first.value.index)):
                return first.value
        return None

    def _reshape(self, node, name: str, x: Value, shape: list) -> Any:
        constants = [s for s in shape[1:] if isinstance(s, int)]
        batch = shape[0] == -1 or isinstance(self.env.get(shape[0]), Aux) if shape else False
        size = self.shape(x.index)
        if batch and len(shape) == 3 and size is not None and len(size) == 3 and \
                [self._known(s) for s in shape[1:]] == [size[0], size[1] * size[2]]:
            return Aux("positions", (x, None))      # (N, C, H·W): a step of an attention pooling
        whole_sample = size is not None and len(shape) == 2 and shape[1] == _count(size)
        if len(shape) == 2 and shape[1] == -1 or len(shape) == 2 and isinstance(self.env.get(shape[1]), Aux) \
                or batch and whole_sample:
            return self._add(node, name, "flatten", [x])
        if len(shape) == 5 and constants and isinstance(shape[1], int) and _transposed(node):
            return Aux("shuffle5d", (x, shape[1]))
        per_sample = shape and shape[0] != -1 or size is not None and _count(constants) == _count(size)
        if batch and per_sample and len(shape) > 2 and len(constants) == len(shape) - 1:
            return self._add(node, name, "reshape", [x], shape=constants)
        raise Refused(f"{name} to {len(shape)} axes has no archcalc layer type")


def _transposed(node) -> bool:
    """Whether the only reader of `node` transposes it (the second step of a channel shuffle)."""
    users = list(node.users)
    return len(users) == 1 and getattr(users[0].target, "__name__", users[0].target) == "transpose"


def _count(shape: tuple[int, ...]) -> int:
    total = 1
    for d in shape:
        total *= d
    return total


def _shape_after(shape: tuple[int, ...] | None, name: str, args: tuple, kwargs: dict) -> tuple[int, ...] | None:
    """The shape of a parameter of shape `shape` after `parameter.name(*args)` (a view, an index, or
    values computed from it), worked out on a meta tensor; None where that cannot be known."""
    import torch
    import torch.fx as fx

    def traced(value: Any) -> bool:
        if isinstance(value, (list, tuple)):
            return any(traced(v) for v in value)
        if isinstance(value, slice):
            return traced([value.start, value.stop, value.step])
        return isinstance(value, fx.Node)

    if shape is None or traced(args) or traced(list(kwargs.values())):
        return None
    tensor = torch.empty(shape, device="meta")
    try:
        found = tensor[args[0]] if name == "getitem" else getattr(tensor, name)(*args, **kwargs)
    except Exception:  # noqa: BLE001 - whatever PyTorch makes of the arguments: the shape is unknown
        return None
    return tuple(found.shape) if isinstance(found, torch.Tensor) else None


def _negative_zero_pad(pads: Any, kwargs: dict) -> bool:
    """Whether `F.pad(x, pads, **kwargs)` pads H and W with zeros, some widths negative."""
    return isinstance(pads, (list, tuple)) and len(pads) == 4 and all(type(p) is int for p in pads) \
        and min(pads) < 0 and kwargs.get("mode", "constant") == "constant" and kwargs.get("value") in (None, 0)


def _operator_name(name: str) -> str:
    """An in-place operator by its plain name (`iadd`, `+=`, is `add`), as layers are named."""
    return name[1:] if name.startswith("i") and hasattr(operator, name) and hasattr(operator, name[1:]) else name


def _call(node, module) -> str:
    """How the traced model runs `node` (a `profiles.Call`), as the hook- and patch-based counting tools
    see it: a module of a `torch.nn` class is a module call (hooks match the exact class); a module of
    any other class (torchvision's LayerNorm2d) runs its functional inside, unseen by hooks; torch.nn.functional
    calls and torch.add / torch.mul (function or tensor method: ptflops wraps both) are functional calls;
    Python operators (`x + y`, `x * y`), tensor methods (`x.mean()`) and other torch functions are operators."""
    import torch

    wrapped = (torch.add, torch.mul)        # wrapped by ptflops, as functions and as tensor methods
    if node.op == "call_module":
        return "module" if type(module).__module__.startswith("torch.nn.") else "functional"
    if node.op == "call_method":
        return "functional" if node.target in {f.__name__ for f in wrapped} else "operator"
    target = node.target
    functional = getattr(torch.nn.functional, getattr(target, "__name__", ""), None) is target
    return "functional" if functional or target in wrapped else "operator"
