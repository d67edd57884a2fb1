"""The layer tree a PyTorch export is written from (torch imported only here and in export_torch).

The file's blocks and repeats (`Architecture.groups`) nest the layers: a block instance or a repeat
is a `Container`, a layer a `Leaf` holding its `TorchLayer` (`archcalc.layers.torch_modules`) and its
call (an expression, `archcalc.layers.torch_code`) as the file's `calls:` say the reference
implementation runs it: a module, a `torch.nn.functional` function or an operator (hook-based counting
tools see only the first). Both the export's source and `to_torch`'s modules are made from this tree.

A layer is a submodule named as the file names it (`Container.attribute`). Where that name is a plain
identifier the source writes `self.name`; any other name is written quoted (`getattr(self, 'a-b')`),
and a name that `nn.Module` itself has (`forward`, `eval`, `cuda`, any name starting `__`) is kept in
the module's own table of submodules (`self._modules['forward']`): the state_dict keys stay the
file's names. The names of `nn.Module`'s own state, which PyTorch assigns while it runs (`training`,
`_modules`, `_parameters`, ...), cannot name a submodule at all: such a layer is the attribute
`training_` (a `_` added until the name is free), and its state_dict keys say so.
"""

from __future__ import annotations

import ast
import inspect
import keyword
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from torch import nn

from ..analysis import Report
from ..errors import ArchcalcError, ExportError
from ..layers import torch_modules
from ..layers.torch_code import Call, Code, Const, Input, Name, literal
from ..layers.torch_modules import PLAIN, TorchLayer
from ..profiles import call_style

#: nn classes whose call has a functional form: the function, by the module's class name.
FUNCTIONAL = {
    "ReLU": "F.relu", "ReLU6": "F.relu6", "ELU": "F.elu", "LeakyReLU": "F.leaky_relu", "GELU": "F.gelu",
    "SiLU": "F.silu", "Hardswish": "F.hardswish", "Hardsigmoid": "F.hardsigmoid", "Sigmoid": "torch.sigmoid",
    "Tanh": "torch.tanh", "Softmax": "F.softmax", "MaxPool2d": "F.max_pool2d", "AvgPool2d": "F.avg_pool2d",
    "AdaptiveAvgPool2d": "F.adaptive_avg_pool2d", "AdaptiveMaxPool2d": "F.adaptive_max_pool2d",
    "LocalResponseNorm": "F.local_response_norm",
}
#: Names of `nn.Module`'s state, which PyTorch may assign (`self.training = mode`): never a submodule's.
MODULE_STATE = frozenset(vars(nn.Module())) | frozenset(
    name for name in dir(nn.Module) if not callable(getattr(nn.Module, name)) and not name.startswith("__"))
#: Names of `nn.Module`'s methods and class attributes: a submodule so named lives only in `_modules`.
MODULE_ATTRIBUTES = frozenset(dir(nn.Module)) - MODULE_STATE
_RESERVED = MODULE_ATTRIBUTES | MODULE_STATE | {"x", "self", "torch", "nn", "F"}


@dataclass
class Leaf:
    """One layer: its path, local name, inputs (paths), PyTorch form and call source."""

    path: str
    name: str
    inputs: list[str]
    torch: TorchLayer
    call: Code

    @property
    def output(self) -> str:
        return self.path

    @property
    def uses_module(self) -> bool:
        return self.call.uses(torch_modules.M)

    @property
    def plain(self) -> bool:
        """Called as `module(x)` and nothing more: it can sit in an `nn.Sequential`."""
        return self.call == PLAIN and not self.torch.extras and not self.torch.setup


