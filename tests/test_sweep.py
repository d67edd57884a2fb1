"""`archcalc sweep` and `archcalc.sweep`: grids, rows, invalid variants, reuse, Pareto front, formats,
CSV and Parquet output that resumes, joblib workers.

Expected numbers come from the lecture table of LeNet-5 (seed 000, Example 3.1: 61,706 parameters)
and from `archcalc.analyze` of the same variant written out as its own file (the cold path the sweep
must agree with); the zoo families' published numbers are tested in test_zoo_scaling.py.
"""

from __future__ import annotations

import csv
import json

import pytest
from click.testing import CliRunner

import archcalc
from archcalc.cli import main
from archcalc.errors import ArchcalcError, SpecError
from archcalc.sweep import Grid, front, parse_settings
from archcalc.sweep.engine import Sweeper

# a LeNet-like file whose widths, depth and kernel are arguments
NET = {"name": "net", "input": [1, "size", "size"],
       "args": {"width": 6, "blocks": 1, "k": 5, "size": 32, "classes": 10},
       "blocks": {"unit": {"args": {"w": None}, "layers": [
           {"name": "conv", "type": "conv", "out_channels": "w", "kernel_size": "k", "groups": 2},
           {"name": "relu", "type": "relu"}]}},
       "layers": [{"name": "c1", "type": "conv", "out_channels": "2 * width", "kernel_size": 3, "padding": 1},
                  {"name": "u", "type": "unit", "w": "2 * width", "repeat": "blocks"},
                  {"name": "pool", "type": "globalavgpool"},
                  {"name": "flat", "type": "flatten"},
                  {"name": "fc", "type": "linear", "out_features": "classes"}]}


def cold(**values):
    """The variant analysed as its own file, from scratch."""
    return archcalc.analyze({**NET, "args": {**NET["args"], **values}})


def test_parse_settings_lists_ranges_and_brackets():
    grid = parse_settings(["width=32:128:32", "alpha=0.25:1:0.25", "cfg=[3,4],[1, 2]", "mode=same,valid",
                           "on=true,false", "input=3x224x224,3x160x160"])
    assert dict(zip(grid.keys, grid.values)) == {
        "width": (32, 64, 96, 128), "alpha": (0.25, 0.5, 0.75, 1.0), "cfg": ([3, 4], [1, 2]),
        "mode": ("same", "valid"), "on": (True, False), "input": ([3, 224, 224], [3, 160, 160])}
    assert len(grid) == 4 * 4 * 2 * 2 * 2 * 2


def test_product_order_and_zip():
    grid = parse_settings(["a=1,2", "b=10,20,30"])
    assert [v for _, v in grid.variants()] == [{"a": a, "b": b} for a in (1, 2) for b in (10, 20, 30)]
    assert grid.variant(4) == {"a": 2, "b": 20}
    zipped = parse_settings(["a=1,2,3", "b=10,20,30"], zipped=True)
    assert [v for _, v in zipped.variants()] == [{"a": 1, "b": 10}, {"a": 2, "b": 20}, {"a": 3, "b": 30}]


@pytest.mark.parametrize(("settings", "zipped", "said"), [
    (["a=1,2", "b=1"], True, "--zip pairs the values"),
    (["a"], False, "write name=value1,value2"),
    (["a=1,,2"], False, "an empty value"),
    (["a=1", "a=2"], False, "given twice"),
    (["a=1:10:0"], False, "a step above 0"),
    (["a=1:1e16"], False, "out of range"),
    (["a=0:2000000"], False, "more than 1,000,000 values"),
    (["a=99**9"], False, "out of range"),
    (["a=__import__('os')"], False, "only the functions"),
    (["input=3x224"], False, None),
    (["input=3xax3"], False, "is not a shape"),
    ([], False, "at least one name"),
])
def test_bad_settings_are_one_line_errors(settings, zipped, said):
    if said is None:  # a two-number input is a valid (C, L) size
        assert parse_settings(settings, zipped).values == (([3, 224],),)
        return
    with pytest.raises(SpecError) as caught:
        parse_settings(settings, zipped)
    assert said in str(caught.value) and "\n" not in str(caught.value)


