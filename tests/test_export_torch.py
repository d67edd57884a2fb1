"""The PyTorch export: readable source that runs, and the module `to_torch` builds from it, checked
against archcalc's own numbers and against the counting tools themselves (fvcore, ptflops, thop,
torchinfo and torch's FlopCounterMode run here on the exported module; their totals must equal
archcalc's count profile for that tool, which tests/test_profiles.py holds against the same tools
on torchvision's models)."""

from __future__ import annotations

import ast
import copy
import io
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

import archcalc
from archcalc import zoo
from archcalc.cli import main
from tests.export_zoo import small, small_input

torch = pytest.importorskip("torch")

from archcalc.interop.export_torch import torch_source  # noqa: E402


def build_on_meta(report):
    """The exported network (its source run), built without memory for its weights (for counting them)."""
    source = torch_source(report)
    namespace: dict = {}
    exec(compile(source.text, "<export>", "exec"), namespace)
    with torch.device("meta"):
        return namespace[source.class_name]()


def stored_counts(module) -> int:
    """Parameters and BatchNorm statistics, as archcalc counts them (its state_dict, less `num_batches_tracked`),
    each tensor once (one that several modules hold, as a layer that `shares:` does, is listed under each)."""
    tensors = {id(v): v for k, v in module.state_dict(keep_vars=True).items() if not k.endswith("num_batches_tracked")}
    return sum(v.numel() for v in tensors.values())


pytestmark = pytest.mark.usefixtures("one_torch_thread")


# --- the source ----------------------------------------------------------------------------------
def test_resnet50_source_is_short_readable_and_clean(tmp_path):
    text = torch_source(archcalc.analyze("resnet50")).text
    assert len(text.splitlines()) < 120
    assert "nn.Sequential(" in text and "for _ in range(" in text
    assert "out = self.conv1(x)" in text and "out = out + x" in text
    assert text.startswith("# ResNet-50") and "25,557,032 trainable" in text
    modules = {alias.name for node in ast.walk(ast.parse(text)) if isinstance(node, ast.Import | ast.ImportFrom)
               for alias in node.names} | {node.module for node in ast.walk(ast.parse(text))
                                           if isinstance(node, ast.ImportFrom)}
    assert {m.split(".")[0] for m in modules} <= {"torch", "nn"}
    path = tmp_path / "resnet50.py"
    path.write_text(text)
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", str(path)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("name", ["googlenet", "densenet121", "inception-v3-keras", "shufflenet_v2_x1_0"])
def test_generated_source_passes_ruff(name, tmp_path):
    path = tmp_path / "net.py"
    path.write_text(torch_source(archcalc.analyze(name)).text)
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", "--select",
                             "E,F,W,B,SIM", "--line-length", "120", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("name", ["lenet5", "resnet18", "googlenet", "shufflenet_v2_x1_0", "se-resnet50"])
