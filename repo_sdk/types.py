"""The data that flows through repo-sdk: samples in, scores and rewards out.

Tool turns are first-class: an ``assistant`` turn may carry ``tool_calls`` (its text may
then be empty), and a ``tool`` turn holds what a tool returned. The agent's reply is
always its own text; tool output stays in its ``tool`` turn.

Example:
    >>> d = Dialogue(id="d1", task={"target_price": 80}, turns=[
    ...     Turn(role="user", content="Hello, Hotel Aurora."),
    ...     Turn(role="assistant", content=None, tool_calls=[ToolCall(name="rates", arguments={"room": "twin"})]),
    ...     Turn(role="tool", name="rates", content="market rate: 80 EUR"),
    ...     Turn(role="assistant", content="Hi! Could we talk about the twin room?"),
    ... ])
    >>> [(s.id, len(s.history)) for s in d.samples()]
    [('d1#3', 3)]
    >>> d.turns[2]
    Turn(role='tool', content='market rate: 80 EUR', name='rates')
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationInfo, field_validator, model_validator

Role = Literal["system", "user", "assistant", "tool"]

__all__ = ["Dialogue", "RewardResult", "Role", "RuleHit", "Sample", "SourceScore", "ToolCall", "Turn", "assemble"]

M = TypeVar("M", bound=BaseModel)


def assemble(cls: type[M], values: dict[str, Any], given: frozenset[str], private: dict[str, Any] | None = None) -> M:
    """A model from values already validated: no validation, a tenth of ``model_construct``'s cost (less in C,
    where ``repo_sdk/fastmodel.c`` is built: the name is then bound to it).

    For the hot paths that build one model per turn from parts a model already checked
    (a Sample per assistant turn of a validated Dialogue, say). ``values`` holds every
    field, in declaration order; ``given`` names those the caller set (``model_fields_set``);
    ``private`` the private attributes, when the model has any.

    Example:
        >>> t = assemble(Turn, {"role": "user", "content": "Hi", "tool_calls": (), "name": None,
        ...     "tool_call_id": None}, frozenset({"role", "content"}))
        >>> t == Turn(role="user", content="Hi"), t.model_fields_set == {"role", "content"}
        (True, True)
    """
    obj = cls.__new__(cls)
    _SET_DICT(obj, values)
    _SET_FIELDS_SET(obj, set(given))
    _SET_EXTRA(obj, None)
    _SET_PRIVATE(obj, private)
    return obj


def _assemble_in_c() -> Any:
    """:func:`assemble` in C (``repo_sdk/fastmodel.c``: the same model, a third of the time), bound to
    BaseModel's own attributes; None where it was not built or ``REPO_SDK_PURE_PYTHON`` is set."""
    if os.environ.get("REPO_SDK_PURE_PYTHON"):
        return None
    try:
        from repo_sdk import fastmodel  # type: ignore[attr-defined]  # built from C, where it could be
    except ImportError:
        return None
    own = [BaseModel.__dict__.get(name) for name in _OWN_ATTRIBUTES]
    if None in own:  # (a pydantic that lays them out otherwise: the Python function)
        return None
    fastmodel.bind(*own)
    return fastmodel.assemble


_OWN_ATTRIBUTES = ("__dict__", "__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__")


def _slot_setter(name: str) -> Any:
    """The setter of one of BaseModel's own attributes, called straight (``object.__setattr__`` finds it
    anew each time); where a pydantic version lays them out otherwise, ``object.__setattr__`` for it."""
    found = BaseModel.__dict__.get(name)
    setter = getattr(found, "__set__", None)
    return setter if setter is not None else lambda obj, value: object.__setattr__(obj, name, value)


_SET_DICT, _SET_FIELDS_SET, _SET_EXTRA, _SET_PRIVATE = map(_slot_setter, _OWN_ATTRIBUTES)
__test__ = {"assemble": assemble}  # (its example, run even where the name is bound to the C function)
_IN_C = _assemble_in_c()
if _IN_C is not None and not TYPE_CHECKING:
    assemble = _IN_C  # (the same function, in C)


