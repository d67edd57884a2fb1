"""Structure-aware mutation of Keras model configs for tools/fuzz.py (`--surface keras`).

Seeds: the hostile Keras corpus (tests/hostile/keras, but its bombs) and the stored Keras 3
`model.to_json()` files (tests/data/keras), cut to their first 3–30 layers. A mutant is the parsed
config with one to four changes — class names (Lambda and other code-carrying layers among them),
layer configs, input shapes, inbound nodes, names, module fields, payloads, numbers JSON cannot hold —
written as JSON (sometimes gzip-compressed, or as a `.keras` archive with odd entries), sometimes with a
text-level change on top.
"""

from __future__ import annotations

import copy
import gzip
import io
import json
import random
import zipfile
from pathlib import Path

from fuzz_hostile import PAYLOADS, SECRET_PATHS, number, text

ROOT = Path(__file__).resolve().parent.parent
SKIP = {"gzip-bomb.json.gz", "zip-bomb.keras", "200k-layers.json.gz"}
CUTS = (3, 8, 30)
CLASSES = ["Lambda", "TFOpLambda", "Functional", "Sequential", "Model", "InputLayer", "Conv2D", "Dense", "Add",
           "Concatenate", "Flatten", "Reshape", "ZeroPadding2D", "DepthwiseConv2D", "SeparableConv2D", "Custom", ""]
SPECIAL = {
    "class_name": lambda rng, names, classes: rng.choice(classes),
    "module": lambda rng, names, classes: rng.choice(["os", "builtins", "subprocess", "keras.layers", "__main__"]),
    "function": lambda rng, names, classes: rng.choice(PAYLOADS + [["4wEAAAAAAAAA", None, None]]),
    "name": lambda rng, names, classes: rng.choice(names) if rng.random() < 0.6 else text(rng),
    "keras_history": lambda rng, names, classes: [rng.choice(names), rng.choice([0, 1, -1, 10**9]),
                                                  rng.choice([0, 1, 5])],
    "batch_shape": lambda rng, names, classes: [None, *(number(rng) for _ in range(rng.choice([0, 1, 3, 3, 4])))],
    "keras_version": lambda rng, names, classes: text(rng),
    "fname": lambda rng, names, classes: rng.choice(SECRET_PATHS),
}
SNIPPETS = ["1e400", "-1e400", "NaN", "Infinity", "9" * 5000, '"\\ud800"', "[" * 3000, "{", "null", "true",
            '"\\u0000"', "0x10", "1_000", "[null, 1e400, 8, 3]"]


def seeds() -> list[bytes]:
    out = []
    for path in sorted((ROOT / "tests" / "hostile" / "keras").iterdir()):
        if path.name.endswith((".json", ".json.gz", ".keras")) and path.name not in SKIP:
            out.append(path.read_bytes())
    for path in sorted((ROOT / "tests" / "data" / "keras").glob("*.json.gz")):
        model = json.loads(gzip.decompress(path.read_bytes()))
        layers = model["config"]["layers"]
        for count in (n for n in CUTS if n < len(layers)):
            cut = copy.deepcopy(model)
            cut["config"]["layers"] = layers[:count]
            cut["config"]["output_layers"] = [layers[count - 1]["name"], 0, 0]
            out.append(json.dumps(cut).encode())
    return out


def vocabulary(seed_list: list[bytes]) -> tuple[list[str], list[str], list[str]]:
    """Keys, layer names and class names of the seeds."""
    keys, names, classes = set(SPECIAL), set(), set(CLASSES)

    def walk(data):
        if isinstance(data, dict):
            for key, value in data.items():
                keys.add(key)
                if key == "name" and isinstance(value, str):
                    names.add(value)
                elif key == "class_name" and isinstance(value, str):
                    classes.add(value)
                walk(value)
        elif isinstance(data, list):
            for item in data:
                walk(item)

    for data in seed_list:
        walk(_parse(data)[0])
    return sorted(keys), sorted(names) or ["x"], sorted(classes)


def _parse(data: bytes):
    """(the config, how it was stored: 'json', 'gzip' or 'keras'); (None, 'bytes') when unreadable."""
    try:
        if data[:2] == b"\x1f\x8b":
            return json.loads(gzip.decompress(data)), "gzip"
        if data[:2] == b"PK":
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                return json.loads(archive.read("config.json")), "keras"
        return json.loads(data), "json"
    except Exception:  # noqa: BLE001 - the corpus holds files that are not configs: mutated as bytes
        return None, "bytes"


