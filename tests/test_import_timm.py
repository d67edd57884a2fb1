"""The stored imports of timm's CNNs (tests/data/imported/timm/, written by tools/reference_import_timm.py
with torch 2.14.1 and timm 1.0.31) against timm's own counts (tests/data/reference_timm.json, measured
by tools/reference_timm.py with forward hooks): trainable parameters, BatchNorm running statistics and
Conv2d + Linear MACs. Every CNN of the reference is either stored or refused with archcalc's reason
(refused.json), and the docs name each refused one."""

from __future__ import annotations

import json

import pytest

import archcalc
from tests.import_data import DATA, conv_linear_counts

TIMM = json.loads((DATA / "reference_timm.json").read_text())["models"]
FOLDER = DATA / "imported" / "timm"
STORED = sorted(FOLDER.glob("*.yaml"))
REFUSED = json.loads((FOLDER / "refused.json").read_text())
CNNS = {name for name, record in TIMM.items() if record.get("kind") == "cnn" and "error" not in record}


@pytest.mark.parametrize("path", STORED, ids=lambda p: p.stem)
def test_stored_timm_imports_count_as_timm(path):
    reference = TIMM[path.stem]
    report = archcalc.analyze(str(path))
    assert conv_linear_counts(report) == (reference["trainable_params"], reference["bn_running_stats"],
                                          reference["macs_conv_linear"])


def test_every_timm_cnn_is_stored_or_refused_with_a_reason():
    stored = {p.stem for p in STORED}
    assert stored | set(REFUSED) == CNNS and not stored & set(REFUSED)
    assert all(reason.strip() for reason in REFUSED.values())


def test_at_least_95_percent_of_the_timm_cnns_import_exactly():
    assert len(STORED) >= 0.95 * len(CNNS), f"{len(STORED)} of {len(CNNS)}"


OTHERS = json.loads((FOLDER / "others.json").read_text())


def test_timm_transformers_mlps_and_hybrids_are_refused_not_miscounted():
    """Recorded by tools/reference_import_timm.py --others: each model of the reference that is no CNN was
    refused, with archcalc's reason (none was imported, so none was counted wrong)."""
    others = {name for name, record in TIMM.items() if record.get("kind") != "cnn" and "error" not in record}
    assert set(OTHERS) == others and {record["kind"] for record in OTHERS.values()} == {"transformer", "mlp", "hybrid"}
    assert all(record.get("refused", "").strip() and "imported" not in record for record in OTHERS.values())


def test_the_docs_name_every_refused_timm_model():
    text = (DATA.parents[1] / "docs" / "importing.md").read_text()
    assert all(f"`{name}`" in text for name in REFUSED)


RESIZING = [p for p in STORED if TIMM[p.stem].get("interpolate")]


@pytest.mark.parametrize("path", RESIZING, ids=lambda p: p.stem)
def test_stored_timm_imports_upsample_where_timm_interpolates(path):
    """Each `F.interpolate` timm ran (recorded with its shapes in the reference) is one `upsample` layer of
    the same input and output size and mode (HRNet's fusions, GhostNetV2's attention)."""
    report = archcalc.analyze(str(path))
    ours = sorted((list(r.input_shapes[0]), list(r.output_shape), r.layer.mode) for r in report.layers
                  if r.type == "upsample")
    theirs = sorted((call["input_shape"][1:], call["output_shape"][1:], call["mode"])
                    for call in TIMM[path.stem]["interpolate"])
    assert ours == theirs
