"""Homework with its key: a small network drawn from a seed, questions from the lectures, answers from the analysis.

    >>> import archcalc
    >>> ex = archcalc.exercise("lenet-like", seed=7)
    >>> archcalc.check("lenet-like", ex.sheet(filled=True)).score
    1.0

Kinds: `lenet-like` asks an output size where (W − F + 2P)/S is not an integer (floor), an output
shape, parameters with and without biases, MACs, activation memory in bytes, a receptive field, the
parameters a 1×1 bottleneck saves, and which of two designs has fewer parameters; `transfer` freezes
part of such a network and asks how many parameters train, which layers compute a weight gradient
and the MACs of one training step on a batch (docs/training.md); `unet-like` asks the map sizes of a
small U-Net (the bottom, after each copy-and-crop, the output), the rows a crop cuts and an up-convolution's
parameters; `yolo-output` the S × S × (B·5 + C) output of a YOLO v1 head, its grid's shape and its fully
connected layers' parameters. Each answer and its arithmetic come
from `archcalc.analyze` (and `archcalc.training_cost`) of the generated networks; the same seed gives
the same exercise. A sheet says `archcalc sheet: exercise=KIND seed=N`, so `check` grades it against its key.
"""

from __future__ import annotations

import random
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..analysis import Report, analyze
from ..errors import ArchcalcError, ShapeError
from ..formulas import conv_output_size, window_span
from ..units import exact
from . import diagnose, shape_order, transfer, unet_like, yolo_output
from .conventions import Conventions
from .expected import expected_cell
from .numbers import Unreadable, parse_count, parse_shape, shape_readings
from .question import Question
from .result import CellResult, Grade
from .sheet import ANSWER, Sheet, SheetError

SHAPES = ("output",)
RECEPTIVE_FIELD = "receptive field"
_PIXELS = re.compile(r"\s*(?:px|pixels?)$", re.IGNORECASE)
_WITH_BIAS, _NO_BIAS, _BYTES = Conventions(), Conventions(bias=False), Conventions(memory="bytes")


@dataclass(frozen=True)
class Exercise:
    """A generated exercise: the network (a mapping `archcalc.load` accepts), its description and questions."""

    kind: str
    seed: int
    network: dict[str, Any]
    layers: tuple[str, ...]
    questions: tuple[Question, ...]
    student: str | None = None
    report: Report | None = field(default=None, compare=False, repr=False)

    def sheet(self, format: str = "markdown", *, filled: bool = False) -> str:
        """The student's sheet (markdown, csv or latex); `filled` writes the key's answers in."""
        from .exercise_render import render_sheet

        return render_sheet(self, format, filled)

    def key(self, format: str = "markdown") -> str:
        """The answers with their arithmetic."""
        from .exercise_render import render_key

        return render_key([self], format)


def _conv(name: str, out: int, k: int, stride: int = 1, padding: int = 0) -> dict[str, Any]:
    return {"name": name, "type": "conv", "out_channels": out, "kernel_size": k, "stride": stride,
            "padding": padding, "activation": "relu"}


def _fits(size: int, kernel: int, padding: int) -> int:
    """The output size of a stride-1 window on `size`, 0 where the window is larger than the padded input."""
    try:
        return conv_output_size(size, kernel, 1, padding)
    except ShapeError:
        return 0


