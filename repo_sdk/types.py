"""The data that flows through repo-sdk: samples in, scores and rewards out.

Example:
    >>> d = Dialogue(id="d1", task={"target_price": 80}, turns=[
    ...     Turn(role="user", content="Hello, Hotel Aurora."),
    ...     Turn(role="assistant", content="Hi! Could we talk about the twin room?"),
    ... ])
    >>> [s.id for s in d.samples()]
    ['d1#1']
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

Role = Literal["system", "user", "assistant"]

__all__ = ["Dialogue", "RewardResult", "Role", "RuleHit", "Sample", "SourceScore", "Turn"]


class Turn(BaseModel):
    """One message. The hotel (the counterpart) is ``user``; the agent is ``assistant``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Role
    content: str


class Sample(BaseModel):
    """One candidate reply to score, with everything a reward source may look at.

    Attributes:
        id: unique id of this sample (``<dialogue id>#<turn index>`` for logged dialogues).
        task: structured task information (hotel, room types, current and target price, ...).
        history: the turns before the reply, oldest first.
        response: the candidate reply of the agent.
        group: samples sharing a group (e.g. completions of one prompt) are normalised
            together by group-aware combiners; ``None`` puts the sample in the batch-wide group.
        metadata: anything else carried along (dialogue id, turn index, dataset columns).
    """

    model_config = ConfigDict(extra="forbid")

    id: str
    task: dict[str, Any] = Field(default_factory=dict)
    history: list[Turn] = Field(default_factory=list)
    response: str
    group: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    # where Dialogue.samples() took the sample from: lets the rules source carry the
    # dialogue's state from one sample to the next instead of rebuilding it from history
    _origin: Origin | None = PrivateAttr(default=None)

    def turns(self) -> list[Turn]:
        """History plus the response as the last assistant turn."""
        return [*self.history, Turn(role="assistant", content=self.response)]


class Origin:
    """The dialogue and turn index a Sample was made from. Not part of the sample's value:
    it never makes two samples differ (``==``) and is no field of a dump."""

    __slots__ = ("dialogue", "index")

    def __init__(self, dialogue: Dialogue, index: int) -> None:
        self.dialogue, self.index = dialogue, index

    def __eq__(self, other: object) -> bool:
        return other is None or isinstance(other, Origin)

    __hash__ = None  # type: ignore[assignment]


class Dialogue(BaseModel):
    """A logged conversation: one JSONL line of the logged-dialogue format."""

    model_config = ConfigDict(extra="forbid")

    id: str
    task: dict[str, Any] = Field(default_factory=dict)
    turns: list[Turn]
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_str(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value

    def samples(self) -> list[Sample]:
        """One Sample per assistant turn, with the turns before it as history."""
        out = []
        for i, turn in enumerate(self.turns):
            if turn.role == "assistant":
                sample = Sample(
                    id=f"{self.id}#{i}",
                    task=self.task,
                    history=self.turns[:i],
                    response=turn.content,
                    metadata={**self.metadata, "dialogue_id": self.id, "turn_index": i},
                )
                sample._origin = Origin(self, i)
                out.append(sample)
        return out


class SourceScore(BaseModel):
    """What one reward source says about one sample.

    ``value=None`` means "not applicable / could not score" and is never read as 0:
    the combiner's missing-source policy decides what it does. A value is a finite
    number: NaN or infinity is refused here (a NaN compares false with everything, so
    a clip would let it through as the largest reward), and the pipeline gives the
    sample a source error instead.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    value: float | None
    reason: str = ""
    details: dict[str, Any] = Field(default_factory=dict)


class RuleHit(BaseModel):
    """One rule firing: its points (negative is a penalty), why, and the evidence.

    Attributes:
        rule: the rule's registered name.
        points: points this hit contributes to the rules' enhancement score.
        reason: a human sentence saying what is wrong (or right).
        span: ``(start, end)`` character offsets of the evidence in the response,
            or ``None`` when the hit is about the dialogue as a whole.
        evidence: the offending text itself.
        turn_index: for dialogue-level rules, which turn the hit points at.
    """

    model_config = ConfigDict(extra="forbid")

    rule: str
    points: float
    reason: str
    span: tuple[int, int] | None = None
    evidence: str = ""
    turn_index: int | None = None


class RewardResult(BaseModel):
    """The combined reward of one sample with the breakdown behind it."""

    model_config = ConfigDict(extra="forbid")

    reward: float | None
    sources: dict[str, SourceScore]
    fired: list[RuleHit] = Field(default_factory=list)
    details: dict[str, Any] = Field(default_factory=dict)

    def source_values(self) -> dict[str, float | None]:
        """Per-source values, the compact form used in output rows and trainer logs."""
        return {name: score.value for name, score in self.sources.items()}

    def source_errors(self) -> dict[str, str]:
        """The sources that raised on this sample (the pipeline isolated it): name -> the error.

        Example:
            >>> failed = SourceScore(value=None, reason="rm failed", details={"error": "ValueError: bad"})
            >>> RewardResult(reward=0.0, sources={"rm": failed, "rules": SourceScore(value=0.0)}).source_errors()
            {'rm': 'ValueError: bad'}
        """
        return {name: str(s.details["error"]) for name, s in self.sources.items() if "error" in s.details}
