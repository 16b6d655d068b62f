"""Where things are in a spec's YAML: the line of a key path, and keys given twice.

PyYAML keeps the last of two equal keys and drops the first without a word (a
second ``rules:`` under one source silently replaced the first list), so every
mapping of the node tree is checked for repeats before the spec is read.

Example:
    >>> root = yaml.compose("sources:\\n  rules: [cot_leak]\\n  rules: [max_length]\\n")
    >>> duplicate_keys(root)
    [(('sources', 'rules'), 3, 2)]
    >>> line_of(root, ("sources", "rules", 0))
    2
"""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["duplicate_keys", "line_of"]


def line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """Line (1-based) of the deepest YAML node on the key path ``loc``; a key's own line for a mapping key."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if getattr(k, "value", None) == str(part)), None)
            if pair is None:
                return line
            key, node = pair
            line = key.start_mark.line + 1  # the key, not its value: a block value starts a line later
            continue
        if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, str):
            continue  # a short form (``rules: [...]``) stands for ``{type: rules, rules: [...]}``
        else:
            break
        line = node.start_mark.line + 1
    return line


def duplicate_keys(node: yaml.Node | None, loc: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], int, int]]:
    """Every key given twice in one mapping: ``(key path, line of the repeat, line of the first)``."""
    out: list[tuple[tuple[Any, ...], int, int]] = []
    if isinstance(node, yaml.MappingNode):
        first: dict[str, int] = {}
        for key, value in node.value:
            name = getattr(key, "value", None)
            if isinstance(name, str) and name != "<<":
                line = key.start_mark.line + 1
                if name in first:
                    out.append(((*loc, name), line, first[name]))
                else:
                    first[name] = line
            out.extend(duplicate_keys(value, (*loc, name)))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out.extend(duplicate_keys(item, (*loc, i)))
    return out
