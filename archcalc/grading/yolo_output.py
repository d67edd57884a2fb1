"""The `yolo-output` exercise: the head of a YOLO v1 detector (Redmon et al. 2016, Section 2 and Fig. 3)
drawn from a seed — the last D × S × S map, flattened, a fully connected layer of F units, a linear fully
connected layer to S × S × (B·5 + C) values and their reshape to the grid — and what a student works
out: how many values the output holds, the grid's shape, and the parameters of the two fully connected
layers. Every answer is archcalc's analysis."""

from __future__ import annotations

import random
from typing import Any

from ..analysis import Report
from ..units import exact
from .conventions import Conventions
from .expected import expected_cell
from .question import Question

GRIDS, BOXES, CLASSES, DEPTHS, UNITS = (5, 7, 9, 13), (1, 2, 3), (10, 20, 80), (256, 512, 1024), (1024, 2048, 4096)
VALUES = "values"


def network(grid: int, boxes: int, classes: int, depth: int, units: int) -> tuple[dict[str, Any], tuple]:
    """The head on a `depth` × `grid` × `grid` map: `units` hidden units, `boxes` boxes per cell of `classes`
    classes; the mapping and its description."""
    per_cell = boxes * 5 + classes
    layers = [{"name": "flatten", "type": "flatten"},
              {"name": "fc1", "type": "linear", "out_features": units},
              {"name": "leaky", "type": "leakyrelu", "negative_slope": 0.1},
              {"name": "fc2", "type": "linear", "out_features": grid * grid * per_cell},
              {"name": "grid", "type": "reshape", "shape": [per_cell, grid, grid]}]
    described = (  # one item a line, without commas (a CSV sheet writes them as comment lines)
        f"the last convolutional map: {depth}×{grid}×{grid} (C×H×W) · the grid S = {grid}",
        "flatten", f"fc1: fully connected · {units} units · leaky ReLU (slope 0.1)",
        f"fc2: fully connected · linear · per cell of the S × S grid B = {boxes} boxes (x y w h and a confidence) "
        f"and C = {classes} class probabilities",
        "grid: fc2's values as the S × S grid of predictions: (B·5 + C) × S × S (C×H×W)")
    return {"name": "yolo-output", "input": [depth, grid, grid], "layers": layers,
            "reference": {"S": grid, "B": boxes, "C": classes}}, described


def drawn(rng: random.Random) -> tuple[dict[str, Any], tuple]:
    """A head drawn from `rng`."""
    return network(rng.choice(GRIDS), rng.choice(BOXES), rng.choice(CLASSES), rng.choice(DEPTHS), rng.choice(UNITS))


def questions(rng: random.Random, net: dict[str, Any], report: Report) -> list[Question]:
    rec = {r.name: r for r in report.layers}
    per_cell, s, _ = rec["grid"].output_shape
    boxes, classes = net["reference"]["B"], net["reference"]["C"]
    values = rec["fc2"].output_shape[0]
    q1 = Question("Q1", VALUES, "How many values does the network output: S × S × (B·5 + C)?", values,
                  f"{s} × {s} × ({boxes}·5 + {classes}) = {s} × {s} × {per_cell} = {exact(values)}", "fc2",
                  mistakes=(("left out the B boxes: S × S × (5 + C)", s * s * (5 + classes)),
                            ("counted the classes once per box (as YOLO v2 does): S × S × B·(5 + C)",
                             s * s * boxes * (5 + classes)),
                            ("gave one cell's predictions, B·5 + C", per_cell)))
    grid = expected_cell("output", rec["grid"], Conventions(), report)
    q2 = Question("Q2", "output", "Output shape of grid (C×H×W).", grid.value, grid.arithmetic, "grid")
    q3, q4 = (Question(qid, "params", f"Parameters of {name}, biases included.",
                       *_params(name, rec, report), name) for qid, name in (("Q3", "fc2"), ("Q4", "fc1")))
    return [q1, q2, q3, q4]


def _params(name: str, rec: dict, report: Report) -> tuple[int, str]:
    expected = expected_cell("params", rec[name], Conventions(), report)
    return expected.value, expected.arithmetic
