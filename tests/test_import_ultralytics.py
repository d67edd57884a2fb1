"""`archcalc import` of Ultralytics YOLO configurations: yolov8.yaml and yolo11.yaml (tests/data/ultralytics/,
written from the architecture Ultralytics documents) at the scales n, s and m give the networks Ultralytics
8.4.190 builds from its own configurations, as measured in a separate environment by
tools/reference_ultralytics.py (tests/data/reference_ultralytics.json): parameters, trainable ones and
BatchNorm statistics exactly, each row's parameters and output shape, the convolutions' MACs, the head's
inputs and strides, and under the `ultralytics` count profile the GFLOPs `model.info()` prints, equal to
2 × thop's MACs at 640×640 and at 32×32, row by row."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import archcalc
from archcalc.cli import main
from archcalc.errors import SpecError
from archcalc.interop.yaml_writer import dump, loadable
from archcalc.layers.family import Family

DATA = Path(__file__).parent / "data"
CONFIGS = DATA / "ultralytics"
REFERENCE = json.loads((DATA / "reference_ultralytics.json").read_text())["models"]
MODELS = sorted(REFERENCE)
_ROW = re.compile(r"^m(\d+)(?:[/_]|$)")


def imported(model: str, size: int = 640, count: str = "ultralytics"):
    """The analysis of `<model>.yaml` (yolov8n.yaml: yolov8.yaml at scale n, as Ultralytics reads the name)."""
    mapping = archcalc.import_model(CONFIGS / f"{model}.yaml", input=(3, size, size))
    return archcalc.analyze(mapping, count=count)


def rows(report) -> dict[int, list]:
    """The records of each configuration row (`m12/cv1/conv`, `m22_box0/...` and `m22` are rows 12 and 22)."""
    found: dict[int, list] = {}
    for record in report.layers[1:]:
        found.setdefault(int(_ROW.match(record.name).group(1)), []).append(record)
    return found


def learnable(records) -> int:
    return sum(r.weights + r.biases for r in records)


@pytest.mark.parametrize("model", MODELS)
def test_parameters_equal_ultralytics(model):
    reference, totals = REFERENCE[model], imported(model).totals
    assert totals.params - totals.non_trainable_params + totals.frozen_params == reference["params"]
    assert totals.trainable_params == reference["trainable_params"]
    assert totals.non_trainable_params - totals.frozen_params == reference["bn_running_stats"]


@pytest.mark.parametrize("model", MODELS)
def test_each_row_has_ultralytics_parameters_and_shape(model):
    found = rows(imported(model))
    assert sorted(found) == [row["index"] for row in REFERENCE[model]["layers"]]
    for row in REFERENCE[model]["layers"]:
        records = found[row["index"]]
        assert learnable(records) == row["params"], row
        if "output_shape" in row:
            assert list(records[-1].output_shape) == row["output_shape"], row


@pytest.mark.parametrize("model", MODELS)
def test_convolution_macs_and_head_inputs(model):
    reference, report = REFERENCE[model], imported(model)
    convolutions = [r for r in report.layers if r.layer.family is Family.CONV]
    assert sum(r.macs for r in convolutions) == reference["macs_conv_linear"]
    index = reference["layers"][-1]["index"]
    levels = range(len(reference["head_input_shapes"]))
    assert [list(report.layer(f"m{index}_box{j}/cv1/conv").input_shapes[0]) for j in levels] == \
        reference["head_input_shapes"]
    head = report.layer(f"m{index}")
    assert head.layer.strides == reference["stride"]


@pytest.mark.parametrize("model", MODELS)
def test_ultralytics_profile_gives_the_printed_gflops(model):
    reference = REFERENCE[model]
    flops = imported(model).totals.flops
    assert flops == 2 * reference["thop"]["640"]["total"]
    assert flops == round(reference["info"]["gflops"] * 1e9)
    assert f"{flops / 1e9:.1f} GFLOPs" in reference["info"]["summary"]


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("size", [32, 640])
def test_ultralytics_profile_row_by_row_is_thop(model, size):
    """thop's module totals per row leave out the attention's products, which it counts apart ("functional")."""
    reference, found = REFERENCE[model], rows(imported(model, size))
    assert sum(r.flops for r in imported(model, size).layers) == 2 * reference["thop"][str(size)]["total"]
    products = 0
    for row in reference["layers"]:
        matmul = sum(r.flops for r in found[row["index"]] if r.layer.family is Family.MATMUL)
        products += matmul
        assert sum(r.flops for r in found[row["index"]]) - matmul == 2 * row[f"thop_macs_{size}"], row
    assert products == 2 * reference["thop"][str(size)]["functional"]


@pytest.mark.parametrize("model", MODELS)
def test_folding_batchnorm_gives_the_fused_model(model):
    """`model.fuse()` folds each BatchNorm into its convolution as a bias of its C channels; its GFLOPs
    are then thop's convolutions alone."""
    reference, report = REFERENCE[model], imported(model)
    norms = [r for r in report.layers if r.layer.family is Family.BATCH_NORM]
    fused_params = learnable(report.layers) - sum(r.output_shape[0] for r in norms)
    assert fused_params == reference["fused"]["params"]
    assert report.totals.flops - sum(r.flops for r in norms) == round(reference["fused"]["info"]["gflops"] * 1e9)


