"""How other frameworks write a layer type: the forms a layer class declares, the views of one foreign
call, node or layer that an importer hands the class, and the helpers that read foreign values.

A class declares `torch_form`, `onnx_form` and `keras_form`. They are the one home of the frameworks'
names of the type: `type:` accepts those names (`Conv2d`, `MaxPooling2D`), the summaries print them
(torchinfo's and Keras's `model.summary()`), and the importers (`archcalc/interop/`) look a module,
function, method, operator, ONNX op or Keras class up in them. The importer then asks the class for
the hyper-parameters: `Layer.from_torch(call)`, `Layer.from_onnx(node)`, `Layer.from_keras(layer)`.
Each reads, by default, what the form names (a module's attributes, a function's arguments, a node's
attributes, a config's keys) and raises `Mismatch` with the reason when the foreign form is not this
type or has no archcalc form (the next type declaring the same name is tried, and if none fits the
import refuses that node with the reason). What takes several nodes (SiLU as x·sigmoid(x), GELU
through erf, a channel shuffle) is an idiom of the importers, written once there.

Nothing here imports a framework: a call, node or layer arrives as plain values.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import shorten

Shape = tuple[int, ...]


class Mismatch(Exception):
    """A foreign call, node or layer is not this layer type, or not in a form archcalc expresses: why."""


@dataclass(frozen=True)
class TorchForm:
    """How PyTorch writes a layer type.

    `modules`: module classes by class name (`Conv2d`; torchvision's `StochasticDepth`), the first
    one the class `to_torch` builds. `functions`: the `torch` / `torch.nn.functional` functions, tensor
    methods and Python operators that compute it, by name (`gelu` is `F.gelu` and `x.gelu()`; `add` is
    `torch.add`, `x.add(y)` and `x + y`; `getitem` is `x[...]`). `arguments`: the hyper-parameters a
    module holds as attributes of these names, which are also a function's arguments after the input,
    in this order (`F.leaky_relu(x, negative_slope, inplace)`). `summary`: the class name torchinfo-style
    summaries print, where it is not the first module's ('' for none: the type name is printed).
    """

    modules: tuple[str, ...] = ()
    functions: tuple[str, ...] = ()
    arguments: tuple[str, ...] = ()
    summary: str | None = None

    @property
    def name(self) -> str:
        """The class name a summary prints ('' for none)."""
        if self.summary is not None:
            return self.summary
        return self.modules[0] if self.modules else ""


@dataclass(frozen=True)
class OnnxForm:
    """How ONNX writes a layer type: the op types of its one node (`Conv`), `attributes` mapping a node
    attribute to the hyper-parameter it holds (`{"alpha": "negative_slope"}`), and `reads_back_as`: the
    other types archcalc's own export of this type reads back as, where ONNX has no operator of its
    own (an adaptive pooling that tiles is a plain pooling)."""

    ops: tuple[str, ...] = ()
    attributes: Mapping[str, str] = field(default_factory=dict)
    reads_back_as: tuple[str, ...] = ()


@dataclass(frozen=True)
class KerasForm:
    """How Keras writes a layer type: the `classes` it is read from (Keras 3's names, the first the one
    `model.summary()` prints unless `summary` says otherwise: `Activation` for the activation layers),
    `config` mapping a config key to the hyper-parameter it holds (`{"filters": "out_channels"}`),
    `activations`: its names as a Keras activation (`Activation("relu")`, `Conv2D(activation="relu")`),
    with `activation_arguments` for the hyper-parameters Keras's activation function fixes otherwise
    than archcalc's default (Keras's `leaky_relu` slope 0.2), and `keras1`: Keras 1's class name where
    it differs (`Convolution2D`, as the lecture's summaries print it)."""

    classes: tuple[str, ...] = ()
    config: Mapping[str, str] = field(default_factory=dict)
    activations: tuple[str, ...] = ()
    activation_arguments: Mapping[str, Any] = field(default_factory=dict)
    summary: str = ""
    keras1: str = ""

    @property
    def name(self) -> str:
        """The class name Keras 3's `model.summary()` prints ('' for none)."""
        return self.summary or (self.classes[0] if self.classes else "")

    @property
    def keras1_name(self) -> str:
        """The class name Keras 1's `model.summary()` prints ('' for none)."""
        return self.keras1 or self.name


class _Map:
    """The feature map a call reads (or one of those it reads), as a layer class sees it."""

    def __repr__(self) -> str:
        return "MAP"


#: A feature map among a call's or a node's operands.
MAP = _Map()


@dataclass(frozen=True)
class Parameter:
    """A learnt or stored tensor among the operands: a module's parameter or buffer (`gamma`), an ONNX
    initializer; its shape where the importer knows it; `buffer`: a PyTorch module's buffer, which
    PyTorch neither trains nor counts among the parameters (a fixed filter, running statistics)."""

    name: str
    shape: Shape | None = None
    buffer: bool = False

    @property
    def size(self) -> int | None:
        if self.shape is None:
            return None
        total = 1
        for d in self.shape:
            total *= d
        return total


@dataclass(frozen=True)
class Site:
    """What an importer knows of the map a call reads: its per-sample shape in archcalc's (C, H, W)
    order (None where unknown) and whether the framework holds it channels last, (H, W, C), as
    ConvNeXt's permuted blocks and Keras do."""

    shape: Shape | None = None
    channels_last: bool = False

    @property
    def channels(self) -> int | None:
        return self.shape[0] if self.shape else None

    @property
    def rank(self) -> int | None:
        """The framework tensor's rank, the batch axis included."""
        return None if self.shape is None else len(self.shape) + 1

    def is_channel_axis(self, axis: Any) -> bool:
        """Whether the framework's axis `axis` (negative from the end; a list of one) is the channels'
        axis of this map (1, or the last when channels last; of a map of unknown rank, just those)."""
        if isinstance(axis, (list, tuple)) and len(axis) == 1:
            axis = axis[0]
        if not isinstance(axis, int) or isinstance(axis, bool):
            return False
        if self.rank is None:
            return axis == (-1 if self.channels_last else 1)
        if not -self.rank <= axis < self.rank:
            return False
        return axis % self.rank == (self.rank - 1 if self.channels_last else 1)


@dataclass(frozen=True)
class TorchCall:
    """One call of a traced PyTorch model: `name` (the module's class, or the function, method or
    operator), `module` (None unless a module is called), and the call's `args` and `kwargs` with each
    feature map as `MAP` and each module parameter as a `Parameter`; `site` describes the (first) map."""

    name: str
    module: Any = None
    args: tuple = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    site: Site = Site()

    def argument(self, names: tuple[str, ...], name: str, default: Any = None) -> Any:
        """The argument `name` of a function whose arguments after the input are `names`: given by
        position or by keyword; `default` when absent."""
        position = names.index(name) + 1
        if len(self.args) > position:
            return self.args[position]
        return self.kwargs.get(name, default)

    @property
    def operands(self) -> tuple:
        """Every positional argument, the maps included."""
        return self.args

    def maps(self) -> int:
        return sum(1 for a in self.args if a is MAP)


@dataclass(frozen=True)
class OnnxNode:
    """One ONNX node: its op, attributes (Python values), inputs (`MAP`, a `Parameter` with its
    shape, a constant as a NumPy array, or None for an input left empty), how many outputs it fills, and
    the `site` of its first map."""

    op: str
    attributes: Mapping[str, Any]
    inputs: tuple = ()
    outputs: int = 1
    site: Site = Site()

    def parameter(self, k: int) -> Parameter:
        """Input `k` as a parameter (a constant stands for one of its shape); `Mismatch` when it is something else."""
        import numpy as np

        found = self.inputs[k] if k < len(self.inputs) else None
        if isinstance(found, np.ndarray):
            return Parameter("", tuple(found.shape))
        if not isinstance(found, Parameter) or found.shape is None:
            raise Mismatch(f"{self.op}'s input {k} must be a parameter")
        return found

    def has(self, k: int) -> bool:
        return k < len(self.inputs) and self.inputs[k] is not None


@dataclass(frozen=True)
class KerasLayer:
    """One layer of a Keras config: its class, its config and the `site` of the map it reads
    (archcalc's (C, H, W) order; Keras holds it channels last)."""

    class_name: str
    config: Mapping[str, Any]
    site: Site = Site(channels_last=True)


# --- reading foreign values ------------------------------------------------------------------------

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


def pair(value: Any) -> Any:
    """An int for a symmetric pair (`(3, 3)` → 3), a list otherwise (as a file writes it)."""
    if isinstance(value, (tuple, list)):
        values = [whole(v) for v in value]
        return values[0] if len(set(values)) == 1 else values
    return whole(value)


def plain(value: Any) -> Any:
    """A framework's value as a file writes it: pairs as `pair`, numbers, booleans, text and None as
    they are; a ValueError for anything else."""
    if value is None or isinstance(value, (bool, str, float)):
        return value
    if isinstance(value, (tuple, list)):
        return pair(value)
    return whole(value)


def float32(value: Any) -> float:
    """A float32 attribute as the decimal it was written as (9.99999974e-06 → 1e-05)."""
    import numpy as np

    return float(str(np.float32(value)))


def read(source: Mapping[str, Any] | Any, names: Mapping[str, str] | tuple[str, ...],
         fields: Mapping[str, Any], convert=plain) -> dict[str, Any]:
    """`{ours: convert(theirs)}` for each of `names` (theirs → ours, or names both sides share) present in
    `source` (a mapping, or an object's attributes) and among `fields` (the class's hyper-parameters)."""
    pairs = names.items() if isinstance(names, Mapping) else ((n, n) for n in names)
    found = {}
    for theirs, ours in pairs:
        if ours not in fields:
            continue
        if isinstance(source, Mapping):
            if theirs in source:
                found[ours] = convert(source[theirs])
        elif hasattr(source, theirs):
            found[ours] = convert(getattr(source, theirs))
    return found


def at_least(low: int, key: str, values: Any, length: int) -> list[int]:
    """A foreign attribute's `length` whole numbers, each at least `low` (strides ≥ 1, pads ≥ 0); else `Mismatch`."""
    try:
        numbers = [whole(v) for v in values] if isinstance(values, (list, tuple)) else [whole(values)]
    except ValueError as exc:
        raise Mismatch(f"{key}: {exc}") from None
    if len(numbers) != length or min(numbers) < low:
        wanted = "a whole number" if length == 1 else f"{length} whole numbers, each"
        raise Mismatch(f"{key} must be {wanted} at least {low}, got {shorten(str(numbers)[1:-1])}")
    return numbers


def onnx_padding(attributes: Mapping[str, Any], op: str, symmetric: bool = False, axes: int = 2) -> Any:
    """The padding of an ONNX `Conv` or pooling over `axes` spatial axes as a file writes it: `same`
    (`auto_pad` SAME_UPPER), 0 (VALID), one value per axis (a pair), or (before, after) per axis ([top,
    bottom, left, right]); `symmetric`: only one value per axis is expressible."""
    auto = attributes.get("auto_pad", "NOTSET")
    if auto == "SAME_UPPER" and not symmetric:
        return "same"
    if auto == "VALID":
        return 0
    if auto not in ("NOTSET", ""):
        raise Mismatch(f"auto_pad {auto} has no archcalc padding for {op} (only SAME_UPPER and VALID)")
    pads = at_least(0, "pads", attributes.get("pads", [0] * (2 * axes)), 2 * axes)
    begins, ends = pads[:axes], pads[axes:]
    if begins == ends:
        return pair(begins)
    if symmetric:
        raise Mismatch(f"{op} with uneven pads has no archcalc layer type")
    return [p for side in zip(begins, ends) for p in side]
