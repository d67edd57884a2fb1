"""`archcalc export --to onnx`: the network as an ONNX model, built with the `onnx` package alone.

Opset 17. Tensors are named by layer path (the input by its own name, the batch axis `N`), each
layer's nodes by its path (`layer1/0/conv1`, helpers `layer1/0/conv1/pad`), and every layer's output
carries a value info with its shape. The initializers are exactly the weights, keyed as archcalc
keys them (`layer1/0/conv1.weight`), so `archcalc.load_weights` reads them back; constants the
graph needs besides are `Constant` nodes. Each layer class writes its own nodes (`Layer.onnx_nodes`,
with the helpers of `archcalc/layers/onnx_nodes.py`); a type without them is refused, every such type
named in one error with a layer of it.
"""

from __future__ import annotations

from typing import Any

from ..analysis import Report
from ..errors import ExportError
from ..executor import init_weights, load_weights
from ..executor.weights import expected
from ..layers.onnx_nodes import FUNCTIONS, OPSET, OnnxGraph

IR_VERSION = 8  # the IR of opset 17 (onnx 1.12), read by every runtime that knows the opset
BATCH = "N"


def onnx_model(report: Report, weights: Any = None, seed: int = 0, *, shapes_only: bool = False) -> Any:
    """The `onnx.ModelProto` of `report`'s architecture at its input size, with `weights` (anything
    `load_weights` takes) or seeded ones (`init_weights(seed)`); `shapes_only`: no values at all, each
    parameter a graph input of its shape (as `torch.onnx.export(..., export_params=False)`: for tools
    that read the structure, such as `archcalc import`)."""
    from onnx import helper

    unsupported = [(r.name, r.layer.type_name) for r in report.layers[1:] if not r.layer.onnx_expressible]
    if unsupported:
        kinds = sorted({kind for _, kind in unsupported})
        shown = ", ".join(f"{kind} ({next(path for path, k in unsupported if k == kind)})" for kind in kinds)
        raise ExportError(f"ONNX export cannot express layer type(s) {shown}", file=report.architecture.source)
    if shapes_only:
        graph = OnnxGraph(None, {key: p.shape for key, p in expected(report).items()})
    else:
        graph = OnnxGraph(load_weights(report, weights) if weights is not None else init_weights(report, seed))
    arch = report.architecture
    for record in report.layers[1:]:
        if record.shares is not None:  # its nodes read the owner's tensors (OnnxGraph.weight), named as the owner's
            record = record._replace(param_tensors=report.layer(record.shares).param_tensors)
        try:
            record.layer.onnx_nodes(graph, record)
        except ExportError as exc:
            raise exc.located(file=arch.source, layer=record.name) from None
    first = report.layers[0]
    outputs = [report.layer(path) for path in arch.output_paths]
    value_infos = [_info(r.name, r.output_shape) for r in report.layers[1:] if r.name not in arch.output_paths]
    model = helper.make_model(
        helper.make_graph(graph.nodes, arch.name, [_info(first.name, first.output_shape), *graph.parameters],
                          [_info(r.name, r.output_shape) for r in outputs], graph.initializers, value_info=value_infos,
                          doc_string=arch.title),
        opset_imports=[helper.make_opsetid("", OPSET),
                       *([helper.make_opsetid(FUNCTIONS, 1)] if graph.functions else [])],
        functions=list(graph.functions.values()), producer_name="archcalc",
        doc_string=f"{arch.title}; exported by archcalc from {arch.source}")
    model.ir_version = IR_VERSION
    return model


def _info(name: str, shape: tuple[int, ...]) -> Any:
    from onnx import TensorProto, helper

    return helper.make_tensor_value_info(name, TensorProto.FLOAT, [BATCH, *shape])
