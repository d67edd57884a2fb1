"""Count profiles on the stored torchvision imports: `archcalc import` records in `calls:` how the
traced model runs each layer, so every profile lands on its tool's stored total
(tests/data/reference_counts.json, measured by tools/reference_counts.py on the same torchvision 0.29
models; the imports are written by tools/reference_import.py --imported)."""

from __future__ import annotations

import pytest

import archcalc
from tests.import_data import DATA, IMPORTED
from tests.test_profiles import MODELS, RECORDED, TOOL_TOTALS, tool_total


def test_every_stored_import_has_reference_counts():
    assert len(IMPORTED) == 68
    assert {path.stem for path in IMPORTED} <= set(MODELS)


@pytest.mark.parametrize("path", IMPORTED, ids=lambda path: path.stem)
def test_every_profile_reproduces_the_tools_on_the_import(path):
    arch, entry = archcalc.load(str(path)), MODELS[path.stem]
    tools = [tool for tool in TOOL_TOTALS if RECORDED.get(tool, lambda entry: True)(entry)]
    got = {tool: archcalc.analyze(arch, input=entry["input_shape"], count=tool).totals.flops for tool in tools}
    assert got == {tool: tool_total(path.stem, tool) for tool in tools}
    assert archcalc.analyze(arch, input=entry["input_shape"]).totals.flops == 2 * entry["macs_conv_linear"]


def test_imports_say_how_layers_are_called():
    """torchvision's DenseNet ends in F.relu and F.adaptive_avg_pool2d (its blocks' ReLUs are nn.ReLU);
    ResNet's residual is `out += identity`; ConvNeXt's LayerNorm2d (a subclass: no hook sees it) and
    layer scale `γ * x`."""
    folder = DATA / "imported" / "torchvision"
    assert archcalc.load(str(folder / "densenet121.yaml")).spec.calls == {
        "relu:relu": "functional", "adaptiveavgpool:*": "functional"}
    assert archcalc.load(str(folder / "resnet50.yaml")).spec.calls == {"add:*": "operator"}
    assert archcalc.load(str(folder / "convnext_tiny.yaml")).spec.calls == {
        "layernorm:*/1": "functional", "layernorm:*/0": "functional", "layerscale:*": "operator",
        "add:*": "operator"}


def test_fx_import_records_each_call_style():
    torch = pytest.importorskip("torch")
    nn, F = torch.nn, torch.nn.functional
    from archcalc.interop.yaml_writer import dump
    from archcalc.profiles import call_style

    class LayerNorm2d(nn.LayerNorm):
        """torchvision's: a subclass, which hooks keyed by the exact class miss."""

        def forward(self, x):
            return F.layer_norm(x.permute(0, 2, 3, 1), self.normalized_shape).permute(0, 3, 1, 2)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.bn, self.norm, self.act = nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), LayerNorm2d(8), nn.ReLU()

        def forward(self, x):
            x = self.norm(self.bn(self.conv(x)))
            a = F.relu(x)
            b = torch.sigmoid(x)
            s = torch.add(a, b) + self.act(a).add(b)
            y = F.max_pool2d(s * torch.mul(a, b), 2)
            return torch.flatten(F.adaptive_avg_pool2d(y, 1), 1) + y.mean([2, 3])

    mapping = archcalc.import_model(Net(), input=(3, 8, 8), name="net")
    arch = archcalc.load("net.yaml", text=dump(mapping))
    styles = {r.name: call_style(arch.spec.calls, r.name, r.type) for r in archcalc.analyze(arch).layers
              if r.type not in ("input", "flatten")}
    assert styles == {"conv": "module", "bn": "module", "norm": "functional", "relu": "functional",
                      "sigmoid": "operator", "add": "functional", "act": "module", "add_1": "functional",
                      "add_2": "operator", "mul": "functional", "mul_1": "operator", "max_pool2d": "functional",
                      "adaptive_avg_pool2d": "functional", "mean": "operator", "add_3": "operator"}
