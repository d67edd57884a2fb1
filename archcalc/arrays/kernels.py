"""Array kernels of the forward pass, written once against an array module `xp` (NumPy or CuPy).

Every array is N×C×H×W (or N×F for flat layers; N×C×L and N×C×T×H×W for the layers over one and
three spatial axes). Padding is always explicit `((top, bottom), (left, right))` (before, after per
axis) as `archcalc.formulas.resolve_padding` returns it, so every padding form (symmetric, per axis,
asymmetric, `same`) reaches the kernels the same way. The kernels loop over kernel offsets (k_h×k_w)
and cache-sized tiles, never over pixels.
"""

from __future__ import annotations

from itertools import product
from math import prod
from typing import Any

from ..formulas import adaptive_windows, conv_output_size, conv_transpose_output_size
from . import workspace

Pads = tuple[tuple[int, int], tuple[int, int]]
Pair = tuple[int, int]

# A tile of fewer output columns than this starves the matrix product more than cache misses cost.
MIN_TILE_COLUMNS = 256


def pad(xp: Any, x: Any, pads: tuple[Pair, ...], value: float = 0.0) -> Any:
    """`x` with `pads` (before, after) positions of `value` added along each spatial axis (rows and columns
    around H and W); no copy when all are zero."""
    if not any(before or after for before, after in pads):
        return x
    return xp.pad(x, ((0, 0), (0, 0), *pads), mode="constant", constant_values=value)


def _window_slices(offset: int, out: int, stride: int) -> slice:
    """The input positions read at kernel offset `offset` by `out` windows `stride` apart."""
    return slice(offset, offset + (out - 1) * stride + 1, stride)


def conv(xp: Any, x: Any, weight: Any, bias: Any | None, stride: tuple[int, ...], pads: tuple[Pair, ...],
         dilation: tuple[int, ...], groups: int) -> Any:
    """Convolution over any number of spatial axes (`F.conv1d`, `conv2d`, `conv3d`): x (N, C_in, *size),
    weight (C_out, C_in/groups, *kernel). One axis is `conv2d` over a map one row high; three or more sum,
    over the kernel's offsets along the first axis, the convolutions of the frames each offset reads
    (the frames of all samples as one batch)."""
    axes = x.ndim - 2
    if axes == 2:
        return conv2d(xp, x, weight, bias, stride, pads, dilation, groups)
    if axes == 1:
        out = conv2d(xp, x[:, :, None], weight[:, :, None], bias, (1, stride[0]), ((0, 0), pads[0]),
                     (1, dilation[0]), groups)
        return out[:, :, 0]
    n, _, t, *rest = x.shape
    c_out, _, kt, *kernel = weight.shape
    (before, after), step, spread = pads[0], stride[0], dilation[0]
    frames = conv_output_size(t, kt, step, (before, after), spread)
    size = [conv_output_size(m, k, s, p, d) for m, k, s, p, d in zip(rest, kernel, stride[1:], pads[1:], dilation[1:])]
    out = xp.zeros((n, c_out, frames, *size), dtype=xp.result_type(x.dtype, weight.dtype))
    for k in range(kt):
        offset = k * spread - before
        a, b = _valid_range(0, frames, step, offset, t)
        if a >= b:
            continue
        read = xp.moveaxis(x[:, :, a * step + offset:(b - 1) * step + offset + 1:step], 2, 1)
        part = conv(xp, xp.ascontiguousarray(read).reshape(n * (b - a), *read.shape[2:]), weight[:, :, k], None,
                    stride[1:], pads[1:], dilation[1:], groups)
        out[:, :, a:b] += xp.moveaxis(part.reshape(n, b - a, *part.shape[1:]), 1, 2)
    if bias is not None:
        out += bias.reshape((1, c_out) + (1,) * (axes))
    return out


