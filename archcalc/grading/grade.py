"""Grading a sheet: match its rows to layers, read every cell, and give each a verdict.

A verdict is `correct`, `wrong` (with the expected value, the arithmetic, and a diagnosis when a
classic mistake explains the number), `unparseable` (with the reason) or `unanswered`. Every cell
the exercise asks is graded, and no other (archcalc.grading.asked): a blank cell, or the cells of a
layer, column or TOTAL the sheet has no row or column for, are `unanswered`; a row the exercise does
not ask (a label that is no layer, a second row for a layer, an unasked total) is named in a note.
"""

from __future__ import annotations

import re
from dataclasses import replace
from fractions import Fraction
from typing import Any

from ..analysis import LayerRecord, Report, analyze
from ..architecture import load
from ..errors import ArchcalcError, suggestion
from . import diagnose, shape_order
from .asked import Asked, asked, column_notes, sort_rows
from .asks import given_fields, resolve, sheet_asks, sheet_decides
from .conventions import Conventions
from .expected import COUNT_COLUMNS, SHAPE_COLUMNS, expected_cell, expected_total
from .mistyped import read_mistyped
from .numbers import Number, ShapeAnswer, Unreadable, parse_count, parse_shape, shape_readings
from .result import CellResult, Grade
from .sheet import Row, Sheet, SheetError, read_sheet

TOTAL = "TOTAL"


def check(arch: Any, answers: Any, conventions: Conventions | dict[str, Any] | None = None, *,
          input: list[int] | tuple[int, ...] | None = None, override: bool = False,
          weights: dict[str, float] | str | None = None, partial: float = 0.0, total: bool | None = None) -> Grade:
    """Grade `answers` (a path, text, or a list of dicts) against `arch` (a zoo name, path or mapping).

    What the sheet says it asks (its `archcalc sheet:` line, its headers) wins over `conventions`,
    `input` and `total` that contradict it, with a warning in `Grade.warnings`, unless `override`.
    `total` asks the TOTAL row of a sheet without the line. `weights` weighs the columns (`{"params": 2}`
    or `"params=2,shape=1"`); `partial` is the credit (0 to 1) of a wrong answer a known mistake explains."""
    return grade_sheet(Analyses(arch), read_sheet(answers), conventions, input=input, override=override,
                       weights=weights, partial=partial, total=total)


class Analyses:
    """One architecture, loaded on first use and analysed once per input size, batch and dtype."""

    def __init__(self, arch: Any):
        self.arch = arch
        self._loaded: Any = None
        self._reports: dict[tuple, Report] = {}

    def report(self, input: list[int] | None, batch: int, dtype: str) -> Report:
        if self._loaded is None:
            self._loaded = load(self.arch)
        key = (tuple(input) if input else None, batch, dtype)
        if key not in self._reports:
            self._reports[key] = analyze(self._loaded, input=input, batch=batch, dtype=dtype)
        return self._reports[key]


def grade_sheet(analyses: Analyses, sheet: Sheet, conventions: Conventions | dict[str, Any] | None = None, *,
                input: list[int] | tuple[int, ...] | None = None, override: bool = False,
                weights: dict[str, float] | str | None = None, partial: float = 0.0, total: bool | None = None
                ) -> Grade:
    """Grade a read sheet: a layer table against the architecture, or an exercise sheet against its key."""
    given = given_fields(conventions)
    if input is not None:
        given["input"] = list(input)
    if total is not None:
        given["total"] = bool(total)
    weights = parse_weights(weights)
    if isinstance(partial, bool) or not isinstance(partial, int | float) or not 0 <= partial <= 1:
        raise ArchcalcError(f"partial credit must be a number from 0 to 1, got {partial!r}")
    asks = sheet_asks(sheet)
    if "exercise" in asks:
        from .exercise import grade_exercise

        grade = grade_exercise(sheet, asks)
        if analyses.arch != asks["exercise"]:
            grade = replace(grade, warnings=(f"{sheet.label}: the sheet is the exercise {asks['exercise']}; graded "
                                             "against its key",))
        return replace(grade, weights=weights, partial=float(partial), student=sheet.student)
    from .exercise import KINDS

    if isinstance(analyses.arch, str) and analyses.arch in KINDS:
        raise SheetError(f"not a sheet of the exercise {analyses.arch}: it has no 'archcalc sheet: exercise=…' "
                         "line", file=sheet.label)
    try:
        chosen, input_size, total, warning = resolve(sheet, given, override)
        report = analyses.report(input_size, chosen.batch, chosen.dtype)
    except ArchcalcError as exc:
        if not sheet_decides(asks, given, override):
            raise
        raise SheetError(f"cannot be graded as its 'archcalc sheet:' line asks: {exc}", file=sheet.label) from None
    warnings = [warning] if warning else []
    named = asks.get("architecture")
    if named and named not in (report.name, str(analyses.arch)):
        warnings.append(f"{sheet.label}: the sheet is for {named}; graded against {report.name}")
    grade = _Grader(report, sheet, chosen, asked(sheet, report, asks, total, chosen)).run()
    return replace(grade, warnings=tuple(warnings), weights=weights, partial=float(partial), student=sheet.student)


