"""An Ultralytics YOLO model configuration (`yolov8n.yaml`, `yolo11n.yaml`) as an architecture mapping.

The configuration lists `backbone` and `head` rows `[from, repeats, module, args]`. As Ultralytics
reads them: a module's output channels (its first argument) are capped at `max_channels`, times the
width multiple, rounded up to a multiple of 8 (but where they are `nc`); repeats above 1 become
max(round(n × depth), 1); the multiples come from `depth_multiple`/`width_multiple` or from the row of
`scales` the scale letter picks (`yolov8n.yaml` is `yolov8.yaml` at scale `n`: the letter after the
version in the file's name; the config's `scale:` key wins; without either, the first row); C3k2 takes
C3k inner modules at the scales m, l and x. Each module becomes a block of the written file
(`archcalc.interop.ultralytics_blocks`), the detect head its box and class branches per level and
one `dfl` layer. Ultralytics itself is never imported.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from ..errors import SpecError
from ..spec.loader import parse_text
from .ultralytics_blocks import conv, definitions

MODULES = ("Conv", "C2f", "C3k2", "SPPF", "C2PSA", "Concat", "nn.Upsample", "Detect")
#: Bounds that refuse a hostile configuration before any work.
MAX_ROWS, MAX_REPEATS, MAX_CHANNELS, MAX_MULTIPLE = 1000, 64, 1 << 16, 16
#: The box distribution's bins per side (Ultralytics' `reg_max`).
REG_MAX = 16
_SCALED_NAME = re.compile(r"^(yolo(?:v)?\d+)([nslmx])(.*)$")


def import_ultralytics(source: str, *, input: tuple[int, ...] | None = None, name: str | None = None) -> dict[str, Any]:
    """The architecture mapping of the Ultralytics configuration file `source` (`input`: C, H, W per
    sample; default the config's `ch` channels, 640×640)."""
    label = str(source)
    config, scale = _read(label)
    rows = config.get("backbone"), config.get("head", [])
    if not isinstance(rows[0], list) or not rows[0] or not isinstance(rows[1], list):
        raise SpecError("an Ultralytics configuration needs backbone and head lists of [from, repeats, module, args]",
                        file=label)
    if len(rows[0]) + len(rows[1]) > MAX_ROWS:
        raise SpecError(f"{len(rows[0]) + len(rows[1]):,} rows: at most {MAX_ROWS:,}", file=label)
    if input is not None and len(input) != 3:
        raise SpecError(f"a YOLO network's input is C×H×W, got {len(input)} size(s)", file=label)
    shape = tuple(input) if input else (_whole(config.get("ch", 3), "ch", label), 640, 640)
    network = _Network(config, scale, label, shape[0])
    for index, row in enumerate(rows[0] + rows[1]):
        network.read(index, row)
    source_line = (f"Ultralytics configuration {Path(label).name}" + (f", scale {scale}" if network.scaled else "")
                   + f": depth {network.depth}, width {network.width}"
                   + (f", max_channels {network.max_channels}" if network.max_channels else ""))
    return {"name": name or Path(label).stem, "source": source_line, "input": list(shape),
            "calls": {"attention:*": "operator"}, "blocks": definitions(network.blocks), "layers": network.layers}


def _read(label: str) -> tuple[dict[str, Any], str | None]:
    """The configuration and its scale letter: `yolov8n.yaml` is read as itself where it exists, else as
    `yolov8.yaml` beside it; the letter comes from the name either way, or from the config's `scale`."""
    path = Path(label)
    match = _SCALED_NAME.match(path.stem)
    if not path.exists() and match:
        path = path.with_name(match.group(1) + match.group(3) + path.suffix)
    try:
        if path.stat().st_size > 1 << 20:
            raise SpecError("the configuration is larger than 1 MiB", file=label)
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"cannot read the configuration ({type(exc).__name__})", file=label) from None
    config = parse_text(text, label)
    if not isinstance(config, dict):
        raise SpecError("an Ultralytics configuration is a mapping with backbone and head", file=label)
    scale = config.get("scale", match.group(2) if match else None)
    return config, scale


def _whole(value: Any, what: str, label: str, index: int | None = None, high: int = MAX_CHANNELS) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= high:
        raise SpecError(f"{what} must be a whole number from 1 to {high:,}, got {str(value)[:40]}", file=label,
                        layer=None if index is None else f"layer {index}")
    return value


