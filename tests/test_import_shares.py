"""Import of a PyTorch module with weights that runs more than once, or of an ONNX layer that reads
another's weights: refused with the reason (the weights would be counted once per call), never counted
twice."""

from __future__ import annotations

import pytest

import archcalc
from archcalc.errors import ArchcalcError
from archcalc.interop import import_model
from archcalc.interop.export_onnx import onnx_model
from tests.test_execute_shares import pyramid

torch = pytest.importorskip("torch")
nn = torch.nn


class TwoLevels(nn.Module):
    """One head convolution run on two levels, as a detector's head runs on each pyramid level."""

    def __init__(self):
        super().__init__()
        self.stem, self.down = nn.Conv2d(3, 4, 3, padding=1), nn.Conv2d(4, 4, 1, stride=2)
        self.head, self.relu = nn.Conv2d(4, 4, 3, padding=1), nn.ReLU()

    def forward(self, x):
        x = self.relu(self.stem(x))
        return nn.functional.max_pool2d(self.relu(self.head(x)), 2) + self.relu(self.head(self.down(x)))


def test_a_module_with_weights_called_twice_is_refused_naming_shares():
    with pytest.raises(ArchcalcError) as caught:
        import_model(TwoLevels(), input=(3, 16, 16))
    text = str(caught.value)
    assert "'head' holds weights and runs more than once" in text and "shares:" in text and "\n" not in text


def test_an_onnx_layer_reading_another_layer_weights_is_refused_naming_shares(tmp_path):
    onnx = pytest.importorskip("onnx")
    path = tmp_path / "pyramid.onnx"
    onnx.save(onnx_model(archcalc.analyze(pyramid(True)), shapes_only=True), str(path))
    with pytest.raises(ArchcalcError) as caught:
        import_model(path)
    text = str(caught.value)
    assert "'h4/c1' reads the weights 'h3/c1.weight' of 'h3/c1'" in text and "shares:" in text and "\n" not in text


def test_a_module_holding_another_module_weights_is_refused_naming_shares():
    module = archcalc.to_torch(pyramid(True))  # h4's modules hold h3's tensors
    with pytest.raises(ArchcalcError) as caught:
        import_model(module, input=(3, 16, 16))
    text = str(caught.value)
    assert "'h4.c1' holds the weights of 'h3.c1'" in text and "shares:" in text and "\n" not in text
