"""Attention over the positions of a feature map: `attention` (YOLO11's PSA, Ultralytics' `Attention`)."""

from __future__ import annotations

from typing import Any

from ..arrays import kernels
from ..errors import ShapeError
from ..records import PositiveInt
from .base import Arithmetic, Layer, Shape, format_shape, register, spatial
from .family import Family
from .foreign import OnnxForm, TorchForm


@register
class MapAttention(Layer):
    """Multi-head dot-product attention between the N = H·W positions of three maps q, k, v (their
    channels split into `num_heads` equal heads): per head, A = softmax(qᵀk / √d_k) over the keys and
    the output v·Aᵀ, (C_v, H, W). Two matrix products: N·N·C_q and N·N·C_v multiply-accumulates."""

    type_name = "attention"
    family = Family.MATMUL
    inputs_allowed = (3, 3)
    receptive_field_defined = False   # every output position reads every input position
    torch_form = TorchForm(modules=("MapAttention",), arguments=("num_heads",))
    onnx_form = OnnxForm(ops=("MapAttention",), attributes=("num_heads",))   # a function archcalc writes

    num_heads: PositiveInt = 1

    def output_shape(self, inputs: list[Shape]) -> Shape:
        q, k, v = (spatial(shape, "attention") for shape in inputs)
        if q != k or q[1:] != v[1:]:
            raise ShapeError(f"attention needs q and k of one shape and v of their size, got "
                             f"{', '.join(format_shape(s) for s in inputs)}")
        if q[0] % self.num_heads or v[0] % self.num_heads:
            raise ShapeError(f"attention's {self.num_heads} heads must divide the channels of q ({q[0]}) "
                             f"and v ({v[0]})")
        return tuple(v)

    def macs(self, inputs: list[Shape], output: Shape) -> int:
        positions = inputs[0][1] * inputs[0][2]
        return positions * positions * (inputs[0][0] + inputs[2][0])

    def arithmetic(self, inputs: list[Shape], output: Shape) -> Arithmetic:
        n = inputs[0][1] * inputs[0][2]
        cq, cv = inputs[0][0], inputs[2][0]
        return Arithmetic(output=format_shape(output), params="0",
                          macs=f"qᵀk {n} × {n} × {cq} + v·Aᵀ {n} × {n} × {cv} = {self.macs(inputs, output):,}")

    def describe(self) -> str:
        return f"{self.num_heads} heads"

    def forward(self, xp: Any, inputs: list[Any], params: dict[str, Any]) -> Any:
        q, k, v = inputs
        n, h = q.shape[0], self.num_heads
        positions = q.shape[2] * q.shape[3]
        q, k, v = (x.reshape(n, h, x.shape[1] // h, positions) for x in (q, k, v))
        scores = kernels.softmax(xp, xp.matmul(q.transpose(0, 1, 3, 2), k) * (q.shape[2] ** -0.5), axis=-1)
        return xp.matmul(v, scores.transpose(0, 1, 3, 2)).reshape(inputs[2].shape)

    def torch_module(self, inputs: list[Shape]) -> Any:
        from .torch_code import Input
        from .torch_modules import M, MapAttention, TorchLayer

        return TorchLayer(MapAttention(self.num_heads), M(Input(0), Input(1), Input(2)))

    def onnx_nodes(self, graph: Any, record: Any) -> None:
        """A call of the function `MapAttention` (Reshape, Transpose, MatMul, Mul, Softmax, MatMul, Reshape)."""
        q, _, v = record.input_shapes
        h, n = self.num_heads, q[1] * q[2]
        graph.call(_onnx_function, "MapAttention", list(record.inputs), record.name, num_heads=h,
                   q_shape=[0, h, q[0] // h, n], v_shape=[0, h, v[0] // h, n], out_shape=[0, *v],
                   scale=float((q[0] // h) ** -0.5))


def _onnx_function() -> Any:
    from .onnx_nodes import function, ref

    swap = {"perm": [0, 1, 3, 2]}
    return function("MapAttention", ["q", "k", "v"], ["y"], [
        ("Constant", [], "qk_shape", {"value_ints": ref("ints", "q_shape")}),
        ("Constant", [], "v_shape", {"value_ints": ref("ints", "v_shape")}),
        ("Constant", [], "out_shape", {"value_ints": ref("ints", "out_shape")}),
        ("Constant", [], "scale", {"value_float": ref("float", "scale")}),
        ("Reshape", ["q", "qk_shape"], "q4", {}), ("Reshape", ["k", "qk_shape"], "k4", {}),
        ("Reshape", ["v", "v_shape"], "v4", {}),
        ("Transpose", ["q4"], "qt", swap), ("MatMul", ["qt", "k4"], "scores", {}),
        ("Mul", ["scores", "scale"], "scaled", {}), ("Softmax", ["scaled"], "weights", {"axis": -1}),
        ("Transpose", ["weights"], "wt", swap), ("MatMul", ["v4", "wt"], "heads", {}),
        ("Reshape", ["heads", "out_shape"], "y", {}),
    ], ["num_heads", "q_shape", "v_shape", "out_shape", "scale"])