def test_a_grid_of_more_than_a_billion_variants_is_refused_before_any_work():
    with pytest.raises(SpecError, match="more than 1,000,000,000"):
        parse_settings(["a=1:1000", "b=1:1000", "c=1:1001"])


def test_rows_equal_a_cold_analysis_of_each_variant():
    grid = {"width": [4, 6], "blocks": [0, 1, 2], "size": [32, 28]}
    rows = archcalc.sweep(NET, grid)
    assert [r["variant"] for r in rows] == list(range(12))
    for row in rows:
        report = cold(width=row["width"], blocks=row["blocks"], size=row["size"])
        totals = report.totals
        assert row["error"] is None
        assert (row["params"], row["trainable_params"], row["macs"], row["flops"]) == \
            (totals.params, totals.trainable_params, totals.macs, totals.flops)
        assert (row["forward_memory_bytes"], row["peak_memory_bytes"], row["param_bytes"]) == \
            (totals.forward_memory_bytes, totals.peak_memory_bytes, totals.param_bytes)
        assert row["layers"] == len(report.layers)
        assert row["rf_height"] == max(r.receptive_field.size[0] for r in report.layers if r.receptive_field)


def test_lenet5_over_its_input_size_keeps_the_lecture_total():
    rows = archcalc.sweep("lenet5", {"input": ["1x32x32", [1, 36, 36]]})
    assert rows[0]["params"] == 61_706  # seed 000, Example 3.1
    assert rows[1]["macs"] > rows[0]["macs"] and rows[1]["input"] == "1x36x36"


def test_an_invalid_variant_is_a_row_with_its_error_and_the_others_go_on():
    # 2·width channels in groups of 2 need an even count; k = 9 does not fit the 8×8 map
    rows = archcalc.sweep(NET, {"width": [6, 7.5], "k": [3, 9], "size": [8]})
    errors = [r["error"] for r in rows]
    assert errors[0] is None
    assert all(e and "\n" not in e and e.startswith("net") for e in errors[1:])
    assert "groups=2 must divide" in errors[2] and "window 9" in errors[1]
    assert rows[1]["macs"] is None and rows[1]["k"] == 9


def test_count_profiles_add_columns():
    rows = archcalc.sweep("lenet5", {"input": ["1x32x32"]}, count=["fvcore", "torch"])
    assert rows[0]["flops_fvcore"] == archcalc.analyze("lenet5", count="fvcore").totals.flops
    assert rows[0]["flops_torch"] == archcalc.analyze("lenet5", count="torch").totals.flops


def test_unknown_names_and_options_are_refused():
    with pytest.raises(SpecError, match="'widht' is not an argument of the file .did you mean 'width'"):
        archcalc.sweep(NET, {"widht": [1]})
    with pytest.raises(SpecError, match="count must be one of"):
        archcalc.sweep(NET, {"width": [1]}, count=["flopz"])
    with pytest.raises(SpecError, match="jobs must be"):
        archcalc.sweep(NET, {"width": [1]}, jobs=0)
    with pytest.raises(SpecError, match="beyond"):
        archcalc.sweep(NET, {"width": [float("inf")]})
    with pytest.raises(SpecError, match="a value must be"):
        archcalc.sweep(NET, {"width": [object()]})


def test_an_expansion_is_reused_for_every_variant_that_reads_the_same_arguments():
    sweeper = Sweeper(NET)

    def run(keys, values):
        for _, variant in Grid(keys, values).variants():
            sweeper.report(variant)
        return len(sweeper.expansions)

    # sizes and classes only reach hyper-parameters and the input: one expansion serves them all
    assert run(("size", "classes"), ((32, 28, 24), (10, 100))) == 1
    # the block argument `w: 2 * width` and `repeat: blocks` are read while expanding
    assert run(("width",), ((4, 6, 4),)) == 2
    assert run(("blocks",), ((0, 1, 2, 1, 0),)) == 4


def test_reused_expansions_see_each_variants_values():
    sweeper = Sweeper(NET)
    for width, blocks in [(4, 1), (6, 1), (4, 2), (6, 2), (4, 1)]:
        report = sweeper.report({"width": width, "blocks": blocks})
        assert report.to_dict() == cold(width=width, blocks=blocks).to_dict()


