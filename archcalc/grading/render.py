"""A Grade as plain text (the terminal) and as markdown (for feedback to students)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .grade import CellResult, Grade

MARKS = {"correct": "✓", "wrong": "✗", "unparseable": "?"}


def _explanation(cell: CellResult) -> str:
    if cell.verdict == "correct":
        return cell.note
    if cell.verdict == "unparseable":
        return f"cannot read it: {cell.note}" if cell.note else "cannot read it"
    text = f"expected {cell.expected}"
    if cell.diagnosis:
        text += " — " + "; ".join(cell.diagnosis)
    return text


def _header(grade: Grade) -> list[str]:
    lines = [f"{grade.architecture} ← {grade.sheet} ({grade.sheet_format}, rows matched by {grade.matched_by})",
             f"conventions: {grade.conventions.describe()}"]
    return lines + [f"note: {note}" for note in grade.notes]


def grade_text(grade: Grade, *, brief: bool = False) -> str:
    """One line per cell (only the cells that are not correct with `brief`), then the score."""
    cells = [c for c in grade.cells if not (brief and c.correct)]
    width = max((len(c.layer) for c in cells), default=5)
    answer_width = min(max((len(c.answer) for c in cells), default=6), 24)
    lines = _header(grade) + [""]
    for cell in cells:
        lines.append(f"{cell.layer:<{width}}  {cell.column:<7} {cell.answer:<{answer_width}}  "
                     f"{MARKS[cell.verdict]} {cell.verdict:<11} {_explanation(cell)}".rstrip())
        if cell.verdict == "wrong" and cell.arithmetic:
            lines.append(f"{'':<{width}}  {'':<7} {'':<{answer_width}}    arithmetic: {cell.arithmetic}")
    lines += ["", grade.summary()]
    return "\n".join(lines)


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def grade_markdown(grade: Grade) -> str:
    """A markdown table of every cell, with the arithmetic of the wrong ones, and the score."""
    lines = [f"**{_md(grade.architecture)}** — {_md(grade.sheet)}", "",
             f"Conventions: {grade.conventions.describe()}.", ""]
    lines += [f"- {_md(note)}" for note in grade.notes] + ([""] if grade.notes else [])
    lines += ["| layer | column | answer | verdict | expected | why |", "|---|---|---|---|---|---|"]
    for cell in grade.cells:
        why = "; ".join(cell.diagnosis) if cell.verdict == "wrong" else cell.note
        if cell.verdict == "wrong" and cell.arithmetic:
            why = f"{why} (arithmetic: {cell.arithmetic})" if why else f"arithmetic: {cell.arithmetic}"
        lines.append(f"| {_md(cell.layer)} | {cell.column} | {_md(cell.answer)} | {MARKS[cell.verdict]} "
                     f"{cell.verdict} | {_md(cell.expected)} | {_md(why)} |")
    lines += ["", f"**{grade.summary()}**"]
    return "\n".join(lines) + "\n"
