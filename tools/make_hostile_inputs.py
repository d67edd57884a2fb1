"""Writes the binary hostile inputs of `archcalc run`: images (tests/hostile/images/) and weight files
(tests/hostile/weights/). Each file is small; the folders' README.md say what each attacks. Needs
Pillow and torch; the payloads create `../executed.txt`, the canary of tests/hostile.py.

    python tools/make_hostile_inputs.py
"""

from __future__ import annotations

import collections
import io
import os
import pickle
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent / "tests" / "hostile"
PAYLOAD = "touch ../executed.txt"


def png(width: int, height: int, depth: int, colour: int, rows: bytes, chunks: tuple[bytes, ...] = ()) -> bytes:
    """A PNG from its IHDR fields and the raw (filtered) rows; `chunks` go before IDAT."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + b"".join(chunks) + chunk(b"IDAT", zlib.compress(rows)) \
        + chunk(b"IEND", b"")


def image(mode: str, size: int = 32, **save) -> bytes:
    rng = np.random.default_rng(0)
    picture = Image.fromarray(rng.integers(0, 256, (size, size), dtype=np.uint8), "L").convert(mode)
    out = io.BytesIO()
    picture.save(out, **save)
    return out.getvalue()


def images() -> dict[str, bytes]:
    rng = np.random.default_rng(1)
    grey_alpha = Image.fromarray(rng.integers(0, 256, (32, 32, 2), dtype=np.uint8), "LA")
    rgba = Image.fromarray(rng.integers(0, 256, (32, 32, 4), dtype=np.uint8), "RGBA")
    palette = Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8), "RGB").quantize(16)
    grey16 = Image.fromarray(rng.integers(0, 65536, (32, 32), dtype=np.uint16))
    frames = [Image.fromarray(rng.integers(0, 256, (32, 32), dtype=np.uint8), "L").convert("P") for _ in range(2)]
    files = {}
    for name, picture, options in [("grey-alpha.png", grey_alpha, {}), ("rgba.png", rgba, {}),
                                   ("palette.png", palette, {}), ("palette-transparent.png", palette,
                                                                  {"transparency": 0}),
                                   ("grey16.png", grey16, {})]:
        out = io.BytesIO()
        picture.save(out, "PNG", **options)
        files[name] = out.getvalue()
    files["rgb16.png"] = png(32, 32, 16, 2, b"".join(b"\0" + rng.integers(0, 256, 32 * 6, dtype=np.uint8).tobytes()
                                                      for _ in range(32)))
    files["bilevel.png"] = image("1", format="PNG")
    files["cmyk.jpg"] = image("CMYK", format="JPEG")
    files["grey.jpg"] = image("L", format="JPEG")
    files["float.tiff"] = image("F", format="TIFF")
    for name, kind in [("animated.gif", "GIF"), ("animated.png", "PNG")]:
        out = io.BytesIO()
        frames[0].save(out, kind, save_all=True, append_images=frames[1:])
        files[name] = out.getvalue()
    # Headers that ask for billions of pixels over a few bytes of data
    files["bomb.png"] = png(100_000, 100_000, 8, 2, b"\0" * 64)
    files["bomb-under-pillow-limit.png"] = png(9_000, 9_000, 8, 0, b"\0" * 9_001 * 4)
    files["bomb.gif"] = b"GIF89a" + struct.pack("<HHBBB", 65_535, 65_535, 0, 0, 0) + b",\0\0\0\0" \
        + struct.pack("<HH", 65_535, 65_535) + b"\0\x08\x02\x4c\x01\0;"
    files["bomb.jpg"] = b"\xff\xd8\xff\xc0\0\x0b\x08" + struct.pack(">HH", 65_500, 65_500) + b"\x01\x01\x11\0" \
        + b"\xff\xd9"
    tiff = io.BytesIO()
    Image.new("L", (1, 1)).save(tiff, "TIFF")
    data = bytearray(tiff.getvalue())
    for offset in range(8, len(data) - 12):  # ImageWidth (256) and ImageLength (257) as 60,000
        tag, kind = struct.unpack_from("<HH", data, offset)
        if tag in (256, 257) and kind in (3, 4) and offset > 8:
            struct.pack_into("<HHII", data, offset, tag, 4, 1, 60_000)
    files["bomb.tiff"] = bytes(data)
    whole = image("L", format="PNG")
    files["truncated.png"] = whole[: len(whole) // 2]
    whole = image("L", format="JPEG")
    files["truncated.jpg"] = whole[: len(whole) // 2]
    files["wrong-size.png"] = image("L", size=8, format="PNG")
    files["postscript.eps"] = (f"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 32 32\n({PAYLOAD}) "
                               "(%pipe%) run\nshowpage\n").encode()
    files["not-an-image.png"] = b"just text, named like an image\n"
    return files


class _Storage:
    def __init__(self, key: str, numel: int):
        self.key, self.numel = key, numel


class _Tensor:
    """Pickles as torch's own `_rebuild_tensor_v2` of a storage (any shape it is told)."""

    def __init__(self, storage: _Storage, size: tuple[int, ...]):
        self.storage, self.size = storage, size

    def __reduce__(self):
        stride = tuple(int(np.prod(self.size[k + 1:])) for k in range(len(self.size)))
        return torch._utils._rebuild_tensor_v2, (self.storage, 0, self.size, stride, False, collections.OrderedDict())