@dataclass
class Container:
    """A block instance (`block` names its block), a repeat (`repeat`) or the network (path '')."""

    path: str
    name: str
    block: str
    repeat: bool
    args: dict[str, Any]
    children: list[Leaf | Container] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    output: str = ""
    in_channels: int = 0
    #: the network's outputs by name, where its file names several (the top container only)
    results: dict[str, str] = field(default_factory=dict)

    def leaves(self):
        for child in self.children:
            if isinstance(child, Leaf):
                yield child
            else:
                yield from child.leaves()

    def contains(self, path: str) -> bool:
        return not self.path or path == self.path or path.startswith(self.path + "/")

    @property
    def chained(self) -> bool:
        """Each child reads only the one before it (the first, the container's one input), and the
        last is the output: an `nn.Sequential`."""
        if len(self.inputs) != 1 or self.children[-1].output != self.output or self.results:
            return False
        previous = self.inputs[0]
        for child in self.children:
            if child.inputs != [previous]:
                return False
            previous = child.output
        return True

    @property
    def numbered(self) -> bool:
        return [child.name for child in self.children] == [str(k) for k in range(len(self.children))]

    def attribute(self, child: str, suffix: str = "") -> str:
        """The name of the submodule holding child `child` (a layer, a block or a repeat), or (`suffix`)
        a layer's further module (`conv1_relu`) or a repeated layer's list of them."""
        return self._attributes[(child, suffix)]

    @cached_property
    def _attributes(self) -> dict[tuple[str, str], str]:
        """(child, suffix) → name: the child's own name but for `MODULE_STATE`, `<child>_<suffix>` for
        the further modules; a name taken already gets a `_` more."""
        taken = {child.name for child in self.children}
        found = {}

        def free(name: str) -> str:
            while name in taken or name in MODULE_STATE:
                name += "_"
            taken.add(name)
            return name

        for child in self.children:
            found[(child.name, "")] = free(child.name) if child.name in MODULE_STATE else child.name
        for child in self.children:
            first = child if isinstance(child, Leaf) else child.children[0] if child.repeat else None
            if isinstance(first, Leaf):
                for suffix in first.torch.extras:
                    found[(child.name, suffix)] = free(f"{child.name}_{suffix}")
        return found


def identifier(name: str) -> bool:
    """Whether `name` can be an attribute written `self.name`."""
    return name.isascii() and name.isidentifier() and not keyword.iskeyword(name) and name not in _RESERVED \
        and not name.startswith("__")


def module_attribute(name: str) -> bool:
    """Whether `nn.Module` has a method or class attribute `name` (or it starts `__`): a submodule so
    named can only be kept in `_modules`, never set or read as an attribute."""
    return name in MODULE_ATTRIBUTES or name.startswith("__")


def module_names(top: Container) -> dict[str, dict[str, tuple[str, ...]]]:
    """Layer path → suffix → the submodule names leading from the network to the module it runs
    ("") and to its further modules (a repeated layer's in a list beside the repeat)."""
    found: dict[str, dict[str, tuple[str, ...]]] = {}

    def walk(node: Container, prefix: tuple[str, ...], parent: Container | None) -> None:
        for k, child in enumerate(node.children):
            if isinstance(child, Container):
                walk(child, (*prefix, node.attribute(child.name) if not node.repeat else str(k)), node)
                continue
            if node.repeat and parent is not None:  # an item of a list (or Sequential) the parent holds
                modules = {"": (*prefix, str(k))}
                modules |= {suffix: (*prefix[:-1], parent.attribute(node.name, suffix), str(k))
                            for suffix in child.torch.extras}
            else:
                modules = {"": (*prefix, node.attribute(child.name))}
                modules |= {suffix: (*prefix, node.attribute(child.name, suffix)) for suffix in child.torch.extras}
            found[child.path] = modules if child.uses_module else {k: v for k, v in modules.items() if k}

    walk(top, (), None)
    return found


def ties(report: Report, top: Container) -> list[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]]:
    """(the submodule names of a layer that `shares:`, those of its owner's module, the names of the
    owner's parameters and statistics) for each such layer: the export gives the sharer's module the
    owner's tensors (one set of weights, as PyTorch shares them), each module still called once."""
    modules = module_names(top)
    owned = {record.name: record.param_tensors for record in report.layers if record.param_tensors}
    found = []
    for record in report.layers:
        if record.shares is not None:
            sharer, owner = modules[record.name].get(""), modules[record.shares].get("")
            if sharer is None or owner is None:
                raise ExportError("a layer that shares weights is exported called as a module, not as a function",
                                  layer=record.name)
            found.append((sharer, owner, tuple(p.name for p in owned[record.shares])))
    return found