def parse_weights(weights: dict[str, float] | str | None) -> dict[str, float]:
    """Column weights from `params=2,shape=1` or a mapping (aliases as for template columns)."""
    from .template import COLUMN_ALIASES

    if not weights:
        return {}
    items = [item.partition("=")[::2] for item in weights.split(",") if item.strip()] if isinstance(weights, str) \
        else list(weights.items()) if isinstance(weights, dict) else None
    if items is None:
        raise ArchcalcError(f"weights must be a mapping or text like params=2,shape=1, got {type(weights).__name__}")
    parsed = {}
    for key, value in items:
        column = COLUMN_ALIASES.get(str(key).strip().lower(), str(key).strip().lower())
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = -1.0
        if not column or number < 0 or number != number or number == float("inf"):
            raise ArchcalcError(f"weights: {key}={value} is not a column=number pair with a number of 0 or more")
        parsed[column] = number
    return parsed


class _Grader:
    def __init__(self, report: Report, sheet: Sheet, conventions: Conventions, asked: Asked):
        self.report = report
        self.sheet = sheet
        self.conventions = conventions
        self.asked = asked
        self.cells: list[CellResult] = []
        self.shapes: dict[tuple[str, str], ShapeAnswer] = {}
        self.column_numbers: dict[str, list[Number]] = {c: [] for c in COUNT_COLUMNS}
        self.column_complete = {c: True for c in COUNT_COLUMNS}
        self.column_right = {c: True for c in COUNT_COLUMNS}
        self.orders: tuple[str, ...] = shape_order.ALL_ORDERS

    def run(self) -> Grade:
        matched, how, notes = match_rows(self.sheet, self.report, self.asked)
        self.orders, why = shape_order.decide(self.conventions, self.sheet, self.readings(matched))
        notes += [why] if why else []
        rows = sort_rows(matched, self.asked, self.report, TOTAL)
        for row, record in rows.graded:
            self.grade_row(row, record)
        for row in rows.unasked:
            self.add_up(row)
        self.grade_total(rows.total)
        self.grade_missing({record.name for _, record in rows.graded})
        order = {record.name: index for index, record in enumerate(self.report.layers)}
        cells = sorted(self.cells, key=lambda c: (c.layer == TOTAL, order.get(c.layer, len(order))))
        notes = column_notes(self.sheet, self.asked) + rows.notes + notes
        return Grade(self.report.name, self.sheet.label, self.sheet.format, how, self.conventions,
                     tuple(cells), tuple(self.sheet.notes) + tuple(notes), self.orders)

    def grade_missing(self, present: set[str]) -> None:
        """The cells of the layers the sheet asks and has no row for: unanswered."""
        row = Row(0, None, {})
        for record in (r for r in self.asked.layers if r.name not in present):
            for column in self.asked.columns:
                self.unanswered(row, record, column, "no row for this layer")

    def unanswered(self, row: Row, record: LayerRecord, column: str, note: str = "") -> None:
        expected = expected_cell(column, record, self.conventions, self.report)
        shown = f"{expected.value:,}" if column in COUNT_COLUMNS else _shape_text(expected.value, self.orders)
        self.add(row, record.name, column, "", "unanswered", expected=shown, arithmetic=expected.arithmetic,
                 note=note)

    def readings(self, matched: list[tuple[Row, Any, str | None]]) -> list[list[str]]:
        """The orders each readable 3-D shape answer of the sheet is right in, in sheet order."""
        found = []
        for row, record, problem in matched:
            if not isinstance(record, LayerRecord) or problem or row.problem:
                continue
            for column in (c for c in SHAPE_COLUMNS if c in self.sheet.headers and not _blank(row.cells.get(c))):
                expected = expected_cell(column, record, self.conventions, self.report).value
                try:
                    answer = parse_shape(row.cells[column])
                except Unreadable:
                    continue
                if len(expected) == 3:
                    found.append(shape_readings(answer, expected, self.report.batch))
        return found

    def add(self, row: Row, layer: str, column: str, answer: Any, verdict: str, **details: Any) -> None:
        self.cells.append(CellResult(row.number, layer, column, _text(answer), verdict, **details))

    def grade_row(self, row: Row, record: LayerRecord) -> None:
        for column in self.asked.columns:
            if column not in self.sheet.headers:
                self.unanswered(row, record, column, "no column for this")
                self.column_complete[column] = False
                continue
            value = row.cells.get(column)
            if _blank(value):
                self.unanswered(row, record, column)
                if column in COUNT_COLUMNS:
                    self.column_complete[column] = False
                continue
            if row.problem:
                self.add(row, record.name, column, value, "unparseable", note=row.problem)
                if column in COUNT_COLUMNS:
                    self.column_complete[column] = False
                continue
            if column in COUNT_COLUMNS:
                self.grade_count(row, record, column, value)
            else:
                self.grade_shape(row, record, column, value)

    def add_up(self, row: Row) -> None:
        """The counts of a row of a layer the sheet does not ask, for the sum of the student's own rows only."""
        for column in (c for c in COUNT_COLUMNS if c in self.asked.columns and not _blank(row.cells.get(c))):
            try:
                self.column_numbers[column].append(parse_count(row.cells[column], memory=column == "memory"))
            except Unreadable:
                self.column_complete[column] = False

    def grade_shape(self, row: Row, record: LayerRecord, column: str, value: Any) -> None:
        expected = expected_cell(column, record, self.conventions, self.report)
        shown = _shape_text(expected.value, self.orders)
        try:
            answer = parse_shape(value)
        except Unreadable as exc:
            self.add(row, record.name, column, value, "unparseable", expected=shown, note=str(exc))
            return
        self.shapes[(record.name, column)] = answer
        batch = self.report.batch
        readings = shape_readings(answer, expected.value, batch, self.orders)
        if readings:
            self.add(row, record.name, column, value, "correct", expected=shown, note=_read_as(answer, readings))
            return
        swapped = shape_order.misordered(shape_readings(answer, expected.value, batch), self.orders)
        found = [swapped] if swapped else []
        carried = None
        if column == "output" and record.inputs:
            source = record.inputs[0]
            carried = diagnose.carried_shape(record, answer, self.shapes.get((source, "output")), source, batch,
                                             self.orders)
        # a step right on the student's own input is not also a slip in it, though the numbers may agree
        found += [carried] if carried else [label for label, alt in diagnose.shape_alternatives(record)
                                            if column == "output" and shape_readings(answer, alt, batch, self.orders)]
        if not found and sorted(answer.dims) == sorted(expected.value):
            found = ["the right sizes in an order that is none of W×H×D, H×W×C or C×H×W"]
        self.add(row, record.name, column, value, "wrong", expected=shown, arithmetic=expected.arithmetic,
                 diagnosis=tuple(found))

    def grade_count(self, row: Row, record: LayerRecord, column: str, value: Any) -> None:
        expected = expected_cell(column, record, self.conventions, self.report)
        shown = f"{expected.value:,}"
        try:
            answer = parse_count(value, memory=column == "memory")
        except Unreadable as exc:
            self.add(row, record.name, column, value, "unparseable", expected=shown, note=str(exc))
            self.column_complete[column] = False
            return
        if column == "params":
            reference, alternatives = expected.value, diagnose.param_alternatives(record, expected.value,
                                                                                  self.conventions)
        elif column == "ops":
            reference = expected.value
            alternatives = diagnose.ops_alternatives(record, expected.value, self.conventions, self.report)
        else:
            size = record.activation_bytes // max(record.activation_elements, 1)
            reference, alternatives = diagnose.memory_alternatives(record.activation_elements, size, answer,
                                                                   self.conventions, self.report)
        verdict = self.judge(row, record.name, column, value, answer, reference, alternatives, shown,
                             expected.arithmetic)
        self.column_numbers[column].append(answer)
        self.column_right[column] &= verdict

    def judge(self, row: Row, layer: str, column: str, value: Any, answer: Number, reference: int,
              alternatives: list[diagnose.Alternative], shown: str, arithmetic: str,
              extra: list[str] | None = None) -> bool:
        """Give the verdict on a count: correct if it rounds from the reference, else diagnose."""
        if any(answer.matches(reference, b) for b in self.conventions.bases):
            note = "shorthand rounds correctly" if answer.shorthand else ""
            self.add(row, layer, column, value, "correct", expected=shown, note=note)
            return True
        found = diagnose.matching(answer, alternatives, self.conventions, reference)
        found += diagnose.unit_diagnoses(answer, reference, self.conventions)
        found += extra or []
        self.add(row, layer, column, value, "wrong", expected=shown, arithmetic=arithmetic, diagnosis=tuple(found))
        return False

    def grade_total(self, row: Row | None) -> None:
        """The TOTAL row's asked cells (unanswered where blank, or without a TOTAL row)."""
        for column in self.asked.total_columns:
            expected = expected_total(column, self.report, self.conventions)
            shown = f"{expected.value:,}"
            value = row.cells.get(column) if row is not None and column in self.sheet.headers else None
            if _blank(value):
                note = "" if row is not None else "no TOTAL row" if column in self.sheet.headers \
                    else "no column for this"
                self.add(row or Row(0, None, {}), TOTAL, column, "", "unanswered", expected=shown,
                         arithmetic=expected.arithmetic, note=note)
                continue
            try:
                answer = parse_count(value, memory=column == "memory")
            except Unreadable as exc:
                self.add(row, TOTAL, column, value, "unparseable", expected=shown, note=str(exc))
                continue
            reference, alternatives = self.total_alternatives(column, answer, expected.value)
            self.judge(row, TOTAL, column, value, answer, reference, alternatives, shown, expected.arithmetic,
                       self.own_sum(column, answer))

    def total_alternatives(self, column: str, answer: Number, expected: int) -> tuple[int, list]:
        report, conventions = self.report, self.conventions
        if column == "params":
            biases = sum(r.biases for r in report.layers)
            alternatives = [(f"forgot the biases ({biases:,})", expected - biases)] if conventions.bias and biases \
                else [(f"counted the {biases:,} biases, which this convention leaves out", expected + biases)] \
                if biases else []
            statistics = report.totals.statistics
            if statistics:
                alternatives.append((f"left out the {statistics:,} non-trainable statistics", expected - statistics))
            return expected, alternatives
        if column == "ops":
            return expected, diagnose.ops_unit_alternatives(expected, conventions, report)
        elements = report.totals.activation_elements
        size = report.totals.forward_memory_bytes // max(elements, 1)
        reference, alternatives = diagnose.memory_alternatives(elements, size, answer, conventions, report)
        per = size if reference != elements else 1
        return reference, alternatives + diagnose.total_memory_alternatives(report, reference, per)

    def own_sum(self, column: str, answer: Number) -> list[str]:
        """Whether the total agrees with the sum of the student's own rows."""
        numbers = self.column_numbers.get(column) or []
        if not numbers or not self.column_complete[column]:
            return []
        base = self.conventions.bases[0]
        low = sum((n.bounds(base)[0] for n in numbers), Fraction(0))
        high = sum((n.bounds(base)[1] for n in numbers), Fraction(0))
        a_low, a_high = answer.bounds(base)
        approx = _about(low, high)
        if a_high < low or a_low > high:
            return [f"does not equal the sum of your own rows, which add up to {approx}"]
        if not self.column_right[column]:
            return [f"equals the sum of your rows ({approx}): the errors are in the rows above"]
        return []


