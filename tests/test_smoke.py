"""The LeNet-5 lecture table end to end (values: seed 000, NTUST "Example 3.1")."""

import archcalc


def test_lenet5_total_params_match_lecture_table():
    # seed 000, Example 3.1 table, "Total 61,706"
    assert archcalc.analyze("lenet5").totals.params == 61_706


def test_lenet5_reference_block_holds_the_lecture_column():
    # seed 000, Example 3.1, Params column: 156, 0, 2,416, 0, 48,120, 10,164, 850
    reference = archcalc.load("lenet5").spec.reference
    assert reference["params"] == {"C1": 156, "S2": 0, "C3": 2416, "S4": 0, "C5": 48120, "F6": 10164, "F7": 850}
    report = archcalc.analyze("lenet5")
    assert {name: report.layer(name).params for name in reference["params"]} == reference["params"]
    assert reference["total_params"] == report.totals.params
