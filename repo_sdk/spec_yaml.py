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

__all__ = ["duplicate_keys", "expanded_size", "line_of"]


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


def duplicate_keys(node: yaml.Node | None) -> list[tuple[tuple[Any, ...], int, int]]:
    """Every key given twice in one mapping: ``(key path, line of the repeat, line of the first)``.

    Walks each node once (an alias is not walked again), without recursion.
    """
    out: list[tuple[tuple[Any, ...], int, int]] = []
    seen: set[int] = set()
    stack: list[tuple[yaml.Node | None, tuple[Any, ...]]] = [(node, ())]
    while stack:
        current, loc = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, yaml.MappingNode):
            first: dict[str, int] = {}
            for key, value in current.value:
                name = getattr(key, "value", None)
                if isinstance(name, str) and name != "<<":
                    line = key.start_mark.line + 1
                    if name in first:
                        out.append(((*loc, name), line, first[name]))
                    else:
                        first[name] = line
                stack.append((value, (*loc, name)))
        elif isinstance(current, yaml.SequenceNode):
            stack.extend((item, (*loc, i)) for i, item in enumerate(current.value))
    return sorted(out, key=lambda d: d[1])


def expanded_size(node: yaml.Node | None, limit: int) -> int:
    """How many nodes the document holds once its aliases are expanded, counting up to ``limit`` + 1.

    A few lines of anchors and aliases can stand for billions of values ("billion laughs"),
    which anything that walks the parsed spec would then visit.

    Example:
        >>> expanded_size(yaml.compose("a: &x [1, 2]\\nb: [*x, *x, *x]\\n"), limit=100)
        16
    """
    count = 0
    stack = [node]
    while stack and count <= limit:
        current = stack.pop()
        if current is None:
            continue
        count += 1
        if isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                stack.extend((key, value))
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
    return count
