"""JSON lines in and out through orjson, with the standard library behind it for what orjson refuses.

Rows and the scoring journal are written compactly by orjson (several times faster
than :mod:`json`). A value orjson cannot encode (an integer beyond 64 bits, an
unknown type) falls back to :func:`json.dumps`, so nothing that encoded before fails
now. A line that may hold such an integer (orjson would read it as a float), or one
orjson cannot parse (``NaN``, a malformed line), is parsed by :func:`json.loads`,
which accepts what it always accepted and raises its usual
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
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_NINETEEN_ZEROS = b"0" * 19  # 2**63 has 19 digits: orjson reads shorter integers exactly


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
    """Parse one JSON document (raises :class:`json.JSONDecodeError` when it is not one).

    orjson reads an integer beyond 64 bits as a float, silently; such an integer has 19
    digits or more, so a line holding a run of 19 digits is parsed by :mod:`json`, exactly.

    Example:
        >>> loads('{"order": 123456789012345678901234567890}')["order"]
        123456789012345678901234567890
    """
    if isinstance(line, bytes):
        data = line
    else:
        try:
            data = line.encode()
        except UnicodeEncodeError:  # a lone surrogate: orjson refuses it, json reads it as it always did
            return json.loads(line)
    # every digit made a 0, then one search for 19 of them: C all along, about 1 GB/s
    if data.translate(_DIGITS_AS_ZERO).find(_NINETEEN_ZEROS) < 0:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    return json.loads(line.decode("utf-8") if isinstance(line, bytes) else line)  # (bytes: UTF-8, no other)
