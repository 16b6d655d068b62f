"""Checks around a scoring run: the judge is reachable before it starts, the sources gave values after it.

A judge with a ``base_url`` is probed once before any scoring (``GET <base_url>/models``):
a server that does not answer, or answers 401/403, would otherwise turn every judge
value into None and leave rewards from the other sources alone, with exit 0. After
the run, a source that gave None on more than ``max_none_rate`` of the turns fails
the run: its rows are written, but they are not what the spec asked for.

Example:
    >>> probe_url("http://127.0.0.1:9/v1", timeout_s=2)  # nothing listens on port 9
    'unreachable (Connection refused)'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from repo_sdk.pipeline import NotRun, RewardPipeline
from repo_sdk.remote import probe
from repo_sdk.rows import DialogueRow, TurnRow

__all__ = ["first_source_error", "judge_urls", "none_rate_problems", "probe_judges", "probe_url"]

# Kinds whose None always means "could not score" (an error, a NaN, an unanswered judge call); a
# plugin source of kind "other" may return None for "not applicable", so it is not counted.
_NONE_IS_FAILURE = ("judge", "rm", "rules")


def probe_url(base_url: str, *, api_key: str | None = None, timeout_s: float = 10.0) -> str | None:
    """None when an OpenAI-compatible server answers at ``base_url``, else what is wrong, in a few words.

    Any HTTP answer but 401/403 counts as reachable (not every server serves ``/models``).
    """
    return probe.probe_url(f"{base_url.rstrip('/')}/models", api_key=api_key, timeout_s=timeout_s)


def judge_urls(pipeline: RewardPipeline) -> dict[str, tuple[str, str | None]]:
    """``{source name: (base_url, api key)}`` of the sources that call a judge server the spec names."""
    out = {}
    for name, src in pipeline.sources.items():
        url = getattr(getattr(src, "cfg", None), "base_url", None)
        if src.kind == "judge" and isinstance(url, str):
            out[name] = (url, getattr(src, "api_key", None))
    return out


def probe_judges(pipeline: RewardPipeline, timeout_s: float = 10.0) -> dict[str, str]:
    """``{source name: "<base_url> <problem>"}`` for every judge server that does not answer."""
    problems = {}
    for name, (url, key) in judge_urls(pipeline).items():
        if (problem := probe_url(url, api_key=key, timeout_s=timeout_s)) is not None:
            problems[name] = f"{url} {problem}"
    return problems


def none_rate_problems(
    pipeline: RewardPipeline, none: Mapping[str, int], first_reason: Mapping[str, str], turns: int, max_rate: float
) -> list[str]:
    """One line per source (judge, RM, rules) that gave None on more than ``max_rate`` of ``turns``."""
    lines = []
    for name, src in pipeline.sources.items():
        if isinstance(src, NotRun) or src.kind not in _NONE_IS_FAILURE or not turns:
            continue
        n = none.get(name, 0)
        if n / turns > max_rate:
            why = f"; first reason: {first_reason[name]}" if first_reason.get(name) else ""
            lines.append(
                f"source {name} gave no value on {n} of {turns} turns ({n / turns:.0%}, "
                f"more than --max-none-rate {max_rate:.0%}){why}"
            )
    return lines


def first_source_error(rows: Sequence[TurnRow | DialogueRow], positions: Sequence[int]) -> tuple[int, str, str] | None:
    """The first source error in a group's rows: (input position, where in the record, the error).

    ``rows`` are turn rows, each dialogue's followed by its dialogue row; ``positions``
    are the dialogues' input positions, in the same order.
    """
    k = 0
    for row in rows:
        if row["kind"] == "turn":
            for name, details in row["details"].items():
                if "error" in details:
                    return (
                        positions[k],
                        f"turns[{row['turn_index']}] ({row['sample_id']}): source {name}",
                        details["error"],
                    )
            continue
        for name, error in row["dialogue_errors"].items():
            return positions[k], f"dialogue {row['dialogue_id']}: source {name}", error
        k += 1
    return None
