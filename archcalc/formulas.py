"""The textbook formulas, usable on their own: `conv_output_size(227, 11, stride=4) == 55`.

The layer classes use these same functions, so a number computed by hand here and a number in
a table always agree. Every argument is checked: a bool, a float, text, a count below its least
value or beyond ±10**15 is an `ArchcalcError` naming the argument, never a wrong number.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

from .errors import ShapeError, SpecError, shorten
from .expr import MAX_MAGNITUDE

Padding = int | str | tuple[int, ...] | list[int]
_SEQUENCES = (tuple, list)  # made once (a `tuple | list` union is built anew at each use)


def _whole(name: str, value: Any, low: int) -> int:
    """`value` as an int: SpecError unless a whole number within ±10**15, ShapeError below `low`."""
    if value.__class__ is int and low <= value <= MAX_MAGNITUDE:  # the common case, at once
        return value
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise SpecError(f"{name} must be a whole number, got {shorten(repr(value))}")
    if abs(value) > MAX_MAGNITUDE:
        raise SpecError(f"{name} is beyond ±10**15")
    if value < low:
        raise ShapeError(f"{name} must be at least {low}, got {value}")
    return int(value)


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise SpecError(f"{name} must be true or false, got {shorten(repr(value))}")
    return value


def _pair(name: str, value: Any, low: int) -> tuple[int, int]:
    """One whole number for both axes or sides, or a pair of them."""
    if isinstance(value, _SEQUENCES):
        if len(value) != 2:
            raise SpecError(f"{name} must be one whole number or a pair, got {shorten(repr(value))}")
        return _whole(name, value[0], low), _whole(name, value[1], low)
    value = _whole(name, value, low)
    return value, value


def check_groups(groups: int, in_channels: int, out_channels: int) -> None:
    """ShapeError unless `groups` divides both channel counts of a convolution."""
    if in_channels % groups or out_channels % groups:
        raise ShapeError(f"groups={groups} must divide in_channels={in_channels} and out_channels={out_channels}")


def _groups(groups: Any, in_channels: int, out_channels: int) -> int:
    groups = _whole("groups", groups, 1)
    check_groups(groups, in_channels, out_channels)
    return groups


def conv_output_size(
    n: int,
    kernel_size: int,
    stride: int = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int = 1,
    ceil_mode: bool = False,
) -> int:
    """Output length along one axis: floor((n + p_before + p_after − d·(k−1) − 1)/s) + 1.

    `padding` is one int (both sides) or (before, after). With `ceil_mode` the division rounds
    up, but, as in PyTorch, the last window must start inside the input or the left padding.
    """
    n = _whole("input size", n, 1)
    kernel_size = _whole("kernel_size", kernel_size, 1)
    stride = _whole("stride", stride, 1)
    dilation = _whole("dilation", dilation, 1)
    before, after = _pair("padding", padding, 0)
    ceil_mode = _flag("ceil_mode", ceil_mode)
    return window_output(n, kernel_size, stride, (before, after), dilation, ceil_mode)


def window_output(n: int, kernel_size: int, stride: int, padding: tuple[int, int], dilation: int,
                  ceil_mode: bool = False) -> int:
    """`conv_output_size` of values already checked (a layer's validated fields on a checked input)."""
    before = padding[0]
    span = window_span(n, kernel_size, padding, dilation)
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= n + before:
        out -= 1
    if out < 1:
        raise ShapeError(
            f"window {dilated_kernel(kernel_size, dilation)} is larger than the padded input "
            f"{n + before + padding[1]}"
        )
    return out


def tiling_remainder(n: int, kernel_size: int, stride: int, padding: tuple[int, int], dilation: int = 1) -> int:
    """Real input positions (not padding) that no window reads; 0 when the windows cover the input.

    The last `span % stride` positions of the padded input are never read; only those beyond the
    trailing padding are real data lost (ResNet's 7×7/2 stem on 224 skips one padding column only).
    """
    n, kernel_size = _whole("input size", n, 1), _whole("kernel_size", kernel_size, 1)
    stride, dilation = _whole("stride", stride, 1), _whole("dilation", dilation, 1)
    return window_remainder(n, kernel_size, stride, _pair("padding", padding, 0), dilation)


def window_remainder(n: int, kernel_size: int, stride: int, padding: tuple[int, int], dilation: int) -> int:
    """`tiling_remainder` of values already checked."""
    return max(0, window_span(n, kernel_size, padding, dilation) % stride - padding[1])


def same_padding(n: int, kernel_size: int, stride: int = 1, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow's `same` rule: output ceil(n/s); the odd pixel goes to the bottom/right."""
    n, kernel_size = _whole("input size", n, 1), _whole("kernel_size", kernel_size, 1)
    stride, dilation = _whole("stride", stride, 1), _whole("dilation", dilation, 1)
    out = -(-n // stride)
    total = max((out - 1) * stride + dilation * (kernel_size - 1) + 1 - n, 0)
    return (total // 2, total - total // 2)


def resolve_padding(
    padding: Padding, size: tuple[int, ...], kernel: tuple[int, ...], stride: tuple[int, ...],
    dilation: tuple[int, ...] = (1, 1),
) -> tuple[tuple[int, int], ...]:
    """Every padding form as (before, after) per spatial axis: ((top, bottom), (left, right)) on (H, W).

    Forms: int; one value per axis ((pad_h, pad_w)); (before, after) per axis ((top, bottom, left,
    right)); `same`; `valid`. The number of axes is that of `size`: (L,), (H, W) or (T, H, W).
    """
    axes = len(size)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * axes
        if padding == "same":
            return tuple(same_padding(n, k, s, d) for n, k, s, d in zip(size, kernel, stride, dilation))
        raise SpecError(f"padding must be an int, {_AXES_WORDS[axes]}, {2 * axes} ints, 'same' or 'valid', "
                        f"got {padding!r}")
    if not isinstance(padding, _SEQUENCES):
        width = _whole("padding", padding, 0)
        return ((width, width),) * axes
    if len(padding) == axes:
        return tuple([(width, width) for width in [_whole("padding", v, 0) for v in padding]])
    if len(padding) == 2 * axes:
        widths = [_whole("padding", v, 0) for v in padding]
        return tuple([(widths[k], widths[k + 1]) for k in range(0, 2 * axes, 2)])
    raise SpecError(f"padding must have 1, {axes} or {2 * axes} values, got {shorten(repr(list(padding)))}")


#: How an error names one value per axis, by the number of spatial axes.
_AXES_WORDS = {1: "one int", 2: "a pair", 3: "three ints"}


def conv_params(in_channels: int, out_channels: int, kernel_size: int | tuple[int, int],
                groups: int = 1, bias: bool = True) -> int:
    """k_h·k_w·(C_in/groups)·C_out (+ C_out)."""
    in_channels, out_channels = _whole("in_channels", in_channels, 1), _whole("out_channels", out_channels, 1)
    kh, kw = _pair("kernel_size", kernel_size, 1)
    groups = _groups(groups, in_channels, out_channels)
    return kh * kw * (in_channels // groups) * out_channels + (out_channels if _flag("bias", bias) else 0)


def conv_macs(out_h: int, out_w: int, in_channels: int, out_channels: int,
              kernel_size: int | tuple[int, int], groups: int = 1) -> int:
    """H_out·W_out·C_out·(C_in/groups)·k_h·k_w for one sample."""
    out_h, out_w = _whole("out_h", out_h, 1), _whole("out_w", out_w, 1)
    return window_macs((out_h, out_w), in_channels, out_channels, _pair("kernel_size", kernel_size, 1), groups)


def conv_transpose_macs(in_h: int, in_w: int, in_channels: int, out_channels: int,
                        kernel_size: int | tuple[int, int], groups: int = 1) -> int:
    """H_in·W_in·C_in·(C_out/groups)·k_h·k_w for one sample: every input pixel is scattered through
    the kernel."""
    in_h, in_w = _whole("in_h", in_h, 1), _whole("in_w", in_w, 1)
    in_channels, out_channels = _whole("in_channels", in_channels, 1), _whole("out_channels", out_channels, 1)
    kernel = _pair("kernel_size", kernel_size, 1)
    return window_macs((in_h, in_w), out_channels, in_channels, kernel, _groups(groups, in_channels, out_channels))


def window_macs(positions: tuple[int, ...], in_channels: int, out_channels: int, kernel: tuple[int, ...],
                groups: int = 1) -> int:
    """∏positions·C_out·(C_in/groups)·∏kernel on any number of spatial axes ((L,), (H, W), (T, H, W)): a
    convolution's MACs with its output positions, a transposed one's with its input positions and the
    channel counts swapped (each input position is scattered through the kernel)."""
    size = 1
    for n in positions:
        size *= _whole("output size", n, 1)
    for k in kernel:
        size *= _whole("kernel_size", k, 1)
    in_channels, out_channels = _whole("in_channels", in_channels, 1), _whole("out_channels", out_channels, 1)
    groups = _groups(groups, in_channels, out_channels)
    return size * out_channels * (in_channels // groups)


def linear_params(in_features: int, out_features: int, bias: bool = True) -> int:
    """in·out (+ out)."""
    in_features, out_features = _whole("in_features", in_features, 1), _whole("out_features", out_features, 1)
    return in_features * out_features + (out_features if _flag("bias", bias) else 0)


def linear_macs(in_features: int, out_features: int, positions: int = 1) -> int:
    """positions·in·out: a fully connected layer at each of `positions` places (1 on a flat input,
    H·W where it acts on each pixel's channels, as a 1×1 convolution)."""
    in_features, out_features = _whole("in_features", in_features, 1), _whole("out_features", out_features, 1)
    return _whole("positions", positions, 1) * in_features * out_features


# --- window geometry -------------------------------------------------------------------------


def dilated_kernel(kernel_size: int, dilation: int = 1) -> int:
    """d·(k−1) + 1: the input positions one window spans (F in (W − F + 2P)/S + 1)."""
    return dilation * (kernel_size - 1) + 1


def window_span(n: int, kernel_size: int, padding: tuple[int, int] = (0, 0), dilation: int = 1) -> int:
    """n + p_before + p_after − F: how far the first window can slide; the output size is span//s + 1."""
    return n + padding[0] + padding[1] - dilated_kernel(kernel_size, dilation)


def conv_output_ratio(n: int, kernel_size: int, stride: int = 1, padding: tuple[int, int] = (0, 0),
                      dilation: int = 1) -> float:
    """(n + p_before + p_after − F)/s + 1 before rounding down, as a worked answer writes it."""
    return window_span(n, kernel_size, padding, dilation) / stride + 1


def adaptive_windows(n: int, out: int) -> list[tuple[int, int]]:
    """PyTorch's adaptive pooling of `n` positions to `out`: output i covers [floor(i·n/o), ceil((i+1)·n/o))."""
    return [((i * n) // out, -(-((i + 1) * n) // out)) for i in range(out)]


def conv_transpose_output_size(n: int, kernel_size: int, stride: int = 1, padding: int = 0,
                               output_padding: int = 0, dilation: int = 1) -> int:
    """Output length of a transposed convolution: (n − 1)·s − 2p + d·(k − 1) + output_padding + 1."""
    return (n - 1) * stride - 2 * padding + dilated_kernel(kernel_size, dilation) + output_padding


def recurrent_params(gates: int, in_features: int, hidden: int, bias_vectors: int) -> int:
    """One direction of one recurrent layer: gates·h·(x + h) + bias_vectors·gates·h (an LSTM has
    4 gates, a GRU 3, a plain RNN 1; PyTorch keeps two bias vectors, Keras one)."""
    gates, hidden = _whole("gates", gates, 1), _whole("hidden_size", hidden, 1)
    in_features, bias_vectors = _whole("in_features", in_features, 1), _whole("bias_vectors", bias_vectors, 0)
    return gates * hidden * (in_features + hidden) + bias_vectors * gates * hidden


def recurrent_macs(gates: int, in_features: int, hidden: int, steps: int = 1) -> int:
    """One direction of one recurrent layer over `steps` steps: steps·gates·h·(x + h), the products of
    the input and of the previous hidden state with the gates' weights."""
    gates, hidden = _whole("gates", gates, 1), _whole("hidden_size", hidden, 1)
    in_features, steps = _whole("in_features", in_features, 1), _whole("steps", steps, 1)
    return steps * gates * hidden * (in_features + hidden)
