"""One readable line from a pydantic validation error, for files and layer hyper-parameters."""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import ValidationError

_UNION_TAGS = {"int", "str", "float", "bool", "list", "dict", "tuple", "none"}


def _user_loc(loc: tuple) -> str:
    """The error's location as the user wrote it: pydantic's union-member tags are dropped."""
    parts = [str(p) for p in loc
             if not (isinstance(p, str) and (p in _UNION_TAGS or "[" in p or "-" in p))]
    return ".".join(parts)


def _short(message: str) -> str:
    return message.removeprefix("Input should be ").split(", unable to")[0].replace(" after validation", "")


def validation_message(exc: ValidationError, fields: Any = ()) -> str:
    """The most useful pydantic error as one readable line: an unknown key first (with a
    suggestion among the missing keys and `fields`), then a missing key, then a bad value
    (the alternatives of a union joined with "or")."""
    errors = exc.errors()
    rank = {"extra_forbidden": 0, "missing": 1}
    err = min(errors, key=lambda e: rank.get(e["type"], 2))
    where = _user_loc(err["loc"])
    if err["type"] == "extra_forbidden":
        missing = [_user_loc(e["loc"]).rsplit(".", 1)[-1] for e in errors if e["type"] == "missing"]
        key = where.rsplit(".", 1)[-1]
        close = difflib.get_close_matches(key, missing, n=1) or difflib.get_close_matches(key, list(fields), n=1)
        text = "unknown key" + (f" (did you mean {close[0]!r}?)" if close else "")
    elif err["type"] == "missing":
        text = "missing key"
    elif err["type"] == "value_error":  # our own validators already say what they got
        text = err["msg"].removeprefix("Value error, ")
    else:
        same = [e for e in errors if _user_loc(e["loc"]) == where]
        if len(same) > 1:
            text = "should be " + " or ".join(dict.fromkeys(_short(e["msg"]) for e in same))
        else:
            text = err["msg"].replace(" after validation", "")
            if text.startswith("Input should be"):
                text = "should be " + _short(text)
        shown = repr(err["input"])
        text += f" (got {shown if len(shown) <= 60 else shown[:57] + '...'})"
    return f"{where}: {text}" if where else text