def test_written_file_runs_and_computes_what_execute_computes(name, tmp_path):
    shape = small_input(name)
    report = archcalc.analyze(name, input=shape)
    path = tmp_path / "net.py"
    result = CliRunner().invoke(main, ["export", name, "--to", "pytorch", "--input", "x".join(map(str, shape)),
                                       "-o", str(path)])
    assert result.exit_code == 0, result.output
    namespace: dict = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    network = namespace[torch_source(report).class_name]().double().eval()
    weights = archcalc.init_weights(report, seed=3, random_stats=True)
    network.load_state_dict({k.replace("/", "."): torch.from_numpy(v) for k, v in weights.items()}, strict=False)
    x = np.random.default_rng(3).normal(size=(2, *shape))
    with torch.no_grad():
        theirs = network(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(theirs, archcalc.execute(report.architecture, x, weights, dtype="float64"),
                               rtol=1e-9, atol=1e-9)
    back = archcalc.load_weights(report, network)  # the exported weights load back into archcalc
    assert all(np.array_equal(back[key], weights[key]) for key in weights)


def test_to_torch_is_nested_with_torch_names():
    network = archcalc.to_torch("resnet18", input=[3, 32, 32])
    assert isinstance(network.layer1, torch.nn.Sequential)
    assert type(network.layer1[0].conv1) is torch.nn.Conv2d
    assert "layer1.0.bn1.running_mean" in network.state_dict()
    assert not any("/" in name for name, _ in network.named_modules())


def test_repeated_layers_with_fused_activations_run_in_a_loop():
    text = torch_source(archcalc.analyze("vgg-d")).text
    assert "nn.ModuleList(" in text and "for layer, relu in zip(self.conv3, self.conv3_relu):" in text


def test_pytorch_export_to_standard_output():
    result = CliRunner().invoke(main, ["export", "lenet5", "--to", "pytorch"])
    assert result.exit_code == 0
    assert "class Lenet5(nn.Module):" in result.output and "self.C1 = nn.Conv2d(1, 6, 5)" in result.output


# --- every zoo file: parameters --------------------------------------------------------------------
@pytest.mark.parametrize("name", zoo.names())
def test_zoo_export_has_archcalcs_parameters(name):
    report = archcalc.analyze(name)
    network = build_on_meta(report)
    trained = sum(p.numel() for p in network.parameters() if p.requires_grad)
    frozen = sum(p.numel() for p in network.parameters() if not p.requires_grad)
    assert (trained, frozen) == (report.totals.trainable_params, report.totals.frozen_params)
    assert stored_counts(network) == report.totals.params


# --- the counting tools on the export ---------------------------------------------------------------
class EveryOutput(torch.nn.Module):
    """The exported network returning every one of its file's `outputs:` (its forward returns the first
    alone, and a trace, as fvcore's, keeps only what the returned tensors read)."""

    def __init__(self, network, paths: tuple[str, ...]):
        super().__init__()
        self.network, self.paths = network, paths

    def forward(self, x):
        _, values = self.network(x, return_intermediates=True)
        return tuple(values[path] for path in self.paths)


def tool_totals(network, shape, outputs: tuple[str, ...] = ()) -> dict[str, int]:
    """Each tool's total on the exported network, less what fvcore and FlopCounterMode count inside its RoI
    poolings: the export samples the RoIs by matrix products (einsum), which both count, while archcalc's
    profiles follow them on torchvision's `roi_align` and `roi_pool`, custom operators neither sees into."""
    from archcalc.layers.torch_modules import FixedRoIAlign, FixedRoIPool

    fvcore = pytest.importorskip("fvcore.nn")
    ptflops = pytest.importorskip("ptflops")
    thop = pytest.importorskip("thop")
    torchinfo = pytest.importorskip("torchinfo")
    from torch.utils.flop_counter import FlopCounterMode

    x = torch.zeros(1, *shape)
    totals = {}
    with torch.no_grad():
        traced = EveryOutput(network, outputs) if len(outputs) > 1 else network
        analysis = fvcore.FlopCountAnalysis(copy.deepcopy(traced), x)
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        pools = [name for name, m in network.named_modules() if isinstance(m, (FixedRoIAlign, FixedRoIPool))]
        by_module = analysis.by_module()
        inside = "network." if traced is not network else ""
        totals["fvcore"] = analysis.total() - sum(by_module.get(inside + name, 0) for name in pools)
        totals["ptflops"] = ptflops.get_model_complexity_info(
            copy.deepcopy(network), tuple(shape), as_strings=False, print_per_layer_stat=False, ost=io.StringIO(),
            backend="pytorch")[0]
        totals["thop"] = thop.profile(copy.deepcopy(network), inputs=(x,), verbose=False)[0]
        counter = FlopCounterMode(display=False)
        with counter:
            network(x)
        counts = counter.get_flop_counts()
        totals["torch"] = counter.get_total_flops() - sum(
            sum(counts.get(f"{type(network).__name__}.{name}", {}).values()) for name in pools)
    totals["torchinfo"] = torchinfo.summary(copy.deepcopy(network), input_size=(1, *shape), verbose=0,
                                            device="cpu").total_mult_adds
    return {tool: int(total) for tool, total in totals.items()}


def padded_pool_cells(report) -> int:
    """The cells an asymmetrically padded pooling adds to its input. PyTorch pools pad evenly, so the
    export pads such a pooling's input first (`F.pad`), and ptflops, which counts one per input element
    of a pooling module and again for the `F.max_pool2d` / `F.avg_pool2d` it runs, sees those cells too."""
    cells = 0
    for record in report.layers:
        if record.layer.type_name in ("maxpool", "avgpool", "sumpool"):
            (top, bottom), (left, right) = record.layer.geometry(record.input_shapes[0]).pads
            if (top, left) != (bottom, right):
                c, h, w = record.input_shapes[0]
                cells += c * ((h + top + bottom) * (w + left + right) - h * w)
    return 2 * cells


# Keypoint R-CNN upsamples each RoI's maps (a `timedistributed` upsample: the RoIs folded into the batch), and
# ptflops's nn.Upsample hook counts the elements of the first sample of its output alone (`output[0]`): one
# RoI's, where archcalc's ptflops profile counts every RoI's (the export cannot yet call F.interpolate there,
# as torchvision does).
BATCH_BLIND = {"keypointrcnn_resnet50_fpn"}


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("name", [name for name in zoo.names() if name not in BATCH_BLIND])
def test_counting_tools_on_the_export_equal_archcalcs_profiles(name):
    shape, source = small_input(name), small(name)
    network = archcalc.to_torch(source, input=shape)
    expected = {tool: archcalc.analyze(source, input=shape, count=tool).totals.flops for tool in
                ("fvcore", "ptflops", "thop", "torchinfo", "torch")}
    expected["ptflops"] += padded_pool_cells(archcalc.analyze(source, input=shape))
    assert tool_totals(network, shape, archcalc.load(source).output_paths) == expected
