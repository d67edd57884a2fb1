"""The graph laid out by Graphviz's `dot` program, where it is installed and asked for."""

from __future__ import annotations

import shutil
import subprocess

from ..errors import ArchcalcError
from .diagram import Diagram, shape_text
from .palette import FILL
from .svg import Drawing


def source(diagram: Diagram) -> str:
    """The diagram in the DOT language."""
    def quote(value: str) -> str:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = ["digraph G {", 'node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11];',
             'edge [fontname="Helvetica", fontsize=9];']
    for v in diagram.vertices:
        lines.append(f"{quote(v.name)} [label={quote(chr(10).join(v.lines))}, fillcolor={quote(FILL[v.family])}];")
    for a in diagram.arcs:
        lines.append(f"{quote(a.source)} -> {quote(a.target)} [label={quote(shape_text(a.shape))}];")
    return "\n".join(lines + ["}"]) + "\n"


def render(diagram: Diagram) -> Drawing:
    program = shutil.which("dot")
    if program is None:
        raise ArchcalcError("the dot layout needs Graphviz's `dot` program on the PATH "
                            "(the default layout needs nothing)")
    done = subprocess.run([program, "-Tsvg"], input=source(diagram), capture_output=True, text=True, timeout=300)
    if done.returncode:
        said = done.stderr.strip().splitlines()
        raise ArchcalcError(f"dot failed: {said[-1] if said else f'exit status {done.returncode}'}")
    return Drawing(done.stdout)
