"""Split OpenRLHF's ``query`` (prompt + response, chat template applied) back into turns.

OpenRLHF sends the policy's full text, decoded with special tokens kept. The
splitter learns the template's markers by rendering a probe conversation with the
policy tokenizer's own chat template: the generation prompt (the assistant's
turn prefix), the end-of-turn suffix, and the user and system prefixes. A leading
system turn the template injects by itself (SmolLM2, Qwen) is dropped, so the
history is what the dataset's messages were. After learning, the splitter checks
itself on a probe and refuses templates it cannot invert.

Tool turns: when the template renders a ``tool`` message with markup of its own (ChatML's
``<|im_start|>tool``, Qwen's ``<tool_response>`` block), the splitter learns it too and
reads such a turn back as a ``tool`` turn of the history, never as the hotel's words nor
as part of the reply. An agent's tool calls stay in its turn's text as the template
wrote them. A template that renders tool output as a plain user turn cannot be told
apart; its tool output reads as a user turn.

Example:
    >>> from repo_sdk.rm.tiny import build_tiny_tokenizer
    >>> sp = ChatSplitter(build_tiny_tokenizer())
    >>> prompt = "<|im_start|>user\\nWe offer 95 EUR.<|im_end|>\\n<|im_start|>assistant\\n"
    >>> turns, reply = sp.split(prompt + "Could you do 80?<|im_end|>", prompt)
    >>> [(t.role, t.content) for t in turns], reply
    ([('user', 'We offer 95 EUR.')], 'Could you do 80?')
"""

from __future__ import annotations

from typing import Any

from repo_sdk.errors import ConfigError
from repo_sdk.types import Turn

__all__ = ["ChatSplitter", "PlainSplitter", "Splitter"]

_S, _U1, _A1, _U2, _T1 = "QZsysQZ", "QZusr1QZ", "QZast1QZ", "QZusr2QZ", "QZtool1QZ"


class PlainSplitter:
    """No chat template: the prompt is one user turn and the response is what follows it.

    Example:
        >>> turns, reply = PlainSplitter().split("Q: 95 EUR? A: 80", "Q: 95 EUR? A:")
        >>> turns[0].content, reply
        ('Q: 95 EUR? A:', ' 80')
    """

    eos: tuple[str, ...] = ()

    def __init__(self, eos: tuple[str, ...] = ()) -> None:
        self.eos = tuple(t for t in eos if t)

    def strip_end(self, text: str) -> str:
        changed = True
        while changed:
            changed = False
            for end in self.eos:
                if text.endswith(end):
                    text, changed = text[: -len(end)], True
        return text

    def split(self, query: str, prompt: str | None = None) -> tuple[list[Turn], str]:
        """History turns and the response of one query."""
        prompt = prompt or ""
        reply = query[len(prompt) :] if query.startswith(prompt) else query
        return ([Turn(role="user", content=prompt)] if prompt else []), self.strip_end(reply)