def match_rows(sheet: Sheet, report: Report, asked: Asked
               ) -> tuple[list[tuple[Row, Any, str | None]], str, list[str]]:
    """Pair each row with its layer (by name, else by position); TOTAL rows pair with TOTAL."""
    if any(row.name for row in sheet.rows):
        return _by_name(sheet, report, asked)
    return _by_position(sheet, report)


def _key(name: str) -> str:
    name = re.sub(r"\s*\(.*$|\[\d+\]\[\d+\]$", "", name.strip())
    name = name.split(":")[0] if ":" in name else name
    return name.strip().casefold()


def _by_name(sheet: Sheet, report: Report, asked: Asked):
    exact = {r.name.casefold(): r for r in report.layers}
    tails: dict[str, list[LayerRecord]] = {}
    for record in report.layers:
        tails.setdefault(record.name.rsplit("/", 1)[-1].casefold(), []).append(record)
    pairs: list[tuple[Row, Any, str | None]] = []
    unknown = []
    for row in sheet.rows:
        name = (row.name or "").strip().casefold()
        key = name if name in exact else _key(name)       # `conv (a)` may be a layer's whole name
        if not key:
            pairs.append((row, None, "has no layer name"))
        elif key.startswith("total") or key == "sum":
            pairs.append((row, TOTAL, None))
        elif key in exact or len(tails.get(key, ())) == 1:
            pairs.append((row, exact.get(key) or tails[key][0], None))
        else:
            hint = suggestion(row.name or "", [r.name for r in report.layers])
            pairs.append((row, None, f"is no layer of {report.name}{hint}"))
            unknown.append(row.name)
    if unknown and not any(isinstance(p[1], LayerRecord) for p in pairs):
        layers = ", ".join(r.name for r in report.layers[:8]) + (", …" if len(report.layers) > 8 else "")
        raise SheetError(f"none of the sheet's layer names ({', '.join(map(repr, unknown[:3]))}"
                         f"{', …' if len(unknown) > 3 else ''}) is a layer of {report.name}; its layers are "
                         f"{layers}", file=sheet.label)
    pairs, notes = read_mistyped(pairs, asked.names, report, TOTAL)
    present = {p[1].name for p in pairs if isinstance(p[1], LayerRecord)}
    missing = [r.name for r in asked.layers if r.name not in present]
    notes += [f"layers not in the sheet: {', '.join(missing[:10])}{', …' if len(missing) > 10 else ''}"] \
        if missing else []
    return pairs, "name", notes


