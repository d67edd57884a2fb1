"""The `unet-like` exercise: a small U-Net (Ronneberger et al. 2015) drawn from a seed — unpadded 3×3
convolutions, 2×2 max pooling, 2×2 up-convolutions halving the channels, copy and crop, a 1×1 convolution
to the classes — and the sizes a student works out on Fig. 1: the bottom's map, the map after each crop,
the rows a crop cuts, the output, the parameters of an up-convolution. Every answer is archcalc's analysis."""

from __future__ import annotations

import random
from typing import Any

from ..analysis import Report
from ..units import exact
from .conventions import Conventions
from .expected import expected_cell
from .question import Question

LEVELS, BOTTOMS, WIDTHS, CLASSES = (2, 3), range(4, 13), (8, 16, 32, 64), (2, 3, 4)
CUT = "cut"


def tile(levels: int, bottom: int) -> int:
    """The input size whose maps pool evenly and end at `bottom` × `bottom` after the bottom's two
    convolutions (572 for U-Net's 4 levels and 28)."""
    size = bottom
    for _ in range(levels):
        size = 2 * (size + 4)
    return size + 4


def network(levels: int, bottom: int, width: int, in_channels: int, classes: int) -> tuple[dict[str, Any], tuple]:
    """The U-Net of `levels` poolings, `width` channels at the top (doubled at each level), ending at `bottom`
    × `bottom`: the mapping and its description."""
    size = tile(levels, bottom)

    def conv(name: str, channels: int, k: int = 3, **more: Any) -> dict[str, Any]:
        return {"name": name, "type": "conv", "out_channels": channels, "kernel_size": k, "activation": "relu",
                **more}

    layers: list[dict[str, Any]] = []
    for level in range(1, levels + 1):
        channels = width * 2 ** (level - 1)
        layers += [conv(f"enc{level}_1", channels), conv(f"enc{level}_2", channels),
                   {"name": f"pool{level}", "type": "maxpool", "kernel_size": 2, "stride": 2}]
    deepest = width * 2 ** levels
    layers += [conv("bottom_1", deepest), conv("bottom_2", deepest)]
    for level in range(levels, 0, -1):
        channels = width * 2 ** (level - 1)
        layers += [{"name": f"upconv{level}", "type": "convtranspose", "out_channels": channels, "kernel_size": 2,
                    "stride": 2},
                   {"name": f"crop{level}", "type": "crop", "from": f"enc{level}_2", "like": f"upconv{level}"},
                   {"name": f"concat{level}", "type": "concat", "from": [f"crop{level}", f"upconv{level}"]},
                   conv(f"dec{level}_1", channels), conv(f"dec{level}_2", channels)]
    layers.append(conv("classes", classes, 1, activation=None))
    described = (  # one item a line, without commas (a CSV sheet writes them as comment lines)
        f"levels 1 to {levels}: encN_1 and encN_2 conv 3×3 · stride 1 · no padding · ReLU · {width}·2^(N−1) filters",
        "poolN: max pool 2×2 · stride 2",
        f"bottom_1 and bottom_2: conv 3×3 · no padding · ReLU · {deepest} filters",
        f"levels {levels} to 1: upconvN: up-convolution (transposed conv) 2×2 · stride 2 · {width}·2^(N−1) filters",
        "cropN: encN_2's map cut at its centre to upconvN's size (copy and crop)",
        "concatN: cropN and upconvN stacked along the channels",
        "decN_1 and decN_2: conv 3×3 · no padding · ReLU · as many filters as upconvN",
        f"classes: conv 1×1 · {classes} filters (no activation)")
    return {"name": "unet-like", "input": [in_channels, size, size], "layers": layers}, described


def drawn(rng: random.Random) -> tuple[dict[str, Any], tuple]:
    """A network drawn from `rng`."""
    return network(rng.choice(LEVELS), rng.choice(BOTTOMS), rng.choice(WIDTHS), rng.choice((1, 3)),
                   rng.choice(CLASSES))


def questions(rng: random.Random, net: dict[str, Any], report: Report) -> list[Question]:
    rec = {r.name: r for r in report.layers}
    levels = sum(1 for r in report.layers if r.name.startswith("pool"))

    def shape(qid: str, name: str, text: str) -> Question:
        expected = expected_cell("output", rec[name], Conventions(), report)
        return Question(qid, "output", text, expected.value, expected.arithmetic, name)

    asked = [shape("Q1", "bottom_2", "Output shape of bottom_2 (C×H×W), the bottom of the U.")]
    for level in range(levels, 0, -1):
        asked.append(shape(f"Q{len(asked) + 1}", f"crop{level}",
                           f"Output shape of crop{level} (C×H×W): enc{level}_2's map cut to upconv{level}'s size."))
    skip, up = rec["enc1_2"].output_shape[1], rec["upconv1"].output_shape[1]
    total = skip - up
    asked.append(Question(f"Q{len(asked) + 1}", CUT, "How many rows does crop1 cut off each side (top and bottom "
                          "alike) of enc1_2's map?", total // 2,
                          f"({skip} − {up}) / 2 = {exact(total // 2)}: enc1_2 gives {skip}×{skip}, upconv1 "
                          f"{up}×{up}", "crop1",
                          mistakes=((f"gave the rows cut in all ({skip} − {up}), not per side", total),)))
    asked.append(shape(f"Q{len(asked) + 1}", "classes", "Output shape of the network (classes, C×H×W)."))
    top = f"upconv{levels}"
    expected = expected_cell("params", rec[top], Conventions(), report)
    asked.append(Question(f"Q{len(asked) + 1}", "params", f"Parameters of {top}, biases included.", expected.value,
                          expected.arithmetic, top))
    return asked
