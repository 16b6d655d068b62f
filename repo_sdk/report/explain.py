"""Why a turn got its reward: the combiner's breakdown of one turn row, as terms and as one line.

A turn row keeps the combiner's ``details`` under ``combiner`` (:mod:`repo_sdk.scoring`), but
not the combiner's name, so the combiner is read off the keys it writes: ``E`` (REPO),
``veto`` (REPO's veto), ``gate``/``ungated`` (``gate`` around any combiner), ``argmin``
(``min``); a row without any of them is a sum of the sources (``weighted_sum``, or
``normalize_then_sum`` whose z-scores the row does not keep). Pure functions on plain
dicts: rows from any run, old or new, explain themselves or say what is unknown.

Example:
    >>> row = {"reward": 0.0, "sources": {"rm": 0.03, "judge": 1.0, "rules": -160.0},
    ...        "combiner": {"E": -100.0, "E_judge": -50.0, "E_rules": -160.0, "multiplier": 0.0},
    ...        "fired": [{"rule": "cot_leak", "points": -100.0}, {"rule": "padding", "points": -60.0}]}
    >>> why(row)
    'RM +0.03 x 0 = 0: E -100 = judge -50 + rules -160 (cot_leak -100, padding -60), clipped from -210'
    >>> terms(row)
    [('E', '-100'), ('E_judge', '-50'), ('E_rules', '-160'), ('multiplier', '0')]
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = ["terms", "why"]

_TERMS = ("E", "E_judge", "E_rules", "multiplier")
_MAX_HITS = 3


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _g(value: float | None, sign: bool = False) -> str:
    """A number in 3 significant digits (``+`` on request); ``None`` as ``n/a``."""
    if value is None:
        return "n/a"
    if float(value).is_integer() and abs(value) < 1e15:
        text = str(int(value))
        return f"+{text}" if sign and value > 0 else text
    return f"{value:+.3g}" if sign else f"{value:.3g}"


def _details(row: Mapping[str, Any]) -> dict[str, Any]:
    details = row.get("combiner")
    return dict(details) if isinstance(details, Mapping) else {}


def _sources(row: Mapping[str, Any]) -> dict[str, Any]:
    sources = row.get("sources")
    return dict(sources) if isinstance(sources, Mapping) else {}


def terms(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The combiner's numbers of one turn as ``(label, value)`` pairs (REPO: E, E_judge, E_rules, multiplier).

    Also ``veto`` / ``gate`` (the rules that set or capped the reward), the reward before them,
    ``argmin`` (``min``) and the sources the combiner found missing.

    Example:
        >>> terms({"combiner": {"E": 0.0, "E_judge": 50.0, "E_rules": -100.0, "multiplier": None,
        ...                     "veto": ["empty_reply"], "unvetoed": 0.4}})
        [('E', '0'), ('E_judge', '50'), ('E_rules', '-100'), ('veto', 'empty_reply'), ('before veto', '0.4')]
    """
    details = _details(row)
    out = [(k, _g(v)) for k in _TERMS if (v := _num(details.get(k))) is not None]
    for key, before, label in (("veto", "unvetoed", "before veto"), ("gate", "ungated", "before gate")):
        names = details.get(key)
        if isinstance(names, list) and names:
            out.append((key, ", ".join(str(n) for n in names)))
            if (v := _num(details.get(before))) is not None:
                out.append((label, _g(v)))
    if isinstance(details.get("argmin"), str):
        out.append(("argmin", details["argmin"]))
    missing = details.get("missing")
    if isinstance(missing, list) and missing:
        out.append(("missing", ", ".join(str(m) for m in missing)))
    return out


def _hits(row: Mapping[str, Any]) -> str:
    hits = [h for h in row.get("fired") or [] if isinstance(h, Mapping) and _num(h.get("points")) is not None]
    hits.sort(key=lambda h: h["points"])
    shown = [f"{h.get('rule')} {_g(_num(h['points']))}" for h in hits[:_MAX_HITS]]
    if len(hits) > _MAX_HITS:
        shown.append(f"+{len(hits) - _MAX_HITS} more")
    return f" ({', '.join(shown)})" if shown else ""


def _enhancement(row: Mapping[str, Any], details: Mapping[str, Any]) -> str:
    """``E -85 = judge -25 + rules -60 (hits), clipped from -x`` for a REPO row."""
    e, e_judge, e_rules = (_num(details.get(k)) for k in ("E", "E_judge", "E_rules"))
    parts = []
    if e_judge is not None:
        parts.append(f"judge {_g(e_judge)}")
    if e_rules is not None:
        parts.append(f"rules {_g(e_rules)}{_hits(row) if e_rules else ''}")
    text = f"E {_g(e)}" + (f" = {' + '.join(parts)}" if parts else "")
    raw = (e_judge or 0.0) + (e_rules or 0.0)
    if e is not None and abs(raw - e) > 1e-9 * max(1.0, abs(raw)):
        text += f", clipped from {_g(raw)}"
    missing = [m for m in details.get("missing") or [] if isinstance(m, str)]
    return text + (f"; missing {', '.join(missing)}" if missing else "")


