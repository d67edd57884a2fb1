"""Homework checking: grade a hand-filled table of shapes, params, ops and memory, cell by cell.

    >>> import archcalc
    >>> grade = archcalc.check("lenet5", [{"layer": "C1", "params": "156"}])
    >>> grade.cell("C1", "params").correct, grade.graded    # every layer after the input is asked
    (True, 7)
"""

from __future__ import annotations

from .conventions import Conventions
from .exercise import Exercise, exercise
from .grade import check
from .gradebook import Gradebook, check_many
from .result import CellResult, Grade
from .sheet import SheetError
from .template import template

__all__ = ["CellResult", "Conventions", "Exercise", "Grade", "Gradebook", "SheetError", "check", "check_many",
           "exercise", "template"]