def test_a_layer_reading_its_input_is_built_anew_for_each_input_size():
    # the sweep's layers are kept across variants; one whose hyper-parameters read the input's channels or
    # height must not be taken for another input size's (the parameters by hand: 3·3·C·2C + 2C)
    text = ("name: reads-input\ninput: [3, 8, 8]\nlayers:\n"
            "  - {name: wide, type: conv, out_channels: in_channels * 2, kernel_size: 3}\n"
            "  - {name: whole, type: conv, out_channels: 1, kernel_size: in_height, bias: false}\n")
    sweeper = Sweeper(archcalc.load("reads-input.yaml", text=text).spec)
    wide = {c: sweeper.report({"input": [c, 8, 8]}).layer("wide").params for c in (3, 5, 3)}
    assert wide == {3: 9 * 3 * 6 + 6, 5: 9 * 5 * 10 + 10}
    # `whole` spans the 6 × 6 map `wide` leaves of an 8 × 8 input (kernel 6), of a 10 × 10 one the 8 × 8 (kernel 8)
    assert sweeper.report({"input": [3, 8, 8]}).layer("whole").output_shape == (1, 1, 1)
    assert sweeper.report({"input": [3, 10, 10]}).layer("whole").params == 8 * 8 * 6


def test_pareto_front():
    rows = [{"macs": 1, "params": 9, "error": None}, {"macs": 5, "params": 5, "error": None},
            {"macs": 6, "params": 6, "error": None}, {"macs": 9, "params": 1, "error": None},
            {"macs": 5, "params": 5, "error": None}, {"macs": 0, "params": 0, "error": "bad"},
            {"macs": None, "params": 3, "error": None}]
    assert front(rows, ["macs", "params"]) == [rows[0], rows[1], rows[3], rows[4]]


def test_cli_table_pareto_and_formats(tmp_path):
    path = tmp_path / "net.json"
    path.write_text(json.dumps(NET))
    runner = CliRunner()
    done = runner.invoke(main, ["sweep", str(path), "--set", "width=4:8:2", "--set", "classes=10,100",
                                "--format", "json"])
    assert done.exit_code == 0, done.output
    table = json.loads(done.output)
    assert [r["width"] for r in table["rows"]] == [4, 4, 6, 6, 8, 8]
    assert table["rows"][0]["params"] == cold(width=4, classes=10).totals.params
    done = runner.invoke(main, ["sweep", str(path), "--set", "width=4:8:2", "--set", "classes=10,100",
                                "--pareto", "macs,params", "--format", "csv"])
    assert done.exit_code == 0, done.output
    assert len(list(csv.reader(done.output.splitlines()))) == 2  # the header and the smallest variant
    for fmt in ("terminal", "markdown", "latex", "html"):
        done = runner.invoke(main, ["sweep", str(path), "--set", "width=4,7.5", "--format", fmt])
        assert done.exit_code == 0 and "must divide" in done.output, (fmt, done.output)


@pytest.mark.parametrize(("args", "said"), [
    (["lenet5", "--set", "width=1"], "'width' is not an argument of the file"),
    (["lenet5", "--set", "input=1x32x32", "--pareto", "macs"], "two numbers or more"),
    (["lenet5", "--set", "input=1x32x32", "--pareto", "macs,speed"], "'speed' is not a number"),
    (["lenet5", "--set", "input=1x32x32", "-o", "out.txt"], "must end in .csv or .parquet"),
    (["nosuchnet", "--set", "a=1"], "is neither a file nor a zoo architecture"),
])
def test_cli_errors_are_one_line(tmp_path, monkeypatch, args, said):
    monkeypatch.chdir(tmp_path)
    done = CliRunner().invoke(main, ["sweep", *args])
    assert done.exit_code == 2 and said in done.output and len(done.output.strip().splitlines()) == 1, done.output


def read_csv(path):
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


