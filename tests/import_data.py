"""The stored reference data of the importers (written by tools/reference_import.py)."""

from __future__ import annotations

import json
from pathlib import Path

DATA = Path(__file__).parent / "data"
REFERENCE = json.loads((DATA / "reference_import.json").read_text())
IMPORTED = sorted((DATA / "imported" / "torchvision").glob("*.yaml"))


def conv_linear_counts(report) -> tuple[int, int, int]:
    """Trainable params, non-trainable params and Conv + Linear MACs, as torchvision's are recorded (an `eca`
    layer's MACs are its 1-D convolution's: timm's EcaModule's `Conv1d`, which the hooks count)."""
    macs = sum(r.macs for r in report.layers if r.type in ("conv", "linear", "pointlinear", "eca"))
    return report.totals.trainable_params, report.totals.non_trainable_params, macs