def _by_position(sheet: Sheet, report: Report):
    """Try each way the rows may list the layers; the output shapes written decide between them."""
    layers = list(report.layers)
    candidates = {
        "every layer": layers,
        "every layer after the input": layers[1:],
        "every layer that allocates memory": [r for r in layers if r.allocates],
        "every layer after the input that allocates memory": [r for r in layers[1:] if r.allocates],
    }
    rows = list(sheet.rows)
    best, best_score = None, -1
    for description, records in candidates.items():
        for with_total in (False, True):
            if len(rows) != len(records) + with_total:
                continue
            score = sum(_shape_agrees(row, record, report.batch) for row, record in zip(rows, records))
            if with_total:
                score += _blank(rows[-1].cells.get("output")) or str(rows[-1].cells.get("output")).strip() in "-—–"
            if score > best_score:
                best, best_score = (description, with_total), score
    if best is None:
        raise SheetError(f"the sheet has {len(rows)} rows and no layer names, but {report.name} has "
                         f"{len(layers)} layers ({len(layers) - 1} after the input): add a layer column to match "
                         "rows by name", file=sheet.label)
    description, with_total = best
    pairs: list[tuple[Row, Any, str | None]] = [(row, record, None) for row, record in
                                                zip(rows, candidates[description])]
    if with_total:
        pairs.append((rows[-1], TOTAL, None))
    note = f"rows matched by position to {description} of {report.name}" + \
        (", the last row as the total" if with_total else "")
    return pairs, "position", [note]


