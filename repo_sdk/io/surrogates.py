"""Half of a UTF-16 surrogate pair in parsed JSON: refused with the key path and the character.

JSON can escape half of a surrogate pair (``"\\ud83d"``: an emoji cut in two by the program
that wrote the log). Python reads it into a string, but it is no text: it cannot be
written as UTF-8 and tokenizers refuse it, so a row or a training example holding it
would fail far from the line it came from. Readers call :func:`refuse_lone_surrogates`
on a record whose line holds an escaped surrogate (valid pairs, such as escaped emoji,
pass).

Example:
    >>> refuse_lone_surrogates({"turns": [{"content": "ok \\U0001f600"}]}, "logs.jsonl:3")
    >>> refuse_lone_surrogates({"turns": [{"content": "ok \\ud83d"}]}, "logs.jsonl:3")
    Traceback (most recent call last):
    ...
    repo_sdk.errors.InputError: logs.jsonl:3: turns[0].content: half of a UTF-16 surrogate pair (0xd83d) at ...
"""

from __future__ import annotations

import re
from typing import Any

from repo_sdk.errors import InputError

__all__ = ["may_hold_surrogates", "refuse_lone_surrogates"]

_SURROGATE = re.compile("[\ud800-\udfff]")


def may_hold_surrogates(line: str | bytes) -> bool:
    """Whether a JSON text escapes a surrogate (the only way one reaches a parsed string: UTF-8 cannot hold one)."""
    if isinstance(line, bytes):  # (most lines escape nothing: one search says so)
        return b"\\u" in line and (b"\\ud" in line or b"\\uD" in line)
    return "\\u" in line and ("\\ud" in line or "\\uD" in line)


def refuse_lone_surrogates(value: Any, where: str, path: str = "") -> None:
    """Raise InputError (``where: path: ...``) at the first string of ``value`` that holds a lone surrogate."""
    if isinstance(value, str):
        found = None if value.isascii() else _SURROGATE.search(value)
        if found is not None:
            at = f"{path}: " if path else ""
            raise InputError(
                f"{where}: {at}half of a UTF-16 surrogate pair ({ord(found.group()):#06x}) at character "
                f"{found.start()}: not text (a character cut in two)"
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            refuse_lone_surrogates(key, where, path)
            refuse_lone_surrogates(item, where, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for k, item in enumerate(value):
            refuse_lone_surrogates(item, where, f"{path}[{k}]")
