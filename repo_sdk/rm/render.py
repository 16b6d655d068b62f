"""How a Sample becomes the RM's input tokens: chat template, task info, truncation.

The RM has its own tokenizer and chat template, never the policy's. A Sample's
``history`` plus its ``response`` (as the last assistant turn) is rendered with the
RM tokenizer's chat template. The structured ``task`` goes in as text, by
``task_placement``:

- ``system`` (default): a system turn before the history (merged in front of the
  history's own system turn if it has one);
- ``user-prefix``: prepended to the first user turn (for templates without a system role);
- ``none``: left out.

The task text comes from ``task_template`` (a sandboxed Jinja template with one
variable, ``task``) or, by default, one ``- key: value`` line per task field under
``Task information:``.

Tokenizers without a chat template (BERT-style encoders such as MiniLM) get a plain
rendering: one ``role: content`` line per turn, encoded with the tokenizer's own
special tokens (``[CLS] ... [SEP]``).

Tool turns: a chat template that renders a whole tool exchange (an assistant turn's
``tool_calls`` and a ``tool`` turn's output, checked once on a probe as TRL does) gets
them as they are. A template that renders any role but not tool calls (plain ChatML)
gets each call as a ``[tool call] name {arguments}`` line of its assistant turn and the
tool's output as a ``tool`` turn; one that knows neither gets the output as a ``user``
turn headed ``[tool output: name]``, so no template ever sees a role it refuses.
A sample the template still cannot render is encoded as nothing with its ``error``.

Truncation keeps the response. A rendering longer than ``max_length`` first drops
the oldest history turns (the task text stays); if it is still too long, tokens are
cut from the left, after any leading special tokens (BOS / CLS).

Example:
    >>> from repo_sdk.rm.tiny import build_tiny_tokenizer
    >>> from repo_sdk.testing import make_sample
    >>> r = Renderer(build_tiny_tokenizer())
    >>> print(r.text(make_sample(response="Deal.", task={"target_price": 80}, history=[])))
    <|im_start|>system
    Task information:
    - target_price: 80<|im_end|>
    <|im_start|>assistant
    Deal.<|im_end|>
    <BLANKLINE>
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from repo_sdk.rm.tokenize import token_ids
from repo_sdk.types import Sample, Turn

__all__ = ["Encoded", "Renderer", "TaskPlacement", "ToolSupport", "compile_task_template", "default_task_text"]

TaskPlacement = Literal["system", "user-prefix", "none"]
#: how a chat template takes tool turns: as they are, as a role of plain text, or not at all
ToolSupport = Literal["native", "role", "none"]
_NAME, _ARG, _VAL, _OUT = "qzToolName", "qzArgKey", "qzArgValue", "qzToolOutput"

_env = SandboxedEnvironment(undefined=StrictUndefined, keep_trailing_newline=False, autoescape=False)


def compile_task_template(source: str) -> Any:
    """Compile a task template (raises ``jinja2.TemplateSyntaxError`` on bad syntax)."""
    return _env.from_string(source)


def default_task_text(task: dict[str, Any]) -> str:
    """``Task information:`` then one ``- key: value`` line per field ('' for an empty task).

    Example:
        >>> print(default_task_text({"hotel": "Aurora", "rooms": ["twin"]}))
        Task information:
        - hotel: Aurora
        - rooms: ["twin"]
    """
    if not task:
        return ""
    lines = ["Task information:"]
    for key, value in task.items():
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        lines.append(f"- {key}: {text}")
    return "\n".join(lines)


@dataclass
class Encoded:
    """Token ids of one rendered sample and what truncation did to it."""

    ids: list[int]
    full_length: int
    dropped_turns: int = 0
    cut_tokens: int = 0
    error: str | None = None  # the chat template could not render the sample (ids are empty)

    @property
    def truncated(self) -> bool:
        return self.dropped_turns > 0 or self.cut_tokens > 0


class Renderer:
    """Renders and encodes Samples for one RM tokenizer.

    Args:
        tokenizer: the RM's tokenizer (a ``PreTrainedTokenizerBase``).
        task_placement: ``system``, ``user-prefix`` or ``none`` (see the module docs).
        task_template: Jinja source for the task text; ``None`` uses :func:`default_task_text`.
        max_length: longest input in tokens; ``None`` never truncates.
    """

    def __init__(
        self,
        tokenizer: Any,
        *,
        task_placement: TaskPlacement = "system",
        task_template: str | None = None,
        max_length: int | None = None,
    ) -> None:
        self.tokenizer = tokenizer
        self.task_placement = task_placement
        self._template = compile_task_template(task_template) if task_template else None
        self.max_length = max_length
        self.has_chat_template = bool(getattr(tokenizer, "chat_template", None))
        specials = set(getattr(tokenizer, "all_special_ids", []) or [])
        self._specials = specials
        # a plain rendering writes any role as a `role: content` line
        self.tool_support: ToolSupport = self._tool_support() if self.has_chat_template else "role"

    def _tool_support(self) -> ToolSupport:
        """What the chat template does with tool turns, read off two probe renderings."""
        call = {"type": "function", "function": {"name": _NAME, "arguments": {_ARG: _VAL}}}
        native = [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "", "tool_calls": [call]},
            {"role": "tool", "name": _NAME, "content": _OUT},
        ]
        plain = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "ok"}, native[2]]
        probes: list[tuple[ToolSupport, Sequence[object], tuple[str, ...]]] = [
            ("native", native, (_NAME, _ARG, _VAL, _OUT)),
            ("role", plain, (_OUT,)),
        ]
        for kind, probe, marks in probes:
            try:
                text = self.tokenizer.apply_chat_template(probe, tokenize=False)
            except Exception:  # a template refusing the tool role or the call's shape
                continue
            if all(m in text for m in marks):
                return kind
        return "none"

    def task_text(self, task: dict[str, Any]) -> str:
        if self._template is not None:
            return self._template.render(task=task).strip()
        return default_task_text(task)

    def turn_messages(self, history: Sequence[Turn]) -> list[dict[str, Any]]:
        """The history as chat messages the template takes (see the module docs on tool turns)."""
        if self.tool_support == "native":
            return [t.message() for t in history]
        out: list[dict[str, Any]] = []
        for t in history:
            if t.role == "tool":
                if self.tool_support == "role":
                    out.append({"role": "tool", "content": t.content})
                else:
                    out.append({"role": "user", "content": f"[tool output: {t.name or 'tool'}]\n{t.content}"})
            elif t.tool_calls:
                calls = [f"[tool call] {c.name} {_arguments(c.arguments)}" for c in t.tool_calls]
                out.append({"role": t.role, "content": "\n".join([t.content, *calls] if t.content else calls)})
            else:
                out.append({"role": t.role, "content": t.content})
        return out

    def messages(self, task: dict[str, Any], history: Sequence[Turn], response: str) -> list[dict[str, Any]]:
        """The chat messages for a reply: task text placed as configured, history, response."""
        msgs = self.turn_messages(history)
        text = self.task_text(task) if self.task_placement != "none" else ""
        if text and self.task_placement == "system":
            if msgs and msgs[0]["role"] == "system":
                msgs[0] = {"role": "system", "content": f"{text}\n\n{msgs[0]['content']}"}
            else:
                msgs.insert(0, {"role": "system", "content": text})
        elif text:
            first_user = next((i for i, m in enumerate(msgs) if m["role"] == "user"), None)
            if first_user is None:
                msgs.insert(0, {"role": "user", "content": text})
            else:
                msgs[first_user] = {**msgs[first_user], "content": f"{text}\n\n{msgs[first_user]['content']}"}
        msgs.append({"role": "assistant", "content": response})
        return msgs

    def render(self, messages: list[dict[str, Any]]) -> str:
        """Messages to text: the chat template, or ``role: content`` lines without one."""
        if self.has_chat_template:
            return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=False)
        return "\n".join(f"{m['role']}: {m['content']}" for m in messages)

    def text(self, sample: Sample) -> str:
        """The full (untruncated) RM input text of a sample."""
        return self.render(self.messages(sample.task, sample.history, sample.response))

    def _encode_texts(self, texts: list[str]) -> list[list[int]]:
        # Chat templates carry their own special tokens; plain renderings use the tokenizer's.
        return token_ids(self.tokenizer, texts, add_special_tokens=not self.has_chat_template)

    def encode(self, samples: Sequence[Sample]) -> list[Encoded]:
        """Encode samples (fast batched tokenizer calls over several threads), truncating the over-long ones."""
        return self.encode_parts([(s.task, s.history, s.response) for s in samples])

    def encode_parts(self, parts: Sequence[tuple[dict[str, Any], Sequence[Turn], str]]) -> list[Encoded]:
        """Like :meth:`encode` on ``(task, history, response)`` triples (used for preference pairs).

        A part the chat template refuses is encoded as no ids with its ``error``; the others go on.
        """
        texts: list[str | None] = []
        errors: dict[int, str] = {}
        for i, p in enumerate(parts):
            try:
                texts.append(self.render(self.messages(*p)))
            except Exception as exc:  # a strict template refusing this sample's shape
                texts.append(None)
                errors[i] = f"the chat template cannot render it: {type(exc).__name__}: {str(exc)[:200]}"
        good = [t for t in texts if t is not None]
        ids = iter(self._encode_texts(good) if good else [])
        encoded: list[Encoded] = []
        for i, t in enumerate(texts):
            if t is None:
                encoded.append(Encoded([], 0, error=errors[i]))
            else:
                row = next(ids)
                encoded.append(Encoded(row, len(row)))
        if self.max_length is not None:
            for i, enc in enumerate(encoded):
                if enc.error is None and enc.full_length > self.max_length:
                    encoded[i] = self._truncate(*parts[i], enc.ids)
        return encoded

    def _try(self, task: dict[str, Any], history: Sequence[Turn], response: str) -> list[int] | None:
        try:
            return self._encode_texts([self.render(self.messages(task, history, response))])[0]
        except Exception:  # a strict template refusing this shape (e.g. no user turn first)
            return None

    def _truncate(self, task: dict[str, Any], history: Sequence[Turn], response: str, full: list[int]) -> Encoded:
        assert self.max_length is not None
        # Drop the oldest turns first, restarting at a non-assistant turn so strict
        # templates still see user/assistant alternation. Length falls as more is
        # dropped, so a binary search finds the fewest turns to drop.
        # (a tool turn is no start either: its output would lose the call it answers)
        starts = [
            k for k in range(1, len(history) + 1) if k == len(history) or history[k].role not in ("assistant", "tool")
        ]
        best: tuple[int, list[int]] | None = None
        shortest = (0, full)  # the most-dropped rendering that worked, for the token cut
        lo, hi = 0, len(starts) - 1
        if starts:  # a reply longer than max_length alone (a 1 MB one): every rendering is too long
            ids = self._try(task, history[starts[-1] :], response)
            if ids is not None and len(ids) > self.max_length:
                shortest, lo = (starts[-1], ids), hi + 1  # no search: it would end on this rendering
        while lo <= hi:
            mid = (lo + hi) // 2
            ids = self._try(task, history[starts[mid] :], response)
            if ids is not None and len(ids) <= self.max_length:
                best, hi = (starts[mid], ids), mid - 1
                continue
            if ids is not None and starts[mid] > shortest[0]:
                shortest = (starts[mid], ids)
            lo = mid + 1
        if best is not None:
            return Encoded(best[1], len(full), dropped_turns=best[0])
        # Still too long: cut tokens from the left, keeping the leading special
        # tokens (BOS / CLS) and the tail, where the response is.
        dropped, ids = shortest
        head = 0
        while head < len(ids) and ids[head] in self._specials and head < self.max_length // 2:
            head += 1
        keep_tail = self.max_length - head
        return Encoded(
            ids[:head] + ids[-keep_tail:], len(full), dropped_turns=dropped, cut_tokens=len(ids) - head - keep_tail
        )


def _arguments(arguments: dict[str, Any] | str) -> str:
    return arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)
