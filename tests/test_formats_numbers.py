"""Machine-readable formats carry plain numbers: every CSV cell that stands for a number is the raw
integer (no separators, no unit letters) and equals the JSON value; `list` never cuts a field."""

from __future__ import annotations

import csv
import html
import io
import json
import re

import pytest
from click.testing import CliRunner

import archcalc
from archcalc.cli import main

STYLES = ("full", "lecture", "structural", "keras", "cs231n", "paper", "torch")
# A count or size as a person writes it: separators, shorthand letters or a byte unit.
FORMATTED = re.compile(r"^-?\d{1,3}(,\d{3})+$|^-?\d+(\.\d+)?\s?([KMGTP]i?B?|B|bytes)$")


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout  # stderr may warn that csv writes numbers in full, whatever --units says


def _parse(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return float(text)


def _csv(*args: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(run(*args, "--format", "csv"))))


@pytest.mark.parametrize("units", ["exact", "si", "binary"])
@pytest.mark.parametrize("style", STYLES)
def test_every_csv_number_is_raw_and_equals_the_json_value(style: str, units: str):
    args = ("table", "googlenet-paper", "--style", style, "--units", units)
    data = json.loads(run(*args, "--format", "json"))
    header, *body = _csv(*args)
    keys = [c["key"] for c in data["columns"]]
    expected = data["rows"] + ([data["totals"]] if data["totals"] else [])
    assert len(body) == len(expected)
    numbers = 0
    for row, values in zip(body, expected):
        for key, cell in zip(keys, row):
            value = values[key]
            assert not FORMATTED.match(cell), (key, cell)
            if isinstance(value, int | float) and not isinstance(value, bool):
                assert _parse(cell) == value, (key, cell, value)
                numbers += 1
    assert numbers >= len(body) / 2  # most rows carry a number
    units_of = {c["key"]: c["unit"] for c in data["columns"]}
    for column, title in zip(data["columns"], header):
        assert title == (f"{column['header']} ({units_of[column['key']]})" if column["unit"] else column["header"])


def test_full_csv_numbers_are_the_analysis_numbers():
    report = json.loads(run("table", "resnet18", "--format", "json", "--batch", "2"))
    header, *body = _csv("table", "resnet18", "--batch", "2")
    column = {title.split(" (")[0]: i for i, title in enumerate(header)}
    for row, layer in zip(body, report["layers"]):
        assert row[column["Layer"]] == layer["name"]
        assert int(row[column["Params"]]) == layer["params"]
        assert int(row[column["MACs"]]) == layer["macs"]
        assert int(row[column["Activation"]]) == (layer["activation_bytes"] if layer["allocates"] else 0)
    total = body[-1]
    assert int(total[column["Params"]]) == report["totals"]["params"] == 11_699_112  # torchvision resnet18 + BN stats
    assert int(total[column["MACs"]]) == report["totals"]["macs"]


def _sources(fmt: str) -> dict[str, str]:
    """Name → source as `list --format fmt` prints it, read back with that format's own rules."""
    output = run("list", "--format", fmt)
    assert "…" not in output
    if fmt == "csv":
        return {row[0]: row[-1] for row in csv.reader(io.StringIO(output))}
    if fmt == "json":
        return {row["name"]: row["source"] for row in json.loads(output)["rows"]}
    cells = [re.split(r"(?<!\\)\|", line)[1:-1] for line in output.splitlines() if line.startswith("| ")]
    return {_markdown_text(c[0]): _markdown_text(c[-1]) for c in cells}


def _markdown_text(cell: str) -> str:
    """A markdown cell's text as it reads: backslash escapes and character references undone."""
    return html.unescape(re.sub(r"\\(.)", r"\1", cell.strip()))


@pytest.mark.parametrize("fmt", ["csv", "json", "markdown"])
def test_list_never_cuts_a_field(fmt: str):
    sources = _sources(fmt)
    for name in ("vgg16", "googlenet-paper", "resnet50"):
        source = " ".join(archcalc.load(name).spec.source.split())
        assert len(source) > 60  # long enough that the terminal cuts it
        assert sources[name] == source


def test_list_terminal_cuts_long_sources_to_fit():
    output = run("list", "--format", "terminal")
    assert "…" in output


def test_list_csv_numbers_are_the_analysis_totals():
    header, *body = _csv("list", "vgg", "--units", "si")
    assert header[3:5] == ["Params (count)", "MACs (multiply-accumulates)"]
    rows = {row[0]: row for row in body}
    vgg16 = archcalc.analyze("vgg16").totals
    assert int(rows["vgg16"][3]) == vgg16.params == 138_357_544  # seed 000, "Total params: 138357544"
    assert int(rows["vgg16"][4]) == vgg16.macs