def build(report: Report) -> Container:
    """The tree of `report`'s layers (every layer but the input)."""
    arch = report.architecture
    groups = {group.path: group for group in arch.groups}
    top = Container("", arch.name, "", False, {})
    containers = {"": top}

    def container(path: str) -> Container:
        if path not in containers:
            parent = container(path.rpartition("/")[0])
            group = groups[path]
            node = Container(path, path.rpartition("/")[2], group.block, set(group.args) == {"repeat"},
                             dict(group.args))
            parent.children.append(node)
            containers[path] = node
        return containers[path]

    for record in report.layers[1:]:
        if "." in record.name:
            raise ExportError("a layer path with '.' cannot name a PyTorch module", layer=record.name)
        try:
            form = record.layer.torch_module(list(record.input_shapes))
        except ArchcalcError as exc:
            raise exc.located(layer=record.name) from None
        except (ValueError, TypeError, RuntimeError) as exc:
            raise ExportError(f"PyTorch cannot build this {record.layer.type_name} layer: {exc}",
                              layer=record.name) from None
        form = form if isinstance(form, TorchLayer) else TorchLayer(form)
        style = call_style(arch.spec.calls, record.name, record.layer.type_name)
        if style == "functional" and isinstance(form.functional, TorchLayer):
            form, style = form.functional, "module"
        parent, _, name = record.name.rpartition("/")
        leaf = Leaf(record.name, name, list(record.inputs), form, _call(form, style, record.name))
        container(parent).children.append(leaf)
    top.results = dict(arch.outputs)
    _inline_several_outputs(top, set(arch.output_paths))
    _wire(top, set(arch.output_paths), report)
    return top


def _inline_several_outputs(top: Container, network_outputs: set[str]) -> None:
    """Write inline each block instance of which several layers are read outside it (a detector's
    backbone giving a map per level): its children become its parent's, named `<block>_<child>`
    (`backbone_extra_0`), since a module returns one value."""
    readers: dict[str, list[str]] = {}
    for leaf in top.leaves():
        for src in leaf.inputs:
            readers.setdefault(src, []).append(leaf.path)

    def outputs(node: Container) -> int:
        return sum(leaf.path in network_outputs or any(not node.contains(r) for r in readers.get(leaf.path, ()))
                   for leaf in node.leaves())

    def visit(node: Container) -> None:
        children: list[Leaf | Container] = []
        pending = list(node.children)
        while pending:
            child = pending.pop(0)
            if isinstance(child, Container) and not child.repeat and outputs(child) > 1:
                for grandchild in child.children:
                    grandchild.name = f"{child.name}_{grandchild.name}"
                pending[:0] = child.children
            else:
                children.append(child)
        if len({child.name for child in children}) < len(children):
            raise ExportError("a block with several outputs, written inline, names two modules alike",
                              layer=node.path)
        node.children = children
        for child in children:
            if isinstance(child, Container):
                visit(child)

    visit(top)


def _call(form: TorchLayer, style: str, path: str) -> Code:
    """The call of a layer run as `style` (module, functional or operator)."""
    called = any(isinstance(node, Call) and node.func == torch_modules.M for node in form.call.walk())
    if style == "module" or (style == "operator" and not called):  # no module is called
        return form.call
    if style == "functional" and isinstance(form.functional, Code):
        return form.functional
    module = form.module
    if module is not None and form.call.uses(PLAIN) and not form.extras:
        kind = type(module).__name__
        if style == "functional" and kind in FUNCTIONAL:
            arguments = {key: Const(value) for key, value in arguments_of(module, keywords=True) if key != "inplace"}
            return form.call.replaced(PLAIN, Name(FUNCTIONAL[kind])(Input(0), **arguments))
        if style == "operator" and isinstance(module, nn.AdaptiveAvgPool2d) and module.output_size in (1, (1, 1)):
            return form.call.replaced(PLAIN, Input(0).method("mean", (2, 3), keepdim=True))
    raise ExportError(f"no {style} call of PyTorch's {type(module).__name__ if module else 'operator'} "
                      "is known to archcalc", layer=path)


