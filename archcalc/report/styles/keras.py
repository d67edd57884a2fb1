"""`keras`: Keras `model.summary()` as printed in the NTUST lecture ("VGG Parameters") —
Layer (type) | Output Shape (None, H, W, C) | Param # | Connected to, then the totals."""

from __future__ import annotations

from ...analysis import LayerRecord, Report
from ...layers import Shape
from ...units import count
from ..model import Cell, Column, Options, Table
from .common import warning_lines

# The class names of the lecture's (Keras 1) printout.
KERAS_NAMES = {
    "input": "InputLayer", "conv": "Convolution2D", "convtranspose": "Deconvolution2D",
    "maxpool": "MaxPooling2D", "avgpool": "AveragePooling2D", "flatten": "Flatten", "linear": "Dense",
    "dropout": "Dropout", "batchnorm": "BatchNormalization", "add": "Add", "concat": "Concatenate",
    "multiply": "Multiply", "zeropad": "ZeroPadding2D", "globalavgpool": "GlobalAveragePooling2D",
    "globalmaxpool": "GlobalMaxPooling2D", "relu": "Activation", "sigmoid": "Activation",
    "tanh": "Activation", "softmax": "Activation", "identity": "Lambda",
}


def keras_shape(shape: Shape) -> str:
    """(C, H, W) as Keras's channels-last `(None, H, W, C)`."""
    dims = (shape[1], shape[2], shape[0]) if len(shape) == 3 else shape
    return "(" + ", ".join(["None", *(str(d) for d in dims)]) + ")"


def build(report: Report, options: Options) -> Table:
    units = options.units or "exact"
    columns = (
        Column("layer", "Layer (type)"),
        Column("output", "Output Shape"),
        Column("params", "Param #", "right", unit="weights + biases + statistics"),
        Column("connected", "Connected to"),
    )
    rows = tuple(_row(r, units) for r in report.layers)
    t = report.totals
    footer = (
        f"Total params: {count(t.params, units)}",
        f"Trainable params: {count(t.trainable_params, units)}",
        f"Non-trainable params: {count(t.non_trainable_params, units)}",
        *warning_lines(report),
    )
    return Table(f"Model: \"{report.name}\"", columns, rows, None, footer)


def _row(record: LayerRecord, units) -> tuple[Cell, ...]:
    kind = KERAS_NAMES.get(record.type, record.type.capitalize())
    return (
        Cell(f"{record.name} ({kind})"),
        Cell(keras_shape(record.output_shape)),
        Cell(count(record.params, units), record.params),
        Cell(", ".join(f"{src}[0][0]" for src in record.inputs)),
    )
