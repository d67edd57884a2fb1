"""What the structure-aware generators of tools/fuzz.py plant in the inputs they make.

Paths are relative to the folder an input is run in (the harness keeps the canary secret and the
trap file one level above it), so that a seed makes the same bytes on every machine.
"""

from __future__ import annotations

import random

TRAP = "executed.txt"           # beside the input's folder: only code that runs creates it
SECRET = "secret.txt"           # beside the input's folder: nothing may read it
SECRET_PATHS = ["../secret.txt", "../../secret.txt", "./../secret.txt", "/etc/passwd", "secret.txt",
                "..\\secret.txt", "file:../secret.txt", "../secret.txt\x00.onnx"]
PAYLOADS = [
    "__import__('os').system('touch ../executed.txt')",
    "open('../executed.txt', 'w').write('ran')",
    'x""" if __import__("os").system("touch ../executed.txt") else """',
    "$(touch ../executed.txt)", "`touch ../executed.txt`", "; touch ../executed.txt #",
    "x\ndefaults: {conv: {stride: 2}}", "x\n!!python/object/apply:os.system ['touch ../executed.txt']",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}", "=cmd|'/c calc'!A0", "<img src=x onerror=alert(1)>",
]
TEXTS = ["", " ", "input", "output", "x" * 300, "a\nb", "a\rb", "\x1b[31mred", "\u202e", "\u2028", "\ufeffname",
         "*", "[", "{}", "%s%n", "/../../etc/Conv", "con", "NUL", "forward", "self", "=1+1", "@SUM(1)", "-1", "+1",
         "Ünïcödé", "名前", "x" * 5000]


def text(rng: random.Random) -> str:
    """A hostile or odd text: a payload, a path to the secret, a name that breaks something."""
    roll = rng.random()
    return rng.choice(PAYLOADS if roll < 0.3 else SECRET_PATHS if roll < 0.5 else TEXTS)


def int64(rng: random.Random) -> int:
    """An integer a protobuf int64 field holds: small, at a boundary, or huge."""
    roll = rng.random()
    if roll < 0.7:
        return rng.randint(-3, 40)
    return rng.choice([2**31 - 1, 2**31, 2**32, 2**53 + 1, 2**62, 2**63 - 1, -2**63, -2**31, 10**6, 10**9, 10**12])


def number(rng: random.Random):
    """A JSON number or near-number: small, huge, fractional, not finite."""
    roll = rng.random()
    if roll < 0.6:
        return rng.randint(-3, 40)
    if roll < 0.8:
        return rng.choice([0.5, 1.5, -0.0, 1e308, float("inf"), float("nan"), 2.0, 3.0000001])
    return rng.choice([1, -1]) * 10 ** rng.randint(6, 40)
