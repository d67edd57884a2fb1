"""Ultralytics' network modules as blocks of an architecture file, as its documented source builds them.

A block's name is the module's, with what fixes its layers appended: its repeats (`C2f_n2`: two
bottlenecks) and attention heads (`PSABlock_h2`). `definitions(names)` gives the blocks named and
every block they use. Channel arguments are the module's output channels after width scaling (`c2`);
`e` is the hidden width's share of them.

* `Conv`: convolution (no bias, padding k // 2), BatchNorm (eps 0.001, as Ultralytics initialises it), SiLU.
* `Bottleneck`: two 3×3 `Conv`s, the first int(c2·e) wide, and the residual sum where `shortcut`.
* `C2f_n{n}`: a 1×1 `Conv` to 2·c (c = int(c2·e)), its second half through n bottlenecks (e = 1) one
  after the other, every output so far concatenated ((2 + n)·c channels) and a 1×1 `Conv` to c2.
* `C3k2_n{n}`: `C2f` whose n inner modules are `C3k_n2`s where `c3k`, else bottlenecks of half width.
* `C3k_n{n}`: CSP: a 1×1 `Conv` to int(c2·e) through n bottlenecks (e = 1), beside a second 1×1 `Conv`
  of the input; both concatenated, then a 1×1 `Conv` to c2.
* `SPPF`: a 1×1 `Conv` to `hidden` (half the input), three k×k max poolings (stride 1) one after the
  other, all four concatenated, a 1×1 `Conv` to c2.
* `C2PSA_n{n}_h{h}`: a 1×1 `Conv` to 2·c, its second half through n `PSABlock_h{h}`s, concatenated
  with its first half, a 1×1 `Conv` back to c2.
* `PSABlock_h{h}`: x + proj(attention + pe(v)), then x + FFN(x) (1×1 `Conv`s to 2·c, SiLU, and back
  without activation). The qkv `Conv` (no activation) gives each head of c / h channels its q and k
  (half a head each) and v (a head) in turn; `pe` is a depthwise 3×3 `Conv` of v without activation.
* `DetectBox`: per level, two 3×3 `Conv`s and a 1×1 convolution (with bias) to the 4·reg_max box
  distribution logits. `DetectCls`: two 3×3 `Conv`s and a 1×1 convolution to the nc class logits
  (YOLOv8); `DetectClsDW`: depthwise 3×3 then 1×1 `Conv`, twice, and the 1×1 convolution (YOLO11).
"""

from __future__ import annotations

import re
from typing import Any

_NAME = re.compile(r"^([A-Za-z0-9]+?)(?:_n(\d+))?(?:_h(\d+))?$")


def conv(c2: Any, k: Any = 1, s: Any = 1, g: Any = 1, act: Any = True, *, name: str, source: Any = None
         ) -> dict[str, Any]:
    """An entry of the `Conv` block: c2 channels, k×k, stride s, g groups, SiLU where `act` (defaults left out)."""
    given = {"k": k, "s": s, "g": g, "act": act}
    return layer(name, "Conv", source, c2=c2,
                 **{key: value for key, value in given.items() if value != {"k": 1, "s": 1, "g": 1, "act": True}[key]})


def layer(name: str, type_: str, source: Any = None, **hyper: Any) -> dict[str, Any]:
    """A layer entry: `name`, `type_`, its input(s) `source` (default the entry before) and hyper-parameters."""
    return {"name": name, "type": type_, **({} if source is None else {"from": source}), **hyper}


