"""An Ultralytics YOLO model configuration (`yolov8n.yaml`, `yolo11n.yaml`) as an architecture mapping.

The configuration lists `backbone` and `head` rows `[from, repeats, module, args]`; channels are scaled
by the width multiple (rounded up to a multiple of 8, capped at `max_channels` first) and repeats by the
depth multiple, from `depth_multiple`/`width_multiple` or from the row of `scales` the scale letter
picks (`yolov8n.yaml` is `yolov8.yaml` at scale `n`: the letter after the version, as Ultralytics
reads file names). Each module becomes a block of the written file (`Conv` = conv, batchnorm, SiLU;
`C2f`, `C3k2`, `C3k`, `Bottleneck`, `SPPF`, `C2PSA` with `PSABlock` and its `attention`), the detect
head its box and class branches per level and a `dfl` layer. Nothing here imports Ultralytics.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from ..errors import ArchcalcError, SpecError
from ..spec.loader import parse_text

MODULES = ("Conv", "C2f", "C3k2", "SPPF", "C2PSA", "Concat", "nn.Upsample", "Upsample", "Detect")
MAX_REPEATS = 64
MAX_CHANNELS = 1 << 16
MAX_ROWS = 1000
REG_MAX = 16
_SCALED_NAME = re.compile(r"^(yolo(?:v)?\d+)([nslmx])(.*)$")


def _conv(c2: Any, k: Any = 1, s: Any = 1, g: Any = 1, act: Any = True, **entry: Any) -> dict[str, Any]:
    return {"type": "Conv", "c2": c2, "k": k, "s": s, "g": g, "act": act, **entry}


def _chain(name: str, count: int, make) -> list[dict[str, Any]]:
    """`count` entries `name0` … each reading the one before (the first its default input)."""
    return [make(j, {"name": f"{name}{j}", **({"from": f"{name}{j - 1}"} if j else {})}) for j in range(count)]


def _blocks(used: set[str]) -> dict[str, Any]:
    """The blocks the written file uses (`used`: their names; repeats and heads are in the names)."""
    blocks: dict[str, Any] = {
        "Conv": {"args": {"c2": None, "k": 1, "s": 1, "g": 1, "act": True},
                 "layers": [{"name": "conv", "type": "conv", "out_channels": "c2", "kernel_size": "k", "stride": "s",
                             "padding": "k // 2", "groups": "g", "bias": False},
                            {"name": "bn", "type": "batchnorm", "eps": 0.001},
                            {"name": "act", "type": "silu", "when": "act"}]},
        "Bottleneck": {"args": {"c2": None, "shortcut": True, "e": 0.5},
                       "layers": [_conv("int(c2 * e)", 3, name="cv1"), _conv("c2", 3, name="cv2"),
                                  {"name": "add", "type": "add", "from": ["cv2", "input"], "when": "shortcut"}]},
        "SPPF": {"args": {"c2": None, "hidden": None, "k": 5},
                 "layers": [_conv("hidden", name="cv1"),
                            *_chain("m", 3, lambda j, e: {**e, "type": "maxpool", "kernel_size": "k", "stride": 1,
                                                          "padding": "k // 2"}),
                            {"name": "cat", "type": "concat", "from": ["cv1", "m0", "m1", "m2"]},
                            _conv("c2", name="cv2")]},
    }
    used = used | {"Conv"} | _needs(used)
    for name in used:
        kind, *rest = name.split("_")
        n = int(rest[-1][1:]) if rest and rest[-1].startswith("n") else 0
        if kind in ("C2f", "C3k2"):
            hidden = "int(c2 * e)"

            inner_rows = []
            for j in range(n):
                row = {"name": f"m{j}", "from": f"m{j - 1}" if j else "split", "c2": hidden, "shortcut": "shortcut"}
                if kind == "C2f":
                    inner_rows.append({**row, "type": "Bottleneck", "e": 1.0})
                else:   # a C3k, or a bottleneck of half the width, as c3k says
                    inner_rows += [{**row, "type": "C3k_n2", "when": "c3k"},
                                   {**row, "type": "Bottleneck", "when": "not c3k"}]
            args = {"c2": None, "shortcut": False, "e": 0.5} if kind == "C2f" else \
                {"c2": None, "c3k": False, "e": 0.5, "shortcut": True}
            blocks[name] = {"args": args, "layers": [
                _conv(f"2 * {hidden}", name="cv1"),
                {"name": "split", "type": "slice", "start": hidden, "end": f"2 * {hidden}"},
                *inner_rows,
                {"name": "cat", "type": "concat", "from": ["cv1", *(f"m{j}" for j in range(n))]},
                _conv("c2", name="cv2")]}
        elif kind == "C3k":
            blocks[name] = {"args": {"c2": None, "shortcut": True, "e": 0.5}, "layers": [
                _conv("int(c2 * e)", name="cv1"),
                {"name": "m", "type": "Bottleneck", "c2": "int(c2 * e)", "shortcut": "shortcut", "e": 1.0,
                 "repeat": n},
                _conv("int(c2 * e)", name="cv2", **{"from": "input"}),
                {"name": "cat", "type": "concat", "from": ["m", "cv2"]},
                _conv("c2", name="cv3")]}
        elif kind == "C2PSA":
            blocks[name] = {"args": {"c2": None, "c": None}, "layers": [
                _conv("2 * c", name="cv1"),
                {"name": "a", "type": "slice", "start": 0, "end": "c"},
                {"name": "b", "type": "slice", "start": "c", "end": "2 * c", "from": "cv1"},
                {"name": "m", "type": f"PSABlock_h{_heads(name)}", "c": "c", "repeat": n},
                {"name": "cat", "type": "concat", "from": ["a", "m"]},
                _conv("c2", name="cv2")]}
        elif kind == "PSABlock":
            blocks[name] = _psa_block(_heads(name))
    return {name: blocks[name] for name in sorted(used)}


def _heads(c2psa: str) -> int:
    return int(c2psa.split("_h")[1].split("_")[0])


def _needs(used: set[str]) -> set[str]:
    """The blocks the `used` ones use."""
    needs = set()
    for name in used:
        if name.startswith(("C2f", "C3k_")):
            needs.add("Bottleneck")
        if name.startswith("C3k2"):
            needs |= {"Bottleneck", "C3k_n2"}
    return needs


def _psa_block(heads: int) -> dict[str, Any]:
    """Ultralytics' PSABlock of `heads` heads of 64 channels: x + attention(x), then x + FFN(x). The
    qkv convolution gives each head its q (32 channels), k (32) and v (64) in turn."""
    per, kd = "(c // {h}) // 2 * 2 + c // {h}".format(h=heads), "(c // {h}) // 2".format(h=heads)
    hd = f"c // {heads}"
    layers: list[dict[str, Any]] = [_conv(f"c + 2 * {heads} * ({kd})", act=False, name="qkv")]
    for j in range(heads):
        base = f"{j} * ({per})"
        for part, start, width in (("q", base, kd), ("k", f"{base} + {kd}", kd), ("v", f"{base} + 2 * ({kd})", hd)):
            layers.append({"name": f"{part}{j}", "type": "slice", "from": "qkv", "start": start,
                           "end": f"{start} + {width}"})
    for part in "qkv":
        if heads > 1:
            layers.append({"name": part, "type": "concat", "from": [f"{part}{j}" for j in range(heads)]})
    names = {part: part if heads > 1 else f"{part}0" for part in "qkv"}
    layers += [
        {"name": "attn", "type": "attention", "num_heads": heads, "from": [names["q"], names["k"], names["v"]]},
        _conv("c", 3, g="c", act=False, name="pe", **{"from": names["v"]}),
        {"name": "sum", "type": "add", "from": ["attn", "pe"]},
        _conv("c", act=False, name="proj"),
        {"name": "add1", "type": "add", "from": ["proj", "input"]},
        _conv("2 * c", name="ffn1"),
        _conv("c", act=False, name="ffn2"),
        {"name": "add2", "type": "add", "from": ["ffn2", "add1"]},
    ]
    return {"args": {"c": None}, "layers": layers}


def _make_divisible(x: float, divisor: int = 8) -> int:
    return math.ceil(x / divisor) * divisor


class _Reader:
    """The rows of one configuration, read into archcalc entries while the channels are followed."""

    def __init__(self, config: dict[str, Any], scale: str | None, label: str, input_shape: tuple[int, ...]):
        self.label, self.config = label, config
        self.nc = self._whole(config.get("nc", 80), "nc")
        depth, width, self.max_channels = config.get("depth_multiple", 1.0), config.get("width_multiple", 1.0), None
        scales = config.get("scales")
        if scales:
            if not isinstance(scales, dict):
                raise self.error("scales must be a mapping of scale letters to [depth, width, max_channels]")
            scale = scale or next(iter(scales))
            if scale not in scales:
                raise self.error(f"scale {scale!r} is not one of {', '.join(map(str, scales))}")
            row = scales[scale]
            if not (isinstance(row, list) and len(row) == 3):
                raise self.error(f"scales.{scale} must be [depth, width, max_channels]")
            depth, width, self.max_channels = row
        self.depth, self.width = (self._number(v, k) for v, k in ((depth, "depth"), (width, "width")))
        if self.max_channels is not None:
            self.max_channels = self._whole(self.max_channels, "max_channels")
        self.scale = scale
        self.channels: list[int] = []
        self.strides: list[float] = []
        self.last_source = -1
        self.input_channels = input_shape[0]
        self.layers: list[dict[str, Any]] = []
        self.used: set[str] = set()
        self.last_c3k2_legacy = True

    def error(self, message: str, index: int | None = None) -> SpecError:
        return SpecError(message if index is None else f"layer {index}: {message}", file=self.label)

    def _number(self, value: Any, what: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 64:
            raise self.error(f"{what} must be a number in (0, 64], got {value!r}")
        return value

    def _whole(self, value: Any, what: str, index: int | None = None, high: int = MAX_CHANNELS) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= high:
            raise self.error(f"{what} must be a whole number from 1 to {high:,}, got {value!r}", index)
        return value

    def channels_of(self, index: int, source: int) -> int:
        return self.input_channels if source == -1 and index == 0 else self.channels[source]

    def name(self, index: int, source: int) -> str:
        return "input" if source == -1 and index == 0 else f"m{source}"

    def scaled(self, c2: Any, index: int) -> int:
        c2 = self._whole(c2, "the output channels", index)
        if c2 != self.nc:
            c2 = _make_divisible(min(c2, self.max_channels or c2) * self.width)
        return self._whole(c2, "the scaled output channels", index)

    def sources(self, index: int, raw: Any) -> list[int]:
        found = raw if isinstance(raw, list) else [raw]
        if not found or any(isinstance(f, bool) or not isinstance(f, int) for f in found):
            raise self.error(f"'from' must be an index or a list of indices, got {raw!r}", index)
        for f in found:
            if not (-index <= f < index or (index == 0 and f == -1)):
                raise self.error(f"'from' {f} names no earlier layer (layers read earlier ones only)", index)
        return [f if f >= 0 or index == 0 else index + f for f in found] if index else [-1]

    def row(self, index: int, entry: Any) -> None:
        if not (isinstance(entry, list) and len(entry) == 4 and isinstance(entry[3], list)):
            raise self.error(f"a row must be [from, repeats, module, args], got {str(entry)[:80]}", index)
        raw_from, n, module, args = entry
        if module not in MODULES:
            raise self.error(f"module {str(module)[:60]!r} has no archcalc form (known: {', '.join(MODULES)})", index)
        n = self._whole(n, "repeats", index, MAX_REPEATS * 10)
        n = max(round(n * self.depth), 1) if n > 1 else n
        if n > MAX_REPEATS:
            raise self.error(f"{n} repeats after depth scaling: at most {MAX_REPEATS}", index)
        args = [self.nc if a == "nc" else None if a == "None" else a for a in args]
        sources = self.sources(index, raw_from)
        if module != "Concat" and module != "Detect" and len(sources) != 1:
            raise self.error(f"{module} reads one layer, got from {raw_from!r}", index)
        c1 = self.channels_of(index, sources[0])
        entry_from = {"from": [self.name(index, s) for s in sources] if len(sources) > 1 else self.name(index, sources[0])}
        name = f"m{index}"
        self.last_source = sources[0]
        getattr(self, "_" + module.replace("nn.", "").lower())(index, name, entry_from, c1, n, args, sources)

    # --- the modules ---------------------------------------------------------------------------
    def _arg(self, args: list, k: int, default: Any, index: int) -> Any:
        return args[k] if len(args) > k else default

    def add(self, channels: int, entry: dict[str, Any], stride: float | None = None) -> None:
        """Append `entry`, `channels` deep, `stride` input pixels per map position (default: its input's)."""
        self.layers.append(entry)
        self.channels.append(channels)
        self.strides.append(self.stride_of(len(self.channels) - 1, self.last_source) if stride is None else stride)

    def stride_of(self, index: int, source: int) -> float:
        return 1 if source == -1 and index == 0 else self.strides[source]

    def _conv(self, index, name, entry_from, c1, n, args, sources):
        if n != 1:
            raise self.error("Conv takes no repeats", index)
        c2 = self.scaled(args[0] if args else None, index)
        k, s = self._arg(args, 1, 1, index), self._arg(args, 2, 1, index)
        for value, what in ((k, "kernel size"), (s, "stride")):
            self._whole(value, what, index, 64)
        self.add(c2, {"name": name, "type": "Conv", **entry_from, "c2": c2, "k": k, "s": s},
                 self.stride_of(index, self.last_source) * s)

    def _c2f(self, index, name, entry_from, c1, n, args, sources):
        c2 = self.scaled(args[0] if args else None, index)
        shortcut = bool(self._arg(args, 1, False, index))
        self.used.add(f"C2f_n{n}")
        self.add(c2, {"name": name, "type": f"C2f_n{n}", **entry_from, "c2": c2, "shortcut": shortcut})

    def _c3k2(self, index, name, entry_from, c1, n, args, sources):
        c2 = self.scaled(args[0] if args else None, index)
        c3k = bool(self._arg(args, 1, False, index)) or (self.scale is not None and self.scale in "mlx")
        e = self._number(self._arg(args, 2, 0.5, index), "e")
        self.used.add(f"C3k2_n{n}")
        self.last_c3k2_legacy = False
        self.add(c2, {"name": name, "type": f"C3k2_n{n}", **entry_from, "c2": c2, "c3k": c3k, "e": e})

    def _sppf(self, index, name, entry_from, c1, n, args, sources):
        c2 = self.scaled(args[0] if args else None, index)
        k = self._whole(self._arg(args, 1, 5, index), "kernel size", index, 63)
        self.used.add("SPPF")
        self.add(c2, {"name": name, "type": "SPPF", **entry_from, "c2": c2, "hidden": c1 // 2, "k": k})

    def _c2psa(self, index, name, entry_from, c1, n, args, sources):
        c2 = self.scaled(args[0] if args else None, index)
        if c2 != c1:
            raise self.error(f"C2PSA keeps the channels: {c1} in, {c2} out", index)
        c = c1 // 2
        heads = c // 64
        if heads < 1:
            raise self.error(f"C2PSA needs at least 128 input channels (heads of 64), got {c1}", index)
        block = f"C2PSA_h{heads}_n{n}"
        self.used |= {block, f"PSABlock_h{heads}"}
        self.add(c2, {"name": name, "type": block, **entry_from, "c2": c2, "c": c})

    def _concat(self, index, name, entry_from, c1, n, args, sources):
        if self._arg(args, 0, 1, index) != 1:
            raise self.error("Concat must join the channels (dimension 1)", index)
        self.add(sum(self.channels_of(index, s) for s in sources),
                 {"name": name, "type": "concat", "from": [self.name(index, s) for s in sources]})

    def _upsample(self, index, name, entry_from, c1, n, args, sources):
        size, factor, mode = (self._arg(args, k, d, index) for k, d in ((0, None), (1, 2), (2, "nearest")))
        if size is not None or mode != "nearest":
            raise self.error("Upsample must be nearest by a scale factor ([None, factor, 'nearest'])", index)
        self._whole(factor, "the scale factor", index, 64)
        self.add(c1, {"name": name, "type": "upsample", **entry_from, "scale_factor": factor},
                 self.stride_of(index, self.last_source) / factor)

    def _detect(self, index, name, entry_from, c1, n, args, sources):
        nc = self._whole(self._arg(args, 0, self.nc, index), "nc", index)
        levels = [self.channels_of(index, s) for s in sources]
        c2, c3 = max(16, levels[0] // 4, REG_MAX * 4), max(levels[0], min(nc, 100))
        legacy = self.last_c3k2_legacy
        cats = []
        for j, (source, c) in enumerate(zip(sources, levels)):
            where = {"from": self.name(index, source)}
            box = [_conv(c2, 3, name=f"{name}_box{j}_0", **where), _conv(c2, 3, name=f"{name}_box{j}_1"),
                   {"name": f"{name}_box{j}_2", "type": "conv", "out_channels": 4 * REG_MAX, "kernel_size": 1}]
            if legacy:
                cls = [_conv(c3, 3, name=f"{name}_cls{j}_0", **where), _conv(c3, 3, name=f"{name}_cls{j}_1")]
            else:   # depthwise then pointwise, twice
                cls = [_conv(c, 3, g=c, name=f"{name}_cls{j}_0", **where), _conv(c3, name=f"{name}_cls{j}_1"),
                       _conv(c3, 3, g=c3, name=f"{name}_cls{j}_2"), _conv(c3, name=f"{name}_cls{j}_3")]
            cls.append({"name": f"{name}_cls{j}_out", "type": "conv", "out_channels": nc, "kernel_size": 1})
            self.layers += box + cls
            self.layers.append({"name": f"{name}_cat{j}", "type": "concat",
                                "from": [box[-1]["name"], cls[-1]["name"]]})
            cats.append(f"{name}_cat{j}")
        strides = [self.stride_of(index, s) for s in sources]
        if any(stride != int(stride) for stride in strides):
            raise self.error(f"the detected maps' strides {strides} are not whole", index)
        self.add(4 + nc, {"name": name, "type": "dfl", "from": cats, "reg_max": REG_MAX, "trainable": False,
                          "strides": [int(stride) for stride in strides]})


def _load(source: str, label: str) -> tuple[dict[str, Any], str | None]:
    """The configuration and its scale letter: `yolov8n.yaml` is read as itself where it exists, else as
    `yolov8.yaml` beside it; the letter comes from the name either way."""
    path = Path(source)
    match = _SCALED_NAME.match(path.stem)
    scale = match.group(2) if match else None
    if not path.exists() and match:
        path = path.with_name(match.group(1) + match.group(3) + path.suffix)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"cannot read the configuration ({type(exc).__name__})", file=label) from None
    config = parse_text(text, label)
    if not isinstance(config, dict):
        raise SpecError("an Ultralytics configuration is a mapping with backbone and head", file=label)
    if isinstance(config.get("scale"), str):
        scale = config["scale"]
    return config, scale


def is_ultralytics(source: str) -> bool:
    """Whether `source` names a YAML configuration (rather than an archcalc file)."""
    return source.endswith((".yaml", ".yml"))


def import_ultralytics(source: str, *, input: tuple[int, ...] | None = None, name: str | None = None) -> dict[str, Any]:
    """The architecture mapping of the Ultralytics configuration `source` (`input`: C, H, W, default 3×640×640)."""
    label = str(source)
    config, scale = _load(label, label)
    rows = [*(config.get("backbone") or []), *(config.get("head") or [])]
    if not rows or not isinstance(config.get("backbone"), list) or not isinstance(config.get("head", []), list):
        raise SpecError("an Ultralytics configuration needs backbone and head lists of [from, repeats, module, args]",
                        file=label)
    if len(rows) > MAX_ROWS:
        raise SpecError(f"{len(rows):,} rows: at most {MAX_ROWS:,}", file=label)
    shape = tuple(input) if input else (config.get("ch", 3), 640, 640)
    reader = _Reader(config, scale, label, shape)
    for index, row in enumerate(rows):
        reader.row(index, row)
    return _mapping(reader, name or Path(label).stem, shape, scale)


def _mapping(reader: _Reader, name: str, shape: tuple[int, ...], scale: str | None) -> dict[str, Any]:
    return {"name": name,
            "source": f"Ultralytics configuration {Path(reader.label).name}"
                      + (f" at scale {scale}" if scale else "")
                      + f" (depth {reader.depth}, width {reader.width}"
                      + (f", max_channels {reader.max_channels}" if reader.max_channels else "") + ")",
            "input": list(shape), "calls": {"attention:*": "operator"},
            "blocks": _blocks(reader.used), "layers": [dict(layer) for layer in reader.layers]}
