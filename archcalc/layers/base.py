"""The layer base class and the registry of layer types.

A layer class is a frozen pydantic record (`archcalc.records`) of its hyper-parameters (PyTorch's argument names)
that knows everything about its type: output shape, parameters, MACs, the window it slides (for the
receptive field), whether its output allocates memory, the arithmetic it shows, its forward function,
its PyTorch module and ONNX nodes, and how PyTorch, ONNX and Keras write it (`archcalc.layers.foreign`:
the names `type:` also accepts, the summaries print and the importers read). Nothing else in archcalc
switches on layer type: adding a type is one class in `archcalc/layers/` (docs/contributing.md).
"""

# No `from __future__ import annotations` here: pydantic evaluates `Layer`'s class-variable annotations
# again for every layer class it creates, which costs nothing for annotations that are objects and a
# compiled expression each for annotations kept as text (a third of the layer classes' creation).
from dataclasses import dataclass
from functools import cache
from math import prod
from typing import Any, ClassVar, Literal, get_args, get_origin

from ..errors import ExecutionError, ExportError, ShapeError, SpecError, suggestion
from ..formulas import window_output, window_remainder
from ..records import Record
from ..spelling import folded
from .family import Family
from .foreign import KerasForm, KerasLayer, OnnxForm, OnnxNode, TorchCall, TorchForm, plain, read

Shape = tuple[int, ...]
Pair = tuple[int, int]

ParamRole = Literal["weight", "bias", "stat"]


@dataclass(frozen=True)
class Param:
    """One parameter tensor: its key (as in a PyTorch state_dict), shape and role, and the value
    every element of a fresh layer starts at (kernels of two or more dimensions are drawn at random
    instead).

    Roles: `weight` and `bias` are trainable unless `frozen` (an analysis froze the layer);
    `stat` (BatchNorm running mean/var) never is, and is never marked frozen.
    `least`: the smallest value an element may take (0 for a variance), where there is one.
    """

    name: str
    shape: Shape
    role: ParamRole
    initial: float = 0.0
    least: float | None = None
    frozen: bool = False

    @property
    def size(self) -> int:
        return prod(self.shape)

    @property
    def trainable(self) -> bool:
        return self.role != "stat" and not self.frozen


@dataclass(frozen=True)
class AxisWindow:
    """A sliding window along one spatial axis, for the receptive field."""

    kernel: int
    stride: int = 1
    pad_before: int = 0
    dilation: int = 1


@dataclass(frozen=True)
class Geometry:
    """How a windowed layer slides over one input, per spatial axis ((L,), (H, W) or (T, H, W)): input
    size, kernel, stride, dilation and the resolved padding (before, after) ((top, bottom), (left, right))."""

    size: Shape
    kernel: Shape
    stride: Shape
    dilation: Shape
    pads: tuple[Pair, ...]

    def _axes(self):
        return zip(self.size, self.kernel, self.stride, self.pads, self.dilation)

    def output(self, ceil_mode: bool = False) -> Shape:
        """(H_out, W_out) (one size per axis) by `formulas.conv_output_size` (the geometry's values are a
        layer's validated fields on a checked input); ShapeError when a window does not fit."""
        return tuple([window_output(n, k, s, p, d, ceil_mode) for n, k, s, p, d in self._axes()])

    def windows(self) -> tuple[AxisWindow, ...]:
        return tuple([AxisWindow(k, s, p[0], d) for _, k, s, p, d in self._axes()])

    def remainders(self) -> Shape:
        """Input positions per axis (rows and columns) no window reads (`formulas.tiling_remainder`)."""
        return tuple([window_remainder(n, k, s, p, d) for n, k, s, p, d in self._axes()])


@dataclass(frozen=True)
class Arithmetic:
    """The worked arithmetic of one layer's numbers, as a student would write it."""

    output: str = ""
    params: str = ""
    macs: str = ""


_REGISTRY: dict[str, type["Layer"]] = {}