def _wire(node: Container, readers_outside: set[str], report: Report) -> None:
    """Fill in every container's external inputs and its one output (paths read outside it)."""
    inside = {leaf.path for leaf in node.leaves()}
    for child in node.children:
        if isinstance(child, Container):
            outside = readers_outside | {src for other in node.leaves() if not child.contains(other.path)
                                         for src in other.inputs}
            _wire(child, outside, report)
    node.inputs = list(dict.fromkeys(src for leaf in node.leaves() for src in leaf.inputs if src not in inside))
    outputs = [path for path in inside if path in readers_outside]
    if len(outputs) > 1 and not node.results:
        raise ExportError(f"layers {outputs[0]!r} and {outputs[1]!r} of one block are both read outside it",
                          layer=node.path)
    last = node.children[-1]
    node.output = next(iter(node.results.values()), None) or (outputs[0] if outputs else last.output)
    if node.inputs:
        shape = report.layer(node.inputs[0]).output_shape
        node.in_channels = shape[0]


def arguments_of(module: nn.Module, keywords: bool = False, full: bool = False) -> list[tuple[str | None, Any]]:
    """The constructor arguments that rebuild `module`: (None, value) for each required one (by name
    when `keywords`), (name, value) for each that differs from its default (each, when `full`)."""
    found: list[tuple[str | None, Any]] = []
    parameters = list(inspect.signature(type(module).__init__).parameters.values())[1:]
    if isinstance(module, nn.RNNBase):      # nn.LSTM(*args, **kwargs): RNNBase's arguments, less the mode it fills
        parameters = [p for p in list(inspect.signature(nn.RNNBase.__init__).parameters.values())[1:]
                      if p.name != "mode" and (p.name != "proj_size" or isinstance(module, nn.LSTM))]
        if isinstance(module, nn.RNN):
            parameters.append(inspect.Parameter("nonlinearity", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                                default="tanh"))
    for parameter in parameters:
        if parameter.kind is not parameter.POSITIONAL_OR_KEYWORD or parameter.name in ("device", "dtype"):
            continue
        value = getattr(module, parameter.name)
        if parameter.name == "bias":
            value = value is not None
        if isinstance(value, tuple) and len(set(value)) == 1:
            value = value[0]
        if parameter.default is parameter.empty:
            found.append((parameter.name if keywords else None, value))
        elif full or value != parameter.default:
            found.append((parameter.name, value))
    return found


def module_source(module: nn.Module) -> str:
    """`nn.Conv2d(3, 64, 7, stride=2, padding=0, ...)`: the source that builds `module`, every optional
    argument named (so that two uses of a block compare alike; `without_defaults` drops them after)."""
    arguments = ", ".join(literal(value) if key is None else f"{key}={literal(value)}"
                          for key, value in arguments_of(module, full=True))
    cls = type(module)
    return f"{'' if own_class(cls) else 'nn.'}{cls.__name__}({arguments})"


def own_class(cls: type) -> bool:
    """Whether `cls` is one of archcalc's module classes (`torch_modules.LayerNorm2d`), whose source an
    export carries, rather than one of `torch.nn`'s."""
    return isinstance(cls, type) and issubclass(cls, nn.Module) and cls.__module__ == torch_modules.__name__


def without_defaults(tree: ast.AST, classes: dict[str, dict[str, Any]]) -> ast.AST:
    """`tree` with every literal keyword argument that equals its default left out, in calls of
    `nn.<Module>` and of the `classes` (name -> defaults of its arguments)."""
    for call in ast.walk(tree):
        if not isinstance(call, ast.Call):
            continue
        defaults = classes.get(call.func.id, {}) if isinstance(call.func, ast.Name) else {}
        cls = None
        if isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name) and \
                call.func.value.id == "nn":
            cls = getattr(nn, call.func.attr, None)
        elif isinstance(call.func, ast.Name) and call.func.id not in classes:
            cls = getattr(torch_modules, call.func.id, None)
            cls = cls if own_class(cls) else None
        if isinstance(cls, type):
            defaults = {name: p.default for name, p in inspect.signature(cls.__init__).parameters.items()}
        if defaults:
            call.keywords = [k for k in call.keywords if not (k.arg in defaults and _equal(k.value, defaults[k.arg]))]
    return tree


def _equal(node: ast.expr, default: Any) -> bool:
    """Whether `node` is a literal equal to `default` (and of its type)."""
    try:
        value = ast.literal_eval(node)
    except ValueError:
        return False
    return type(value) is type(default) and value == default
