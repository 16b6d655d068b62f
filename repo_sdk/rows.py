"""The rows of a scored run, typed: what ``repo-sdk score`` writes and ``report`` / ``eval`` read back.

One :class:`TurnRow` per scored assistant turn, then one :class:`DialogueRow` per dialogue
(after its turns); an input record that could not be read becomes a :class:`SkippedRow`.
The types are ``TypedDict`` s, so a row is a plain dict on the scoring hot path (no model is
built per row) and a type checker knows every key. :mod:`repo_sdk.scoring` builds rows (it
only formats what the pipeline scored); reading a file back checks each row against these
types (:func:`row_problem`, called by :func:`repo_sdk.io.rows.read_rows`); :func:`rules_per_turn`
is the one merge of turn and dialogue-level rule hits that ``eval`` and the report count.

Example:
    >>> from repo_sdk import RewardPipeline
    >>> from repo_sdk.scoring import score_dialogues
    >>> from repo_sdk.testing import make_dialogue
    >>> d = make_dialogue([("user", "Hi"), ("assistant", "<think>x</think>Hello")], id="d1")
    >>> with RewardPipeline.from_spec({"sources": {"rules": ["cot_leak"]}}) as pipe:
    ...     turn, dialogue = score_dialogues(pipe, [d])
    >>> row_problem(turn), rules_per_turn([turn], [dialogue]), dialogue["rule_counts"]
    (None, ([{'cot_leak'}], 0), {'cot_leak': 1})
    >>> row_problem({**turn, "reward": "high"})
    "turn row: reward: input should be a valid number (got 'high')"
"""

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, TypeAdapter, ValidationError, with_config
from typing_extensions import NotRequired, TypedDict

__all__ = ["ContextTurn", "DialogueRow", "HitRow", "SkippedRow", "TurnRow", "row_problem", "rules_per_turn"]

# Reading back is strict (no "1" for 1, no true for 1.0) and refuses keys the contract lacks.
_STRICT = ConfigDict(strict=True, extra="forbid")


@with_config(_STRICT)
class HitRow(TypedDict):
    """A rule hit in a row: :class:`repo_sdk.types.RuleHit` as a dict (its fields, in its order)."""

    rule: str
    points: float
    reason: str
    span: Annotated[tuple[int, int] | None, Field(strict=False)]  # a list once read back from JSON
    evidence: str
    turn_index: int | None


@with_config(_STRICT)
class ContextTurn(TypedDict):
    """A turn of a dialogue that is not a scored reply (the other side's, a system or tool turn)."""

    turn_index: int
    role: str
    content: str


@with_config(_STRICT)
class TurnRow(TypedDict):
    """One scored assistant turn.

    Attributes:
        kind: ``"turn"``.
        dialogue_id: the dialogue's id (None for a lone Sample, as trainers send them).
        turn_index: the reply's index among the dialogue's turns.
        sample_id: ``<dialogue id>#<turn index>`` for logged dialogues.
        response: the reply scored.
        reward: the combined reward; None when the combiner could not make one.
        sources: every source's value (None: not applicable, not run, or failed).
        fired: the rule hits on this reply, from first to last.
        reasons: a source's reason, for the sources that gave one.
        details: a source's details (its hits left out: they are in ``fired``); ``"error"`` when it
            raised on this sample.
        combiner: the combiner's details (REPO: ``E``, ``multiplier``, ``missing``, ...).
    """

    kind: Literal["turn"]
    dialogue_id: str | None
    turn_index: int | None
    sample_id: str | None
    response: str
    reward: float | None
    sources: dict[str, float | None]
    fired: list[HitRow]
    reasons: dict[str, str]
    details: dict[str, dict[str, Any]]
    combiner: dict[str, Any]


