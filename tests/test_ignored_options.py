"""Nothing is ignored silently: an option a style or a format cannot honour gets one warning that
names it, and an honoured option gets none."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from archcalc.cli import main
from archcalc.report.styles import STYLES

OPTIONS = {"depth": ["--depth", "1"], "ops": ["--ops", "flops"], "count": ["--count", "fvcore"]}
#: which styles lay out these options (read from each style's table, not from its declaration)
HONOURED = {"depth": {"full", "paper", "torch"}, "ops": {"full"}, "count": {"full"}}


def stderr_of(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.stderr


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("option", OPTIONS)
def test_table_warns_of_each_option_its_style_ignores(style, option):
    err = stderr_of("table", "resnet18", "--style", style, *OPTIONS[option])
    flag = " ".join(OPTIONS[option])
    warned = [line for line in err.splitlines() if line.startswith("archcalc: warning:") and flag in line]
    if style in HONOURED[option]:
        assert not warned, err
    else:
        assert len(warned) == 1 and f"--style {style}" in warned[0], err


def test_the_styles_that_honour_depth_are_those_whose_rows_change():
    # HONOURED is checked against the tables themselves
    def rows(style, depth):
        args = ["table", "resnet18", "--style", style, "--format", "csv", "--depth", depth]
        return CliRunner().invoke(main, args).stdout.count("\n")

    for style in STYLES:
        assert (rows(style, "1") != rows(style, "2")) == (style in HONOURED["depth"]), style


@pytest.mark.parametrize(("args", "flag"), [
    (["table", "lenet5", "--format", "csv", "--units", "si"], "--units si"),
    (["table", "lenet5", "--format", "json", "--units", "binary"], "--units binary"),
    (["table", "lenet5", "--format", "json", "--ops", "flops"], "--ops flops"),
    (["compare", "lenet5", "alexnet", "--format", "csv", "--units", "binary"], "--units binary"),
])
def test_formats_warn_of_what_they_ignore(args, flag):
    err = stderr_of(*args)
    assert any(line.startswith("archcalc: warning:") and flag in line for line in err.splitlines()), err


def test_honoured_options_get_no_warning():
    assert stderr_of("table", "lenet5", "--units", "si", "--ops", "flops", "--depth", "1") == ""
    assert stderr_of("table", "lenet5", "--format", "json", "--count", "fvcore") == ""


def test_a_narrow_terminal_names_the_columns_it_hides():
    from archcalc import analyze
    from archcalc.report import render, to_table
    from archcalc.report.formats import terminal

    table = to_table(analyze("lenet5"), "full")
    wide = terminal.render(table, color=False, width=400)
    narrow = terminal.render(table, color=False, width=80)
    assert "hidden" not in wide and "Receptive field" in wide
    note = narrow.splitlines()[-1]
    assert "Receptive field (rf)" in note and "--columns" in note
    assert render(table, "markdown").count("Receptive field") == 1


@pytest.mark.parametrize(("first", "other", "words"), [
    (100, 103, "about the same MACs"), (100, 96, "about the same MACs"), (100, 110, "1.1× more MACs"),
    (1000, 21400, "21× more MACs"), (576_000, 26_900, "21× fewer MACs"), (100, 100, "same MACs"),
])
def test_compare_ratios_have_two_digits(first, other, words):
    from archcalc.report.compare import ratio

    assert ratio(first, other, "MACs") == words


def test_compare_says_less_memory_not_fewer():
    from archcalc.report.compare import ratio

    assert ratio(414_000, 388_900 // 2, "peak memory", is_bytes=True) == "2.1× less peak memory"
