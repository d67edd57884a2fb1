"""The `reshape` layer: each sample's values laid out as a declared shape (YOLO v1's 1,470 outputs as its
7 × 7 grid of 30 predictions), its errors, and how the importers read PyTorch's and ONNX's reshapes back.
Its forward against PyTorch and its round trips are the case "reshape" of tests/test_execute_layers.py."""

from __future__ import annotations

import pytest

import archcalc
from archcalc.errors import ArchcalcError, ShapeError


def net(shape: list[int], input_shape: list[int]) -> str:
    return (f"name: t\ninput: {input_shape}\nlayers:\n  - {{name: fc, type: linear, out_features: 1470}}\n"
            f"  - {{name: grid, type: reshape, shape: {shape}}}\n")


def analyze(text: str):
    return archcalc.analyze(archcalc.load("t.yaml", text=text))


@pytest.mark.parametrize("shape", [[30, 7, 7], [30, -1, 7], [-1, 7, 7]])
def test_the_grid_of_yolo_v1(shape):
    """S × S × (B·5 + C) = 7 · 7 · (2·5 + 20) = 1,470 values (Redmon et al. 2016, Section 2): no
    parameters and no MACs of its own; −1 is the rest."""
    report = analyze(net(shape, [64]))
    grid, fc = report.layers[-1], report.layers[-2]
    assert grid.output_shape == (30, 7, 7)
    assert grid.params == 0 and grid.macs == 0
    assert report.totals.params == fc.params == 64 * 1470 + 1470


def test_the_receptive_field_of_a_vector_passes_through():
    text = ("name: t\ninput: [3, 8, 8]\nlayers:\n  - {name: conv, type: conv, out_channels: 4, kernel_size: 3}\n"
            "  - {name: flat, type: flatten}\n  - {name: grid, type: reshape, shape: [4, 36]}\n")
    flat, grid = analyze(text).layers[-2:]
    assert grid.output_shape == (4, 36)
    assert grid.receptive_field == flat.receptive_field and grid.receptive_field.size == (8, 8)


@pytest.mark.parametrize("shape, words", [
    ([30, 7, 8], ["1470 values", "(30, 7, 8)", "1680"]),
    ([-1, 11], ["1470", "multiple of 11"]),
    ([-1, -1, 30], ["one of them −1 at most"]),
    ([30, 0, 7], ["at least 1"]),
])
def test_an_impossible_shape_is_one_line_naming_the_file_and_the_layer(shape, words):
    with pytest.raises(ShapeError) as info:
        analyze(net(shape, [64]))
    message = str(info.value)
    assert message.startswith("t.yaml:5: grid:") and "\n" not in message
    assert all(word in message for word in words), message


def test_a_shape_that_is_not_a_list_of_sizes_is_refused():
    with pytest.raises(ArchcalcError) as info:
        analyze(net("seven", [64]))
    assert "t.yaml" in str(info.value) and "grid" in str(info.value)


torch = pytest.importorskip("torch")
nn = torch.nn


class Grid(nn.Module):
    """A head that writes its grid as `x.view(x.size(0), 30, 7, 7)`."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(64, 1470)

    def forward(self, x):
        return self.fc(x).view(x.size(0), 30, 7, 7)


@pytest.mark.parametrize("module", [Grid(), nn.Sequential(nn.Linear(64, 1470), nn.Unflatten(1, (30, 7, 7)))])
def test_pytorch_view_and_unflatten_import_as_a_reshape(module):
    report = archcalc.analyze(archcalc.import_model(module, input=(64,)))
    assert [r.layer.type_name for r in report.layers[1:]] == ["linear", "reshape"]
    assert report.layers[-1].output_shape == (30, 7, 7)


def test_unflatten_of_the_channels_keeps_the_map():
    """`nn.Unflatten(1, (2, 3))` of an (N, 6, 4, 5) map: (2, 3, 4, 5), the map's axes kept."""
    report = archcalc.analyze(archcalc.import_model(nn.Unflatten(1, (2, 3)), input=(6, 4, 5)))
    assert report.layers[-1].output_shape == (2, 3, 4, 5)


def test_a_view_of_a_fixed_batch_is_refused():
    """`x.view(1, 30, 49)` holds for one sample only: no per-sample layer, a refusal naming the view."""

    class One(nn.Module):
        def forward(self, x):
            return x.view(1, 30, 49)

    with pytest.raises(ArchcalcError) as info:
        archcalc.import_model(One(), input=(1470,))
    assert "view" in str(info.value)
