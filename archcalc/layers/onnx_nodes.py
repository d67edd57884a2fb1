"""How a layer is written as ONNX nodes: the graph being built and the helpers several layer types share
(imported only for an ONNX export, by the layer classes' `onnx_nodes`; `onnx` itself only inside functions).

A layer's nodes read the tensors named by its inputs' paths and end in the tensor named by its own
path; a node is named by the tensor it makes, so helper nodes carry the layer's path and a suffix
(`layer1/0/conv1/pad`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

Pads = tuple[tuple[int, int], tuple[int, int]]

#: The domain of the ONNX functions archcalc writes for the layer types no standard operator is (attention,
#: a detection head's decoding): each a model-local function of standard nodes, which runtimes inline.
FUNCTIONS = "archcalc"
#: The ONNX opset archcalc writes (and its functions import).
OPSET = 17


class OnnxGraph:
    """The nodes and initializers made so far, the initializers drawn from `arrays` (the weights keyed
    `<layer path>.<parameter>`); without arrays, each weight is a graph input of its shape alone
    (`parameters`, from `shapes`), as PyTorch exports with `export_params=False`."""

    def __init__(self, arrays: dict[str, np.ndarray] | None, shapes: dict[str, tuple[int, ...]] | None = None):
        self.arrays, self.shapes = arrays, shapes or {}
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.parameters: list[Any] = []
        self.added: set[str] = set()
        self.functions: dict[str, Any] = {}

    def node(self, op: str, inputs: list[str], output: str, **attributes: Any) -> str:
        from onnx import helper

        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attributes))
        return output

    def call(self, function: Callable[[], Any], name: str, inputs: list[str], output: str, **attributes: Any) -> str:
        """A node calling the model-local function `name` (built once by `function()`, a FunctionProto)."""
        from onnx import helper

        if name not in self.functions:
            self.functions[name] = function()
        self.nodes.append(helper.make_node(name, inputs, [output], name=output, domain=FUNCTIONS, **attributes))
        return output

    def weight(self, record: Any, name: str) -> str:
        """The tensor of the weight `name` of `record`'s layer (of the layer it `shares:`, where it does)."""
        from onnx import TensorProto, helper, numpy_helper

        key = f"{getattr(record, 'shares', None) or record.name}.{name}"
        if key in self.added:                   # a weight shared by several nodes (a layer on each frame)
            return key
        self.added.add(key)
        if self.arrays is None:
            self.parameters.append(helper.make_tensor_value_info(key, TensorProto.FLOAT, list(self.shapes[key])))
        else:
            self.initializers.append(numpy_helper.from_array(np.asarray(self.arrays[key], dtype=np.float32), key))
        return key

    def outputs(self, op: str, inputs: list[str], outputs: list[str], name: str, **attributes: Any) -> list[str]:
        """A node of several outputs (a recurrent op's Y and Y_h), named `name`."""
        from onnx import helper

        self.nodes.append(helper.make_node(op, inputs, outputs, name=name, **attributes))
        return outputs

    def for_record(self, owner: Any) -> Any:
        """This graph as a layer run on each frame writes into it: its weights are always `owner`'s (one
        tensor that every frame's nodes read), whatever record it is handed."""
        graph = self

        class Shared:
            def weight(self, record: Any, name: str) -> str:
                return graph.weight(owner, name)

            def __getattr__(self, attr: str) -> Any:
                return getattr(graph, attr)

        return Shared()

    def constant(self, name: str, value: Any, dtype: str = "float32") -> str:
        """A `Constant` node of `value` in `dtype` (`int64` for shapes and indices)."""
        from onnx import helper, numpy_helper

        tensor = numpy_helper.from_array(np.asarray(value, dtype=dtype), name)
        self.nodes.append(helper.make_node("Constant", [], [name], name=name, value=tensor))
        return name


def onnx_pads(pads: Pads) -> list[int]:
    """((top, bottom), (left, right)) as ONNX's [top, left, bottom, right]: every axis's start, then its end."""
    return [before for before, _ in pads] + [after for _, after in pads]


def weighted(graph: OnnxGraph, record: Any) -> list[str]:
    """The inputs of a weighted operator (Conv, Gemm): the layer's input, its weight and its bias if it has one."""
    inputs = [record.inputs[0], graph.weight(record, "weight")]
    return inputs + [graph.weight(record, "bias")] if record.layer.bias else inputs


def activated(graph: OnnxGraph, record: Any, op: str, inputs: list[str], **attributes: Any) -> None:
    """`op`, then the layer's fused activation (if any): the layer's output is the last node's."""
    activation = record.layer.fused_activation
    if activation is None:
        graph.node(op, inputs, record.name, **attributes)
        return
    inner = graph.node(op, inputs, f"{record.name}/{op.lower()}", **attributes)
    activation.onnx_apply(graph, inner, record.name)