def _lenet_like(rng: random.Random) -> tuple[dict[str, Any], tuple[str, ...]]:
    channels, size = rng.choice((1, 3)), rng.randrange(28, 41)
    while True:   # C1 must not tile its input: (W − F + 2P)/S is not an integer
        f, s, p = rng.choice((3, 5, 7)), rng.choice((2, 3)), rng.choice((0, 1, 2))
        c1 = conv_output_size(size, f, s, p)
        if window_span(size, f, (p, p)) % s and c1 >= 8:
            break
    k1, k2 = rng.choice((6, 8, 12, 16)), rng.choice((16, 20, 24, 32))
    while True:   # C3's output at least 4×4 (3×3 with padding 1 always is: C1 gives at least 8, S2 halves it)
        f2, p2 = rng.choice((3, 5)), rng.choice((0, 1))
        if _fits(conv_output_size(c1, 2, 2), f2, p2) >= 4:
            break
    units = rng.choice((64, 84, 100, 120))
    layers = [_conv("C1", k1, f, s, p), {"name": "S2", "type": "maxpool", "kernel_size": 2, "stride": 2},
              _conv("C3", k2, f2, 1, p2), {"name": "S4", "type": "maxpool", "kernel_size": 2, "stride": 2},
              {"name": "flatten", "type": "flatten"},
              {"name": "F5", "type": "linear", "out_features": units, "activation": "relu"},
              {"name": "F6", "type": "linear", "out_features": 10}]
    described = (f"C1: conv {f}×{f} · stride {s} · padding {p} · {k1} filters · ReLU",
                 "S2: max pool 2×2 · stride 2",
                 f"C3: conv {f2}×{f2} · stride 1 · padding {p2} · {k2} filters · ReLU",
                 "S4: max pool 2×2 · stride 2", "flatten",
                 f"F5: fully connected · {units} units · ReLU", "F6: fully connected · 10 units")
    return {"name": "lenet-like", "input": [channels, size, size], "layers": layers}, described


KINDS: dict[str, tuple[Callable, Callable]] = {
    "lenet-like": (_lenet_like, lambda rng, network, report: _lenet_like_questions(rng, report)),
    "transfer": (lambda rng: transfer.network(_lenet_like(rng), rng), transfer.questions),
    "unet-like": (unet_like.drawn, unet_like.questions),
    "yolo-output": (yolo_output.drawn, yolo_output.questions),
}
"""Each kind: (the network and its description drawn from a random generator, its questions)."""