#: Argument names of Keras, PyTorch (another layer's) and TensorFlow → archcalc's (PyTorch's), the first
#: one the layer has being suggested: `filters: 6` on a conv is "did you mean 'out_channels'?".
FOREIGN_ARGUMENTS: dict[str, tuple[str, ...]] = {
    "filters": ("out_channels",), "units": ("out_features", "out_channels"), "out_features": ("out_channels",),
    "out_channels": ("out_features",), "num_output": ("out_channels", "out_features"),
    "pool_size": ("kernel_size",), "kernel": ("kernel_size",), "ksize": ("kernel_size",),
    "strides": ("stride",), "dilation_rate": ("dilation",), "use_bias": ("bias",), "group": ("groups",),
    "groups": ("num_groups",), "rate": ("p",), "drop_rate": ("p",), "dropout": ("p",),
    "epsilon": ("eps",), "alpha": ("negative_slope",),
}
#: Arguments the frameworks need and archcalc infers from the input's shape.
INFERRED_ARGUMENTS = ("in_channels", "in_features", "num_features", "normalized_shape", "input_shape", "input_dim")


def register(cls: type["Layer"]) -> type["Layer"]:
    """Class decorator: make `cls` available under its `type_name` and `aliases` (and, where no other
    type claims them, the frameworks' names of it: `foreign_names`)."""
    if not isinstance(getattr(cls, "family", None), Family):
        raise RuntimeError(f"layer type {cls.type_name!r} declares no family")
    taken = {folded(name) for name in _REGISTRY}
    for key in dict.fromkeys((cls.type_name, *cls.aliases)):
        if key in _REGISTRY or folded(key) in taken:
            raise RuntimeError(f"layer type {key!r} registered twice")
        _REGISTRY[key] = cls
    _lookup.cache_clear()
    return cls


@cache
def _lookup() -> tuple[dict[str, type["Layer"]], dict[str, tuple[type["Layer"], ...]]]:
    """(folded name → class, folded foreign name → the several classes that claim it). A type's own
    names always win; a foreign name that several types claim is accepted for the one whose summaries
    print it (`AvgPool2d`: average pooling, although a sum pooling is one too), and for none of them
    where that is not one type (Keras's `Activation`)."""
    found = {folded(name): cls for name, cls in _REGISTRY.items()}
    claims: dict[str, list[type[Layer]]] = {}
    for cls in dict.fromkeys(_REGISTRY.values()):
        for name in cls.foreign_names():
            if folded(name) not in found and cls not in claims.setdefault(folded(name), []):
                claims[folded(name)].append(cls)
    shared = {}
    for name, classes in claims.items():
        printed = [cls for cls in classes if name in {folded(n) for n in cls.summary_names()}]
        if len(classes) == 1 or len(printed) == 1:
            found[name] = classes[0] if len(classes) == 1 else printed[0]
        else:
            shared[name] = tuple(classes)
    return found, shared


def layer_class(type_name: str) -> type["Layer"]:
    """The class registered for `type_name`, whatever its case, or of the PyTorch or Keras class of
    that name (`Conv2d`, `Dense`, `MaxPooling2D`); a SpecError with a suggestion otherwise."""
    from . import ensure_loaded

    ensure_loaded()
    if not isinstance(type_name, str):
        raise SpecError(f"unknown layer type {type_name!r}")
    if type_name in _REGISTRY:
        return _REGISTRY[type_name]
    found, shared = _lookup()
    key = folded(type_name)
    if key in found:
        return found[key]
    if key in shared:
        names = ", ".join(cls.type_name for cls in shared[key])
        raise SpecError(f"{type_name!r} names several layer types ({names}): write the one you mean")
    raise SpecError(f"unknown layer type {type_name!r}{suggestion(folded(type_name), _REGISTRY)}")


def registered_types() -> dict[str, type["Layer"]]:
    """Every registered type name (aliases included) with its class."""
    from . import ensure_loaded

    ensure_loaded()
    return dict(_REGISTRY)


def accepted_foreign_names(cls: type["Layer"]) -> tuple[str, ...]:
    """The frameworks' names of `cls` that `type:` reads as it (those no other type claims)."""
    from . import ensure_loaded

    ensure_loaded()
    found, _ = _lookup()
    return tuple(name for name in cls.foreign_names() if found.get(folded(name)) is cls)


@cache
def option_words() -> frozenset[str]:
    """Every word a hyper-parameter accepts as a literal value (`same`, `valid`, `relu`, ...)."""
    words: set[str] = set()
    for cls in registered_types().values():
        for info in cls.model_fields.values():
            words.update(_literal_words(info.annotation))
    return frozenset(words)


def _literal_words(annotation: Any) -> set[str]:
    if get_origin(annotation) is Literal:
        return {a for a in get_args(annotation) if isinstance(a, str)}
    return set().union(*(_literal_words(a) for a in get_args(annotation))) if get_args(annotation) else set()