@with_config(_STRICT)
class DialogueRow(TypedDict):
    """One dialogue: aggregates of its turn rows plus its dialogue-level scores.

    Attributes:
        kind: ``"dialogue"``.
        dialogue_id: the dialogue's id.
        turns: how many turn rows it has (its assistant turns).
        reward_mean: mean of its turns' rewards (None: no turn has one).
        reward_min: lowest turn reward (None: no turn has one).
        sources_mean: per source, the mean of its turn values (None: no values).
        fired_count: rule hits, turn and dialogue level together.
        worst_rule: the rule with the lowest total points (ties: by name); None when none fired.
        rule_counts: hits per rule, turn and dialogue level together, by name.
        dialogue_sources: the dialogue-level value of each source that gives one.
        dialogue_fired: the dialogue-level rule hits (``turn_index`` says which turn a hit points at).
        dialogue_errors: the sources that raised on this dialogue's dialogue-level scoring: the error.
        task: the dialogue's task information.
        context: its turns that are not scored replies, so a report can show what came before a reply
            without repeating the history in every turn row.
    """

    kind: Literal["dialogue"]
    dialogue_id: str
    turns: int
    reward_mean: float | None
    reward_min: float | None
    sources_mean: dict[str, float | None]
    fired_count: int
    worst_rule: str | None
    rule_counts: dict[str, int]
    dialogue_sources: dict[str, float | None]
    dialogue_fired: list[HitRow]
    dialogue_errors: dict[str, str]
    task: dict[str, Any]
    context: list[ContextTurn]


@with_config(_STRICT)
class SkippedRow(TypedDict):
    """An input record that could not be read (``--on-error skip``).

    Attributes:
        kind: ``"skipped"`` in the run's journal; the skipped file (``OUT.skipped.jsonl``) leaves it out.
        position: the record's position in the input (its line in JSONL, from 1).
        reason: the one-line error, naming file and line.
    """

    kind: NotRequired[Literal["skipped"]]
    position: int
    reason: str


def rules_per_turn(
    turn_rows: Sequence[Mapping[str, Any]], dialogue_rows: Sequence[Mapping[str, Any]] = ()
) -> tuple[list[set[str]], int]:
    """The rules fired on each turn (aligned with ``turn_rows``) and the count of dialogue-wide hits.

    A turn's rules are its own hits plus the dialogue-level hits naming its ``turn_index``; a
    dialogue-level hit without a turn, or naming a turn not in ``turn_rows``, is dialogue-wide.
    ``eval`` and the report count rule fires with this one merge.

    Example:
        >>> turns = [{"dialogue_id": "d", "turn_index": 1, "fired": [{"rule": "a"}]},
        ...          {"dialogue_id": "d", "turn_index": 3, "fired": []}]
        >>> dia = [{"dialogue_id": "d", "dialogue_fired": [{"rule": "b", "turn_index": 3},
        ...                                                 {"rule": "c", "turn_index": None}]}]
        >>> rules_per_turn(turns, dia)
        ([{'a'}, {'b'}], 1)
    """
    where = {(str(r.get("dialogue_id")), r.get("turn_index")): i for i, r in enumerate(turn_rows)}
    rules = [{str(h.get("rule")) for h in r.get("fired") or [] if isinstance(h, Mapping)} for r in turn_rows]
    wide = 0
    for d in dialogue_rows:
        for h in d.get("dialogue_fired") or []:
            t = h.get("turn_index") if isinstance(h, Mapping) else None
            i = where.get((str(d.get("dialogue_id")), t)) if type(t) is int else None
            if i is None:
                wide += 1
            else:
                rules[i].add(str(h.get("rule")))
    return rules, wide


_KINDS: dict[str, type] = {"turn": TurnRow, "dialogue": DialogueRow, "skipped": SkippedRow}


@cache
def _adapter(kind: str) -> TypeAdapter[Any]:
    return TypeAdapter(_KINDS[kind])


def row_problem(row: object) -> str | None:
    """What makes ``row`` no row of the contract, in one line naming the key and the bad value; None when it is one.

    Strict: a number must be a number (not ``"1"``, not ``true``), every key of its kind must be there
    and no other. The row itself is left as it is.
    """
    kind = row.get("kind") if isinstance(row, dict) else None
    if kind is None and isinstance(row, dict) and "position" in row and "reason" in row:
        kind = "skipped"  # a row of the skipped file
    if not isinstance(kind, str) or kind not in _KINDS:
        what = f"kind={kind!r}" if isinstance(row, dict) else f"a JSON {type(row).__name__}"
        return f"not a row of `repo-sdk score` ({what}); pass the scored output, not the logs"
    try:
        _adapter(kind).validate_python(row)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error["loc"]).lstrip(".")
        if error["type"] == "missing":
            return f"{kind} row lacks {where!r}"
        if error["type"] == "extra_forbidden":
            return f"{kind} row: unknown key {where!r}"
        got = repr(error["input"])
        got = got if len(got) <= 80 else got[:77] + "..."
        return f"{kind} row: {where}: {error['msg'][0].lower()}{error['msg'][1:]} (got {got})"
    return None
