"""JSON lines in and out through orjson, with the standard library behind it for what orjson refuses.

Rows and the scoring journal are written compactly by orjson (several times faster
than :mod:`json`). A value orjson cannot encode (an integer beyond 64 bits, an
unknown type) falls back to :func:`json.dumps`, so nothing that encoded before fails
now; a line orjson cannot parse (``NaN``, a malformed line) is parsed by
:func:`json.loads`, which accepts what it always accepted and raises its usual
:class:`json.JSONDecodeError` otherwise. Non-finite floats are written as ``null``.

Example:
    >>> dumps_line({"reward": 0.5, "fired": [{"span": (1, 2)}], "text": "é"})
    '{"reward":0.5,"fired":[{"span":[1,2]}],"text":"é"}\\n'
    >>> loads('{"a": NaN}')["a"] != 0
    True
"""

from __future__ import annotations

import json
from typing import Any

import orjson

__all__ = ["dumps_bytes", "dumps_line", "loads"]

_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_APPEND_NEWLINE


def dumps_line(value: Any) -> str:
    """One JSON line (with its newline), UTF-8 text as it is."""
    try:
        return orjson.dumps(value, option=_OPTIONS).decode()
    except TypeError:
        return json.dumps(value, ensure_ascii=False) + "\n"


def dumps_bytes(value: Any) -> bytes:
    """:func:`dumps_line` as UTF-8 bytes, for binary files (no decoding and encoding again).

    Example:
        >>> dumps_bytes({"a": 1}) == dumps_line({"a": 1}).encode()
        True
    """
    try:
        return orjson.dumps(value, option=_OPTIONS)
    except TypeError:
        return (json.dumps(value, ensure_ascii=False) + "\n").encode()


def loads(line: str | bytes) -> Any:
    """Parse one JSON document (raises :class:`json.JSONDecodeError` when it is not one)."""
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return json.loads(line)
