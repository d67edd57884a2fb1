"""Capture Keras 3's own `model.summary()` of VGG16 and ResNet50 as test data for the keras3 style.

Run in an environment with Keras 3 and JAX (not needed by archcalc or its tests):

    KERAS_BACKEND=jax python tools/capture_keras_summaries.py tests/data/keras3_summaries.txt

The output starts with its provenance (Keras and backend versions, the command, the date), then
each model's summary, printed with a fixed line length so that no column is cut.
"""

from __future__ import annotations

import datetime
import os
import sys

LINE_LENGTH = 150  # wide enough that no cell wraps
MODELS = ("VGG16", "ResNet50")


def main(path: str) -> None:
    os.environ.setdefault("KERAS_BACKEND", "jax")
    os.environ["COLUMNS"] = str(LINE_LENGTH + 10)  # rich's console would otherwise cut at 80
    import keras

    lines = [
        f"# keras {keras.__version__}, backend {keras.backend.backend()}",
        f"# command: KERAS_BACKEND={keras.backend.backend()} python tools/capture_keras_summaries.py {path}",
        f"# date: {datetime.date.today().isoformat()}",
        f"# keras.applications.<model>(weights=None).summary(line_length={LINE_LENGTH}, print_fn=...)",
    ]
    for name in MODELS:
        keras.backend.clear_session()  # layer names restart: `input_layer`, not `input_layer_1`
        model = getattr(keras.applications, name)(weights=None)
        lines.append(f"== {name}")
        model.summary(line_length=LINE_LENGTH, print_fn=lambda text, **_: lines.extend(text.splitlines()))
    with open(path, "w", encoding="utf-8") as out:
        out.write("\n".join(line.rstrip() for line in lines) + "\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/data/keras3_summaries.txt")
