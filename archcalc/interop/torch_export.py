"""The capture of a PyTorch model that torch.fx cannot trace (Python control flow on sizes, `len(x)`):
`torch.export` runs the forward on fake tensors (no weights read, nothing computed) and records the
ATen ops it calls, each with the stack of modules (`nn_module_stack`) that called it. That graph is
rewritten here into the graph of module calls, functions and tensor methods that the importer reads
from torch.fx (`import_torch`): each call of a module the importer reads as a whole (a leaf) becomes
one module call again, each other ATen op the function or method of the same name, each lifted
parameter or buffer a read of the module attribute. An op with no such name keeps its ATen name and
is refused by the importer with it. Imported only with torch."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import torch
import torch.fx as fx
import torch.nn.functional as F

#: The ATen ops (by name without overload) read as a `torch` / `F` function or a Python operator.
FUNCTIONS: dict[str, Callable] = {
    "add": operator.add, "add_": operator.iadd, "mul": operator.mul, "mul_": operator.imul,
    "div": operator.truediv, "div_": operator.itruediv, "sub": operator.sub, "cat": torch.cat,
    "concat": torch.cat, "flatten": torch.flatten, "relu": F.relu, "relu_": F.relu_, "relu6": F.relu6,
    "sigmoid": torch.sigmoid, "sigmoid_": torch.sigmoid_, "tanh": torch.tanh, "hardsigmoid": F.hardsigmoid,
    "hardsigmoid_": F.hardsigmoid, "hardswish": F.hardswish, "hardswish_": F.hardswish, "silu": F.silu,
    "silu_": F.silu, "gelu": F.gelu, "leaky_relu": F.leaky_relu, "leaky_relu_": F.leaky_relu_, "elu": F.elu,
    "max_pool2d": F.max_pool2d, "avg_pool2d": F.avg_pool2d, "adaptive_avg_pool2d": F.adaptive_avg_pool2d,
    "adaptive_max_pool2d": F.adaptive_max_pool2d, "layer_norm": F.layer_norm, "group_norm": F.group_norm,
    "channel_shuffle": F.channel_shuffle, "native_channel_shuffle": F.channel_shuffle,
    "pixel_shuffle": F.pixel_shuffle, "dropout": F.dropout, "feature_dropout": F.dropout2d, "conv2d": F.conv2d,
}
#: The ATen ops read as the tensor method of the same (or the given) name.
METHODS = {"view": "view", "reshape": "reshape", "_unsafe_view": "view", "permute": "permute", "mean": "mean",
           "split": "split", "split_with_sizes": "split", "chunk": "chunk", "contiguous": "contiguous",
           "clone": "clone", "unsqueeze": "unsqueeze", "squeeze": "squeeze", "sqrt": "sqrt",
           "clamp_min": "clamp_min", "clamp": "clamp", "sym_size": "size", "size": "size", "dim": "dim"}
#: ATen ops that change nothing a layer sees (aliases, checks of a tensor's metadata).
PASSING = {"alias", "detach", "lift_fresh_copy", "_assert_tensor_metadata", "_assert_scalar", "type_as", "to"}


#: The batch of the example torch.export runs the model on: a size of 2 that leads a reshape is the batch.
EXAMPLE_BATCH = 2


def capture(model: torch.nn.Module, input: tuple[int, ...], leaf: Callable[[torch.nn.Module], bool],
            after: Callable[[torch.nn.Module], list]) -> fx.Graph:
    """The model's forward on one batch of 2 samples of shape `input` as a graph of module calls
    (each module that `leaf` accepts, called as a whole and followed by the submodules `after` names),
    functions and methods, named as torch.fx names them."""
    device = next(iter(model.parameters()), torch.empty(0)).device
    example = torch.zeros(EXAMPLE_BATCH, *input, device=device)
    was_training = model.training
    model.eval()
    try:
        exported = torch.export.export(model, (example,), strict=False)
    finally:
        model.train(was_training)
    return _Rewriter(dict(model.named_modules()), leaf, after, exported).graph


def _aten_name(target: Any) -> str:
    """`aten.conv2d.default` → conv2d; `aten.split.Tensor` → split."""
    schema = getattr(target, "_schema", None)
    name = schema.name.split("::")[-1] if schema is not None else getattr(target, "__name__", str(target))
    return name


class _Rewriter:
    def __init__(self, modules: dict[str, torch.nn.Module], leaf: Callable[[torch.nn.Module], bool],
                 after: Callable[[torch.nn.Module], list], exported):
        self.modules, self.leaf = modules, leaf
        names = {id(m): path for path, m in modules.items()}
        signature = exported.graph_signature
        self.attributes = {**signature.inputs_to_parameters, **signature.inputs_to_buffers,
                           **getattr(signature, "inputs_to_lifted_tensor_constants", {})}
        self.graph = fx.Graph()
        self.env: dict[fx.Node, Any] = {}
        nodes = list(exported.graph.nodes)
        runs = self._runs(nodes)
        done: set[str] = set()
        for node in nodes:
            run = runs.get(node)
            if run is not None:
                key, path, first, last = run
                if key not in done:
                    done.add(key)
                    value = self._made(node, self.graph.call_module(path, (self._value(first),)))
                    for child in after(self.modules[path]):
                        value = self._made(node, self.graph.call_module(names[id(child)], (value,)))
                    self.env[last] = value
                continue
            self._rewrite(node)

    # --- leaf modules --------------------------------------------------------------------------
    def _runs(self, nodes: list[fx.Node]) -> dict[fx.Node, tuple[str, str, fx.Node, fx.Node]]:
        """Node → (call key, module path, the map the call reads, the node that returns its output),
        for the nodes of each call of a leaf module that reads one map and returns one."""
        calls: dict[str, list[fx.Node]] = {}
        paths: dict[str, str] = {}
        for node in nodes:
            for key, (path, _) in (node.meta.get("nn_module_stack") or {}).items():
                module = self.modules.get(path)
                if module is not None and path and self.leaf(module):
                    calls.setdefault(key, []).append(node)
                    paths[key] = path
                    break
        found = {}
        for key, members in calls.items():
            inside = set(members)
            reads = {a for n in members for a in n.all_input_nodes
                     if a not in inside and a.name not in self.attributes}
            outputs = [n for n in members if any(u not in inside for u in n.users)]
            if len(reads) == 1 and len(outputs) == 1:
                for node in members:
                    found[node] = (key, paths[key], next(iter(reads)), outputs[0])
        return found

    # --- one op --------------------------------------------------------------------------------
    def _made(self, source: fx.Node, node: fx.Node) -> fx.Node:
        stack = source.meta.get("nn_module_stack") or {}
        node.meta["nn_module_stack"] = {key: (path, kind) for key, (path, kind) in stack.items() if path}
        return node

    def _arg(self, value: Any) -> Any:
        return fx.node.map_arg(value, self._value)

    def _value(self, node: fx.Node) -> fx.Node:
        """The rewritten node of `node`; a parameter or buffer read where it is first used."""
        if node not in self.env and node.name in self.attributes:
            self.env[node] = self.graph.get_attr(self.attributes[node.name])
        return self.env[node]

    def _rewrite(self, node: fx.Node) -> None:
        if node.op == "placeholder":
            if node.name not in self.attributes:
                self.env[node] = self.graph.placeholder(node.name)
            return
        if node.op == "output":
            outputs = node.args[0]
            self.graph.output(self._arg(outputs[0] if isinstance(outputs, (list, tuple)) else outputs))
            return
        if node.op == "get_attr":
            self.env[node] = self.graph.get_attr(node.target)
            return
        if node.target is operator.getitem:
            self.env[node] = self._made(node, self.graph.call_function(operator.getitem, self._arg(node.args)))
            return
        name = _aten_name(node.target)
        args, kwargs = self._arg(node.args), self._arg(node.kwargs)
        if name in PASSING:
            self.env[node] = args[0] if args else None
            return
        if not node.users and name.startswith("_assert"):
            return
        if name in ("slice", "select"):
            made = self._index(node, name, args)
            if made is None:
                self.env[node] = args[0]
                return
        elif name in ("view", "reshape", "_unsafe_view") and isinstance(args[1], (list, tuple)) and args[1] \
                and _batch(node.args[0]) == args[1][0] == EXAMPLE_BATCH:
            size = self._made(node, self.graph.call_method("size", (args[0], 0)))
            made = self.graph.call_method(METHODS[name], (args[0], [size, *args[1][1:]]))
        elif name in ("max_pool2d", "avg_pool2d") and len(args) > 2 and args[2] == []:
            made = self.graph.call_function(FUNCTIONS[name], (args[0], args[1], None, *args[3:]), kwargs)
        elif name == "constant_pad_nd":
            made = self.graph.call_function(F.pad, args[:2], {"value": args[2] if len(args) > 2 else 0.0})
        elif name == "pad":         # aten.pad(x, pad, mode="constant", value=None)
            mode, value = (args[2] if len(args) > 2 else "constant"), (args[3] if len(args) > 3 else None)
            made = self.graph.call_function(F.pad, args[:2], {"mode": mode, "value": 0.0 if value is None else value})
        elif name in ("_softmax", "softmax"):
            made = self.graph.call_function(F.softmax, args[:2])
        elif name in FUNCTIONS:
            made = self.graph.call_function(FUNCTIONS[name], args, kwargs)
        elif name in METHODS:
            made = self.graph.call_method(METHODS[name], args, kwargs)
        else:
            made = self.graph.call_function(_named(name), args, kwargs)
        self.env[node] = self._made(node, made)

    def _index(self, node: fx.Node, name: str, args: tuple) -> fx.Node | None:
        """`aten.slice(x, dim, start, end)` and `aten.select(x, dim, index)` as `x[:, ..., start:end]`;
        None for a slice that takes the whole axis."""
        x, dim = args[0], args[1] if len(args) > 1 else 0
        value = node.args[0].meta.get("val") if isinstance(node.args[0], fx.Node) else None
        shape = tuple(value.shape) if isinstance(value, torch.Tensor) else None
        if shape is not None and isinstance(dim, int) and -len(shape) <= dim < len(shape):
            dim %= len(shape)
        if name == "select":
            item: Any = args[2]
        else:
            start, end = (args[2] if len(args) > 2 else None), (args[3] if len(args) > 3 else None)
            step = args[4] if len(args) > 4 else 1
            size = shape[dim] if shape is not None and isinstance(dim, int) and 0 <= dim < len(shape) else None
            end = None if end is None or size is not None and isinstance(end, int) and end >= size else end
            if not start and end is None and step == 1:
                return None
            item = slice(start or None, end, None if step == 1 else step)
        items = (slice(None),) * dim + (item,) if isinstance(dim, int) and dim >= 0 else (item,)
        return self.graph.call_function(operator.getitem, (x, items))


def _batch(node: Any) -> int | None:
    """The batch of the map `node` (its first size), where the export recorded it."""
    value = node.meta.get("val") if isinstance(node, fx.Node) else None
    return int(value.shape[0]) if isinstance(value, torch.Tensor) and value.dim() else None


def _named(name: str) -> Callable:
    """A stand-in function for an ATen op with no function or method here: the importer refuses it by name."""
    def op(*args, **kwargs):
        raise NotImplementedError(name)

    op.__name__ = name
    return op
