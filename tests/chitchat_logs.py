"""A stand-in for real chit-chat logs: what production dialogues look like, not what a demo looks like.

Shaped on logs of 4,018 dialogues / 66,853 assistant turns: about 16 agent turns a dialogue
(2 to 60), replies of 20 to 2,000 characters with a few of several KB, and the oddities real
logs carry: empty and blank turns from either side, two turns in a row from one side,
a system turn, a dialogue that opens with the agent or holds no agent turn at all,
ids as integers, missing or empty tasks, emoji, CJK, Arabic, combining accents,
zero-width and bidi characters, CRLF line ends and a byte-order mark on the first line.

Kept beside the tests that use it (``tests/test_real_logs.py``) and loaded by path.
"""

from __future__ import annotations

import json
import random
from typing import Any

__all__ = ["assistant_turns", "dialogues", "logs_text"]

_SENTENCES = [
    "How was your weekend?",
    "I mostly stayed home and read a book about the history of tea.",
    "That sounds relaxing, what was the best part?",
    "Honestly the chapter on the tea clippers racing from China to London.",
    "Do you have any plans for the holidays?",
    "Not yet, maybe a short trip to the coast if the weather holds.",
    "I can recommend a small place near the harbour, they make great soup.",
    "Sorry, I did not get that, could you say it again?",
    "Sure! I said the soup near the harbour is worth the trip.",
    "Thanks, I will write that down.",
]
_UNICODE = [
    "Great idea 😀👍🏽",
    "你好\uff0c今天天气很好\u3002",
    "مرحبا، كيف حالك؟",
    "Cafe\u0301 au lait, s'il vous plai\u0302t",
    "zero\u200bwidth\u200bspaces",
    "\u202eright-to-left override\u202c then back",
    "Ωμέγα και άλφα",
    "🇵🇹🇯🇵 flags and \u2028 a line separator",
]
_EMPTY = ["", " ", "\n", "\t \n "]


def _reply(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.02:
        return rng.choice(_EMPTY)
    if roll < 0.10:
        return rng.choice(_UNICODE) + " " + rng.choice(_SENTENCES)
    if roll < 0.13:  # a long reply, a few KB
        return " ".join(rng.choice(_SENTENCES) for _ in range(rng.randint(40, 120)))
    return " ".join(rng.choice(_SENTENCES) for _ in range(rng.randint(1, 6)))


def _turns(rng: random.Random) -> list[dict[str, str]]:
    agent_turns = max(2, min(60, round(rng.lognormvariate(2.6, 0.6))))  # mean about 16, as in the real logs
    role = "assistant" if rng.random() < 0.1 else "user"
    turns = [{"role": "system", "content": "You are a friendly assistant."}] if rng.random() < 0.05 else []
    while agent_turns:
        turns.append({"role": role, "content": _reply(rng)})
        agent_turns -= role == "assistant"
        if rng.random() > 0.05:  # now and then one side sends two messages in a row
            role = "assistant" if role == "user" else "user"
    if rng.random() < 0.01:
        turns = [t for t in turns if t["role"] != "assistant"]  # the agent never answered
    return turns


def dialogues(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` logged dialogues (records of the input format) with the shape described above."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        record: dict[str, Any] = {"id": i if i % 3 == 0 else f"chat-{i:05d}", "turns": _turns(rng)}
        roll = rng.random()
        if roll < 0.4:
            record["task"] = {}
        elif roll < 0.7:
            record["task"] = {"topic": rng.choice(["travel", "books", "food"]), "language": "en"}
        if rng.random() < 0.3:
            record["metadata"] = {"channel": rng.choice(["app", "web"]), "rating": rng.choice([None, 1, 5])}
        out.append(record)
    return out


def logs_text(n: int, seed: int = 0) -> str:
    """The JSONL text of :func:`dialogues`: a BOM first, CRLF line ends on every fifth line."""
    records = dialogues(n, seed)
    lines = [json.dumps(d, ensure_ascii=i % 2 == 0) + ("\r\n" if i % 5 == 4 else "\n") for i, d in enumerate(records)]
    return "\ufeff" + "".join(lines)


def assistant_turns(records: list[dict[str, Any]]) -> int:
    return sum(t["role"] == "assistant" for d in records for t in d["turns"])
