"""Output paths checked before any work: never over an input, never onto a folder.

``-o`` equal to the logs (by the same path, a relative one, a symlink or a hard
link) would replace the logs with rows; an output that is a folder would fail only
after all the scoring. Both are refused up front, with the option that named them.

Example:
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> logs = d / "logs.jsonl"
    >>> _ = logs.write_text("{}\\n")
    >>> check_outputs({"-o": d / "sub" / ".." / "logs.jsonl"}, inputs=[logs])
    Traceback (most recent call last):
    ...
    repo_sdk.errors.InputError: -o .../logs.jsonl is the input .../logs.jsonl; write the output to another file
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from repo_sdk.errors import InputError

__all__ = ["check_output_folder", "check_outputs", "same_file"]


def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether two paths name one file: the same inode when both exist, else the same resolved path."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return Path(a).resolve() == Path(b).resolve()


def check_outputs(outputs: Mapping[str, Path | None], inputs: Iterable[Path | None]) -> None:
    """Refuse outputs that are folders, sit under a file, are an input, or are each other.

    Args:
        outputs: ``{option or description: path}``; None entries are ignored.
        inputs: files the command reads; None entries are ignored.

    Raises:
        InputError: naming the option, the output and the input it would overwrite.
    """
    ins = [Path(p) for p in inputs if p is not None]
    outs = [(label, Path(p)) for label, p in outputs.items() if p is not None]
    for i, (label, out) in enumerate(outs):
        if out.is_dir():
            raise InputError(f"{label} {out}: is a folder; give a file path")
        parent = next((p for p in out.parents if p.exists()), None)
        if parent is not None and not parent.is_dir():
            raise InputError(f"{label} {out}: {parent} is a file, not a folder")
        for inp in ins:
            if same_file(out, inp):
                raise InputError(f"{label} {out} is the input {inp}; write the output to another file")
        for other_label, other in outs[:i]:
            if same_file(out, other):
                raise InputError(f"{label} {out} is also {other_label}; give them different paths")


def check_output_folder(label: str, out: Path, inputs: Iterable[Path | None]) -> None:
    """Refuse a folder output that is a file, is an input, or holds one (replacing it would delete the input).

    Example:
        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> check_output_folder("-o", d, inputs=[d / "pairs.jsonl"])
        Traceback (most recent call last):
        ...
        repo_sdk.errors.InputError: -o ... holds the input .../pairs.jsonl; write to another folder
    """
    if out.exists() and not out.is_dir():
        raise InputError(f"{label} {out}: is a file; give a folder")
    target = out.resolve()
    for inp in (Path(p) for p in inputs if p is not None):
        if inp.resolve() == target or target in inp.resolve().parents:
            raise InputError(f"{label} {out} holds the input {inp}; write to another folder")