class _System:
    def __reduce__(self):
        return os.system, (PAYLOAD,)


class _Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, _Storage):
            return "storage", torch.FloatStorage, obj.key, "cpu", obj.numel
        return None


def torch_zip(obj, storages: dict[str, bytes], compress: int = zipfile.ZIP_STORED) -> bytes:
    """A file laid out as torch.save writes one, holding the pickle of `obj`."""
    data = io.BytesIO()
    _Pickler(data, protocol=2).dump(obj)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compress) as archive:
        archive.writestr("archive/data.pkl", data.getvalue())
        archive.writestr("archive/byteorder", "little")
        for key, raw in storages.items():
            archive.writestr(f"archive/data/{key}", raw)
        archive.writestr("archive/version", "3\n")
    return out.getvalue()


def weights() -> dict[str, bytes]:
    small = {"0": np.zeros(6, np.float32).tobytes()}
    files = {
        "pickle-code.pt": torch_zip({"C1.bias": _System()}, {}),
        "bare-pickle.pt": pickle.dumps({"C1.bias": _System()}, protocol=2),
        "huge-shape.pt": torch_zip({"C1.weight": _Tensor(_Storage("0", 6), (1_000_000, 1_000_000))}, small),
        "huge-storage.pt": torch_zip({"C1.bias": _Tensor(_Storage("0", 10**12), (6,))}, small),
        "compressed.pt": torch_zip({"C1.bias": _Tensor(_Storage("0", 6), (6,)), "pad": "0" * 20_000_000},
                                   small, zipfile.ZIP_DEFLATED),
        "wrong-keys.pt": torch_zip({"nope.weight": _Tensor(_Storage("0", 6), (6,))}, small),
        "nested.pt": torch_zip({"state_dict": {"C1.bias": _Tensor(_Storage("0", 6), (6,))}}, small),
        "list.pt": torch_zip([_Tensor(_Storage("0", 6), (6,))], small),
        "not-weights.pt": b"weights? no, text\n",
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("C1.weight.npy", b"not an array")
    files["not-npy.npz"] = out.getvalue()
    return files


def main() -> None:
    for folder, made in (("images", images()), ("weights", weights())):
        for name, data in made.items():
            (ROOT / folder / name).write_bytes(data)
            print(f"{folder}/{name}: {len(data):,} bytes")


if __name__ == "__main__":
    main()