def per_channel(graph: OnnxGraph, record: Any, tensor: str, what: str) -> str:
    """A (C,) tensor shaped to broadcast along the channels of the layer's input ((C, 1, 1) on a map)."""
    if len(record.input_shapes[0]) != 3:
        return tensor
    shape = graph.constant(f"{record.name}/{what}_shape", [-1, 1, 1], "int64")
    return graph.node("Reshape", [tensor, shape], f"{record.name}/{what}_per_channel")


def channels_last(graph: OnnxGraph, record: Any, inner: Callable[[str, str], str]) -> None:
    """`inner(x, out)` on the input with its channels last (N×H×W×C), then the channels put back; on a
    flat input, `inner` alone."""
    if len(record.input_shapes[0]) != 3:
        inner(record.inputs[0], record.name)
        return
    last = graph.node("Transpose", [record.inputs[0]], f"{record.name}/channels_last", perm=[0, 2, 3, 1])
    done = inner(last, f"{record.name}/inner")
    graph.node("Transpose", [done], record.name, perm=[0, 3, 1, 2])


def function(name: str, inputs: list[str], outputs: list[str], nodes: list[tuple], attributes: list[str]) -> Any:
    """The FunctionProto `name` of the `nodes` (op, inputs, output or outputs, attributes); an attribute
    given as `ref(kind, name)` takes the value of the call's attribute `name`."""
    from onnx import AttributeProto, helper

    kinds = {"ints": AttributeProto.INTS, "floats": AttributeProto.FLOATS, "float": AttributeProto.FLOAT,
             "int": AttributeProto.INT, "string": AttributeProto.STRING}
    made = []
    for op, node_inputs, output, node_attributes in nodes:
        refs = {k: v for k, v in node_attributes.items() if isinstance(v, tuple) and v[:1] == ("@",)}
        node = helper.make_node(op, node_inputs, [output] if isinstance(output, str) else output,
                                **{k: v for k, v in node_attributes.items() if k not in refs})
        for key, (_, kind, source) in refs.items():
            node.attribute.append(helper.make_attribute_ref(key, kinds[kind], ref_attr_name=source))
        made.append(node)
    return helper.make_function(FUNCTIONS, name, inputs, outputs, made, [helper.make_opsetid("", OPSET)],
                                attributes=attributes)


def ref(kind: str, attribute: str) -> tuple[str, str, str]:
    """A function body's reference to its call's `attribute` (of `kind`: "ints", "floats", "float", "int", "string")."""
    return ("@", kind, attribute)


def standardized_conv_function(name: str, scaled: bool, bias: bool) -> Any:
    """The function `name` of a convolution whose weights w are standardised per filter, (w − mean)/√(var + ε)
    over each filter's weights (the variance biased); `scaled`: times gain · `scale` (γ/√fan-in)."""
    window = {key: ref(kind, key) for key, kind in (("kernel_shape", "ints"), ("strides", "ints"), ("pads", "ints"),
                                                    ("dilations", "ints"), ("group", "int"))}
    steps = [("Shape", ["w"], "shape", {}), ("Constant", [], "rows", {"value_ints": [0, -1]}),
             ("Reshape", ["w", "rows"], "flat", {}), ("ReduceMean", ["flat"], "mean", {"axes": [1], "keepdims": 1}),
             ("Sub", ["flat", "mean"], "centred", {}), ("Mul", ["centred", "centred"], "squared", {}),
             ("ReduceMean", ["squared"], "variance", {"axes": [1], "keepdims": 1}),
             ("Constant", [], "eps", {"value_float": ref("float", "epsilon")}),
             ("Add", ["variance", "eps"], "padded", {}),
             ("Sqrt", ["padded"], "deviation", {}), ("Div", ["centred", "deviation"], "standard", {})]
    if scaled:
        steps += [("Constant", [], "scale", {"value_float": ref("float", "scale")}),
                  ("Reshape", ["gain", "rows"], "gains", {}), ("Mul", ["gains", "scale"], "scales", {}),
                  ("Mul", ["standard", "scales"], "scaled", {})]
    steps += [("Reshape", ["scaled" if scaled else "standard", "shape"], "weight", {}),
              ("Conv", ["x", "weight", *(["b"] if bias else [])], "y", window)]
    inputs = ["x", "w", *(["gain"] if scaled else []), *(["b"] if bias else [])]
    return function(name, inputs, ["y"], steps,
                    [*window, "epsilon", *(["gamma", "scale"] if scaled else [])])
