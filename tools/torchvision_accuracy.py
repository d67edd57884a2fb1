"""Print the `accuracy:` entry of every torchvision zoo file from torchvision's weights metadata
(no download: the numbers ship inside torchvision). Run with an environment that has torchvision:

    /work/refenv/bin/python tools/torchvision_accuracy.py          # prints name → YAML line
    /work/refenv/bin/python tools/torchvision_accuracy.py --write  # adds the lines to architectures/

The IMAGENET1K_V1 weights are used throughout: every model has them, and they follow the original
training recipe of each paper (the newer V2 weights of some models use a stronger recipe, which
would make the comparison chart compare recipes, not architectures).
"""

from __future__ import annotations

import sys
from pathlib import Path

import torchvision
from torchvision.models import get_model_weights

ZOO = Path(__file__).resolve().parent.parent / "architectures"


def entry(model: str) -> str | None:
    try:
        weights = get_model_weights(model)
    except ValueError:
        return None
    chosen = getattr(weights, "IMAGENET1K_V1", None)
    if chosen is None:
        return None
    metrics = chosen.meta["_metrics"]["ImageNet-1K"]
    return (f"accuracy: {{top1: {metrics['acc@1']}, top5: {metrics['acc@5']}, dataset: ImageNet-1k validation, "
            f"source: \"torchvision {torchvision.__version__.split('+')[0]} docs, {weights.__name__}.IMAGENET1K_V1\"}}")


def main() -> None:
    for path in sorted(ZOO.glob("[!_]*.yaml")):
        text = path.read_text()
        if "torchvision" not in text or "\naccuracy:" in text:
            continue
        line = entry(path.stem.replace("-torchvision", ""))
        if line is None:
            continue
        print(f"{path.stem}: {line}")
        if "--write" in sys.argv:
            head, sep, rest = text.partition("\ninput:")
            if not sep:  # the file inherits its input
                head, sep, rest = text.partition("\nargs:")
            path.write_text(f"{head}\n{line}{sep}{rest}" if sep else f"{text.rstrip()}\n{line}\n")


if __name__ == "__main__":
    main()
