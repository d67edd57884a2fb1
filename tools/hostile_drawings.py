"""Write the generated inputs of the drawing corpus, tests/hostile/draw/ (run from the repository root):

    python tools/hostile_drawings.py

`dense-dag-120.yaml`: 120 layers, each adding the input and every layer before it (7,260 edges, not
series-parallel); `flat-chain-2100.yaml`: 2,100 layers in a chain with no block to fold them into.
"""

from __future__ import annotations

from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tests" / "hostile" / "draw"


def dense(layers: int) -> str:
    lines = [f"name: dense{layers}", "input: [4, 8, 8]", "layers:", "  - {name: l0, type: relu}"]
    for i in range(1, layers):
        sources = ", ".join(["input", *(f"l{j}" for j in range(i))])
        lines.append(f"  - {{name: l{i}, type: add, from: [{sources}]}}")
    return "\n".join(lines) + "\n"


def flat_chain(layers: int) -> str:
    return "\n".join(["name: flat", "input: [4, 8, 8]", "layers:",
                      *(f"  - {{name: a{i}, type: relu}}" for i in range(layers))]) + "\n"


def main() -> None:
    (OUT / "dense-dag-120.yaml").write_text(dense(120))
    (OUT / "flat-chain-2100.yaml").write_text(flat_chain(2100))


if __name__ == "__main__":
    main()