def _layers(*entries: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    return {"args": args, "layers": list(entries)}


def _conv_block() -> dict[str, Any]:
    return _layers(layer("conv", "conv", out_channels="c2", kernel_size="k", stride="s",
                    padding="k // 2", groups="g", bias=False),
                   layer("bn", "batchnorm", eps=0.001),
                   layer("act", "silu", when="act"),
                   args={"c2": None, "k": 1, "s": 1, "g": 1, "act": True})


def _bottleneck() -> dict[str, Any]:
    return _layers(conv("int(c2 * e)", 3, name="cv1"), conv("c2", 3, name="cv2"),
                   layer("add", "add", source=["cv2", "input"], when="shortcut"),
                   args={"c2": None, "shortcut": True, "e": 0.5})


def _c2f(n: int, c3k2: bool) -> dict[str, Any]:
    hidden = "int(c2 * e)"
    inner: list[dict[str, Any]] = []
    for j in range(n):
        entry = {"name": f"m{j}", "from": f"m{j - 1}" if j else "split", "c2": hidden, "shortcut": "shortcut"}
        if c3k2:
            inner += [{**entry, "type": "C3k_n2", "when": "c3k"}, {**entry, "type": "Bottleneck", "when": "not c3k"}]
        else:
            inner.append({**entry, "type": "Bottleneck", "e": 1.0})
    args = {"c2": None, "c3k": False, "e": 0.5, "shortcut": True} if c3k2 else {"c2": None, "shortcut": False, "e": 0.5}
    return _layers(conv(f"2 * {hidden}", name="cv1"),
                   layer("split", "slice", start=hidden, end=f"2 * {hidden}"),
                   *inner,
                   layer("cat", "concat", source=["cv1", *(f"m{j}" for j in range(n))]),
                   conv("c2", name="cv2"), args=args)


def _c3k(n: int) -> dict[str, Any]:
    return _layers(conv("int(c2 * e)", name="cv1"),
                   layer("m", "Bottleneck", c2="int(c2 * e)", shortcut="shortcut", e=1.0,
                    repeat=n),
                   conv("int(c2 * e)", name="cv2", source="input"),
                   layer("cat", "concat", source=["m", "cv2"]),
                   conv("c2", name="cv3"), args={"c2": None, "shortcut": True, "e": 0.5})


def _sppf() -> dict[str, Any]:
    pools = [layer(f"m{j}", "maxpool", kernel_size="k", stride=1, padding="k // 2")
             for j in range(3)]
    return _layers(conv("hidden", name="cv1"), *pools,
                   layer("cat", "concat", source=["cv1", "m0", "m1", "m2"]),
                   conv("c2", name="cv2"), args={"c2": None, "hidden": None, "k": 5})


def _c2psa(n: int, heads: int) -> dict[str, Any]:
    return _layers(conv("2 * c", name="cv1"),
                   layer("a", "slice", start=0, end="c"),
                   layer("b", "slice", start="c", end="2 * c", source="cv1"),
                   layer("m", f"PSABlock_h{heads}", c="c", repeat=n),
                   layer("cat", "concat", source=["a", "m"]),
                   conv("c2", name="cv2"), args={"c2": None, "c": None})


def _psa_block(heads: int) -> dict[str, Any]:
    head, key = f"(c // {heads})", f"(c // {heads} // 2)"
    slices = []
    for j in range(heads):
        base = f"{j} * (2 * {key} + {head})"
        for part, start, width in (("q", base, key), ("k", f"{base} + {key}", key),
                                   ("v", f"{base} + 2 * {key}", head)):
            slices.append(layer(f"{part}{j}", "slice", source="qkv", start=start, end=f"{start} + {width}"))
    joins = [layer(part, "concat", source=[f"{part}{j}" for j in range(heads)])
             for part in "qkv"] if heads > 1 else []
    q, k, v = ("q", "k", "v") if heads > 1 else ("q0", "k0", "v0")
    return _layers(conv(f"c + 2 * {heads} * {key}", act=False, name="qkv"), *slices, *joins,
                   layer("attn", "attention", num_heads=heads, source=[q, k, v]),
                   conv("c", 3, g="c", act=False, name="pe", source=v),
                   layer("sum", "add", source=["attn", "pe"]),
                   conv("c", act=False, name="proj"),
                   layer("add1", "add", source=["proj", "input"]),
                   conv("2 * c", name="ffn1"), conv("c", act=False, name="ffn2"),
                   layer("add2", "add", source=["ffn2", "add1"]), args={"c": None})


def _detect_box() -> dict[str, Any]:
    return _layers(conv("c2", 3, name="cv1"), conv("c2", 3, name="cv2"),
                   layer("out", "conv", out_channels="4 * reg_max", kernel_size=1),
                   args={"c2": None, "reg_max": None})


def _detect_cls(depthwise: bool) -> dict[str, Any]:
    if depthwise:
        body = [conv("c1", 3, g="c1", name="dw1"), conv("c3", name="pw1"),
                conv("c3", 3, g="c3", name="dw2"), conv("c3", name="pw2")]
    else:
        body = [conv("c3", 3, name="cv1"), conv("c3", 3, name="cv2")]
    return _layers(*body, layer("out", "conv", out_channels="nc", kernel_size=1),
                   args={**({"c1": None} if depthwise else {}), "c3": None, "nc": None})


def definition(name: str) -> dict[str, Any]:
    """The block called `name` (`C2f_n2`, `PSABlock_h2`, …); KeyError for a name that is none."""
    match = _NAME.match(name)
    kind, n, heads = (match.group(1), int(match.group(2) or 0), int(match.group(3) or 0)) if match else (name, 0, 0)
    builders = {"Conv": _conv_block, "Bottleneck": _bottleneck, "SPPF": _sppf,
                "C2f": lambda: _c2f(n, False), "C3k2": lambda: _c2f(n, True), "C3k": lambda: _c3k(n),
                "C2PSA": lambda: _c2psa(n, heads), "PSABlock": lambda: _psa_block(heads),
                "DetectBox": _detect_box, "DetectCls": lambda: _detect_cls(False),
                "DetectClsDW": lambda: _detect_cls(True)}
    return builders[kind]()


def definitions(names: set[str]) -> dict[str, Any]:
    """The blocks `names` and every block they use, by name."""
    found: dict[str, Any] = {}
    waiting = sorted(names)
    while waiting:
        name = waiting.pop()
        if name not in found:
            found[name] = definition(name)
            waiting += [entry["type"] for entry in found[name]["layers"] if entry["type"][0].isupper()]
    return dict(sorted(found.items()))
