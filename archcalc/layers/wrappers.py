"""`timedistributed`: one layer applied to every frame of a sequence (Keras `TimeDistributed`; in PyTorch the
frames folded into the batch, `layer(x.flatten(0, 1)).unflatten(0, (-1, T))`).

The input is (T, *frame): T frames of any shape the inner layer reads ((C, H, W) images, (F,) vectors).
The inner layer is written as a layer entry under `layer:` (`{type: conv, out_channels: 32,
kernel_size: 3}`); its weights are shared by every frame, so its parameters count once and its MACs T
times. Counting tools see the inner layer at a batch T times larger, so each count profile counts the
inner layer on one frame, × T (`archcalc.profiles.base.Profile.count`).
"""

from __future__ import annotations

from functools import cached_property
from types import SimpleNamespace
from typing import Any

from pydantic import Field

from ..errors import ExportError, ShapeError, SpecError
from ..records import FieldError
from .base import Arithmetic, Layer, Param, Shape, format_shape, layer_class, register, registered_types
from .family import Family
from .foreign import KerasForm, KerasLayer, Mismatch, Site, TorchCall


def _inner(entry: dict[str, Any]) -> Layer:
    """The layer an entry `{type: ..., hyper-parameters}` describes; FieldError naming the key otherwise."""
    rest = dict(entry)
    kind = rest.pop("type", None)
    if not isinstance(kind, str):
        raise FieldError("type", "missing key" if kind is None else "should be a layer type", *(() if kind is None
                                                                                                else (kind,)))
    cls = layer_class(kind)
    if cls.type_name in ("input", TimeDistributed.type_name) or cls.inputs_allowed[0] != 1:   # one input suffices
        raise FieldError("type", f"{cls.type_name} cannot be applied to each frame")
    return cls.from_mapping(rest)


def _foreign(table: str, name: str) -> list[type[Layer]]:
    """The registered classes whose `table` form (`torch_modules`, `keras_classes`) names `name`."""
    forms = {"torch": lambda cls: cls.torch_form.modules, "keras": lambda cls: cls.keras_form.classes}[table]
    return [cls for cls in dict.fromkeys(registered_types().values()) if name in forms(cls)]


def read_inner(table: str, name: str, read) -> dict[str, Any]:
    """The inner layer's entry: the first class declaring `name` whose reader `read(cls)` takes it."""
    reasons = []
    for cls in _foreign(table, name):
        try:
            found = read(cls)
        except Mismatch as exc:
            reasons.append(str(exc))
            continue
        return {"type": cls.type_name, **(found or {})}
    raise Mismatch(f"TimeDistributed of {name}: " + (reasons[0] if reasons else "no archcalc layer type"))


