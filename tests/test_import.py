"""`archcalc import` and `archcalc.import_model`: PyTorch through torch.fx, the readable YAML writer,
the stored torchvision imports against torchvision's own counts (tests/data/reference_import.json,
measured by tools/reference_import.py in torch 2.14.1 / torchvision 0.29.1)."""

from __future__ import annotations

import json

import pytest

import archcalc
from archcalc.errors import SpecError
from archcalc.interop.yaml_writer import dump
from tests.import_data import DATA, IMPORTED, REFERENCE, conv_linear_counts


@pytest.mark.parametrize("path", IMPORTED, ids=lambda p: p.stem)
def test_stored_torchvision_imports_count_as_torchvision(path):
    reference = REFERENCE["torchvision"][path.stem]
    report = archcalc.analyze(str(path))
    assert conv_linear_counts(report) == (reference["trainable_params"], reference["bn_running_stats"],
                               reference["macs_conv_linear"])


def test_every_torchvision_cnn_is_stored():
    assert {p.stem for p in IMPORTED} == set(REFERENCE["torchvision"])


def test_resnet50_reads_like_a_hand_written_file():
    text = (DATA / "imported" / "torchvision" / "resnet50.yaml").read_text()
    assert len(text.splitlines()) < 80
    assert "repeat: 6" in text and "defaults:" in text and text.startswith("# Imported by archcalc")


torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional


def _roundtrip(mapping):
    """The analysis of the mapping and of its YAML text re-loaded, as JSON."""
    direct = archcalc.analyze(mapping).to_dict()
    reloaded = archcalc.analyze(archcalc.load("imported.yaml", text=dump(mapping))).to_dict()
    return json.dumps(direct, sort_keys=True, default=str), json.dumps(reloaded, sort_keys=True, default=str)


@pytest.mark.parametrize("zoo", ["resnet18", "googlenet", "mobilenet_v2", "densenet121", "squeezenet1_1",
                                 "inception-1x1", "lenet5"])
def test_to_torch_networks_import_with_their_counts(zoo):
    module = archcalc.to_torch(zoo)
    mapping = archcalc.import_model(module, input=archcalc.analyze(zoo).input_shape, name=zoo)
    report = archcalc.analyze(mapping)
    trainable = sum(p.numel() for p in module.parameters())           # PyTorch's own count
    running = sum(b.numel() for n, b in module.named_buffers() if n.endswith(("running_mean", "running_var")))
    assert (report.totals.trainable_params, report.totals.non_trainable_params) == (trainable, running)
    assert report.totals.macs == archcalc.analyze(zoo).totals.macs
    direct, reloaded = _roundtrip(mapping)
    assert direct == reloaded


class Functional(nn.Module):
    """Every functional idiom the importer maps (hand-counted below)."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 8, 3, padding=1)
        self.b = nn.Conv2d(3, 8, 1, bias=False)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        a = F.relu(self.a(x))
        b = torch.sigmoid(self.b(x))
        s = torch.add(a, b) + a
        y = torch.cat([s, a * b], 1)
        y = F.max_pool2d(y, 2)
        pooled = F.adaptive_avg_pool2d(y, 1)
        z = torch.flatten(pooled, 1) + y.mean([2, 3])
        return self.fc(z)


def test_functional_calls_map_to_layer_types():
    report = archcalc.analyze(archcalc.import_model(Functional(), input=(3, 8, 8), name="functional"))
    types = [r.type for r in report.layers]
    for wanted in ("relu", "sigmoid", "add", "multiply", "concat", "maxpool", "adaptiveavgpool", "flatten",
                   "globalavgpool", "linear"):
        assert wanted in types
    # a: 3·3·3·8 + 8 = 224; b: 3·8 = 24; fc: 16·10 + 10 = 170
    assert report.totals.params == 224 + 24 + 170
    # a: 8·8·8·27 = 13,824; b: 8·8·8·3 = 1,536; fc: 160
    assert report.totals.macs == 13_824 + 1_536 + 160


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.attn = nn.MultiheadAttention(8, 2)

    def forward(self, x):
        y = torch.sin(self.conv(x))
        return self.attn(y, y, y)[0]


def test_every_unsupported_op_is_named_in_one_error():
    with pytest.raises(SpecError) as info:
        archcalc.import_model(Attention(), input=(3, 8, 8), name="attention")
    message = str(info.value)
    assert "2 node(s)" in message and "attn" in message and "sin" in message


def test_the_command_writes_a_file_that_analyses(tmp_path):
    from click.testing import CliRunner

    from archcalc.cli import main

    target = tmp_path / "net.yaml"
    result = CliRunner().invoke(main, ["import", "tests.test_import:Functional", "--input", "3x8x8", "-o",
                                       str(target)])
    assert result.exit_code == 0, result.output
    assert archcalc.analyze(str(target)).totals.params == 418


def test_a_missing_framework_names_the_extra(monkeypatch):
    import importlib.util

    from click.testing import CliRunner

    from archcalc.cli import main

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    result = CliRunner().invoke(main, ["import", "torchvision.models:resnet50"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == ["archcalc: error: importing torchvision.models:resnet50 needs "
                                                  "torch: pip install 'archcalc[torch]'"]


def _types_and_params(module, shape):
    report = archcalc.analyze(archcalc.import_model(module, input=shape, name="net"))
    return [r.type for r in report.layers[1:]], report.totals.params


def test_a_layernorm2d_module_is_a_layer_normalisation():
    """archcalc's own LayerNorm2d (what `to_torch` builds for a channels-first layer norm run as a function)."""
    from archcalc.layers.torch_modules import LayerNorm2d

    net = nn.Sequential(nn.Conv2d(3, 4, 1), LayerNorm2d(4, eps=1e-6))
    assert _types_and_params(net, (3, 5, 5)) == (["conv", "layernorm"], 3 * 4 + 4 + 2 * 4)


class ChannelsLastConv(nn.Module):
    """A map permuted channels last and convolved as it is: the conv's input channels are H."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 5, 1)

    def forward(self, x):
        return self.conv(x.permute(0, 2, 3, 1))


def test_a_channels_last_map_read_by_a_convolution_is_permuted_as_pytorch_holds_it():
    types, params = _types_and_params(ChannelsLastConv(), (3, 4, 6))       # (3, 4, 6) → (4, 6, 3): H = 4
    assert types == ["permute", "conv"] and params == 4 * 5 + 5


class FunctionalArguments(nn.Module):
    def forward(self, x):
        return F.elu(F.leaky_relu(x, 0.2), alpha=0.5)


def test_a_function_s_arguments_are_read_by_position_and_keyword():
    report = archcalc.analyze(archcalc.import_model(FunctionalArguments(), input=(2, 3, 3), name="net"))
    assert report.layers[1].layer.negative_slope == 0.2 and report.layers[2].layer.alpha == 0.5
