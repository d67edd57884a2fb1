"""The lecture's worked examples, run by the executor on the slides' own numbers (`archcalc demo`).

Every input, kernel and expected output below is typed from the seed deck named with it
(shared/seeds); the executor computes the output, and `expected` is what the slide prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import ArchcalcError


@dataclass(frozen=True)
class Demo:
    """One worked example: a tiny architecture, the slide's input and weights, the slide's answer."""

    name: str
    title: str
    source: str
    architecture: dict[str, Any]
    image: list  # C×H×W
    weights: dict[str, Any] = field(default_factory=dict)
    expected: dict[str, list] = field(default_factory=dict)  # layer → C×H×W, as printed on the slide
    note: str = ""


def _conv(kernel_size: int, out_channels: int = 1, **more: Any) -> dict[str, Any]:
    return {"name": "conv", "type": "conv", "out_channels": out_channels, "kernel_size": kernel_size, **more}


def _edge(name: str, title: str, slide: str, image: list, kernel: list, output: list) -> Demo:
    return Demo(name, title, f"seed 003 ('Special topics: CNNs'), slide '{slide}'",
                {"name": name, "input": [1, 6, 6], "layers": [_conv(3, bias=False)]},
                [image], {"conv.weight": [[kernel]]}, {"conv": [output]})


VERTICAL = [[1, 0, -1]] * 3
HORIZONTAL = [[1, 1, 1], [0, 0, 0], [-1, -1, -1]]

# seed 002 ('Deep Learning & Tools'), slide 85 'Convolutional layer example': x[:, :, d] as printed,
# already padded by 1 (7×7); the demo feeds the 5×5 inside and lets the layer pad.
CS231N_X = [
    [[0, 0, 0, 0, 0, 0, 0], [0, 0, 1, 2, 2, 2, 0], [0, 2, 0, 1, 0, 2, 0], [0, 0, 0, 1, 1, 2, 0],
     [0, 1, 0, 2, 2, 0, 0], [0, 2, 1, 2, 1, 0, 0], [0, 0, 0, 0, 0, 0, 0]],
    [[0, 0, 0, 0, 0, 0, 0], [0, 0, 1, 0, 2, 2, 0], [0, 0, 1, 0, 2, 0, 0], [0, 2, 1, 1, 2, 0, 0],
     [0, 1, 0, 0, 0, 0, 0], [0, 0, 2, 1, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0]],
    [[0, 0, 0, 0, 0, 0, 0], [0, 0, 1, 2, 1, 2, 0], [0, 2, 0, 1, 0, 1, 0], [0, 1, 1, 2, 1, 0, 0],
     [0, 1, 0, 2, 1, 0, 0], [0, 2, 0, 0, 2, 2, 0], [0, 0, 0, 0, 0, 0, 0]],
]
CS231N_W0 = [[[0, 0, 1], [1, -1, -1], [1, 1, 0]], [[0, 1, -1], [0, 1, 0], [0, 0, 0]],
             [[1, 0, 1], [0, 1, 1], [-1, 1, 0]]]
CS231N_W1 = [[[-1, 1, 0], [1, 1, -1], [0, -1, -1]], [[1, 1, -1], [1, 1, 1], [0, -1, 1]],
             [[1, 1, -1], [-1, 0, 1], [-1, 1, -1]]]

DEMOS = {demo.name: demo for demo in [
    _edge("vertical-edge", "Vertical edge detection (light to dark)", "Vertical edge detection examples",
          [[10, 10, 10, 0, 0, 0]] * 6, VERTICAL, [[0, 30, 30, 0]] * 4),
    _edge("vertical-edge-mirrored", "Vertical edge detection (dark to light)", "Vertical edge detection examples",
          [[0, 0, 0, 10, 10, 10]] * 6, VERTICAL, [[0, -30, -30, 0]] * 4),
    _edge("horizontal-edge", "Horizontal edge detection", "Vertical and horizontal edge detection",
          [[10, 10, 10, 0, 0, 0]] * 3 + [[0, 0, 0, 10, 10, 10]] * 3, HORIZONTAL,
          [[0, 0, 0, 0], [30, 10, -10, -30], [30, 10, -10, -30], [0, 0, 0, 0]]),
    Demo("binary-sigmoid", "Convolution then sigmoid on a binary image",
         "seed 001 ('CS167 CNN implementation'), slide 'Nonlinear Function'",
         {"name": "binary-sigmoid", "input": [1, 5, 5],
          "layers": [_conv(3, bias=False), {"name": "sigmoid", "type": "sigmoid"}]},
         [[[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]]],
         {"conv.weight": [[[[1, 0, 1], [0, 1, 0], [1, 0, 1]]]]},
         note="the slide shows the top-left value only: convolution 4, sigmoid(4) = 0.98"),
    Demo("maxpool", "Max pooling, F=2, S=2", "seed 003 ('Special topics: CNNs'), slide 'Pooling layer: Max pooling'",
         {"name": "maxpool", "input": [1, 4, 4], "layers": [{"name": "pool", "type": "maxpool", "kernel_size": 2,
                                                            "stride": 2}]},
         [[[1, 3, 1, 2], [9, 5, 6, 5], [9, 1, 1, 2], [0, 2, 8, 2]]], expected={"pool": [[[9, 6], [9, 8]]]},
         note="the second build of the slide prints 6 for the first row's third value; the answer is the same"),
    Demo("cs231n-conv", "Two 3×3×3 filters, stride 2, padding 1 (cs231n)",
         "seed 002 ('Deep Learning & Tools'), slide 85 'Convolutional layer example'",
         {"name": "cs231n-conv", "input": [3, 5, 5], "layers": [_conv(3, 2, stride=2, padding=1)]},
         [[row[1:-1] for row in channel[1:-1]] for channel in CS231N_X],
         {"conv.weight": [CS231N_W0, CS231N_W1], "conv.bias": [1, 0]},
         note="the slide animates the 3×3×2 output without printing it; "
              "top-left of the first map: 1 + 0 + 3 + bias 1 = 5"),
]}


def demo(name: str) -> Demo:
    """The demo of that name; an ArchcalcError listing the names otherwise."""
    try:
        return DEMOS[name]
    except KeyError:
        raise ArchcalcError(f"no demo {name!r}; demos: {', '.join(DEMOS)}") from None


def run_demo(item: Demo, backend: str = "numpy") -> dict[str, Any]:
    """Every layer's output (the batch axis removed, float64 NumPy arrays) for the slide's input."""
    import numpy as np

    from .backend import to_numpy
    from .runner import execute

    weights = {key: np.asarray(value, dtype=float) for key, value in item.weights.items()}
    _, values = execute(item.architecture, np.asarray([item.image], dtype=float), weights, backend=backend,
                        dtype="float64", return_intermediates=True)
    return {name: to_numpy(value)[0] for name, value in values.items()}
