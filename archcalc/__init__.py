"""archcalc: shapes, parameters, MACs, FLOPs, memory and receptive fields of CNN architectures.

    >>> import archcalc
    >>> archcalc.analyze("lenet5").totals.params
    61706
    >>> archcalc.conv_output_size(227, 11, stride=4, padding=0)
    55

Names are imported on first use, so `import archcalc` (and `archcalc --help`) stays fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "analyze": "report.display", "Report": "report.display", "LayerRecord": "analysis", "Totals": "analysis",
    "ReceptiveField": "analysis",
    "load": "architecture", "Architecture": "architecture",
    "ArchcalcError": "errors", "SpecError": "errors", "GraphError": "errors", "ShapeError": "errors",
    "TilingError": "errors", "ExecutionError": "errors",
    "conv_output_size": "formulas", "conv_params": "formulas", "conv_macs": "formulas",
    "linear_params": "formulas", "same_padding": "formulas",
    "execute": "executor", "to_torch": "interop.torch_build", "init_weights": "executor", "load_weights": "executor",
    "save_weights": "executor",
    "import_model": "interop",
    "check": "grading", "Grade": "grading", "Conventions": "grading",
    "draw": "draw",
    "check_many": "grading", "template": "grading", "exercise": "grading",
    "sweep": "sweep",
    "training_cost": "training", "TrainingCost": "training",
    "training_memory": "training", "TrainingMemory": "step_memory",
}

#: Packages that are also their function of the same name: `archcalc.draw("lenet5")` and `archcalc.draw.plot`.
_CALLABLE_PACKAGES = {"draw", "sweep"}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'archcalc' has no attribute {name!r}")
    imported = import_module(f"{__name__}.{module}")
    value = imported if name in _CALLABLE_PACKAGES else getattr(imported, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