def test_csv_output_matches_the_rows_and_resumes_after_a_torn_write(tmp_path):
    grid = {"width": [4, 6, 8, 7], "size": [32, 16, 8]}
    expected = archcalc.sweep(NET, grid)
    out = tmp_path / "rows.csv"
    assert archcalc.sweep(NET, grid, output=out, chunk=5) == 12
    whole = read_csv(out)
    assert [int(r["variant"]) for r in whole] == list(range(12))
    assert [r["error"] or None for r in whole] == [r["error"] for r in expected]
    assert [int(r["macs"]) if r["macs"] else None for r in whole] == [r["macs"] for r in expected]
    # an interrupted run: the first chunk complete, the second torn in the middle of a line
    text = out.read_text()
    lines = text.splitlines(keepends=True)
    out.write_text("".join(lines[:1 + 5]) + lines[6][:10])
    with pytest.raises(ArchcalcError, match="exists: --resume continues it"):
        archcalc.sweep(NET, grid, output=out)
    assert archcalc.sweep(NET, grid, output=out, chunk=5, resume=True) == 12
    assert out.read_text() == text


def test_resume_refuses_another_sweeps_file(tmp_path):
    out = tmp_path / "rows.csv"
    archcalc.sweep(NET, {"width": [4, 6]}, output=out)
    with pytest.raises(ArchcalcError, match="other columns"):
        archcalc.sweep(NET, {"size": [32, 16]}, output=out, resume=True)
    with pytest.raises(ArchcalcError, match="another sweep"):
        archcalc.sweep(NET, {"width": [6, 8]}, output=out, resume=True)


def test_parquet_output_resumes_from_its_parts(tmp_path, monkeypatch):
    pq = pytest.importorskip("pyarrow.parquet")
    from archcalc.sweep import sinks

    grid = {"width": [4, 6, 8, 7], "size": [32, 16, 8]}
    expected = archcalc.sweep(NET, grid)
    out = tmp_path / "rows.parquet"
    written = []
    original = sinks.ParquetSink.write

    def stopping(self, rows):  # the writer stops after two chunks, as an interrupted run would
        if len(written) == 2:
            raise KeyboardInterrupt
        written.append(len(rows))
        original(self, rows)

    monkeypatch.setattr(sinks.ParquetSink, "write", stopping)
    with pytest.raises(KeyboardInterrupt):
        archcalc.sweep(NET, grid, output=out, chunk=5)
    assert not out.exists() and len(list((tmp_path / "rows.parquet.parts").glob("part-*"))) == 2
    monkeypatch.setattr(sinks.ParquetSink, "write", original)
    assert archcalc.sweep(NET, grid, output=out, chunk=5, resume=True) == 12
    assert not (tmp_path / "rows.parquet.parts").exists()
    table = pq.read_table(out).to_pylist()
    assert table == expected
    assert archcalc.sweep(NET, grid, output=out, resume=True) == 12  # finished: nothing more to do


def test_joblib_workers_give_the_serial_rows():
    pytest.importorskip("joblib")
    grid = {"width": [4, 6, 7], "size": [32, 16, 8, 4]}
    assert archcalc.sweep(NET, grid, jobs=2, chunk=3) == archcalc.sweep(NET, grid)


def test_without_joblib_the_error_names_the_extra(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "joblib", None)
    with pytest.raises(ArchcalcError, match=r"pip install 'archcalc\[sweep\]'"):
        archcalc.sweep(NET, {"width": [4]}, jobs=2)


def test_plot_charts_a_sweep(tmp_path):
    pytest.importorskip("matplotlib")
    import xml.etree.ElementTree as ET

    out = tmp_path / "chart.svg"
    done = CliRunner().invoke(main, ["plot", "mobilenet_v1", "--set", "alpha=1,0.5", "--set", "resolution=224,160",
                                     "--colour-by", "resolution", "-o", str(out)])
    assert done.exit_code == 0, done.output
    assert ET.parse(out).getroot().tag.endswith("svg")
    done = CliRunner().invoke(main, ["plot", "lenet5", "resnet18", "--set", "input=1x32x32", "-o", str(out)])
    assert done.exit_code == 2 and "sweeps one architecture" in done.output
    done = CliRunner().invoke(main, ["plot", "lenet5", "--set", "input=1x8x8", "-o", str(out)])
    assert done.exit_code == 2 and "no valid variant" in done.output
