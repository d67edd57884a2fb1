"""The zoo files the export tests run, and the small inputs they run them at."""

from __future__ import annotations

import archcalc

SIZES = (32, 48, 64, 75, 96, 128, 160, 224, 227, 299)
ADAPTIVE = ("adaptiveavgpool", "adaptivemaxpool")


def small(name: str) -> str | dict:
    """The zoo file `name`, or, for a detector that declares how many RoIs its heads read (its `*_rois`
    arguments), the file extended with one RoI per pyramid level: at a small input the RoI heads' work
    (a thousand RoIs) would otherwise dwarf the rest and every tool's forward pass with it."""
    rois = {key: ROIS for key in archcalc.load(name).spec.args if key.endswith("_rois")}
    return {"name": name, "extends": name, "args": rois} if rois else name


ROIS = 4  # one per level of a feature pyramid's RoI pooling


def small_input(name: str) -> list[int]:
    """The smallest square input the file accepts whose adaptive poolings (if any) pool whole windows
    (as ONNX can): the exports are checked there rather than at the full size, to keep tests short. A
    signal (C, L) is cut to the shortest of LENGTHS, a clip (C, T, H, W) to the smallest square frames
    of SIZES and then the fewest frames that the file accepts alike."""
    native = list(archcalc.analyze(name).input_shape)
    if len(native) == 2:
        return next((shape for shape in ([native[0], n] for n in LENGTHS if n < native[1]) if _fits(name, shape)),
                    native)
    if len(native) == 4:
        c, frames, height, _ = native
        squares = [[c, frames, size, size] for size in SIZES if size < height] + [native]
        square = next(shape for shape in squares if _fits(name, shape))
        return next(shape for shape in ([c, t, *square[2:]] for t in range(1, frames + 1)) if _fits(name, shape))
    for size in SIZES:
        if len(native) != 3 or size >= native[1]:
            break
        if _fits(name, [native[0], size, size]):
            return [native[0], size, size]
    return native


LENGTHS = (64, 128, 256, 512, 1024, 2048, 4096)


def _fits(name: str, shape: list[int]) -> bool:
    """Whether the file accepts the input `shape` and its adaptive poolings then pool whole windows."""
    try:
        report = archcalc.analyze(name, input=shape)
    except archcalc.ArchcalcError:
        return False
    return all(all(n % o == 0 for n, o in zip(r.input_shapes[0][1:], r.layer.output_size))
               for r in report.layers if r.layer.type_name.removesuffix("1d").removesuffix("3d") in ADAPTIVE)