def _shape_agrees(row: Row, record: LayerRecord, batch: int) -> bool:
    try:
        return bool(shape_readings(parse_shape(row.cells["output"]), record.output_shape, batch))
    except (KeyError, Unreadable):
        return False


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _shape_text(shape: tuple[int, ...], orders: tuple[str, ...]) -> str:
    if len(shape) == 3 and len(orders) == 1:
        return shape_order.written(shape, orders[0])
    if len(shape) == 3:
        c, h, w = shape
        return f"{w}×{h}×{c} (W×H×D) = {c}×{h}×{w} (C×H×W)"
    return "×".join(str(d) for d in shape)


def _read_as(answer: ShapeAnswer, readings: list[str]) -> str:
    if answer.batch is not None:
        return f"read as ({answer.batch}, H, W, C) (Keras)" if shape_order.KERAS in readings else \
            f"read as {readings[-1]} with a batch entry {answer.batch}"
    return "read as " + " or ".join(readings)


def _about(low: Fraction, high: Fraction) -> str:
    if low == high:
        return f"{int(low):,}"
    middle = float((low + high) / 2)
    for power, suffix in ((9, "G"), (6, "M"), (3, "K")):
        if middle >= 10 ** power:
            return f"about {middle / 10 ** power:.1f}{suffix}"
    return f"about {middle:,.0f}"
