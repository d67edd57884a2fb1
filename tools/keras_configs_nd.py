#!/usr/bin/env python3
"""Store the Keras configs of the 1-D and 3-D convolution models of ``tests/data/reference_video.json``:
``tests/data/keras/nd/<key>.json``, ``model.to_json()`` of the model its ``keras.<key>.code`` builds (the
same Python that measured its numbers), so that the importer's tests read what Keras wrote.

Re-run::

    KERAS_BACKEND=jax nice /work/refenv/bin/python tools/keras_configs_nd.py
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "data")
KEYS = ("conv1d", "conv1d_nobias_dilated", "conv3d")


def main() -> int:
    import keras
    from keras import Input, Sequential, layers

    with open(os.path.join(DATA, "reference_video.json")) as f:
        models = json.load(f)["keras"]
    namespace = {"Input": Input, "Sequential": Sequential, **{n: getattr(layers, n) for n in dir(layers)
                                                                  if n[0].isupper()}}
    os.makedirs(os.path.join(DATA, "keras", "nd"), exist_ok=True)
    for key in KEYS:
        keras.utils.set_random_seed(0)
        model = eval(models[key]["code"], namespace)  # noqa: S307 -- the reference file's own constant strings
        with open(os.path.join(DATA, "keras", "nd", f"{key}.json"), "w") as out:
            out.write(json.dumps(json.loads(model.to_json()), indent=1, sort_keys=True) + "\n")
        keras.backend.clear_session()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