@register
class TimeDistributed(Layer):
    """A layer applied to each frame of a (T, *frame) sequence: parameters once, MACs × T."""

    type_name = "timedistributed"
    over_time = True
    family = Family.DATA      # what it computes is its inner layer's: the count profiles ask `inner_layer`
    keras_form = KerasForm(classes=("TimeDistributed",))

    layer: dict[str, Any] = Field(description="the layer applied to each frame, as a layer entry: "
                                  "{type: conv, out_channels: 32, kernel_size: 3}")

    @cached_property
    def inner(self) -> Layer:
        """The layer applied to each frame; a SpecError naming the key that does not fit."""
        try:
            return _inner(self.layer)
        except FieldError as exc:
            raise SpecError(f"layer: {exc}") from None

    @property
    def inner_layer(self) -> Layer:
        return self.inner

    @property
    def has_bias(self) -> bool:
        return self.inner.has_bias

    def frame(self, inputs: list[Shape]) -> tuple[int, Shape]:
        """(T, the shape of one frame), or a ShapeError."""
        if len(inputs[0]) < 2:
            raise ShapeError(f"timedistributed needs a (T, *frame) sequence, got {format_shape(inputs[0])}")
        return inputs[0][0], tuple(inputs[0][1:])

    def output_shape(self, inputs: list[Shape]) -> Shape:
        steps, frame = self.frame(inputs)
        return (steps, *self.inner.output_shape([frame]))

    def parameters(self, inputs: list[Shape]) -> list[Param]:
        return self.inner.parameters([self.frame(inputs)[1]])

    def macs(self, inputs: list[Shape], output: Shape) -> int:
        steps, frame = self.frame(inputs)
        return steps * self.inner.macs([frame], output[1:])

    def arithmetic(self, inputs: list[Shape], output: Shape) -> Arithmetic:
        steps, frame = self.frame(inputs)
        inner = self.inner.arithmetic([frame], output[1:])
        return Arithmetic(output=f"{steps} × ({inner.output})", params=f"{inner.params} (shared by the {steps} frames)",
                          macs=f"{steps} frames × ({inner.macs}) = {self.macs(inputs, output):,}")

    def describe(self) -> str:
        inner = self.inner.describe()
        return f"{self.inner.type_name} {inner}".strip() + " per frame"

    def geometry(self, shape: Shape) -> Any:
        """How the inner layer's kernel lies over one frame (the tables' kernel and padding columns)."""
        return self.inner.geometry(shape[1:]) if len(shape) >= 2 else None

    def filter_bank(self, inputs: list[Shape]) -> Any:
        return self.inner.filter_bank([self.frame(inputs)[1]])

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        x = inputs[0]
        n, steps = x.shape[:2]
        out = self.inner.forward(xp, [x.reshape(n * steps, *x.shape[2:])], params)
        return out.reshape(n, steps, *out.shape[1:])

    # --- PyTorch: the frames folded into the batch ---------------------------------------------
    def torch_module(self, inputs: list[Shape]) -> Any:
        from .torch_code import Const, Group
        from .torch_modules import PLAIN, M, TorchLayer, X

        steps, frame = self.frame(inputs)
        inner = self.inner.torch_module([frame])
        if isinstance(inner, TorchLayer):
            if inner.call != PLAIN or inner.extras or inner.setup:
                raise ExportError(f"timedistributed of this {self.inner.type_name} has no PyTorch form: write its "
                                  "activation or padding as a timedistributed layer of its own")
            inner = inner.module
        folded = M(X.method("flatten", 0, 1))
        return TorchLayer(inner, Group(folded).method("unflatten", 0, Const((-1, steps))))

    @classmethod
    def from_torch(cls, call: TorchCall) -> dict[str, Any]:
        raise Mismatch("the frames folded into the batch are read by the importer")

    @classmethod
    def frame_layer(cls, module_class: str, module: Any, frame: Shape) -> dict[str, Any]:
        """The inner layer of a PyTorch module run on the frames folded into the batch (for the importer)."""
        return read_inner("torch", module_class, lambda inner: inner.from_torch(
            TorchCall(module_class, module, (None,), {}, Site(frame))))

    # --- Keras ---------------------------------------------------------------------------------
    @classmethod
    def from_keras(cls, layer: KerasLayer) -> dict[str, Any]:
        """`TimeDistributed(inner)`: the inner layer on one frame (channels last, as Keras holds it)."""
        inner = layer.config.get("layer")
        if not isinstance(inner, dict) or not isinstance(inner.get("class_name"), str):
            raise Mismatch("TimeDistributed without its layer")
        shape = layer.site.shape
        frame = Site(tuple(shape[1:]) if shape else None, channels_last=True)
        config = inner.get("config") or {}
        entry = read_inner("keras", inner["class_name"],
                           lambda found: found.from_keras(KerasLayer(inner["class_name"], config, frame)))
        return {"layer": entry}

    # --- ONNX: the frames split, the inner layer's nodes on each, joined again -----------------
    def onnx_nodes(self, graph: Any, record: Any) -> None:
        """`Split` along the frames, each frame `Squeeze`d, the inner layer's nodes on it (its weights one
        tensor for all), `Unsqueeze`d and `Concat`enated: every tensor keeps the batch axis N."""
        steps, frame = self.frame(list(record.input_shapes))
        name, out = record.name, tuple(self.inner.output_shape([frame]))
        sizes = graph.constant(f"{name}/sizes", [1] * steps, "int64")
        axis = graph.constant(f"{name}/axis", [1], "int64")
        parts = graph.outputs("Split", [record.inputs[0], sizes], [f"{name}/part{t}" for t in range(steps)],
                              f"{name}/split", axis=1)
        shared, joined = graph.for_record(record), []
        for t, part in enumerate(parts):
            squeezed = graph.node("Squeeze", [part, axis], f"{name}/frame{t}/in")
            self.inner.onnx_nodes(shared, SimpleNamespace(name=f"{name}/frame{t}", inputs=[squeezed], layer=self.inner,
                                                          input_shapes=(frame,), output_shape=out))
            joined.append(graph.node("Unsqueeze", [f"{name}/frame{t}", axis], f"{name}/frame{t}/out"))
        graph.node("Concat", joined, name, axis=1)

    @property
    def onnx_expressible(self) -> bool:
        return self.inner.onnx_expressible