def exercise(kind: str = "lenet-like", seed: int = 0, *, student: str | None = None) -> Exercise:
    """The exercise of `kind` drawn from `seed` (the same seed, the same exercise)."""
    if kind not in KINDS:
        raise SheetError(f"unknown exercise {kind!r}; known: {', '.join(KINDS)}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise SheetError(f"the exercise seed must be a non-negative integer, got {seed!r}")
    rng = random.Random(seed)
    network, described = KINDS[kind][0](rng)
    report = analyze(network)
    questions = KINDS[kind][1](rng, network, report)
    return Exercise(kind, seed, network, tuple(described), tuple(questions), student, report)


def _lenet_like_questions(rng: random.Random, report: Report) -> list[Question]:
    rec = {r.name: r for r in report.layers}
    c, h, w = report.layers[0].output_shape
    return [
        Question("Q1", "output", f"Output shape of C1 (C×H×W) on the {c}×{h}×{w} input. (W − F + 2P)/S is not an "
                 "integer here: give what PyTorch and Keras compute (the floor).", *_cell("output", rec["C1"], report),
                 "C1"),
        Question("Q2", "output", "Output shape of S4 (C×H×W).", *_cell("output", rec["S4"], report), "S4"),
        Question("Q3", "params", "Parameters of C3, biases included.", *_cell("params", rec["C3"], report), "C3"),
        Question("Q4", "params", "Parameters of F5 without its biases (weights only).",
                 *_cell("params", rec["F5"], report, _NO_BIAS), "F5"),
        Question("Q5", "ops", "Multiply-accumulates (MACs) of C3 for one image.", *_cell("ops", rec["C3"], report),
                 "C3"),
        Question("Q6", "memory", "Activation memory of C1's output in bytes (float32, one image).",
                 *_cell("memory", rec["C1"], report, _BYTES), "C1"),
        Question("Q7", RECEPTIVE_FIELD, "Receptive field of one S4 output position, in input pixels (one side).",
                 *_receptive_field(report, "S4")),
        _bottleneck(rng, "Q8"),
        _which(rng, "Q9"),
    ]


def _cell(column: str, record, report: Report, conventions: Conventions = _WITH_BIAS) -> tuple[Any, str]:
    expected = expected_cell(column, record, conventions, report)
    return expected.value, expected.arithmetic


def _receptive_field(report: Report, name: str) -> tuple[int, str]:
    steps = []
    for record in report.layers:
        if record.receptive_field is not None and (not steps or record.receptive_field.size[0] != steps[-1][1]):
            steps.append((record.name, record.receptive_field.size[0]))
        if record.name == name:
            break
    chain = " → ".join(f"{size} ({layer})" for layer, size in steps)
    return steps[-1][1], f"r grows by (F − 1) × jump at each layer: {chain}"


def _params(layers: list[dict[str, Any]], channels: int) -> tuple[int, str]:
    report = analyze({"name": "design", "input": [channels, 14, 14], "layers": layers})
    parts = [r for r in report.layers if r.params]
    sums = " + ".join(exact(r.params) for r in parts)
    text = "; ".join(f"{r.name}: {r.arithmetic().params}" if len(parts) > 1 else r.arithmetic().params
                     for r in parts)
    total = report.totals.params
    return total, text + (f"; total {sums} = {exact(total)}" if len(parts) > 1 else "")


def _bottleneck(rng: random.Random, qid: str) -> Question:
    depth = rng.choice((128, 256, 512))
    narrow = depth // rng.choice((2, 4))
    plain, plain_text = _params([_conv("conv3x3", depth, 3, padding=1)], depth)
    slim, slim_text = _params([_conv("reduce", narrow, 1), _conv("conv3x3", narrow, 3, padding=1),
                               _conv("expand", depth, 1)], depth)
    text = (f"On {depth} input maps, a 3×3 convolution to {depth} maps is replaced by a 1×1 convolution to {narrow} "
            f"maps, a 3×3 convolution to {narrow} maps and a 1×1 convolution back to {depth} maps (all with biases). "
            "How many parameters does this bottleneck save?")
    return Question(qid, "savings", text, plain - slim,
                    f"plain: {plain_text}; bottleneck: {slim_text}; saved: {exact(plain)} − {exact(slim)} = "
                    f"{exact(plain - slim)}")


def _which(rng: random.Random, qid: str) -> Question:
    channels, wide = rng.choice((32, 64, 96)), rng.choice((1, 2))
    a, a_text = _params([_conv("A", channels, 5, padding=2)], channels)
    b, b_text = _params([_conv("B1", wide * channels, 3, padding=1), _conv("B2", channels, 3, padding=1)], channels)
    text = (f"On {channels} maps, design A is one 5×5 convolution to {channels} maps; design B is a 3×3 convolution "
            f"to {wide * channels} maps then a 3×3 convolution to {channels} maps (all with biases). Which design has "
            "fewer parameters (A or B)?")
    return Question(qid, "choice", text, "A" if a < b else "B",
                    f"A: {a_text}; B: {b_text}; {'A' if a < b else 'B'} has fewer ({exact(min(a, b))} < "
                    f"{exact(max(a, b))})")


def student_seed(seed: int, student: str) -> int:
    """Each student's own seed, from the class seed and the student's name."""
    return zlib.crc32(f"{seed}:{student}".encode()) % 1_000_000


def one_side(text: str) -> str:
    """A receptive field answer as the side asked: `17×17` (the square it covers) is `17`, as is `17 px`;
    a rectangle such as `17×19` stays as written (and reads as its area, which is wrong)."""
    text = _PIXELS.sub("", text)
    try:
        shape = parse_shape(text)
    except Unreadable:
        return text
    return str(shape.dims[0]) if shape.batch is None and len(shape.dims) == 2 and len(set(shape.dims)) == 1 else text


def grade_exercise(sheet: Sheet, asks: dict[str, Any]) -> Grade:
    """Grade an exercise sheet against the key of the exercise its `archcalc sheet:` line names."""
    if "seed" not in asks:
        raise SheetError("the 'archcalc sheet:' line names an exercise but no seed", file=sheet.label)
    try:
        ex = exercise(asks["exercise"], asks["seed"])
    except ArchcalcError as exc:
        raise SheetError(f"the 'archcalc sheet:' line names no exercise archcalc makes: {exc}", file=sheet.label
                         ) from None
    if ANSWER not in sheet.headers:
        raise SheetError("an exercise sheet needs an 'answer' column", file=sheet.label)
    asked = {q.id for q in ex.questions}
    rows: dict[str, Any] = {}
    notes = []
    for row in sheet.rows:
        key = (row.name or "").strip().upper()
        label = f"row {row.number}" + (f" {row.name!r}" if row.name else "")
        if key not in asked:
            notes.append(f"{label} is no question of this exercise: not graded")
        elif key in rows:
            notes.append(f"{label} is a second row for {key} (row {rows[key].number} is graded): not graded")
        else:
            rows[key] = row
    cells = [_grade_question(q, rows.get(q.id), ex.report) for q in ex.questions]
    return Grade(f"{ex.kind} (seed {ex.seed})", sheet.label, sheet.format, "question", Conventions(), tuple(cells),
                 tuple(sheet.notes) + tuple(notes), (shape_order.TORCH,))


def _grade_question(q: Question, row: Any, report: Report) -> CellResult:
    number = row.number if row is not None else 0
    value = row.cells.get(ANSWER) if row is not None else None
    text = "" if value is None else str(value).strip()

    def verdict(name: str, **details: Any) -> CellResult:
        return CellResult(number, q.id, q.column, text, name, expected=q.answer, arithmetic=q.arithmetic, **details)

    if not text:
        return verdict("unanswered", note="" if row is not None else "no row for this question")
    record = next((r for r in report.layers if r.name == q.layer), None)
    try:
        if q.column == "choice":
            picked = text.upper().removeprefix("DESIGN").strip()[:1]
            if picked not in ("A", "B"):
                raise Unreadable("answer A or B")
            return verdict("correct" if picked == q.value else "wrong")
        if q.column in SHAPES:
            answer = parse_shape(text)
            if shape_readings(answer, q.value, 1, (shape_order.TORCH,)):
                return verdict("correct")
            found = [shape_order.misordered(shape_readings(answer, q.value, 1), (shape_order.TORCH,))]
            found += [label for label, alt in diagnose.shape_alternatives(record)
                      if shape_readings(answer, alt, 1, (shape_order.TORCH,))]
            return verdict("wrong", diagnosis=tuple(f for f in found if f))
        if q.column == transfer.LAYERS:
            return transfer.grade_layers(q, text, report, verdict)
        side = one_side(text) if q.column == RECEPTIVE_FIELD else text
        answer = parse_count(side, memory=q.column == "memory")
    except Unreadable as exc:
        return verdict("unparseable", note=str(exc))
    if answer.matches(q.value, 1000):
        return verdict("correct", note=f"read as one side, {side}" if side != text else "")
    conventions = _NO_BIAS if "without" in q.text else _BYTES if q.column == "memory" else _WITH_BIAS
    alternatives = diagnose.param_alternatives(record, q.value, conventions) if q.column == "params" else \
        diagnose.ops_alternatives(record, q.value, conventions, report) if q.column == "ops" else \
        diagnose.memory_alternatives(record.activation_elements, 4, answer, conventions, report)[1] \
        if q.column == "memory" else list(q.mistakes)
    found = diagnose.matching(answer, alternatives, conventions, q.value)
    return verdict("wrong", diagnosis=tuple(found + diagnose.unit_diagnoses(answer, q.value, conventions)))
