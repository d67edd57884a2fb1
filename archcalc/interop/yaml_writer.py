"""The imported mapping as a YAML file that reads like one written by hand: one line per layer."""

from __future__ import annotations

import json
from typing import Any

import yaml

import archcalc

from ..errors import printable


def _flow(value: Any) -> str:
    """`value` in YAML flow style on one line (a scalar inside a list, so no document-end marker)."""
    text = yaml.safe_dump([value], default_flow_style=True, width=float("inf"), sort_keys=False).strip()
    return text[1:-1]


def _entries(layers: list[dict[str, Any]], indent: str) -> list[str]:
    return [f"{indent}- {_flow(layer)}" for layer in layers]


def dump(mapping: dict[str, Any]) -> str:
    """YAML text of an imported `mapping`: provenance comments, then the keys in the usual order. Every
    text from the source is quoted as YAML needs (the header comment: on its one line, every line break
    and control character escaped)."""
    lines = [f"# Imported by archcalc {archcalc.__version__} (archcalc import) from {printable(mapping['source'])}",
             "# Edit freely: it is an ordinary architecture file."]
    for key in ("name", "title", "source", "input", "output", "outputs"):
        if key in mapping:
            lines.append(f"{key}: {_flow(mapping[key])}")
    if mapping.get("calls"):
        lines.append("calls:")
        lines += [f"  {json.dumps(pattern)}: {_flow(call)}" for pattern, call in mapping["calls"].items()]
    if mapping.get("defaults"):
        lines.append("defaults:")
        lines += [f"  {_flow(t)}: {_flow(values)}" for t, values in mapping["defaults"].items()]
    if mapping.get("blocks"):
        lines.append("blocks:")
        for name, block in mapping["blocks"].items():
            lines.append(f"  {_flow(name)}:")
            if block.get("args"):
                lines.append(f"    args: {_flow(block['args'])}")
            lines.append("    layers:")
            lines += _entries(block["layers"], "      ")
            if "output" in block:
                lines.append(f"    output: {_flow(block['output'])}")
    if mapping.get("freeze"):
        lines.append(f"freeze: {_flow(mapping['freeze'])}")
    lines.append("layers:")
    lines += _entries(mapping["layers"], "  ")
    return "\n".join(lines) + "\n"


def loadable(text: str, source: str) -> str:
    """`text` when archcalc reads it back as it reads any file (`archcalc validate`): within the file
    format's limits, loading and analysing; else the one-line reason, naming `source`."""
    from ..analysis import analyze
    from ..errors import ArchcalcError, SpecError
    from ..spec.loader import MAX_FILE_BYTES

    size = len(text.encode("utf-8"))
    if size > MAX_FILE_BYTES:
        raise SpecError(f"the file written would be {size // 1024:,} KiB, larger than an architecture file may be "
                        f"({MAX_FILE_BYTES // 1024:,} KiB)", file=source)
    try:
        analyze(archcalc.load("imported.yaml", text=text))
    except ArchcalcError as exc:
        raise SpecError(f"the imported network does not load back: {exc}", file=source) from None
    return text
