"""Grading answer sheets through the public API only (`import archcalc`).

The sheets in tests/sheets/ are typed from the seed slides (see tests/sheets/README.md); the planted
mistakes are named in each sheet. Expected values are the slides' numbers.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import archcalc

SHEETS = Path(__file__).parent / "sheets"


def grade(arch, name, conventions=None, **kwargs):
    return archcalc.check(arch, str(SHEETS / name), conventions, **kwargs)


def only_wrong(result):
    return {(c.layer, c.column): c for c in result.cells if c.verdict in ("wrong", "unparseable")}


# The sheets have no `archcalc sheet:` line: they ask every layer after the input that allocates memory,
# and the TOTAL row because the instructor asks it (total=True).
@pytest.mark.parametrize("arch, sheet, conventions, cells, blank", [
    ("lenet5", "lenet5-lecture.md", None, 7 * 3 + 1, 0),        # seed 000 Example 3.1: input, output, params + total
    ("lenet5", "lenet5-macs.csv", None, 8, 0),
    # seed 000 AlexNet structural table: the slide leaves the shapes of fc6, fc7, fc8 blank
    ("alexnet-lecture", "alexnet-structural.tsv", None, 11 * 3 + 1, 6),
    # seed 000 VGG-16 Keras summary: its InputLayer and Flatten rows are not asked
    ("vgg16", "vgg16-keras.md", None, 21 * 2 + 1, 0),
    # seed 004, weights without bias: its INPUT row is not asked, and its TOTAL row leaves the memory blank
    ("vgg16", "vgg16-cs231n.tsv", archcalc.Conventions(bias=False), 21 * 3 + 2, 1),
])
def test_the_slides_tables_grade_every_written_cell_correct(arch, sheet, conventions, cells, blank):
    result = grade(arch, sheet, conventions, total=True)
    assert result.wrong == result.unparseable == 0, result.to_text(brief=True)
    assert result.graded == cells and result.unanswered == blank
    assert result.score == result.completeness == (cells - blank) / cells
    assert result.all_correct == (blank == 0)


def test_blank_slide_cells_are_not_answered_with_their_values():
    cell = grade("alexnet-lecture", "alexnet-structural.tsv").cell("fc6", "input")
    assert cell.verdict == "unanswered" and cell.expected == "9216"      # 6·6·256 = 9,216 (the slide's "in")


def test_lecture_table_reads_shapes_as_w_h_d_and_params_after_the_equals_sign():
    result = grade("lenet5", "lenet5-lecture.md", total=True)
    c1 = result.cell("C1", "params")
    assert c1.answer == "1 × 5 × 5 × 6 + 6 = 156" and c1.expected == "156"
    assert "W×H×D (lecture)" in result.cell("C3", "output").note
    assert result.cell("TOTAL", "params").expected == "61,706"     # seed 000 Example 3.1 total


def test_keras_shapes_are_read_as_keras():
    result = grade("vgg16", "vgg16-keras.md", total=True)
    assert result.cell("block2_conv1", "output").note == "read as (None, H, W, C) (Keras)"
    assert result.cell("TOTAL", "params").expected == "138,357,544"   # seed 000 "Total params: 138357544"


def test_cs231n_sheet_is_matched_by_position_and_its_total_is_the_rows_sum():
    result = grade("vgg16", "vgg16-cs231n.tsv", {"bias": False}, total=True)
    assert result.matched_by == "position"
    assert result.cell("block1_conv1", "params").expected == "1,728"     # seed 004: (3*3*3)*64 = 1,728
    assert result.cell("fc1", "params").expected == "102,760,448"        # seed 004: 7*7*512*4096
    assert result.cell("TOTAL", "params").answer == "138M"


def test_lenet_planted_mistakes_are_diagnosed_without_false_alarms():
    wrong = only_wrong(grade("lenet5", "lenet5-mistakes.md", total=True))
    assert set(wrong) == {("C3", "params"), ("C5", "params"), ("TOTAL", "params")}
    assert wrong[("C3", "params")].expected == "2,416"
    assert wrong[("C3", "params")].diagnosis == ("forgot the bias: 2,400 weights + 16 biases",)
    assert wrong[("C3", "params")].arithmetic == "6 × 5 × 5 × 16 + 16 = 2,416"
    assert wrong[("C5", "params")].diagnosis[0].startswith("forgot the input depth")
    assert "the errors are in the rows above" in wrong[("TOTAL", "params")].diagnosis[0]


def test_flops_given_where_macs_are_asked():
    wrong = only_wrong(grade("lenet5", "lenet5-flops-mistake.csv"))
    assert set(wrong) == {("C3", "ops")}
    assert wrong[("C3", "ops")].expected == "240,000"              # 10·10·16·(6·5·5)
    assert wrong[("C3", "ops")].diagnosis == ("counted FLOPs (2 per multiply-accumulate) where MACs are asked",)


def test_the_sheets_macs_header_wins_over_a_flops_convention_with_one_warning():
    result = grade("lenet5", "lenet5-flops-mistake.csv", {"ops": "flops"})
    assert set(only_wrong(result)) == {("C3", "ops")}
    assert len(result.warnings) == 1 and "ops=macs" in result.warnings[0] and "ops=flops" in result.warnings[0]


def test_the_flops_convention_overriding_the_sheet_accepts_the_doubled_cell_and_diagnoses_macs():
    result = grade("lenet5", "lenet5-flops-mistake.csv", {"ops": "flops"}, override=True)
    assert result.conventions.ops == "flops"
    wrong = only_wrong(result)
    assert ("C3", "ops") not in wrong
    assert wrong[("C1", "ops")].diagnosis == ("gave MACs where FLOPs (2 × MACs) are asked",)
    assert wrong[("C1", "ops")].expected == "235,200"             # 2 × 117,600


def test_keras_planted_mistakes():
    wrong = only_wrong(grade("vgg16", "vgg16-keras-mistakes.md"))
    assert set(wrong) == {("block1_conv1", "output"), ("block1_conv1", "params"), ("block3_conv1", "params")}
    assert any("padding once" in d for d in wrong[("block1_conv1", "output")].diagnosis)
    assert wrong[("block1_conv1", "params")].diagnosis == ("forgot the bias: 1,728 weights + 64 biases",)
    assert wrong[("block3_conv1", "params")].diagnosis[0].startswith("forgot the input depth")


def test_alexnet_planted_mistakes():
    wrong = only_wrong(grade("alexnet-lecture", "alexnet-mistakes.tsv"))
    assert set(wrong) == {("conv2", "output"), ("fc6", "params"), ("fc8", "params")}
    assert wrong[("conv2", "output")].diagnosis == (
        "applied the padding once (W − F + P) instead of on both sides (W − F + 2P)",)
    assert wrong[("fc6", "params")].diagnosis[0].startswith("forgot the bias")
    assert wrong[("fc8", "params")].diagnosis[0].startswith("used K = 1024")


def test_cs231n_planted_mistakes_and_the_24m_total():
    wrong = only_wrong(grade("vgg16", "vgg16-cs231n-mistakes.tsv", {"bias": False}, total=True))
    assert set(wrong) == {("block1_conv1", "memory"), ("block1_pool", "memory"), ("TOTAL", "memory")}
    for layer in ("block1_conv1", "block1_pool"):
        assert wrong[(layer, "memory")].diagnosis[0].startswith("used K = 1024")
    total = wrong[("TOTAL", "memory")]
    assert total.answer == "24M" and total.expected == "15,237,608"   # docs/errata.md: the slide's 24M
    assert total.diagnosis == ("does not equal the sum of your own rows, which add up to about 15.1M",)


def test_ceil_instead_of_floor_on_alexnet_at_224():
    # The classic AlexNet erratum: (224 − 11)/4 + 1 = 54.25, so a 224 input gives 54, not 55.
    result = archcalc.check("alexnet-lecture", [{"layer": "conv1", "output": "55×55×96"}], input=[3, 224, 224])
    cell = result.cell("conv1", "output")
    assert cell.verdict == "wrong" and cell.expected.startswith("54×54×96")
    assert cell.diagnosis == ("rounded up (ceil) where the output-size formula rounds down (floor)",)


INLINE = {
    "name": "small", "input": [32, 56, 56],
    "layers": [
        {"name": "dw", "type": "conv", "out_channels": 32, "kernel_size": 3, "padding": 1, "groups": 32},
        {"name": "pw", "type": "conv", "out_channels": 64, "kernel_size": 1, "bias": False},
        {"name": "bn", "type": "batchnorm"},
        {"name": "pool", "type": "maxpool", "kernel_size": 3, "stride": 2},
    ],
}


def test_depthwise_groups_ignored():
    # depthwise 3×3 on 32 channels: 3·3·1·32 + 32 = 320; ignoring groups gives 3·3·32·32 + 32 = 9,248
    result = archcalc.check(INLINE, [{"layer": "dw", "params": "9,248"}, {"layer": "pw", "params": "2048"}])
    assert result.cell("pw", "params").correct                    # 1·1·32·64 = 2,048
    cell = result.cell("dw", "params")
    assert cell.expected == "320" and cell.diagnosis[0].startswith("ignored groups = 32")


def test_batchnorm_statistics_left_out():
    # BatchNorm on 64 channels: γ, β (128 trainable) + running mean, var (128 non-trainable) = 256
    cell = archcalc.check(INLINE, [{"layer": "bn", "params": 128}]).cell("bn", "params")
    assert cell.expected == "256" and "non-trainable" in cell.diagnosis[0]


def test_batch_forgotten_and_bytes_for_elements():
    # pool: floor((56 − 3)/2) + 1 = 27 → 64·27·27 = 46,656 elements per sample; batch 8 → 373,248
    conventions = archcalc.Conventions(batch=8)
    result = archcalc.check(INLINE, [{"layer": "pool", "memory": "46656"}, {"layer": "pw", "memory": "6,422,528"}],
                            conventions)
    assert result.cell("pool", "memory").expected == "373,248"
    assert result.cell("pool", "memory").diagnosis == ("forgot the batch: × 8",)
    # pw: 8 · 64·56·56 = 1,605,632 elements; 6,422,528 = × 4 bytes
    assert result.cell("pw", "memory").diagnosis[0].startswith("gave bytes")


def test_memory_with_a_byte_unit_is_compared_in_bytes():
    # block1_conv1 of VGG-16: 224·224·64 = 3,211,264 elements = 12,845,056 B ≈ 12.8 MB
    result = archcalc.check("vgg16", [{"layer": "block1_conv1", "memory": "12.8 MB"},
                                      {"layer": "block1_conv2", "memory": "3.2 MB"}])
    assert result.cell("block1_conv1", "memory").correct
    assert result.cell("block1_conv2", "memory").diagnosis[0].startswith("wrote the element count with a byte unit")


def test_ceil_on_a_pool_that_does_not_tile():
    # pool: (56 − 3)/2 + 1 = 27.5 → 27 (floor); 28 is the ceil slip
    cell = archcalc.check(INLINE, [{"layer": "pool", "output": "28x28x64"}]).cell("pool", "output")
    assert cell.diagnosis == ("rounded up (ceil) where the output-size formula rounds down (floor)",)


def test_error_carried_forward_from_the_students_own_input():
    # conv2 of AlexNet written 31×31×256 (wrong: 27×27×256); maxpool2 3×3/2 of that 31 gives
    # (31 − 3)/2 + 1 = 15, which no slip of the true (27 − 3)/2 + 1 = 13 explains.
    result = archcalc.check("alexnet-lecture", [{"layer": "conv2", "output": "31x31x256"},
                                                {"layer": "maxpool2", "output": "15x15x256"}])
    cell = result.cell("maxpool2", "output")
    assert cell.verdict == "wrong"
    assert "carried forward" in cell.diagnosis[0]


def test_grade_to_dict_and_markdown():
    result = grade("lenet5", "lenet5-mistakes.md", total=True)
    data = result.to_dict()
    assert data["graded"] == 15 and data["wrong"] == 3 and data["correct"] == 12
    assert data["conventions"]["bias"] is True
    assert {"row", "layer", "column", "answer", "verdict", "expected", "arithmetic", "diagnosis"} <= set(
        data["cells"][0])
    markdown = result.to_markdown()
    assert "| C3 | params | 2,400 | ✗ wrong | 2,416 |" in markdown
    assert "Score: 12/15" in markdown


def test_answers_as_text_and_as_records_agree():
    text = "layer,params\nC1,156\nC3,2400\n"
    records = [{"layer": "C1", "params": 156}, {"layer": "C3", "params": "2400"}]
    verdicts = [[c.verdict for c in archcalc.check("lenet5", answers).cells] for answers in (text, records)]
    assert verdicts[0] == verdicts[1]
    assert verdicts[0][:3] == ["correct", "unanswered", "wrong"]      # C1, S2 (no row), C3


def test_an_unknown_row_name_is_a_note_not_a_cell_and_all_unknown_is_an_error():
    result = archcalc.check("lenet5", [{"layer": "C1", "params": 156}, {"layer": "C33", "params": 1}])
    assert "row 2 'C33' is no layer of lenet5 (did you mean 'C3'?): not graded" in result.notes
    assert [c.layer for c in result.cells] == ["C1", "S2", "C3", "S4", "C5", "F6", "F7"]
    with pytest.raises(archcalc.ArchcalcError, match="none of the sheet's layer names"):
        archcalc.check("lenet5", [{"layer": "conv1", "params": 156}])


def test_unreadable_cells_are_unparseable_not_errors():
    result = archcalc.check("lenet5", [{"layer": "C1", "params": "lots", "output": "28 by 28"}])
    assert {c.verdict for c in result.cells if c.layer == "C1"} == {"unparseable"}
    assert {c.verdict for c in result.cells if c.layer != "C1"} == {"unanswered"}
    assert not result.all_correct


def test_bad_conventions_are_clear_errors():
    with pytest.raises(archcalc.ArchcalcError, match="ops must be one of macs, flops"):
        archcalc.Conventions(ops="gflops")
    with pytest.raises(archcalc.ArchcalcError, match="unknown field"):
        archcalc.check("lenet5", "layer,params\nC1,156\n", {"biases": False})

CELL = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=30),
                 st.lists(st.integers(), max_size=5), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))
ROW = st.dictionaries(st.sampled_from(["layer", "output", "params", "MACs", "memory", "input", "x"]), CELL, max_size=6)


@settings(max_examples=60, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=300), st.lists(ROW, max_size=12)))
def test_any_sheet_gives_a_grade_or_an_archcalc_error(answers):
    try:
        result = archcalc.check("lenet5", answers)
    except archcalc.ArchcalcError as exc:
        assert "\n" not in str(exc)
        return
    assert result.graded == result.correct + result.wrong + result.unparseable + result.unanswered
    assert 0 <= result.score <= result.completeness <= 1 or result.graded == 0
    result.to_dict()
    result.to_markdown()
