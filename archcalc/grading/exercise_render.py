"""An exercise as a sheet to hand out and a key to keep: markdown, CSV (both graded back) or LaTeX (printable)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ..escaping import csv_cell, latex_text, markdown_text, one_line
from .asks import sheet_line
from .sheet import SheetError

if TYPE_CHECKING:
    from .exercise import Exercise

FORMATS = ("markdown", "csv", "latex")
_NOTE = "Give exact numbers (K = 1000 if you abbreviate). Shapes are written C×H×W."


def _check(fmt: str) -> None:
    if fmt not in FORMATS:
        raise SheetError(f"exercise format must be one of {', '.join(FORMATS)}, got {fmt!r}")


def _title(ex: Exercise) -> str:
    shape = "×".join(str(d) for d in ex.network["input"])
    return f"Exercise {ex.kind} (seed {ex.seed}): input {shape} (C×H×W)"


def render_sheet(ex: Exercise, fmt: str, filled: bool) -> str:
    _check(fmt)
    line = sheet_line({"exercise": ex.kind, "seed": ex.seed})
    answers = [q.answer if filled else "" for q in ex.questions]
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerows([["question", "asks", "answer"],
                          *([q.id, q.text, csv_cell(a)] for q, a in zip(ex.questions, answers))])
        head = [f"# {line}", f"# student: {one_line(ex.student or '')}", f"# {_title(ex)}",
                *(f"# {layer}" for layer in ex.layers), f"# {_NOTE.replace(',', '')}"]
        return "\n".join(head) + "\n" + buffer.getvalue()
    if fmt == "latex":
        items = "\n".join(f"  \\item {_tex(q.text)}\\\\ \\textbf{{{_tex(a)}}}" if a else
                          f"  \\item {_tex(q.text)}\\\\[0.6em] \\underline{{\\hspace{{6cm}}}}"
                          for q, a in zip(ex.questions, answers))
        return _document(f"% {line}\n\\section*{{{_tex(_title(ex))}}}\nStudent: {_tex(ex.student or '')}"
                         f"\\hrulefill\n\n{_layers_tex(ex)}\n{_tex(_NOTE)}\n\\begin{{enumerate}}\n{items}\n"
                         "\\end{enumerate}")
    rows = [f"| {q.id} | {q.text.replace('|', '/')} | {a} |" for q, a in zip(ex.questions, answers)]
    return "\n".join([f"<!-- {line} -->", "", f"student: {markdown_text(ex.student or '')}", "", f"# {_title(ex)}", "",
                      *(f"- {layer}" for layer in ex.layers), "", _NOTE, "", "| question | asks | answer |",
                      "|---|---|---|", *rows]) + "\n"


def render_key(exercises: Sequence[Exercise], fmt: str) -> str:
    """One key for every exercise: per student (or seed) each answer with its arithmetic."""
    _check(fmt)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["student", "seed", "question", "answer", "arithmetic"])
        for ex in exercises:
            writer.writerows([csv_cell(ex.student or ""), ex.seed, q.id, csv_cell(q.answer), csv_cell(q.arithmetic)]
                             for q in ex.questions)
        return buffer.getvalue()
    if fmt == "latex":
        parts = []
        for ex in exercises:
            items = "\n".join(f"  \\item \\textbf{{{_tex(q.answer)}}} --- {_tex(q.arithmetic)}" for q in ex.questions)
            parts.append(f"\\section*{{{_tex(_heading(ex, str))}}}\n{_layers_tex(ex)}\n\\begin{{enumerate}}\n{items}\n"
                         "\\end{enumerate}")
        return _document("\n\n".join(parts))
    parts = []
    for ex in exercises:
        rows = [f"| {q.id} | {q.answer} | {q.arithmetic.replace('|', '/')} |" for q in ex.questions]
        parts += [f"## {_heading(ex, markdown_text)}", "", *(f"- {layer}" for layer in ex.layers), "",
                  "| question | answer | arithmetic |", "|---|---|---|", *rows, ""]
    return "\n".join(["# Key", "", *parts])


def _heading(ex: Exercise, escape: Callable[[str], str]) -> str:
    """The exercise's title after the student's name (`escape`d for the format)."""
    return (f"{escape(ex.student)}: " if ex.student else "") + _title(ex)


def _layers_tex(ex: Exercise) -> str:
    return "\\begin{itemize}\n" + "\n".join(f"  \\item {_tex(layer)}" for layer in ex.layers) + "\n\\end{itemize}"


def _tex(text: str) -> str:
    """Literal LaTeX; `<` and `>` as math, which the default font encoding would print as ¡ and ¿."""
    return latex_text(text).replace("<", "$<$").replace(">", "$>$")


def _document(body: str) -> str:
    return ("\\documentclass[11pt]{article}\n\\usepackage[utf8]{inputenc}\n\\usepackage[margin=2cm]{geometry}\n"
            f"\\begin{{document}}\n{body}\n\\end{{document}}\n")
