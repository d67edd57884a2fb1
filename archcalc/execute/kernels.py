"""Array kernels of the forward pass, written once against an array module `xp` (NumPy or CuPy).

Every array is N×C×H×W (or N×F for flat layers). Padding is always explicit
`((top, bottom), (left, right))` as `archcalc.formulas.resolve_padding` returns it, so every
padding form (symmetric, per axis, asymmetric, `same`) reaches the kernels the same way. The
kernels loop over kernel offsets (k_h×k_w) at most, never over pixels.
"""

from __future__ import annotations

from typing import Any

Pads = tuple[tuple[int, int], tuple[int, int]]
Pair = tuple[int, int]


def pad2d(xp: Any, x: Any, pads: Pads, value: float = 0.0) -> Any:
    """`x` with `pads` rows/columns of `value` added around H and W (no copy when all zero)."""
    (top, bottom), (left, right) = pads
    if not (top or bottom or left or right):
        return x
    return xp.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), mode="constant", constant_values=value)


def _window_slices(offset: int, out: int, stride: int) -> slice:
    """The input positions read at kernel offset `offset` by `out` windows `stride` apart."""
    return slice(offset, offset + (out - 1) * stride + 1, stride)


def im2col(xp: Any, x: Any, kernel: Pair, stride: Pair, dilation: Pair, out: Pair) -> Any:
    """Patches of an already padded `x`: (N, C, k_h, k_w, H_out, W_out)."""
    n, c = x.shape[:2]
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = kernel, stride, dilation, out
    cols = xp.empty((n, c, kh, kw, oh, ow), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, i, j] = x[:, :, _window_slices(i * dh, oh, sh), _window_slices(j * dw, ow, sw)]
    return cols


