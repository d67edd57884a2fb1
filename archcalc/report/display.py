"""The Report `archcalc.analyze` returns: the analysis's numbers, and the ways to show them.

`archcalc.analysis` computes and knows nothing of tables (it never imports this package); this
subclass adds `to_table`, `render`, and the hooks with which rich (`__rich__`) and Jupyter
(`_repr_html_`) show the full table.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import wraps
from typing import Any

from .. import analysis
from . import to_table
from .formats import render


@dataclass(frozen=True)
class Report(analysis.Report):
    """The analysis of one architecture (`archcalc.analysis.Report`) that also shows itself."""

    def to_table(self, style: str = "full", **options: Any):
        """The report as a `report.Table` in a style: full, lecture, structural, keras, cs231n,
        paper or torch (options: units, ops, depth, columns)."""
        return to_table(self, style, **options)

    def render(self, format: str = "terminal", style: str = "full", **options: Any) -> str:
        """The report as text: terminal, markdown, csv, json, latex or html."""
        return render(self.to_table(style, **options), format)

    def __rich__(self) -> Any:
        from .formats.terminal import rich_table

        return rich_table(self.to_table())

    def _repr_html_(self) -> str:
        from .formats.html import fragment

        return fragment(self.to_table())


def shown(report: analysis.Report) -> Report:
    """`report` as a Report that shows itself (the same numbers, not copied)."""
    if isinstance(report, Report):
        return report
    return Report(**{f.name: getattr(report, f.name) for f in fields(analysis.Report)})


@wraps(analysis.analyze)
def analyze(*args: Any, **options: Any) -> Report:
    return shown(analysis.analyze(*args, **options))