def _rm_value(row: Mapping[str, Any], reward: float, mult: float | None) -> tuple[str, float] | None:
    """The RM source and value behind ``reward = R_rm * multiplier`` (the row does not name the RM)."""
    present = {str(k): f for k, v in _sources(row).items() if (f := _num(v)) is not None}
    if mult is None:
        found = {k: v for k, v in present.items() if k == "rm"}
    else:
        found = {k: v for k, v in present.items() if abs(v * mult - reward) <= 1e-6 * max(1.0, abs(reward))}
    for name in ("rm", *(k for k in found if k not in ("judge", "rules")), *found):
        if name in found:
            return name, found[name]
    return None


def _repo(row: Mapping[str, Any], details: Mapping[str, Any]) -> str:
    reward = _num(row.get("reward"))
    enhancement = _enhancement(row, details)
    mult = _num(details.get("multiplier"))
    if reward is None:
        missing = [str(m) for m in details.get("missing") or []]
        why_not = details.get("why") if isinstance(details.get("why"), str) else f"missing {', '.join(missing) or 'RM'}"
        return f"no reward: {why_not}"
    rm = _rm_value(row, reward, mult)
    if mult is not None:
        r_rm = rm[1] if rm else (reward / mult if mult else None)
        return f"RM {_g(r_rm, True)} x {_g(mult)} = {_g(reward)}: {enhancement}"
    missing = [m for m in details.get("missing") or [] if m not in ("judge", "rules")]
    if rm is not None and rm[1] == 0:
        return f"RM 0, reward from E alone = {_g(reward)}: {enhancement}"
    if missing:
        return f"RM missing, reward = E / n = {_g(reward)}: {enhancement}"
    return f"no RM, reward = E / n = {_g(reward)}: {enhancement}"


def _plain(row: Mapping[str, Any], details: Mapping[str, Any]) -> str:
    reward = _num(row.get("reward"))
    values = {str(k): _num(v) for k, v in _sources(row).items()}
    present = {k: v for k, v in values.items() if v is not None}
    missing = [m for m in details.get("missing") or [] if isinstance(m, str)]
    gone = f"; missing {', '.join(missing)}" if missing else ""
    if reward is None:
        return f"no reward: {', '.join(missing) or 'every source'} missing"
    if isinstance(details.get("argmin"), str):
        listed = ", ".join(f"{k} {_g(v)}" for k, v in present.items())
        return f"min of the sources: {details['argmin']} {_g(reward)} is the lowest ({listed})"
    if not present:
        return f"reward {_g(reward)}; the row has no source values"
    listed = " + ".join(f"{k} {_g(v)}" for k, v in present.items())
    if abs(sum(present.values()) - reward) <= 1e-9 * max(1.0, abs(reward)):
        return f"sum of the sources: {listed} = {_g(reward)}{_hits(row) if values.get('rules') else ''}{gone}"
    return f"weighted mix of the sources ({', '.join(f'{k} {_g(v)}' for k, v in present.items())}) = {_g(reward)}; " \
        f"weights or z-scores are not in the row{gone}"  # fmt: skip


def why(row: Mapping[str, Any]) -> str:
    """One line saying how the combiner reached this turn's reward, from the row alone.

    Example:
        >>> why({"reward": 0.5, "sources": {"rm": 0.4, "judge": 4.0, "rules": 0.0},
        ...      "combiner": {"E": 25.0, "E_judge": 25.0, "E_rules": 0.0, "multiplier": 1.25}})
        'RM +0.4 x 1.25 = 0.5: E 25 = judge 25 + rules 0'
        >>> why({"reward": -1.0, "sources": {"rm": 0.9, "rules": -100.0},
        ...      "combiner": {"E": -100.0, "E_rules": -100.0, "E_judge": 0.0, "multiplier": None,
        ...                   "veto": ["empty_reply"], "unvetoed": 0.0}})
        'vetoed by empty_reply: -1 (the formula gave 0)'
        >>> why({"reward": -0.1, "sources": {"a": 0.3, "b": -0.1}, "combiner": {"argmin": "b"}})
        'min of the sources: b -0.1 is the lowest (a 0.3, b -0.1)'
        >>> why({"reward": -29.6, "sources": {"rm": 0.4, "rules": -30.0}, "combiner": {},
        ...      "fired": [{"rule": "cot_leak", "points": -30.0}]})
        'sum of the sources: rm 0.4 + rules -30 = -29.6 (cot_leak -30)'
    """
    details = _details(row)
    reward = _num(row.get("reward"))
    for key, before in (("veto", "unvetoed"), ("gate", "ungated")):
        names = details.get(key)
        if isinstance(names, list) and names:
            was = _num(details.get(before))
            if key == "veto":
                return f"vetoed by {', '.join(str(n) for n in names)}: {_g(reward)} (the formula gave {_g(was)})"
            inner = why(
                {**row, "reward": was, "combiner": {k: v for k, v in details.items() if k not in (key, before)}}
            )
            return f"gated by {', '.join(str(n) for n in names)}: {_g(reward)} (was {_g(was)}: {inner})"
    if _num(details.get("E")) is not None:
        return _repo(row, details)
    return _plain(row, details)
