"""Turn cards: one scored reply with what the reward read and why it is what it is.

A card holds the turns before the reply (the other side's turns come from the dialogue
rows' ``context``, earlier replies from the turn rows; shown collapsed), the task, the
reply with each rule's evidence marked, the hits, the judge's reason, every source's
value, the combiner's terms and the one-line why (:mod:`repo_sdk.report.explain`).
Replies are hostile text: everything is escaped, long texts are cut to a window that
keeps the first marked span in view, so a 1 MB reply costs the page a few KB.

Example:
    >>> rows = [{"dialogue_id": "d", "turn_index": 1, "reward": 0.2, "response": "Deal at <b>90</b>",
    ...          "sources": {"rm": 0.2}, "fired": [], "combiner": {}}]
    >>> ctx = ContextIndex(rows, [{"dialogue_id": "d", "task": {"hotel": "A"},
    ...                            "context": [{"turn_index": 0, "role": "user", "content": "Hi"}]}])
    >>> card = turn_card(rows[0], ctx, ["rm"])
    >>> [(t["role"], t["text"]) for t in card["before"]], str(card["reply"])
    ([('user', 'Hi')], 'Deal at &lt;b&gt;90&lt;/b&gt;')
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from markupsafe import Markup

from repo_sdk.report import explain, stats
from repo_sdk.report.stats import fmt

__all__ = ["ContextIndex", "excerpt", "highlight", "rule_spans", "turn_card"]

REPLY_CHARS = 2400
CONTEXT_CHARS = 700
CONTEXT_TURNS = 8
TASK_CHARS = 900


def highlight(text: str, spans: Sequence[tuple[int, int, str]]) -> Markup:
    """``text`` escaped, with each ``(start, end, rule)`` span (clipped, overlaps merged) in ``<mark>``.

    Example:
        >>> str(highlight("a <b> c", [(2, 5, "tag")]))
        'a <mark title="tag">&lt;b&gt;</mark> c'
    """
    clean = sorted((max(0, s), min(len(text), e), rule) for s, e, rule in spans if min(len(text), e) > max(0, s))
    merged: list[list[Any]] = []
    for s, e, rule in clean:
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
            merged[-1][2] += f", {rule}" if rule not in merged[-1][2].split(", ") else ""
        else:
            merged.append([s, e, rule])
    out, pos = [], 0
    for s, e, rule in merged:
        out.append(escape(text[pos:s]))
        out.append(f'<mark title="{escape(rule)}">{escape(text[s:e])}</mark>')
        pos = e
    out.append(escape(text[pos:]))
    return Markup("".join(out))


def excerpt(text: str, spans: Sequence[tuple[int, int, str]], limit: int = REPLY_CHARS) -> Markup:
    """``text`` highlighted, cut to ``limit`` characters around the first span, the cuts said in place.

    Example:
        >>> html = str(excerpt("x" * 50 + "BAD" + "y" * 50, [(50, 53, "r")], limit=10))
        >>> html.split("</span>")[0], html.endswith("[45 more chars]</span>")
        ('<span class="cut">[48 chars before]', True)
        >>> 'xx<mark title="r">BAD</mark>yyyyy' in html
        True
    """
    if len(text) <= limit:
        return highlight(text, spans)
    first = min((s for s, e, _ in spans if e > s >= 0 and s < len(text)), default=0)
    start = max(0, min(first - limit // 4, len(text) - limit)) if first > limit // 2 else 0
    end = start + limit
    shifted = [(max(s, start) - start, min(e, end) - start, r) for s, e, r in spans if e > start and s < end]
    head = Markup('<span class="cut">[{} chars before]</span>').format(start) if start else Markup("")
    tail = Markup('<span class="cut">[{} more chars]</span>').format(len(text) - end) if end < len(text) else Markup("")
    return head + highlight(text[start:end], shifted) + tail


def rule_spans(row: Mapping[str, Any]) -> list[tuple[int, int, str]]:
    """The ``(start, end, rule)`` evidence spans of a row's hits."""
    out = []
    for h in row.get("fired") or []:
        span = h.get("span") if isinstance(h, Mapping) else None
        if isinstance(span, (list, tuple)) and len(span) == 2 and all(type(x) is int for x in span):
            out.append((span[0], span[1], str(h.get("rule"))))
    return out


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[:limit]}… [{len(text) - limit} more chars]"