class Layer(Record):
    """Base of every layer type. Subclasses declare hyper-parameters as annotated fields."""

    type_name: ClassVar[str] = ""
    aliases: ClassVar[tuple[str, ...]] = ()
    #: What it computes, as the count profiles tell layers apart (`archcalc.layers.family`); every type declares one.
    family: ClassVar[Family]
    inputs_allowed: ClassVar[tuple[int, int | None]] = (1, 1)
    #: False for upsampling layers: from there on an output pixel no longer has a receptive field
    #: of whole input pixels, so none is reported (rather than a wrong one).
    receptive_field_defined: ClassVar[bool] = True
    #: True where a second input (`like:` in a file) gives only the output's size: its values are not read,
    #: so the receptive field follows the first input alone.
    sized_by_second_input: ClassVar[bool] = False
    #: True where the layer reads its input step by step (recurrent layers, `timedistributed`): a Keras
    #: model holding one reads its input as a (T, F) sequence or (T, C, H, W) frames.
    over_time: ClassVar[bool] = False
    #: How PyTorch, ONNX and Keras write the type (`archcalc.layers.foreign`): the names `type:` also
    #: accepts, the summaries print and the importers read, and the hyper-parameters they hold.
    torch_form: ClassVar[TorchForm] = TorchForm()
    onnx_form: ClassVar[OnnxForm] = OnnxForm()
    keras_form: ClassVar[KerasForm] = KerasForm()
    #: Names of the type in frameworks archcalc does not import (TensorFlow's `fully_connected`, Caffe's
    #: `InnerProduct`), which `type:` accepts as well.
    foreign_aliases: ClassVar[tuple[str, ...]] = ()
    #: The names the lecture's LeNet table (`conv2d`, `fc`) and GoogLeNet's paper table
    #: (`convolution`, `max pool`) give the type; empty: the type name.
    lecture_name: ClassVar[str] = ""
    paper_name: ClassVar[str] = ""
    #: Whether it acts on each position's channels alike (an activation, a layer normalisation, a linear
    #: layer at every position), so that a framework may run it on a channels-last map: importers then
    #: keep that layout rather than writing the permute that would make the map archcalc's (C, H, W).
    positionwise: ClassVar[bool] = False
    #: Whether it is the identity at inference (dropout): a framework's inference graph may hold nothing of it.
    identity_at_inference: ClassVar[bool] = False
    #: Whether a convolution, linear layer or batchnorm may name it as its fused `activation` (Keras style).
    fusable: ClassVar[bool] = False

    @classmethod
    def unknown_key_hint(cls, key: str) -> str:
        """`filters` on a conv: "did you mean 'out_channels'?"; `in_channels`: archcalc infers it."""
        if key in INFERRED_ARGUMENTS:
            return " (archcalc infers it from the input's shape: leave it out)"
        ours = next((name for name in FOREIGN_ARGUMENTS.get(key, ()) if name in cls.model_fields), None)
        return f" (did you mean {ours!r}? archcalc uses PyTorch's argument names)" if ours else ""

    @classmethod
    def summary_names(cls) -> tuple[str, ...]:
        """The class names summaries print for this type: torchinfo's, Keras 3's and Keras 1's."""
        names = (cls.torch_form.name, cls.keras_form.name, cls.keras_form.keras1_name)
        return tuple(dict.fromkeys(n for n in names if n))

    @classmethod
    def foreign_names(cls) -> tuple[str, ...]:
        """The PyTorch module and Keras class names of this type, the names summaries print for it, and
        its `foreign_aliases`: every one a file may write as its `type:`."""
        names = (*cls.torch_form.modules, *cls.keras_form.classes, *cls.summary_names(), *cls.foreign_aliases)
        return tuple(dict.fromkeys(n for n in names if n))

    # --- foreign forms: what an importer reads as this type -----------------------------------
    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any] | None:
        """The hyper-parameters of the PyTorch `call` (of a module, function or method `torch_form` names)
        read as this type; None where the value passes through unchanged; `foreign.Mismatch` why not.
        By default a module's attributes, or a function's arguments, named in `torch_form.arguments`."""
        return torch_arguments(cls, call)

    @classmethod
    def from_onnx(cls, node: OnnxNode) -> dict[str, Any] | None:
        """The hyper-parameters of the ONNX `node` (of an op `onnx_form` names) read as this type; None where
        the value passes through unchanged; `foreign.Mismatch` why not. By default the node attributes
        `onnx_form.attributes` names (a float as the float32 decimal it was written as)."""
        return read(node.attributes, cls.onnx_form.attributes, cls.model_fields, onnx_value)

    @classmethod
    def from_keras(cls, layer: KerasLayer) -> dict[str, Any] | None:
        """The hyper-parameters of the Keras `layer` (of a class `keras_form` names) read as this type;
        `foreign.Mismatch` why not. By default the config keys `keras_form.config` names."""
        return read(layer.config, cls.keras_form.config, cls.model_fields)

    # --- shape -----------------------------------------------------------------------------
    def output_shape(self, inputs: list[Shape]) -> Shape:
        """The output shape (per sample) for these input shapes; ShapeError if impossible."""
        return inputs[0]

    def check_arity(self, inputs: list[Shape]) -> None:
        low, high = self.inputs_allowed
        if len(inputs) < low or (high is not None and len(inputs) > high):
            want = f"{low}" if low == high else f"at least {low}" if high is None else f"{low}-{high}"
            raise ShapeError(f"{self.type_name} takes {want} input(s), got {len(inputs)}")

    # --- counts ----------------------------------------------------------------------------
    def parameters(self, inputs: list[Shape]) -> list[Param]:
        """The parameter tensors this layer owns."""
        return []

    def macs(self, inputs: list[Shape], output: Shape) -> int:
        """Multiply-accumulates for one sample (conv and linear; 0 elsewhere)."""
        return 0

    def filter_bank(self, inputs: list[Shape]) -> tuple[int, int, int, int, int] | None:
        """(K filters, depth D each, k_h, k_w, groups) of a layer that slides K filters of D×k_h×k_w
        over its input (a convolution); None otherwise. Grading names slips such as a missing D."""
        return None

    def grouping_label(self, inputs: list[Shape]) -> str:
        """How drawings and tables mark a grouped convolution, as Netron does (`dw`, `g=32`); '' for the rest."""
        return ""

    @property
    def allocates(self) -> bool:
        """Whether the output is a new tensor (False for views and in-place operations)."""
        return True

    @property
    def fused_activation(self) -> "Layer | None":
        """The activation layer fused into this one (Keras style `activation: relu`), or None."""
        return None

    @property
    def inner_layer(self) -> "Layer | None":
        """The layer a wrapper applies to each frame (`timedistributed`), which counting tools see; None otherwise."""
        return None

    @property
    def has_bias(self) -> bool:
        """Whether a weighted layer adds a learned bias (its `bias` argument); False for the rest."""
        return False

    @property
    def has_affine(self) -> bool:
        """Whether a normalisation that may do without them scales and shifts by learned γ and β (its
        `affine` argument); True for every other layer."""
        return True

    @property
    def tracks_running_stats(self) -> bool:
        """Whether a normalisation keeps running statistics, used at inference (False: it normalises
        by each batch's own); True for every other layer."""
        return True

    # --- receptive field -------------------------------------------------------------------
    def geometry(self, shape: Shape) -> Geometry | None:
        """How a layer with a kernel (a convolution, a pooling) lies over the (C, H, W) input `shape`
        ((C, L) or (C, T, H, W) for one over one or three axes); None for a layer without one."""
        return None

    def windows(self, inputs: list[Shape]) -> tuple[AxisWindow, ...] | None:
        """The (height, width) windows this layer slides (one per spatial axis); None for a pointwise layer."""
        return None

    def tiling_remainders(self, inputs: list[Shape]) -> Shape:
        """Input rows and columns (positions per spatial axis) left over by the last window (0, 0 when it
        tiles exactly)."""
        return (0, 0)

    # --- execution -------------------------------------------------------------------------
    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        """The output for N×… `inputs` (arrays of the array module `xp`, NumPy or CuPy) and
        this layer's parameter arrays keyed by `Param.name`."""
        raise ExecutionError(f"layer type {self.type_name!r} has no forward function")

    # --- the fast path (`archcalc.executor.plan.Plan`) ------------------------------------------
    def absorbs(self, follower: "Layer") -> bool:
        """Whether `follower`, this layer's only reader, can be merged into this layer's parameters
        for inference (by `fold`)."""
        return False

    def fold(self, params: dict[str, Any], follower: "Layer", follower_params: dict[str, Any]) -> dict[str, Any]:
        """This layer's float64 parameter arrays with `follower`, which it `absorbs`, merged in."""
        raise ExecutionError(f"layer type {self.type_name!r} absorbs no layer")

    def forward_absorbed(self, xp: Any, x: Any) -> Any:
        """What is left to do of this layer once the layer before it absorbed it (`x` is nobody else's)."""
        return x

    def prepare(self, params: dict[str, Any], xp: Any, dtype: str) -> dict[str, Any]:
        """The parameter arrays as `forward_prepared` takes them: C-ordered arrays of `xp` in `dtype`."""
        return {name: xp.ascontiguousarray(xp.asarray(a, dtype=dtype)) for name, a in params.items()}

    def forward_prepared(self, xp: Any, inputs: list[Any], params: dict[str, Any], writable: Any) -> Any:
        """`forward` with the arrays `prepare` made; `writable(k)` tells whether input k may be overwritten
        (nobody reads it later), so that the output can take its memory."""
        return self.forward(xp, inputs, params)

    def torch_module(self, inputs: list[Shape]) -> Any:
        """The equivalent `torch.nn.Module` for these per-sample input shapes (torch imported lazily), or a
        `layers.torch_modules.TorchLayer` where the call is more than `module(x)`; its parameters carry the
        names `parameters` gives. By default PyTorch's `nn.<first of torch_form.modules>` given the
        hyper-parameters `torch_form.arguments` names (never `inplace`: other branches may read the
        input); a type PyTorch lacks or pads differently overrides it."""
        from torch import nn

        modules = self.torch_form.modules
        module = getattr(nn, modules[0], None) if modules else None
        if module is None:
            raise ExecutionError(f"layer type {self.type_name!r} has no PyTorch equivalent")
        return module(**{name: getattr(self, name) for name in self.torch_form.arguments
                         if name in type(self).model_fields and name != "inplace"})

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        """Add this layer's ONNX nodes to `graph` (a `layers.onnx_nodes.OnnxGraph`; onnx imported lazily):
        they read the tensors `record.inputs` and end in the tensor `record.name` (`record` is the layer's
        `LayerRecord`); an ExportError where these hyper-parameters have no ONNX form. A type that does
        not override it has none (`onnx_expressible`), and the exporter refuses it before writing a node."""
        raise ExportError(f"layer type {self.type_name!r} has no ONNX form")

    @property
    def onnx_expressible(self) -> bool:
        """Whether the type has an ONNX form: its class overrides `onnx_nodes`."""
        return type(self).onnx_nodes is not Layer.onnx_nodes

    # --- explanation -----------------------------------------------------------------------
    def arithmetic(self, inputs: list[Shape], output: Shape) -> Arithmetic:
        """The arithmetic behind this layer's numbers; subclasses with params override."""
        return Arithmetic(params="0", macs="0")

    def describe(self) -> str:
        """Short hyper-parameter description for tables, e.g. `5×5/1`."""
        return ""

    def paper_label(self) -> str:
        """The layer's row label in a paper's table (`max pool`, `dropout (40%)`)."""
        return self.paper_name or self.type_name


