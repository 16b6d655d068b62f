"""Dialogue state carried turn to turn, so that rules cost linear time in the dialogue's length.

A :class:`DialogueContext` is one dialogue as the rules see it so far: the task, the
turns pushed so far, each with its :class:`~repo_sdk.rules.views.TextView`, and the
*trackers* plugins attach to it. A :class:`DialogueTracker` is state a plugin builds
from the turns (prices quoted so far, earlier sentences to compare with, ...): it is
created the first time a rule asks for it, fed the turns pushed so far once, then
fed each new turn as it is pushed. Nothing is ever replayed.

The rules source builds one context per dialogue and pushes each turn once: offline,
the samples of a logged dialogue are scored in order and share the context; on the
trainer path a lone Sample gets a context built from its history (once per sample).
A rule gets a :class:`TurnContext`: the sample, the reply's view, and the dialogue
context holding the turns before the reply.

Example:
    >>> from repo_sdk.types import Turn
    >>> class Words(DialogueTracker):
    ...     def __init__(self, dialogue):
    ...         self.count = 0
    ...     def feed(self, index, turn, view):
    ...         self.count += len(view.tokens)
    >>> ctx = DialogueContext(task={})
    >>> ctx.push(Turn(role="user", content="Hello there"))
    >>> words = ctx.tracker(Words)
    >>> ctx.push(Turn(role="assistant", content="Hi, how can I help?"))
    >>> words.count, len(ctx.turns)
    (7, 2)
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from repo_sdk.rules.views import TextView
from repo_sdk.types import Turn

if TYPE_CHECKING:
    from repo_sdk.types import Sample

__all__ = ["DialogueContext", "DialogueTracker", "TrackerT", "TurnContext"]

TrackerT = TypeVar("TrackerT", bound="DialogueTracker")
T = TypeVar("T")
_MISSING = object()


class DialogueTracker:
    """State a plugin carries through a dialogue. Subclass it and implement ``feed``.

    ``__init__`` gets the dialogue context (its ``task`` above all); ``feed`` is called
    once per turn, in order, with the turn's index, the turn and its text view. Read
    the tracker's state from a rule with ``turn.dialogue.tracker(MyTracker)``: it then
    reflects exactly the turns before the reply. A tracker must not change a view.
    """

    def __init__(self, dialogue: DialogueContext) -> None:
        self.dialogue = dialogue

    def feed(self, index: int, turn: Turn, view: TextView) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement feed")


class DialogueContext:
    """The turns of one dialogue so far, their text views, and the trackers fed with them.

    Attributes:
        task: the dialogue's task information.
        turns: the turns pushed so far, oldest first.
        views: ``views[i]`` is the text view of ``turns[i]``.
    """

    def __init__(self, task: Mapping[str, Any]) -> None:
        self.task = task
        self.turns: list[Turn] = []
        self.views: list[TextView] = []
        self._trackers: dict[type[DialogueTracker], DialogueTracker] = {}
        self._memo: dict[Any, Any] = {}

    @classmethod
    def of_history(cls, task: Mapping[str, Any], history: Sequence[Turn]) -> DialogueContext:
        """A context holding ``history`` (the trainer path: one Sample, no dialogue around it)."""
        ctx = cls(task)
        for turn in history:
            ctx.push(turn)
        return ctx

    def push(self, turn: Turn, view: TextView | None = None) -> None:
        """Add the next turn (with its view when one exists already) and feed it to every tracker."""
        if view is None or view.text != turn.content:
            view = TextView.of(turn.content)
        index = len(self.turns)
        self.turns.append(turn)
        self.views.append(view)
        for tracker in self._trackers.values():
            tracker.feed(index, turn, view)

    def tracker(self, cls: type[TrackerT]) -> TrackerT:
        """The tracker of class ``cls`` for this dialogue, fed every turn pushed so far."""
        found = self._trackers.get(cls)
        if found is None:
            found = cls(self)
            for index, (turn, view) in enumerate(zip(self.turns, self.views, strict=True)):
                found.feed(index, turn, view)
            self._trackers[cls] = found
        return found  # type: ignore[return-value]  # keyed by its own class: the tracker is a TrackerT

    def close(self) -> None:
        """Drop the trackers and memos: the dialogue is scored. They refer back to this context, a
        cycle reference counting cannot free, and the cycle collector would have to walk all it holds."""
        self._trackers.clear()
        self._memo.clear()

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """A value computed once per dialogue (what a rule reads off the task, most often).

        Key it by the rule object (``(id(self), "task")``) when it depends on the rule's parameters.
        """
        value = self._memo.get(key, _MISSING)
        if value is _MISSING:
            value = self._memo[key] = compute()
        return value


class TurnContext:
    """One reply in its dialogue: what a rule's ``check_turn`` gets.

    Attributes:
        sample: the sample being scored.
        reply: the text view of the reply (``sample.response``).
        dialogue: the dialogue context; its turns are the turns before the reply.
    """

    __slots__ = ("dialogue", "reply", "sample")

    def __init__(self, sample: Sample, dialogue: DialogueContext, reply: TextView | None = None) -> None:
        self.sample = sample
        self.dialogue = dialogue
        self.reply = reply if reply is not None else TextView(sample.response)

    @classmethod
    def of_sample(cls, sample: Sample) -> TurnContext:
        """A context built from the sample alone: its history pushed once into a new dialogue context."""
        return cls(sample, DialogueContext.of_history(sample.task, sample.history))

    @property
    def response(self) -> str:
        return self.reply.text

    @property
    def task(self) -> Mapping[str, Any]:
        return self.sample.task

    @property
    def history(self) -> list[Turn]:
        return self.sample.history
