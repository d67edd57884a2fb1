"""The zoo files the export tests run, and the small inputs they run them at."""

from __future__ import annotations

import archcalc

SIZES = (32, 48, 64, 75, 96, 128, 160, 224, 227, 299)
ADAPTIVE = ("adaptiveavgpool", "adaptivemaxpool")


def small_input(name: str) -> list[int]:
    """The smallest square input the file accepts whose adaptive poolings (if any) pool whole windows
    (as ONNX can): the exports are checked there rather than at the full size, to keep tests short."""
    native = list(archcalc.analyze(name).input_shape)
    for size in SIZES:
        if len(native) != 3 or size >= native[1]:
            break
        try:
            report = archcalc.analyze(name, input=[native[0], size, size])
        except archcalc.ArchcalcError:
            continue
        if all(r.input_shapes[0][1] % r.layer.output_size[0] == 0 and r.input_shapes[0][2] % r.layer.output_size[1]
               == 0 for r in report.layers if r.layer.type_name in ADAPTIVE):
            return [native[0], size, size]
    return native