# --- helpers shared by the layer families ---------------------------------------------------

_ABSENT = object()


def torch_arguments(cls: type[Layer], call: TorchCall) -> dict[str, Any]:
    """What `Layer.from_torch` reads by default: the hyper-parameters `cls.torch_form.arguments` names, from
    the module's attributes or the function's arguments."""
    names = cls.torch_form.arguments
    if call.module is not None:
        return read(call.module, names, cls.model_fields)
    given = {name: call.argument(names, name, _ABSENT) for name in names}
    return read({k: v for k, v in given.items() if v is not _ABSENT}, names, cls.model_fields)


def onnx_value(value: Any) -> Any:
    """An ONNX attribute as a file writes it: a float as the float32 decimal it was written as."""
    from .foreign import float32

    return float32(value) if isinstance(value, float) else plain(value)



#: How a message writes a per-sample shape of 1, 2 or 3 spatial axes.
SPATIAL_FORMS = {1: "(C, L)", 2: "(C, H, W)", 3: "(C, T, H, W)"}


def spatial(shape: Shape, who: str, axes: int = 2) -> Shape:
    """(C, H, W) of a spatial input ((C, L) or (C, T, H, W) for `axes` 1 or 3), or a ShapeError naming
    the layer type."""
    if len(shape) != axes + 1:
        raise ShapeError(f"{who} needs a {SPATIAL_FORMS[axes]} input, got {format_shape(shape)}")
    return shape


def format_shape(shape: Shape) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ")"


def numel(shape: Shape) -> int:
    return prod(shape)