def _multiple(value: Any, what: str, label: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= MAX_MULTIPLE:
        raise SpecError(f"{what} must be a number above 0 and at most {MAX_MULTIPLE}, got {str(value)[:40]}",
                        file=label)
    return value


class _Network:
    """The rows read so far: the written entries (`layers`), the blocks they use, and per row its
    output channels and stride (input pixels per map position)."""

    def __init__(self, config: dict[str, Any], scale: Any, label: str, channels: int):
        self.label, self.input_channels = label, channels
        self.nc = _whole(config.get("nc", 80), "nc", label)
        depth, width, self.max_channels = config.get("depth_multiple", 1.0), config.get("width_multiple", 1.0), None
        scales, self.scaled, self.scale = config.get("scales"), False, None
        if scales:
            if not isinstance(scales, dict):
                raise SpecError("scales must map scale letters to [depth, width, max_channels]", file=label)
            self.scale = scale if scale is not None else next(iter(scales))
            row = scales.get(self.scale)
            if row is None:
                raise SpecError(f"scale {str(self.scale)[:20]!r} is not one of {', '.join(map(str, scales))}",
                                file=label)
            if not (isinstance(row, list) and len(row) == 3):
                raise SpecError(f"scales.{self.scale} must be [depth, width, max_channels]", file=label)
            depth, width, self.max_channels = row
            self.max_channels = _whole(self.max_channels, "max_channels", label)
            self.scaled = True
        self.depth, self.width = _multiple(depth, "depth", label), _multiple(width, "width", label)
        self.layers: list[dict[str, Any]] = []
        self.blocks: set[str] = set()
        self.channels: list[int] = []
        self.strides: list[float] = []
        self.legacy_head = True   # YOLOv8's head; a network with C3k2 stages has YOLO11's

    # --- one row ---------------------------------------------------------------------------------
    def read(self, index: int, row: Any) -> None:
        if self.layers and self.layers[-1]["type"] == "dfl":
            raise self.error(index, "Detect must be the last row")
        if not (isinstance(row, list) and len(row) == 4 and isinstance(row[3], list)):
            raise self.error(index, f"a row must be [from, repeats, module, args], got {str(row)[:60]}")
        raw_from, n, module, args = row
        if module not in MODULES:
            raise self.error(index, f"module {str(module)[:40]!r} has no archcalc form (known: {', '.join(MODULES)})")
        n = _whole(n, "repeats", self.label, index, MAX_REPEATS * MAX_MULTIPLE)
        n = max(round(n * self.depth), 1) if n > 1 else n
        if n > MAX_REPEATS:
            raise self.error(index, f"{n} repeats after depth scaling: at most {MAX_REPEATS}")
        sources = self.sources(index, raw_from)
        if module not in ("Concat", "Detect") and len(sources) != 1:
            raise self.error(index, f"{module} reads one layer, got from: {str(raw_from)[:40]}")
        if module not in ("C2f", "C3k2", "C2PSA") and n != 1:
            raise self.error(index, f"{module} takes no repeats")
        args = [self.nc if a == "nc" else None if a == "None" else a for a in args]
        reader = getattr(self, "_" + module.removeprefix("nn.").lower())
        reader(f"m{index}", index, sources, n, args)

    def error(self, index: int, message: str) -> SpecError:
        return SpecError(message, file=self.label, layer=f"layer {index}")

    def sources(self, index: int, raw: Any) -> list[int]:
        """The rows `raw` (`from`) names, as absolute indices; -1 for the network input."""
        found = raw if isinstance(raw, list) else [raw]
        if not found or len(found) > MAX_ROWS or any(isinstance(f, bool) or not isinstance(f, int) for f in found):
            raise self.error(index, f"from must be a row index or a list of them, got {str(raw)[:40]}")
        if index == 0:
            if found != [-1]:
                raise self.error(index, "the first row reads the input: from -1")
            return [-1]
        for f in found:
            if not -index <= f < index:
                raise self.error(index, f"from {f} names no earlier row (a row reads rows before it)")
        return [f % index if f < 0 else f for f in found]

    def name(self, source: int) -> str:
        return "input" if source == -1 else f"m{source}"

    def channels_of(self, source: int) -> int:
        return self.input_channels if source == -1 else self.channels[source]

    def stride_of(self, source: int) -> float:
        return 1 if source == -1 else self.strides[source]

    def scaled_channels(self, args: list, index: int) -> int:
        c2 = _whole(args[0] if args else None, "the output channels", self.label, index)
        if c2 != self.nc:
            c2 = math.ceil(min(c2, self.max_channels or c2) * self.width / 8) * 8
        return _whole(c2, "the scaled output channels", self.label, index)

    def add(self, entry: dict[str, Any], sources: list[int], channels: int, stride: float | None = None) -> None:
        reads = [self.name(s) for s in sources]
        self.layers.append({**entry, "from": reads if len(reads) > 1 else reads[0]})
        self.channels.append(channels)
        self.strides.append(self.stride_of(sources[0]) if stride is None else stride)

    # --- the modules -------------------------------------------------------------------------------
    def _conv(self, name: str, index: int, sources: list[int], n: int, args: list) -> None:
        c2 = self.scaled_channels(args, index)
        k, s = (_whole(args[j] if len(args) > j else 1, what, self.label, index, 31)
                for j, what in ((1, "the kernel size"), (2, "the stride")))
        self.add(conv(c2, k, s, name=name), sources, c2, self.stride_of(sources[0]) * s)

    def _c2f(self, name: str, index: int, sources: list[int], n: int, args: list) -> None:
        c2 = self.scaled_channels(args, index)
        self.blocks.add(f"C2f_n{n}")
        self.add({"name": name, "type": f"C2f_n{n}", "c2": c2, "shortcut": bool(args[1] if len(args) > 1 else False)},
                 sources, c2)

    def _c3k2(self, name: str, index: int, sources: list[int], n: int, args: list) -> None:
        c2 = self.scaled_channels(args, index)
        c3k = bool(args[1] if len(args) > 1 else False) or self.scale in ("m", "l", "x")
        e = _multiple(args[2] if len(args) > 2 else 0.5, "e", self.label)
        self.blocks.add(f"C3k2_n{n}")
        self.legacy_head = False
        self.add({"name": name, "type": f"C3k2_n{n}", "c2": c2, "c3k": c3k, "e": e}, sources, c2)

    def _sppf(self, name: str, index: int, sources: list[int], n: int, args: list) -> None:
        c2 = self.scaled_channels(args, index)
        k = _whole(args[1] if len(args) > 1 else 5, "the pooling size", self.label, index, 31)
        self.blocks.add("SPPF")
        self.add({"name": name, "type": "SPPF", "c2": c2, "hidden": self.channels_of(sources[0]) // 2, "k": k},
                 sources, c2)

    def _c2psa(self, name: str, index: int, sources: list[int], n: int, args: list) -> None:
        c1, c2 = self.channels_of(sources[0]), self.scaled_channels(args, index)
        if c2 != c1:
            raise self.error(index, f"C2PSA keeps its channels: {c1} in, {c2} out")
        heads = c1 // 2 // 64
        if heads < 1:
            raise self.error(index, f"C2PSA needs 128 input channels or more (heads of 64), got {c1}")
        self.blocks.add(f"C2PSA_n{n}_h{heads}")
        self.add({"name": name, "type": f"C2PSA_n{n}_h{heads}", "c2": c2, "c": c1 // 2}, sources, c2)

    def _concat(self, name: str, index: int, sources: list[int], n: int, args: list) -> None:
        if (args[0] if args else 1) != 1:
            raise self.error(index, "Concat must join the channels (dimension 1)")
        self.add({"name": name, "type": "concat"}, sources, sum(self.channels_of(s) for s in sources))

    def _upsample(self, name: str, index: int, sources: list[int], n: int, args: list) -> None:
        size, factor, mode = (args + [None, 2, "nearest"][len(args):])[:3]
        if size is not None or mode != "nearest":
            raise self.error(index, "Upsample must be nearest by a scale factor: [None, factor, 'nearest']")
        factor = _whole(factor, "the scale factor", self.label, index, 32)
        self.add({"name": name, "type": "upsample", "scale_factor": factor}, sources, self.channels_of(sources[0]),
                 self.stride_of(sources[0]) / factor)

    def _detect(self, name: str, index: int, sources: list[int], n: int, args: list) -> None:
        nc = _whole(args[0] if args else self.nc, "nc", self.label, index)
        levels = [self.channels_of(s) for s in sources]
        c2, c3 = max(16, levels[0] // 4, REG_MAX * 4), max(levels[0], min(nc, 100))
        strides = [self.stride_of(s) for s in sources]
        if any(stride != int(stride) or stride < 1 for stride in strides):
            raise self.error(index, f"the detected maps' strides {strides} are not whole")
        cls_block = "DetectCls" if self.legacy_head else "DetectClsDW"
        self.blocks |= {"DetectBox", cls_block}
        for j, (source, c1) in enumerate(zip(sources, levels)):
            where = {"from": self.name(source)}
            self.layers += [
                {"name": f"{name}_box{j}", "type": "DetectBox", **where, "c2": c2, "reg_max": REG_MAX},
                {"name": f"{name}_cls{j}", "type": cls_block, **where, **({} if self.legacy_head else {"c1": c1}),
                 "c3": c3, "nc": nc},
                {"name": f"{name}_cat{j}", "type": "concat", "from": [f"{name}_box{j}", f"{name}_cls{j}"]}]
        self.layers.append({"name": name, "type": "dfl", "from": [f"{name}_cat{j}" for j in range(len(sources))],
                            "reg_max": REG_MAX, "strides": [int(s) for s in strides], "trainable": False})
        self.channels.append(4 + nc)
        self.strides.append(0)
