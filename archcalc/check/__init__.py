"""Homework checking: grade a hand-filled table of shapes, params, ops and memory, cell by cell.

    >>> import archcalc
    >>> grade = archcalc.check("lenet5", [{"layer": "C1", "params": "156"}])
    >>> grade.all_correct
    True
"""

from __future__ import annotations

import sys
import types

from .conventions import Conventions
from .grade import CellResult, Grade, check
from .sheet import SheetError

__all__ = ["CellResult", "Conventions", "Grade", "SheetError", "check"]


class _CallableModule(types.ModuleType):
    """`archcalc.check` is both this package and the `check` function: importing the package sets
    the attribute `archcalc.check` to the module, so the module forwards calls to the function."""

    def __call__(self, *args, **kwargs):
        return check(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
