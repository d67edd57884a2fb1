"""The report commands through click: formats that parse, compare, explain, list, and errors."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from archcalc.cli import main


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_piped_table_has_no_escape_codes():
    result = run("table", "vgg16")
    assert result.exit_code == 0
    assert "\x1b" not in result.output
    assert "138,357,544" in result.output  # seed 000, "Total params: 138357544"


@pytest.mark.parametrize("style", ["full", "lecture", "structural", "keras", "cs231n", "paper", "torch"])
def test_csv_and_json_parse_for_every_style(style: str):
    rows = list(csv.reader(io.StringIO(run("table", "lenet5", "--style", style, "--format", "csv").output)))
    assert len({len(r) for r in rows}) == 1 and len(rows) > 2
    data = json.loads(run("table", "lenet5", "--style", style, "--format", "json").output)
    assert data["rows"] and data["columns"]


def test_lecture_json_numbers_are_numbers():
    data = json.loads(run("table", "lenet5", "--style", "lecture", "--format", "json").output)
    assert [r["params"] for r in data["rows"]] == [156, 0, 2416, 0, 48120, 10164, 850]  # seed 000, Ex. 3.1
    assert data["totals"]["params"] == 61706


def test_html_is_one_self_contained_page():
    page = run("table", "lenet5", "--format", "html").output
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<script" not in page and "http" not in page and page.count("<table>") == 1


def test_markdown_table_has_one_alignment_row():
    text = run("table", "lenet5", "--style", "lecture", "--format", "markdown").output
    assert "|:---|:---:|:---:|:---:|---:|" in text and "| **Total** |" in text


def test_latex_compiles_when_a_tex_engine_is_available(tmp_path):
    engine = shutil.which("pdflatex") or shutil.which("lualatex") or shutil.which("xelatex")
    body = run("table", "resnet18-lecture", "--style", "structural", "--format", "latex").output
    assert r"\toprule" in body and r"\bottomrule" in body and "conv3\\_1" not in body
    if engine is None:
        pytest.skip("no TeX engine installed")
    (tmp_path / "t.tex").write_text("\\documentclass{article}\\usepackage{booktabs}\\usepackage[margin=1cm,"
                                    "landscape]{geometry}\\begin{document}\n" + body + "\\end{document}\n")
    done = subprocess.run([engine, "-interaction=nonstopmode", "t.tex"], cwd=tmp_path, capture_output=True)
    assert done.returncode == 0, done.stdout[-2000:]


def test_compare_inception_shows_the_slide_story():
    out = run("compare", "inception-naive", "inception-1x1").output
    # seed 000, GoogLeNet: 112.9M operations without the 1×1 bottleneck, 1.5M + 3.8M = 5.3M with it.
    assert "112.9M" in out and "5.3M" in out
    assert "5.3M = 1.5M (reduce1x1) + 3.8M (conv5x5)" in out
    assert f"{112_896_000 / 5_268_480:.0f}× fewer MACs" in out  # 21.4: two significant digits


def test_compare_json():
    data = json.loads(run("compare", "inception-naive", "inception-1x1", "--format", "json").output)
    macs = next(r for r in data["rows"] if r["metric"] == "MACs")
    assert (macs["a0"], macs["a1"]) == (14 * 14 * 48 * 5 * 5 * 480, 14 * 14 * 16 * 480 + 14 * 14 * 48 * 5 * 5 * 16)


def test_explain_alexnet_conv1_shows_the_student_arithmetic():
    out = run("explain", "alexnet-lecture", "conv1").output
    assert "(227 − 11 + 0)/4 + 1 = 55" in out  # seed 001: 227/11/4/0 → 55
    assert "3 × 11 × 11 × 96 + 96 = 34,944" in out  # seed 000, AlexNet table conv1
    assert "11 × 11 input pixels" in out


def test_explain_reports_a_tiling_warning(tmp_path):
    # seed 003, stride-2 example: a 3×3 window at stride 2 on a 6×6 input gives (6 − 3)/2 + 1 = 2.5,
    # so the last row and column are never read
    path = tmp_path / "strided.yaml"
    path.write_text("name: strided\ninput: [1, 6, 6]\nlayers:\n"
                    "  - {name: conv, type: conv, out_channels: 1, kernel_size: 3, stride: 2}\n")
    out = run("explain", str(path), "conv").output
    assert "warning:" in out and "skipped" in out and "2.5" in out


def test_list_filters_the_zoo():
    out = run("list", "lenet").output
    assert "lenet5" in out and "61,706" in out and "vgg16" not in out
    assert "googlenet" not in out and "mobilenet" not in out  # words starting with the pattern, not any substring


@pytest.mark.parametrize("args", [
    ("table", "no-such-net"),
    ("table", "missing/file.yaml"),
    ("table", "lenet5", "--style", "fancy"),
    ("table", "lenet5", "--format", "pdf"),
    ("table", "lenet5", "--units", "decimal"),
    ("table", "lenet5", "--depth", "0"),
    ("table", "lenet5", "--columns", "layer,nothing"),
    ("table", "lenet5", "--input", "3xbig"),
    ("explain", "lenet5", "C9"),
    ("compare", "lenet5"),
    ("compare", "lenet5", "no-such-net"),
])
def test_bad_input_is_one_line_and_status_2(args):
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.output, result.output


def test_depth_collapses_blocks_into_summed_rows():
    data = json.loads(run("table", "googlenet-paper", "--depth", "1", "--format", "json").output)
    row = next(r for r in data["rows"] if r["layer"] == "inception_3a")
    # 1×1, 3×3 reduce, 3×3, 5×5 reduce, 5×5, pool proj weights plus their biases (64+96+128+16+32+32)
    weights = 192 * 64 + 192 * 96 + 96 * 9 * 128 + 192 * 16 + 16 * 25 * 32 + 192 * 32
    assert row["params"] == weights + 64 + 96 + 128 + 16 + 32 + 32


def test_units_and_ops_options():
    out = run("table", "vgg16", "--units", "si", "--ops", "flops", "--columns", "layer,params,flops").output
    assert "FLOPs" in out and "K = 1000" not in out.split("\n")[2]
    assert "138.4M" in out  # 138,357,544 params, decimal
    binary = run("table", "vgg16", "--units", "binary").output
    assert "K = 1024" in binary and "131.9M" in binary  # 138,357,544 / 1024² = 131.948


def test_a_transposed_convolution_shows_its_own_kernel_and_stride(tmp_path):
    """A 2×2 stride-2 upsampling (no receptive-field window) keeps its 2×2/2 in every kernel column."""
    path = tmp_path / "up.yaml"
    path.write_text("name: up\ninput: [64, 8, 8]\n"
                    "layers: [{name: up, type: convtranspose, out_channels: 32, kernel_size: 2, stride: 2}]\n")
    lecture = json.loads(run("table", str(path), "--style", "lecture", "--format", "json").output)
    structural = json.loads(run("table", str(path), "--style", "structural", "--format", "json").output)
    paper = json.loads(run("table", str(path), "--style", "paper", "--format", "json").output)
    assert lecture["rows"][0]["kernel"] == "2 × 2 × 32 / 2"
    row = structural["rows"][0]
    assert (row["kernel_w"], row["kernel_h"], row["stride"]) == (2, 2, "2")
    assert paper["rows"][0]["patch"] == "2x2/2"


def test_command_line_choices_are_the_library_s_own():
    """The command modules list the choices themselves (importing the report package would slow
    `archcalc --help`); they must stay the lists the library accepts."""
    from archcalc.analysis import DTYPE_BYTES
    from archcalc.commands import options, report
    from archcalc.report import FORMATS, STYLES
    from archcalc.units import UNITS

    assert tuple(report.STYLES) == STYLES and tuple(report.FORMATS) == FORMATS
    assert tuple(report.UNITS) == UNITS and set(options.DTYPES) == set(DTYPE_BYTES)


def _full_rows(*args: str) -> dict[str, dict]:
    data = json.loads(run("table", *args, "--style", "full", "--format", "json").output)
    return {row["layer"]: row for row in data["rows"]}


def test_grouped_and_depthwise_convolutions_are_marked():
    rows = _full_rows("mobilenet_v2")
    # torchvision MobileNetV2 features.2.conv.1.0: a depthwise 3×3/2 on 96 channels, 96·1·3·3 = 864 weights
    depthwise = rows["features/2/conv/1/0"]
    assert (depthwise["window"], depthwise["params"]) == ("3×3/2 p1 dw", 864)
    assert rows["features/2/conv/0/0"]["window"] == "1×1/1"  # an ordinary convolution: no mark
    # torchvision resnext50_32x4d layer1.0.conv2: 3×3 in 32 groups of 4 channels, 128·4·3·3 = 4,608 weights
    grouped = _full_rows("resnext50_32x4d")["layer1/0/conv2"]
    assert (grouped["window"], grouped["params"]) == ("3×3/1 p1 g=32", 4608)
    assert run("explain", "mobilenet_v2", "features/2/conv/1/0").output.startswith(
        "mobilenet_v2 / features/2/conv/1/0: conv 3×3/2 dw")


def test_the_params_total_is_split_where_it_is_shown():
    # torchvision resnet50: sum(p.numel() for p in parameters()) = 25,557,032 (its documented size);
    # the 53 BatchNorm layers' running mean and variance add 2 × 26,560 = 53,120 (buffers)
    lines = [" ".join(line.split()) for line in run("table", "resnet50").output.splitlines()]
    total = next(i for i, line in enumerate(lines) if line.startswith("Total "))
    assert lines[total].startswith("Total 25,610,152 ")
    assert lines[total + 1:total + 3] == ["trainable 25,557,032", "+ running statistics 53,120"]
    data = json.loads(run("table", "resnet50", "--style", "full", "--format", "json").output)
    assert [row["params"] for row in data["split"]] == [25_557_032, 53_120]
    assert sum(row["params"] for row in data["split"]) == data["totals"]["params"] == 25_610_152
    structural = run("table", "resnet50", "--style", "structural").output
    assert "trainable" in structural and "25,557,032" in structural
    validated = run("validate", "resnet50").output
    assert "25,610,152 params = 25,557,032 trainable + 53,120 running statistics" in validated
    compared = {line.strip().split("  ")[0]: line for line in run("compare", "resnet50", "vgg16", "--units", "exact")
                .output.splitlines()}
    assert "25,557,032" in compared["trainable"] and "53,120" in compared["+ running statistics"]


def test_a_network_without_statistics_has_no_split():
    lines = run("table", "lenet5").output.splitlines()
    total = next(i for i, line in enumerate(lines) if line.startswith("Total "))
    assert lines[total + 1] == ""  # the footer follows at once
    assert json.loads(run("table", "lenet5", "--style", "full", "--format", "json").output)["split"] == []
    assert run("validate", "lenet5").output.strip().endswith("(8 layers, 61,706 params)")
