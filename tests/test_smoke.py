"""The LeNet-5 lecture table end to end (values: seed 000, NTUST "Example 3.1")."""

import archcalc


def test_lenet5_total_params_match_lecture_table():
    # seed 000, Example 3.1 table, "Total 61,706"
    assert archcalc.analyze("lenet5").totals.params == 61_706