class ToolCall(BaseModel):
    """One tool call of an assistant turn.

    Attributes:
        name: the tool (function) called.
        arguments: its arguments: an object, or the raw text when it was not a JSON object.
        id: the call id a ``tool`` turn answers (``tool_call_id``), when the log has one.

    Example:
        >>> ToolCall(name="rates", arguments='{"room": "twin"}').arguments
        {'room': 'twin'}
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    arguments: dict[str, Any] | str = Field(default_factory=dict)
    id: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _flatten(cls, value: Any) -> Any:
        # the OpenAI / Hugging Face form {"id", "type": "function", "function": {"name", "arguments"}}
        if isinstance(value, dict) and isinstance(value.get("function"), dict):
            fn = value["function"]
            return {"name": fn.get("name"), "arguments": fn.get("arguments"), "id": value.get("id")}
        return value

    @field_validator("arguments", mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        if value is None:
            return {}
        if isinstance(value, str):  # OpenAI sends arguments as JSON text
            try:
                parsed = json.loads(value)
            except json.JSONDecodeError:
                return value
            return parsed if isinstance(parsed, dict) else value
        return value

    def message(self) -> dict[str, Any]:
        """The call as chat templates read it (``{"type": "function", "function": {...}}``)."""
        out: dict[str, Any] = {"type": "function", "function": {"name": self.name, "arguments": self.arguments}}
        if self.id is not None:
            out["id"] = self.id
        return out


class Turn(BaseModel):
    """One message. The hotel (the counterpart) is ``user``; the agent is ``assistant``.

    Attributes:
        role: ``system``, ``user``, ``assistant`` or ``tool``.
        content: the message text (``None`` reads as ``""``: an assistant turn that only calls tools).
        tool_calls: an assistant turn's tool calls.
        name: a tool turn's tool name.
        tool_call_id: the call a tool turn answers.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Role
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    name: str | None = None
    tool_call_id: str | None = None

    @field_validator("content", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return "" if value is None else value

    # Field validators, not a model validator: a model's "after" validator runs again each time a
    # Turn instance is validated inside another model (every history turn of every Sample).
    @field_validator("tool_calls")
    @classmethod
    def _only_assistants_call_tools(cls, value: tuple[ToolCall, ...], info: ValidationInfo) -> tuple[ToolCall, ...]:
        role = info.data.get("role")
        if value and role is not None and role != "assistant":
            raise ValueError(f"only assistant turns make tool calls, not {role} turns")
        return value

    @field_validator("name", "tool_call_id")
    @classmethod
    def _only_tools_are_named(cls, value: str | None, info: ValidationInfo) -> str | None:
        role = info.data.get("role")
        if value is not None and role is not None and role != "tool":
            raise ValueError(f"name and tool_call_id belong to tool turns, not {role} turns")
        return value

    @property
    def is_tool_call_only(self) -> bool:
        """An assistant turn that calls tools and says nothing: an action, not a reply."""
        return bool(self.tool_calls) and not self.content.strip()

    def message(self) -> dict[str, Any]:
        """The turn as a chat message (``role``, ``content`` and the tool fields it has).

        Example:
            >>> Turn(role="tool", name="rates", content="80 EUR").message()
            {'role': 'tool', 'content': '80 EUR', 'name': 'rates'}
        """
        out: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.tool_calls:
            out["tool_calls"] = [c.message() for c in self.tool_calls]
        if self.name is not None:
            out["name"] = self.name
        if self.tool_call_id is not None:
            out["tool_call_id"] = self.tool_call_id
        return out

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        # a plain turn reads Turn(role='user', content='Hi'): the tool fields show when set
        for key, value in super().__repr_args__():
            if key in ("role", "content") or value not in ((), None):
                yield key, value


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

    def origin(self) -> Origin | None:
        """The dialogue and turn index :meth:`Dialogue.samples` made this sample from (None: made otherwise)."""
        private = self.__pydantic_private__
        return private.get("_origin") if private else None  # (read as an attribute, it costs a Python call)

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

    __hash__ = None  # type: ignore[assignment]  # equal to every Origin: unhashable, as the data model says it


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
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value  # true is no id

    def samples(self) -> list[Sample]:
        """One Sample per assistant turn, with the turns before it as history.

        An assistant turn that only calls tools (no text) is an action, not a reply: it is
        no Sample of its own, and stays in the history of the replies after it.
        """
        out = []
        ident, task, turns, metadata = self.id, self.task, self.turns, self.metadata  # (a field read is a call)
        for i, turn in enumerate(turns):
            if turn.role == "assistant" and not turn.is_tool_call_only:
                # parts this dialogue validated already: validating them again per sample would cost
                # as much as every rule of a small pack
                values = {
                    "id": f"{ident}#{i}",
                    "task": dict(task),
                    "history": turns[:i],
                    "response": turn.content,
                    "group": None,
                    "metadata": {**metadata, "dialogue_id": ident, "turn_index": i},
                }
                out.append(assemble(Sample, values, _SAMPLE_GIVEN, {"_origin": Origin(self, i)}))
        return out


_SAMPLE_GIVEN = frozenset({"id", "task", "history", "response", "metadata"})


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