def conv2d(xp: Any, x: Any, weight: Any, bias: Any | None, stride: Pair, pads: Pads, dilation: Pair,
           groups: int) -> Any:
    """2-D convolution (cross-correlation, as PyTorch `F.conv2d`).

    x: (N, C_in, H, W); weight: (C_out, C_in/groups, k_h, k_w); bias: (C_out,) or None.
    A 1×1 stride-1 convolution without padding is one matrix product per group; a depthwise one
    (one input channel per output channel) is k_h×k_w multiply-adds; any other builds its im2col
    columns tile by tile in a reused scratch buffer (padding left implicit: those columns are
    zeros) and writes each tile's matrix product straight into the output.
    """
    n, c_in, h, w = x.shape
    c_out, c_per, kh, kw = weight.shape
    (top, bottom), (left, right) = pads
    oh = conv_output_size(h, kh, stride[0], (top, bottom), dilation[0])
    ow = conv_output_size(w, kw, stride[1], (left, right), dilation[1])
    out = xp.empty((n, c_out, oh, ow), dtype=xp.result_type(x.dtype, weight.dtype))
    if c_per == 1 and c_out == groups and (kh, kw) != (1, 1):
        _depthwise(xp, x, weight, out, stride, pads, dilation)
    else:
        _im2col_products(xp, x, weight, out, stride, pads, dilation, groups)
    if bias is not None:
        out += bias.reshape(1, c_out, 1, 1)
    return out