def _value(rng: random.Random, vocabulary, key=None, depth: int = 0):
    keys, names, classes = vocabulary
    if key in SPECIAL and rng.random() < 0.8:
        return SPECIAL[key](rng, names, classes)
    kind = rng.randrange(7 if depth < 2 else 5)
    if kind <= 1:
        return number(rng)
    if kind == 2:
        return rng.choice([True, False, None])
    if kind == 3:
        return text(rng) if rng.random() < 0.5 else rng.choice(names + classes)
    if kind == 4:
        return [number(rng) for _ in range(rng.randint(0, 4))]
    if kind == 5:
        return [_value(rng, vocabulary, None, depth + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(keys): _value(rng, vocabulary, None, depth + 1) for _ in range(rng.randint(0, 3))}


def _containers(data, found: list) -> list:
    found.append(data)
    for child in (data.values() if isinstance(data, dict) else data):
        if isinstance(child, dict | list):
            _containers(child, found)
    return found


def mutate_tree(data, rng: random.Random, vocabulary) -> None:
    """One to four changes to the parsed config, in place."""
    for _ in range(rng.randint(1, 4)):
        containers = _containers(data, [])
        target = rng.choice(containers)
        action = rng.randrange(5)
        if isinstance(target, dict):
            key = rng.choice(list(target)) if target else rng.choice(vocabulary[0])
            if action <= 1 or not target:
                target[key] = _value(rng, vocabulary, key)
            elif action == 2:
                del target[key]
            elif action == 3:
                new = rng.choice(vocabulary[0])
                target[new] = _value(rng, vocabulary, new)
            else:
                target[key] = copy.deepcopy(rng.choice(containers))
        elif target:
            index = rng.randrange(len(target))
            if action <= 1:
                target[index] = _value(rng, vocabulary)
            elif action == 2:
                del target[index]
            elif action == 3:
                target[index:index] = [copy.deepcopy(target[index])] * rng.choice([1, 2, 20])
            else:
                rng.shuffle(target)
        else:
            target.append(_value(rng, vocabulary))


def _archive(config: bytes, rng: random.Random) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        entries = [("metadata.json", json.dumps({"keras_version": text(rng)}).encode()), ("config.json", config)]
        if rng.random() < 0.3:
            entries.append((rng.choice(["config.json", "../config.json", "/config.json", "model.weights.h5"]),
                            rng.choice([config, b"{}", b"\x00" * 16])))
        for name, data in entries:
            info = zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


def _text(text_: str, rng: random.Random) -> str:
    lines = text_.split("\n")
    index = rng.randrange(len(lines))
    action = rng.randrange(4)
    if action <= 1:
        line = lines[index]
        cut = line.rfind(": ")
        comma = "," if line.endswith(",") else ""
        lines[index] = (line[:cut + 2] if cut >= 0 else line) + rng.choice(SNIPPETS) + comma
    elif action == 2:
        del lines[index]
    else:
        lines[index] = lines[index][: rng.randrange(len(lines[index]) + 1)]
    return "\n".join(lines)


def mutate(data: bytes, rng: random.Random, vocabulary) -> bytes:
    """A mutant of the Keras config `data` (JSON, gzip-compressed JSON or a .keras archive)."""
    tree, stored = _parse(data)
    if tree is None:
        data = bytearray(data)
        if data:
            data[rng.randrange(len(data))] = rng.randrange(256)
        return bytes(data)
    if isinstance(tree, dict | list):
        mutate_tree(tree, rng, vocabulary)
    out = json.dumps(tree, indent=1 if rng.random() < 0.2 else None)
    if rng.random() < 0.2:
        out = _text(out if "\n" in out else json.dumps(tree, indent=1), rng)
    encoded = out.encode("utf-8", "surrogatepass")
    stored = stored if rng.random() < 0.9 else rng.choice(["json", "gzip", "keras"])
    if stored == "gzip":
        return gzip.compress(encoded, mtime=0)
    return _archive(encoded, rng) if stored == "keras" else encoded