class ChatSplitter(PlainSplitter):
    """Splits chat-templated text into turns with markers learned from the tokenizer.

    Args:
        tokenizer: the policy's tokenizer (anything with ``apply_chat_template``).

    Raises:
        ConfigError: the template has no chat template or cannot be inverted.
    """

    def __init__(self, tokenizer: Any) -> None:
        if not getattr(tokenizer, "chat_template", None):
            raise ConfigError("the policy tokenizer has no chat template; use --tokenizer plain")
        self._tok = tokenizer
        self.gen = self._gen_prompt()
        self.suffix, self.prefix = self._markers()
        specials = (getattr(tokenizer, "eos_token", None), getattr(tokenizer, "pad_token", None))
        super().__init__((self.suffix, self.suffix.rstrip(), *(t for t in specials if isinstance(t, str))))
        self.default_system = self._default_system()
        self._check()
        # a tool turn's own markup: its prefix, and the end it adds before the turn suffix
        self.tool_end = ""
        self._learn_tool_turn()

    def _render(self, msgs: list[dict[str, str]], gen: bool) -> str:
        return self._tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=gen)

    def _gen_prompt(self) -> str:
        msgs = [{"role": "user", "content": _U1}]
        with_gen, without = self._render(msgs, True), self._render(msgs, False)
        if not with_gen.startswith(without) or with_gen == without:
            raise ConfigError("cannot find the chat template's generation prompt; use --tokenizer plain")
        return with_gen[len(without) :]

    def _markers(self) -> tuple[str, dict[str, str]]:
        conv = [
            {"role": "user", "content": _U1},
            {"role": "assistant", "content": _A1},
            {"role": "user", "content": _U2},
        ]
        full = self._render(conv, False)
        u_to_a = full[full.index(_U1) + len(_U1) : full.index(_A1)]
        a_to_u = full[full.index(_A1) + len(_A1) : full.index(_U2)]
        if not u_to_a.endswith(self.gen) or not a_to_u.startswith(u_to_a[: -len(self.gen)]):
            raise ConfigError("the chat template does not mark turns with prefixes; use --tokenizer plain")
        suffix = u_to_a[: -len(self.gen)]
        prefix = {"assistant": self.gen, "user": a_to_u[len(suffix) :]}
        try:
            with_sys = self._render([{"role": "system", "content": _S}, *conv[:1]], False)
        except Exception:
            return suffix, prefix
        head = with_sys[: with_sys.index(_S)]
        bos = getattr(self._tok, "bos_token", None)
        # a document-start BOS precedes the first turn; a BOS that opens every turn (SmolLM2's) is the prefix
        if isinstance(bos, str) and bos and head.startswith(bos) and not prefix["user"].startswith(bos):
            head = head[len(bos) :]
        if head and head not in prefix.values():
            prefix["system"] = head
        return suffix, prefix

    def _learn_tool_turn(self) -> None:
        """Add a ``tool`` prefix when the template marks tool output apart from user turns."""
        call = {"type": "function", "function": {"name": "qztool", "arguments": {}}}
        before = [{"role": "user", "content": _U1}, {"role": "assistant", "content": _A1, "tool_calls": [call]}]
        try:
            head = self._render(before, False)
            full = self._render([*before, {"role": "tool", "name": "qztool", "content": _T1}], False)
        except Exception:  # a template refusing tool messages
            return
        if not full.startswith(head) or _T1 not in full[len(head) :]:
            return
        part = full[len(head) :]
        prefix, end = part[: part.index(_T1)], part[part.index(_T1) + len(_T1) :]
        if not prefix or prefix in self.prefix.values():
            return  # tool output rendered as an ordinary turn: nothing tells it apart
        end = end.removesuffix(self.suffix).removesuffix(self.suffix.rstrip())
        self.prefix["tool"], self.tool_end = prefix, end
        conv = [Turn(role="user", content=_U1), Turn(role="assistant", content=_A1), Turn(role="tool", content=_T1)]
        try:
            text = self._render([t.message() for t in conv], True)
            ok = self.split(text + "reply" + self.suffix, text) == (conv, "reply")
        except Exception:
            ok = False
        if not ok:  # it does not read back: leave tool output as the template's ordinary turns
            del self.prefix["tool"]
            self.tool_end = ""

    def _default_system(self) -> str | None:
        turns = self._parse(self._render([{"role": "user", "content": _U1}], True))
        return turns[0].content if turns and turns[0].role == "system" else None

    def _check(self) -> None:
        conv = [Turn(role="user", content=_U1), Turn(role="assistant", content=_A1), Turn(role="user", content=_U2)]
        if "system" in self.prefix:
            conv.insert(0, Turn(role="system", content=_S))
        text = self._render([t.message() for t in conv], True)
        turns, reply = self.split(text + "reply" + self.suffix, text)
        if turns != conv or reply != "reply":
            raise ConfigError("the chat template does not round-trip through the splitter; use --tokenizer plain")

    def _parse(self, text: str) -> list[Turn]:
        marks: list[tuple[int, int, str]] = []
        for role, pre in self.prefix.items():
            start = text.find(pre)
            while start >= 0:
                marks.append((start, start + len(pre), role))
                start = text.find(pre, start + 1)
        marks.sort(key=lambda m: (m[0], -m[1]))  # at one place the longest prefix wins (tool over user)
        kept: list[tuple[int, int, str]] = []
        for mark in marks:
            if not kept or mark[0] >= kept[-1][1]:
                kept.append(mark)
        turns = []
        for k, (_, end, role) in enumerate(kept):
            stop = kept[k + 1][0] if k + 1 < len(kept) else len(text)
            content = self.strip_end(text[end:stop])
            if role == "tool" and self.tool_end:
                content = content.removesuffix(self.tool_end)
            turns.append(Turn(role=role, content=content))  # type: ignore[arg-type]
        if turns and turns[0].role == "system" and turns[0].content == getattr(self, "default_system", None):
            turns = turns[1:]
        return turns

    def split(self, query: str, prompt: str | None = None) -> tuple[list[Turn], str]:
        """History turns and the response of one query.

        With ``prompt`` a prefix of ``query`` (the usual case), the response is all that
        follows the prompt; otherwise the last assistant turn of the query is the response.
        """
        if prompt and query.startswith(prompt):
            history = self._parse(prompt)
            if history and history[-1].role == "assistant" and not history[-1].content:
                history = history[:-1]  # the generation prompt the reply follows
            return history, self.strip_end(query[len(prompt) :])
        turns = self._parse(query)
        if not turns or turns[-1].role != "assistant":
            raise ValueError("the query does not end with an assistant turn")
        return turns[:-1], turns[-1].content

    def user_turn(self, content: str, *, eos_in_tokens: bool = True) -> str:
        """Text that closes the agent's reply, adds a user turn and opens the next reply.

        A generation that stopped at EOS keeps it in the token ids but not in the
        text; with ``eos_in_tokens`` and an end-of-turn suffix that starts with EOS,
        only the rest of the suffix is added.
        """
        eos = getattr(self._tok, "eos_token", None)
        close = self.suffix
        if eos_in_tokens and isinstance(eos, str) and eos and close.startswith(eos):
            close = close[len(eos) :]
        return close + self.prefix["user"] + content + self.suffix + self.gen


Splitter = PlainSplitter | ChatSplitter