def _valid_range(lo: int, hi: int, stride: int, offset: int, size: int) -> tuple[int, int]:
    """Output positions r in [lo, hi) whose input position r·stride + offset lies in [0, size)."""
    return max(lo, -(offset // stride)), min(hi, (size - 1 - offset) // stride + 1)


def _tap_ranges(out_range: tuple[int, int], size: int, stride: int, pad_before: int, kernel: int,
                dilation: int) -> list[tuple[int, int, slice | None]]:
    """Per kernel offset along one axis: the valid output range [a, b) and the input slice it reads."""
    taps = []
    for k in range(kernel):
        offset = k * dilation - pad_before
        a, b = _valid_range(*out_range, stride, offset, size)
        taps.append((a, b, slice(a * stride + offset, (b - 1) * stride + offset + 1, stride) if a < b else None))
    return taps


def _im2col_products(xp: Any, x: Any, weight: Any, out: Any, stride: Pair, pads: Pads, dilation: Pair,
                     groups: int) -> None:
    """`out` = conv of `x` by `weight` (no bias) as one matrix product per tile of output rows.

    A tile spans whole samples when they are small (so that a product has at least
    MIN_TILE_COLUMNS columns: the samples then lie side by side as columns and the result is
    copied back into N×C order) and a band of output rows of one sample when they are large
    (so that its columns fit in `workspace.tile_bytes`). A 1×1 stride-1 convolution of maps of
    MIN_TILE_COLUMNS pixels or more is one batched product reading `x` itself as its columns.
    """
    n, c_in, h, w = x.shape
    c_out, c_per, kh, kw = weight.shape
    oh, ow = out.shape[2:]
    g, depth = groups, c_per * kh * kw
    w_mat = weight.reshape(g, c_out // g, depth)
    direct = (kh, kw) == (1, 1) and stride == (1, 1) and (oh, ow) == (h, w)
    if direct and oh * ow >= MIN_TILE_COLUMNS:
        xp.matmul(w_mat, x.reshape(n, g, c_per, h * w), out=out.reshape(n, g, c_out // g, oh * ow))
        return
    budget = workspace.tile_bytes(xp) // out.dtype.itemsize
    per_row = c_in * kh * kw * ow
    rows = oh if direct else min(oh, max(budget // per_row, -(-MIN_TILE_COLUMNS // ow), 1))
    samples = 1
    if rows == oh:
        wanted = max(budget // (per_row * oh), -(-MIN_TILE_COLUMNS // (oh * ow)))
        samples = max(1, min(n, wanted))
    col_taps = _tap_ranges((0, ow), w, stride[1], pads[1][0], kw, dilation[1])
    for r0 in range(0, oh, rows):
        r1 = min(oh, r0 + rows)
        row_taps = _tap_ranges((r0, r1), h, stride[0], pads[0][0], kh, dilation[0])
        for n0 in range(0, n, samples):
            n1 = min(n, n0 + samples)
            columns = (n1 - n0) * (r1 - r0) * ow
            cols = workspace.scratch(xp, (c_in, kh, kw, n1 - n0, r1 - r0, ow), out.dtype)
            _fill_columns(x[n0:n1], cols, r0, row_taps, col_taps)
            cols = cols.reshape(g, depth, columns)
            if n1 - n0 == 1:
                xp.matmul(w_mat, cols, out=out[n0, :, r0:r1].reshape(g, c_out // g, columns))
            else:
                product = workspace.scratch(xp, (g, c_out // g, columns), out.dtype, slot=2)
                xp.matmul(w_mat, cols, out=product)
                out[n0:n1, :, r0:r1] = product.reshape(c_out, n1 - n0, r1 - r0, ow).transpose(1, 0, 2, 3)


def _fill_columns(x: Any, cols: Any, r0: int, row_taps: list, col_taps: list) -> None:
    """im2col of output rows [r0, r0 + rows) of the samples `x` into `cols` (C, k_h, k_w, N, rows, W_out):
    each kernel offset copies the input it sees; columns falling on padding are zeros."""
    rows, ow = cols.shape[4:]
    if any((a, b) != (r0, r0 + rows) for a, b, _ in row_taps) or any((a, b) != (0, ow) for a, b, _ in col_taps):
        cols[...] = 0
    samples_last = x.transpose(1, 0, 2, 3)
    for i, (ra, rb, rows_in) in enumerate(row_taps):
        for j, (ca, cb, cols_in) in enumerate(col_taps):
            if rows_in is not None and cols_in is not None:
                cols[:, i, j, :, ra - r0:rb - r0, ca:cb] = samples_last[:, :, rows_in, cols_in]


def _depthwise(xp: Any, x: Any, weight: Any, out: Any, stride: Pair, pads: Pads, dilation: Pair) -> None:
    """`out` = depthwise conv of `x` (weight (C, 1, k_h, k_w), no bias) as k_h×k_w multiply-adds over
    long contiguous runs, tile by tile of samples × channels so that a tile stays in cache.

    The padded input of a tile is split into stride² phases (rows and columns by their remainder
    modulo the stride), each a zero-bordered (H_q, W_q) image. Kernel offset (i, j) then reads one
    phase shifted by a constant in its flattened rows, so every multiply-add runs over the whole
    flattened output at once (row pitch W_q; the W_q − W_out columns past each row are discarded).
    """
    n, c, h, w = x.shape
    _, _, kh, kw = weight.shape
    oh, ow = out.shape[2:]
    (sh, sw), (dh, dw), ((top, _), (left, _)) = stride, dilation, pads
    hq, wq = oh + (kh - 1) * dh // sh + 1, ow + (kw - 1) * dw // sw + 1
    taps = [(i, j, (i * dh) % sh, (j * dw) % sw, (i * dh) // sh * wq + (j * dw) // sw)
            for i in range(kh) for j in range(kw)]
    per_channel = 4 * out.dtype.itemsize * (sh * sw * hq * wq + 2 * oh * wq)
    chunk = min(c, max(1, workspace.tile_bytes(xp) // per_channel))
    samples = max(1, min(n, workspace.tile_bytes(xp) // (per_channel * c))) if chunk == c else 1
    phase_taps = [[(_valid_range(0, hq, sh, a - top, h), _valid_range(0, wq, sw, b - left, w)) for b in range(sw)]
                  for a in range(sh)]
    for n0, c0 in ((n0, c0) for n0 in range(0, n, samples) for c0 in range(0, c, chunk)):
        n1, c1 = min(n, n0 + samples), min(c, c0 + chunk)
        phases = workspace.scratch(xp, (sh, sw, n1 - n0, c1 - c0, hq, wq), out.dtype)
        phases[...] = 0
        for a in range(sh):
            for b in range(sw):
                (ua, ub), (va, vb) = phase_taps[a][b]
                if ua < ub and va < vb:
                    phases[a, b, :, :, ua:ub, va:vb] = x[n0:n1, c0:c1, ua * sh + a - top:(ub - 1) * sh + a - top + 1:sh,
                                                          va * sw + b - left:(vb - 1) * sw + b - left + 1:sw]
        flat = phases.reshape(sh, sw, n1 - n0, c1 - c0, hq * wq)
        total = workspace.scratch(xp, (n1 - n0, c1 - c0, oh * wq), out.dtype, slot=2)
        product = workspace.scratch(xp, (n1 - n0, c1 - c0, oh * wq), out.dtype, slot=1)
        for index, (i, j, a, b, shift) in enumerate(taps):
            source = flat[a, b, :, :, shift:shift + oh * wq]
            tap = weight[c0:c1, 0, i, j].reshape(1, c1 - c0, 1)
            xp.multiply(source, tap, out=product if index else total)
            if index:
                total += product
        out[n0:n1, c0:c1] = total.reshape(n1 - n0, c1 - c0, oh, wq)[..., :ow]


def conv_transpose(xp: Any, x: Any, weight: Any, bias: Any | None, stride: tuple[int, ...],
                   padding: tuple[int, ...], output_padding: tuple[int, ...], dilation: tuple[int, ...],
                   groups: int) -> Any:
    """Transposed convolution over any number of spatial axes (PyTorch `F.conv_transpose2d`, `1d`, `3d`).

    x: (N, C_in, *size); weight: (C_in, C_out/groups, *kernel). Each input position is scattered through
    the kernel (one matrix product per group, then col2im over the kernel's offsets); `padding` is
    cropped from both ends of every axis and `output_padding` extends the far end.
    """
    n, c_in, *size = x.shape
    _, c_per, *kernel = weight.shape
    g = groups
    w_mat = weight.reshape(g, c_in // g, c_per * prod(kernel)).transpose(0, 2, 1)
    cols = xp.matmul(w_mat[None], x.reshape(n, g, c_in // g, prod(size)))
    cols = cols.reshape(n, g * c_per, *kernel, *size)
    full = [conv_transpose_output_size(m, k, s, 0, o, d)
            for m, k, s, o, d in zip(size, kernel, stride, output_padding, dilation)]
    out = xp.zeros((n, g * c_per, *full), dtype=x.dtype)
    for offsets in product(*(range(k) for k in kernel)):
        spots = tuple(_window_slices(o * d, m, s) for o, d, m, s in zip(offsets, dilation, size, stride))
        out[(slice(None), slice(None), *spots)] += cols[(slice(None), slice(None), *offsets)]
    out = out[(slice(None), slice(None), *(slice(p, f - p) for p, f in zip(padding, full)))]
    if bias is not None:
        out = out + bias.reshape((1, -1) + (1,) * len(size))
    return xp.ascontiguousarray(out)


def pool(xp: Any, x: Any, mode: str, kernel: tuple[int, ...], stride: tuple[int, ...], pads: tuple[Pair, ...],
         dilation: tuple[int, ...], out: tuple[int, ...], count_include_pad: bool = True) -> Any:
    """Max, average or sum pooling over the spatial axes (one or more) with the output size `out` already
    decided (ceil_mode included).

    As in PyTorch: max pooling never picks padding; average pooling divides by the window's
    part inside the padded input (`count_include_pad`) or inside the input alone; a window
    running past the padded input (ceil_mode) only counts what it covers.
    """
    if mode not in ("max", "avg", "sum"):
        raise ValueError(f"unknown pooling mode {mode!r}")
    size = x.shape[2:]
    need = [(o - 1) * s + d * (k - 1) + 1 for o, s, d, k in zip(out, stride, dilation, kernel)]
    extra = [max(m - n - before - after, 0) for m, n, (before, after) in zip(need, size, pads)]
    full = tuple((before, after + e) for (before, after), e in zip(pads, extra))
    fill = -xp.inf if mode == "max" else 0.0
    padded = pad(xp, x, full, fill)
    result = None
    for offsets in product(*(range(k) for k in kernel)):
        spots = tuple(_window_slices(i * d, o, s) for i, d, o, s in zip(offsets, dilation, out, stride))
        window = padded[(slice(None), slice(None), *spots)]
        if result is None:
            result = window.copy()
        elif mode == "max":
            xp.maximum(result, window, out=result)
        else:
            result += window
    if mode != "avg":
        return result
    ones = xp.zeros((1, 1, *(n + before + after for n, (before, after) in zip(size, pads))), dtype=x.dtype)
    if count_include_pad:
        ones[...] = 1
    else:
        ones[(slice(None), slice(None), *(slice(before, before + n) for n, (before, _) in zip(size, pads)))] = 1
    counts = pool(xp, pad(xp, ones, tuple((0, e) for e in extra)), "sum", kernel, stride,
                  ((0, 0),) * len(size), dilation, out)
    return result / counts


def adaptive_pool(xp: Any, x: Any, mode: str, out: tuple[int, ...]) -> Any:
    """PyTorch's adaptive pooling: output i covers [floor(i·n/o), ceil((i+1)·n/o)) on each spatial axis.

    The axes are reduced in turn by gathering every window (padded to the longest one).
    """
    result = x
    for axis, o in enumerate(out, start=2):
        n_in = result.shape[axis]
        bounds = adaptive_windows(n_in, o)
        longest = max(e - s for s, e in bounds)
        index = xp.asarray([[min(s + k, e - 1) for k in range(longest)] for s, e in bounds])
        valid = xp.asarray([[s + k < e for k in range(longest)] for s, e in bounds])
        moved = xp.moveaxis(result, axis, -1)
        windows = moved[..., index]  # (..., o, longest)
        reduced = windows.max(axis=-1) if mode == "max" else (
            (windows * valid).sum(axis=-1) / valid.sum(axis=-1).astype(x.dtype))
        result = xp.moveaxis(reduced, -1, axis)
    return xp.ascontiguousarray(result)


adaptive_pool2d = adaptive_pool  # the name its (H, W) callers know


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


def standardize(x: Any, axes: tuple[int, ...], eps: float) -> Any:
    """(x − mean) / √(var + ε) with the mean and the biased variance over `axes` (layer and group norm)."""
    centred = x - x.mean(axis=axes, keepdims=True)
    return centred / ((centred * centred).mean(axis=axes, keepdims=True) + eps) ** 0.5


def group_norm(x: Any, groups: int, eps: float) -> Any:
    """PyTorch `GroupNorm` without γ, β: each sample's channels split into `groups` consecutive groups,
    each standardised over its channels and positions together."""
    grouped = x.reshape(x.shape[0], groups, -1)
    return standardize(grouped, (2,), eps).reshape(x.shape)


def per_channel(x: Any, values: Any) -> Any:
    """`values` (C,) shaped to broadcast over the channel axis of an N×C×… array."""
    return values.reshape((-1,) + (1,) * (x.ndim - 2))


def softmax(xp: Any, x: Any, axis: int = 1) -> Any:
    """Numerically stable softmax along `axis`."""
    shifted = xp.exp(x - x.max(axis=axis, keepdims=True))
    return shifted / shifted.sum(axis=axis, keepdims=True)


# W. J. Cody, "Rational Chebyshev approximations for the error function", Math. Comp. 23 (1969),
# 631-637, as in his CALERF routine (netlib specfun): erf on |x| ≤ 0.5, erfc·exp(x²) on 0.5–4 and
# beyond 4, each to about 1e-16 relative in float64.
_ERF_A = (3.16112374387056560e00, 1.13864154151050156e02, 3.77485237685302021e02, 3.20937758913846947e03,
          1.85777706184603153e-1)
_ERF_B = (2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03, 2.84423683343917062e03)
_ERFC_C = (5.64188496988670089e-1, 8.88314979438837594e00, 6.61191906371416295e01, 2.98635138197400131e02,
           8.81952221241769090e02, 1.71204761263407058e03, 2.05107837782607147e03, 1.23033935479799725e03,
           2.15311535474403846e-8)
_ERFC_D = (1.57449261107098347e01, 1.17693950891312499e02, 5.37181101862009858e02, 1.62138957456669019e03,
           3.29079923573345963e03, 4.36261909014324716e03, 3.43936767414372164e03, 1.23033935480374942e03)
_ERFC_P = (3.05326634961232344e-1, 3.60344899949804439e-1, 1.25781726111229246e-1, 1.60837851487422766e-2,
           6.58749161529837803e-4, 1.63153871373020978e-2)
_ERFC_Q = (2.56852019228982242e00, 1.87295284992346725e00, 5.27905102951428412e-1, 6.05183413124413191e-2,
           2.33520497626869185e-3)
_ONE_OVER_SQRT_PI = 5.6418958354775628695e-1


def _ratio(numerator: tuple[float, ...], denominator: tuple[float, ...], t: Any) -> Any:
    """Cody's P(t)/Q(t): numerator[-1] leads, denominator is monic; the last terms are added untimed."""
    top, bottom = numerator[-1] * t, t
    for a, b in zip(numerator[:-2], denominator[:-1]):
        top, bottom = (top + a) * t, (bottom + b) * t
    return (top + numerator[-2]) / (bottom + denominator[-1])


def _erf_small(y: Any) -> Any:
    """erf(y) for |y| ≤ 0.5, float64."""
    return y * _ratio(_ERF_A, _ERF_B, y * y)


def _erfc_large(xp: Any, y: Any) -> Any:
    """erfc(y) for y > 0.5, float64 (0 beyond 27, where it is below the smallest float64)."""
    y = xp.minimum(y, 27.0)
    scaled = _ratio(_ERFC_C, _ERFC_D, xp.minimum(y, 4.0))  # erfc(y)·exp(y²) up to 4
    beyond = y > 4.0
    if beyond.any():
        tail = y[beyond]
        inverse = 1 / (tail * tail)
        scaled[beyond] = (_ONE_OVER_SQRT_PI - inverse * _ratio(_ERFC_P, _ERFC_Q, inverse)) / tail
    return xp.exp(-y * y) * scaled


def gelu(xp: Any, x: Any) -> Any:
    """x·Φ(x), Φ the standard normal CDF (PyTorch's exact GELU): vectorised, no SciPy needed.
    Computed in float64 with Cody's erf and erfc on each range's elements (erfc on the negative
    side, so no 1 − erf cancels) and returned in `x`'s dtype."""
    wide = x.astype(xp.float64)
    z = wide * 0.5 ** 0.5
    y = xp.abs(z)
    phi = xp.empty_like(z)
    small = y <= 0.5
    phi[small] = 0.5 + 0.5 * _erf_small(z[small])
    large = ~small
    half_tail = 0.5 * _erfc_large(xp, y[large])
    phi[large] = xp.where(z[large] < 0, half_tail, 1.0 - half_tail)
    return (wide * phi).astype(x.dtype)


def sigmoid(xp: Any, x: Any) -> Any:
    """1/(1 + e⁻ˣ) without overflow for large negative x."""
    z = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + z), z / (1 + z))