def test_the_scale_letter_picks_the_row_and_the_file_name_the_config():
    mapping = archcalc.import_model(CONFIGS / "yolov8s.yaml")
    assert mapping["name"] == "yolov8s"
    assert "scale s: depth 0.33, width 0.5, max_channels 1024" in mapping["source"]
    report = archcalc.analyze(mapping)
    assert rows(report)[0][0].output_shape == (32, 320, 320)          # 64 × 0.5


def test_command_line_import_writes_a_file_that_analyses_alike(tmp_path):
    out = tmp_path / "yolo11n.yaml"
    result = CliRunner().invoke(main, ["import", str(CONFIGS / "yolo11n.yaml"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    table = CliRunner().invoke(main, ["table", str(out), "--count", "ultralytics", "--format", "json"])
    assert table.exit_code == 0, table.output
    assert json.loads(table.output)["totals"]["flops"] == 2 * REFERENCE["yolo11n"]["thop"]["640"]["total"]


def test_the_written_file_loads_as_written():
    path = CONFIGS / "yolov8m.yaml"
    assert loadable(dump(archcalc.import_model(path)), str(path))


BASE = ["nc: 80", "depth_multiple: 1.0", "width_multiple: 1.0", "backbone:"]
HOSTILE = {
    "unknown module": ("  - [-1, 1, Conv, [16, 3, 2]]\n  - [-1, 1, Focus, [32]]", r"layer 1: module 'Focus'"),
    "later row": ("  - [-1, 1, Conv, [16, 3, 2]]\n  - [2, 1, Conv, [16, 3, 2]]\n  - [-1, 1, Conv, [16]]",
                  r"layer 1: from 2 names no earlier row"),
    "itself": ("  - [-1, 1, Conv, [16, 3, 2]]\n  - [1, 1, Conv, [16]]", r"layer 1: from 1 names no earlier row"),
    "before the input": ("  - [-1, 1, Conv, [16, 3, 2]]\n  - [-5, 1, Conv, [16]]", r"layer 1: from -5"),
    "from a text": ("  - [-1, 1, Conv, [16, 3, 2]]\n  - [x, 1, Conv, [16]]", r"layer 1: from must be"),
    "huge repeats": ("  - [-1, 1, Conv, [16, 3, 2]]\n  - [-1, 1000000000, C2f, [16]]", r"layer 1: repeats must"),
    "huge channels": ("  - [-1, 1, Conv, [100000000000, 3, 2]]", r"layer 0: the output channels must"),
    "huge kernel": ("  - [-1, 1, Conv, [16, 99999, 2]]", r"layer 0: the kernel size must"),
    "not a row": ("  - [-1, 1, Conv]", r"layer 0: a row must be"),
    "after the head": ("  - [-1, 1, Conv, [16, 3, 2]]\n  - [-1, 1, Conv, [16, 3, 2]]\n  - [-1, 1, Conv, [16, 3, 2]]\n"
                       "  - [[0, 1], 1, Detect, [nc]]\n  - [-1, 1, Conv, [16]]", r"layer 4: Detect must be the last"),
    "join of one": ("  - [-1, 1, Conv, [16, 3, 2]]\n  - [[-1, 0], 1, Conv, [16]]", r"layer 1: Conv reads one"),
}


@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_configs_are_one_line_errors(case, tmp_path):
    rows_text, message = HOSTILE[case]
    path = tmp_path / "hostile.yaml"
    path.write_text("\n".join(BASE) + "\n" + rows_text + "\n")
    started = time.monotonic()
    with pytest.raises(SpecError) as caught:
        archcalc.analyze(archcalc.import_model(path))
    assert time.monotonic() - started < 5
    text = str(caught.value)
    assert "\n" not in text and text.startswith(str(path)) and re.search(message, text), text


@pytest.mark.parametrize("header, message", [
    ("nc: 80\nwidth_multiple: 1.0e9\nbackbone:", "width must be a number"),
    ("nc: 80\nscales: {n: [0.33, 0.25, 1024]}\nscale: q\nbackbone:", "scale 'q' is not one of n"),
    ("nc: 80\nbackbone: 5", "needs backbone and head lists"),
])
def test_hostile_headers_are_one_line_errors(header, message, tmp_path):
    path = tmp_path / "hostile.yaml"
    path.write_text(header + "\n  - [-1, 1, Conv, [16, 3, 2]]\n" if header.endswith(":") else header + "\n")
    with pytest.raises(SpecError, match=message):
        archcalc.import_model(path)


def test_a_huge_width_is_refused_before_any_work(tmp_path):
    path = tmp_path / "wide.yaml"
    path.write_text("nc: 80\nwidth_multiple: 16\nbackbone:\n  - [-1, 1, Conv, [65536, 3, 2]]\n")
    with pytest.raises(SpecError, match="layer 0: the scaled output channels must"):
        archcalc.import_model(path)
