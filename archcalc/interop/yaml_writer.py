"""The imported mapping as a YAML file that reads like one written by hand: one line per layer."""

from __future__ import annotations

import json
from typing import Any

import yaml

import archcalc


def _flow(value: Any) -> str:
    """`value` in YAML flow style on one line (a scalar inside a list, so no document-end marker)."""
    text = yaml.safe_dump([value], default_flow_style=True, width=float("inf"), sort_keys=False).strip()
    return text[1:-1]


def _entries(layers: list[dict[str, Any]], indent: str) -> list[str]:
    return [f"{indent}- {_flow(layer)}" for layer in layers]


def dump(mapping: dict[str, Any]) -> str:
    """YAML text of an imported `mapping`: provenance comments, then the keys in the usual order."""
    lines = [f"# Imported by archcalc {archcalc.__version__} (archcalc import) from {mapping['source']}",
             "# Edit freely: it is an ordinary architecture file."]
    for key in ("name", "title", "source", "input", "output"):
        if key in mapping:
            lines.append(f"{key}: {_flow(mapping[key])}")
    if mapping.get("calls"):
        lines.append("calls:")
        lines += [f"  {json.dumps(pattern)}: {call}" for pattern, call in mapping["calls"].items()]
    if mapping.get("defaults"):
        lines.append("defaults:")
        lines += [f"  {t}: {_flow(values)}" for t, values in mapping["defaults"].items()]
    if mapping.get("blocks"):
        lines.append("blocks:")
        for name, block in mapping["blocks"].items():
            lines.append(f"  {name}:")
            if block.get("args"):
                lines.append(f"    args: {_flow(block['args'])}")
            lines.append("    layers:")
            lines += _entries(block["layers"], "      ")
            if "output" in block:
                lines.append(f"    output: {_flow(block['output'])}")
    lines.append("layers:")
    lines += _entries(mapping["layers"], "  ")
    return "\n".join(lines) + "\n"