class ContextIndex:
    """Every dialogue's turns by index, from the turn rows (replies) and dialogue rows (the rest)."""

    def __init__(self, turn_rows: Sequence[Mapping[str, Any]], dialogue_rows: Sequence[Mapping[str, Any]]) -> None:
        self.turns: dict[str, dict[int, tuple[str, str]]] = {}
        self.tasks: dict[str, Any] = {}
        for d in dialogue_rows:
            did = str(d.get("dialogue_id"))
            if isinstance(d.get("task"), Mapping) and d["task"]:
                self.tasks[did] = d["task"]
            for t in d.get("context") or []:
                if isinstance(t, Mapping) and type(t.get("turn_index")) is int and isinstance(t.get("content"), str):
                    self.turns.setdefault(did, {})[t["turn_index"]] = (str(t.get("role")), t["content"])
        for r in turn_rows:
            if type(r.get("turn_index")) is int and isinstance(r.get("response"), str):
                self.turns.setdefault(str(r.get("dialogue_id")), {})[r["turn_index"]] = ("assistant", r["response"])
        self._sorted: dict[str, list[int]] = {}

    def before(self, dialogue_id: str, turn_index: Any) -> tuple[list[dict[str, Any]], int]:
        """The last :data:`CONTEXT_TURNS` turns before ``turn_index`` and how many earlier ones are left out."""
        if type(turn_index) is not int or dialogue_id not in self.turns:
            return [], 0
        if dialogue_id not in self._sorted:
            self._sorted[dialogue_id] = sorted(self.turns[dialogue_id])
        earlier = [i for i in self._sorted[dialogue_id] if i < turn_index]
        shown = earlier[-CONTEXT_TURNS:]
        turns = self.turns[dialogue_id]
        return [{"index": i, "role": turns[i][0], "text": _clip(turns[i][1], CONTEXT_CHARS)} for i in shown], len(
            earlier
        ) - len(shown)

    def task(self, dialogue_id: str) -> str:
        """The dialogue's task as compact JSON ('' when unknown)."""
        task = self.tasks.get(dialogue_id)
        return _clip(json.dumps(task, ensure_ascii=False, default=str), TASK_CHARS) if task else ""


def turn_card(
    row: Mapping[str, Any], context: ContextIndex, names: Sequence[str], *, label: str = ""
) -> dict[str, Any]:
    """The template data of one turn card (strings stay plain: the template escapes them)."""
    reasons = given if isinstance(given := row.get("reasons"), Mapping) else {}
    response = reply if isinstance(reply := row.get("response"), str) else ""
    did = str(row.get("dialogue_id"))
    before, hidden = context.before(did, row.get("turn_index"))
    hits = [h for h in row.get("fired") or [] if isinstance(h, Mapping)]
    return {
        "label": label,
        "dialogue_id": did,
        "turn_index": row.get("turn_index"),
        "reward": fmt(stats.num(row.get("reward"))),
        "why": explain.why(row),
        "terms": explain.terms(row),
        "sources": [(n, fmt(stats.value_of(dict(row), n))) for n in names],
        "hits": [
            {
                "rule": str(h.get("rule")),
                "points": fmt(stats.num(h.get("points"))),
                "reason": _clip(str(h.get("reason") or ""), 300),
                "evidence": _clip(str(h.get("evidence") or ""), 120),
            }
            for h in hits
        ],
        "judge_reason": _clip(str(reasons.get("judge") or ""), 600),
        "other_reasons": [
            (str(n), _clip(str(v), 300)) for n, v in reasons.items() if n not in ("judge", "rules") and v
        ],
        "before": before,
        "hidden": hidden,
        "task": context.task(did),
        "reply": excerpt(response, rule_spans(row)),
        "length": len(response),
    }