def conv2d(xp: Any, x: Any, weight: Any, bias: Any | None, stride: Pair, pads: Pads, dilation: Pair,
           groups: int) -> Any:
    """2-D convolution (cross-correlation, as PyTorch `F.conv2d`).

    x: (N, C_in, H, W); weight: (C_out, C_in/groups, k_h, k_w); bias: (C_out,) or None.
    im2col followed by one batched matrix product per group; a 1×1 stride-1 convolution without
    padding is a plain matrix product.
    """
    n, c_in, h, w = x.shape
    c_out, c_per, kh, kw = weight.shape
    g = groups
    (top, bottom), (left, right) = pads
    oh = (h + top + bottom - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (w + left + right - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    w_mat = weight.reshape(g, c_out // g, c_per * kh * kw)
    if (kh, kw) == (1, 1) and stride == (1, 1) and not (top or bottom or left or right):
        cols = x.reshape(n, g, c_per, h * w)
    else:
        cols = im2col(xp, pad2d(xp, x, pads), (kh, kw), stride, dilation, (oh, ow))
        cols = cols.reshape(n, g, c_per * kh * kw, oh * ow)
    out = xp.matmul(w_mat[None], cols).reshape(n, c_out, oh, ow)
    if bias is not None:
        out += bias.reshape(1, c_out, 1, 1)
    return out


def conv_transpose2d(xp: Any, x: Any, weight: Any, bias: Any | None, stride: Pair, padding: Pair,
                     output_padding: Pair, dilation: Pair, groups: int) -> Any:
    """2-D transposed convolution (PyTorch `F.conv_transpose2d`).

    x: (N, C_in, H, W); weight: (C_in, C_out/groups, k_h, k_w). Each input pixel is scattered
    through the kernel (one matrix product per group, then col2im over the k_h×k_w offsets);
    `padding` is cropped from every side and `output_padding` extends the bottom/right.
    """
    n, c_in, h, w = x.shape
    _, c_per, kh, kw = weight.shape
    g = groups
    (sh, sw), (dh, dw) = stride, dilation
    w_mat = weight.reshape(g, c_in // g, c_per * kh * kw).transpose(0, 2, 1)
    cols = xp.matmul(w_mat[None], x.reshape(n, g, c_in // g, h * w))
    cols = cols.reshape(n, g * c_per, kh, kw, h, w)
    full_h = (h - 1) * sh + dh * (kh - 1) + 1 + output_padding[0]
    full_w = (w - 1) * sw + dw * (kw - 1) + 1 + output_padding[1]
    out = xp.zeros((n, g * c_per, full_h, full_w), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            out[:, :, _window_slices(i * dh, h, sh), _window_slices(j * dw, w, sw)] += cols[:, :, i, j]
    ph, pw = padding
    out = out[:, :, ph:full_h - ph, pw:full_w - pw]
    if bias is not None:
        out = out + bias.reshape(1, -1, 1, 1)
    return xp.ascontiguousarray(out)


def pool2d(xp: Any, x: Any, mode: str, kernel: Pair, stride: Pair, pads: Pads, dilation: Pair, out: Pair,
           count_include_pad: bool = True) -> Any:
    """Max, average or sum pooling with the output size `out` already decided (ceil_mode included).

    As in PyTorch: max pooling never picks padding; average pooling divides by the window's
    part inside the padded input (`count_include_pad`) or inside the input alone; a window
    running past the padded input (ceil_mode) only counts what it covers.
    """
    if mode not in ("max", "avg", "sum"):
        raise ValueError(f"unknown pooling mode {mode!r}")
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = kernel, stride, dilation, out
    (top, bottom), (left, right) = pads
    need_h = (oh - 1) * sh + dh * (kh - 1) + 1
    need_w = (ow - 1) * sw + dw * (kw - 1) + 1
    extra = (max(need_h - h - top - bottom, 0), max(need_w - w - left - right, 0))
    full = ((top, bottom + extra[0]), (left, right + extra[1]))
    fill = -xp.inf if mode == "max" else 0.0
    padded = pad2d(xp, x, full, fill)
    result = None
    for i in range(kh):
        for j in range(kw):
            window = padded[:, :, _window_slices(i * dh, oh, sh), _window_slices(j * dw, ow, sw)]
            if result is None:
                result = window.copy()
            elif mode == "max":
                xp.maximum(result, window, out=result)
            else:
                result += window
    if mode != "avg":
        return result
    ones = xp.zeros((1, 1, h + top + bottom, w + left + right), dtype=x.dtype)
    if count_include_pad:
        ones[...] = 1
    else:
        ones[:, :, top:top + h, left:left + w] = 1
    counts = pool2d(xp, pad2d(xp, ones, ((0, extra[0]), (0, extra[1]))), "sum", kernel, stride,
                    ((0, 0), (0, 0)), dilation, out)
    return result / counts


def adaptive_pool2d(xp: Any, x: Any, mode: str, out: Pair) -> Any:
    """PyTorch's adaptive pooling: output i covers [floor(i·n/o), ceil((i+1)·n/o)) on each axis.

    Both axes are reduced in turn by gathering every window (padded to the longest one).
    """
    result = x
    for axis, o in ((2, out[0]), (3, out[1])):
        n_in = result.shape[axis]
        starts = [(i * n_in) // o for i in range(o)]
        ends = [-(-((i + 1) * n_in) // o) for i in range(o)]
        longest = max(e - s for s, e in zip(starts, ends))
        index = xp.asarray([[min(s + k, e - 1) for k in range(longest)] for s, e in zip(starts, ends)])
        valid = xp.asarray([[s + k < e for k in range(longest)] for s, e in zip(starts, ends)])
        moved = xp.moveaxis(result, axis, -1)
        windows = moved[..., index]  # (..., o, longest)
        reduced = windows.max(axis=-1) if mode == "max" else (windows * valid).sum(axis=-1) / valid.sum(axis=-1)
        result = xp.moveaxis(reduced, -1, axis)
    return xp.ascontiguousarray(result)


def local_response_norm(xp: Any, x: Any, size: int, alpha: float, beta: float, k: float) -> Any:
    """PyTorch `LocalResponseNorm`: x / (k + α·mean of x² over `size` neighbouring channels)^β,
    the window running from c − size//2 to c + (size−1)//2, zero beyond the channels."""
    c = x.shape[1]
    squares = x * x
    padded = xp.pad(squares, [(0, 0), (size // 2, (size - 1) // 2)] + [(0, 0)] * (x.ndim - 2))
    total = padded[:, 0:c].copy()
    for offset in range(1, size):
        total += padded[:, offset:offset + c]
    return x / (k + alpha * total / size) ** beta


def softmax(xp: Any, x: Any, axis: int = 1) -> Any:
    """Numerically stable softmax along `axis`."""
    shifted = xp.exp(x - x.max(axis=axis, keepdims=True))
    return shifted / shifted.sum(axis=axis, keepdims=True)


def erf(xp: Any, x: Any) -> Any:
    """The error function, from SciPy/CuPy where available, else elementwise from `math`."""
    try:
        if xp.__name__ == "cupy":
            from cupyx.scipy.special import erf as special_erf
        else:
            from scipy.special import erf as special_erf
        return special_erf(x)
    except ImportError:
        import math

        return xp.asarray(xp.vectorize(math.erf, otypes=[x.dtype])(x))


def activation(xp: Any, name: str | None, x: Any, **options: float) -> Any:
    """Apply the activation `name` (PyTorch's definitions); None and `linear` are the identity."""
    if name in (None, "linear", "identity"):
        return x
    if name == "relu":
        return xp.maximum(x, 0)
    if name == "relu6":
        return xp.clip(x, 0, 6)
    if name == "leakyrelu":
        return xp.where(x > 0, x, x * options.get("negative_slope", 0.01))
    if name == "elu":
        return xp.where(x > 0, x, options.get("alpha", 1.0) * xp.expm1(xp.minimum(x, 0)))
    if name == "sigmoid":
        return _sigmoid(xp, x)
    if name == "tanh":
        return xp.tanh(x)
    if name in ("silu", "swish"):
        return x * _sigmoid(xp, x)
    if name == "hardswish":
        return x * xp.clip(x + 3, 0, 6) / 6
    if name == "hardsigmoid":
        return xp.clip(x + 3, 0, 6) / 6
    if name == "gelu":
        return x * (1 + erf(xp, x / 2 ** 0.5)) / 2
    if name == "softmax":
        return softmax(xp, x, axis=1)
    raise ValueError(f"unknown activation {name!r}")


def _sigmoid(xp: Any, x: Any) -> Any:
    """1/(1 + e⁻ˣ) without overflow for large negative x."""
    z = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + z), z / (1 + z))
