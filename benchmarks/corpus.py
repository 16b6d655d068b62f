"""Generated logs shaped like real ones: long dialogues, long replies, a few huge ones.

Shape: each dialogue has 4-60 assistant turns (mean about 16), each after a user
turn; replies are 20-2,000 characters (log-normal, median about 300), and about one
reply in 5,000 is 64 KB - 1 MB (a model that did not stop). Two kinds of dialogue:
chit-chat (no task; small talk, advice, lists, code, emoji, CJK, accents) and hotel
price negotiation (a task with one or two tickets; quotes, proposals, prices in
digits and words). Some user turns are whitespace-only (as logs hold them: the
reader rejects those records, so run with ``--on-error skip``), and some replies carry leaked
reasoning, markdown, mixed scripts, internal terms or repeated pitches, so every rule has work.

    python -m benchmarks.corpus OUT.jsonl [--dialogues 1000] [--seed 0] [--max-huge 1048576]
"""

# ruff: noqa: RUF001 - the generated replies hold CJK punctuation on purpose

from __future__ import annotations

import argparse
import json
import math
import random
from pathlib import Path

WORDS = (
    "the a to of and in that it is for you on with as we be this have not are your can will at "
    "about from they more if so what time some would there like just people when make really think good "
    "know because could also well way even new want day most us after work first year thing over still "
    "see then life only around something both never place next while few great music trip weekend coffee "
    "book movie garden weather city friends recipe dinner morning idea question story walk travel"
).split()
OPENERS = [
    "Sure!",
    "Great question.",
    "Haha, I know what you mean.",
    "That sounds lovely!",
    "Hmm, let me think.",
    "Oh nice 😊",
    "Honestly,",
    "Good morning!",
    "Thanks for asking.",
    "I see.",
    "Ça va bien, merci !",
    "您好！",
    "Привет!",
]
TOPICS = [
    "I usually take a long walk on Sunday mornings, it clears my head before the week starts.",
    "Have you tried the new café near the station? Their flat white costs about 4.50 EUR and it's worth it.",
    "My favourite movie this year was a quiet drama about two sisters running a bakery in Lyon.",
    "If you want to learn the guitar, start with three chords: G, C and D. Practise 15 minutes a day.",
    "Rain again today 🌧️ but the garden needs it, so I'm not complaining.",
    "We went hiking near Zermatt last summer; the trail was 12 km with about 800 m of climbing.",
    "I'd recommend reading it slowly, one chapter a night, so the story has time to settle.",
    "The recipe needs 200 g of flour, 2 eggs and a pinch of salt; bake it for 25 minutes at 180°C.",
    "Tokyo in spring is beautiful — 桜 everywhere, though the crowds around Ueno can be intense.",
    "I think the best way to meet people in a new city is to join a club: running, chess, anything.",
    "My grandmother always said «le temps, c'est de l'argent», and she was right about most things.",
    "On 2024-05-01 at 14:00 the museum is free, so expect a queue of at least 30 minutes.",
    "A good night's sleep matters more than any supplement; try to keep the same bedtime every day.",
    "That game was wild, 3-2 in the last minute! I still can't believe the keeper saved that penalty.",
]
LISTS = [
    "Here are a few ideas:\n- visit the old town\n- try the street food market\n- take the river cruise at sunset",
    "## Packing list\n1. passport\n2. charger\n3. **comfortable shoes**",
    'Here is the plan as JSON: {"day": 1, "city": "Porto", "budget": 120}',
    "You can run it with `python main.py --fast` and it should finish in 2 seconds.",
    "```python\nfor i in range(3):\n    print(i)\n```",
]
LEAKS = [
    "<think>The user wants a short answer, keep it casual.</think>",
    "Okay, so the user is asking about weekend plans.",
    "Let me think step by step about this.",
    "My reply should be friendly and short.",
]
CLOSERS = ["Have a great day!", "Let me know how it goes :)", "Talk soon!", "谢谢！", "What do you think?", ""]

ROOMS = ["Deluxe Double Room", "Twin Room", "Junior Suite", "Superior King Room", "Standard Single Room"]
HOTELS = ["Hotel Aurora", "Casa del Sol", "Seaside Inn", "Hotel Kyoto 京都", "Grand Palace"]
NEG_AGENT = [
    "Good morning! This is Lena from Wayfarer Trips. I'm reaching out about your {room}, currently €{cur} "
    "per night. Is that still correct?",
    "Thank you! Travellers compare hotels side by side, and your {room} sits above its neighbours. Would you "
    "consider lowering it to €{tgt} per night?",
    "I completely understand, costs have gone up everywhere. Could we meet at €{mid} per night?",
    "Wonderful, thank you! So the {room} will be €{mid} per night from now on. Have a great day!",
    "Could you do {words} euros for the {room}?",
    "Our target price in the work order is {tgt}, so please confirm.",
    "We guarantee you more bookings if you go to €{tgt}.",
    "Thank you for agreeing to €{tgt}! I'll update the rate in our system.",
    "We had 450 searches for your hotel last month, and a 35% cut is all we ask.",
    "I understand if it's not possible; we can keep the current rate and revisit next season.",
]
NEG_HOTEL = [
    "Good morning, {hotel} reservations, how can I help?",
    "Yes, that's right, {cur} euros for the {room}.",
    "Hmm, {tgt} is too low for us, our costs went up this year. The best we can do is {hi}.",
    "OK, {mid} works for us.",
    "Let me check with my manager and get back to you.",
    "Who is this, sorry?",
    "No, we cannot go lower than {cur}.",
    "...",
]
NUMBER_WORDS = ["eighty", "ninety-five", "one hundred", "a hundred and ten", "seventy-five"]
_SYLLABLES = "ka lo mi ten ver sa ri ne to por la den mon cha bel tri us ar en ol".split()


def vocabulary(rng: random.Random, size: int = 4000) -> list[str]:
    """Words ranked by frequency: the common words first, then made-up ones (real text has thousands)."""
    words = list(dict.fromkeys(WORDS))
    while len(words) < size:
        w = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))
        if w not in words:
            words.append(w)
    return words


def zipf_words(rng: random.Random, vocab: list[str], n: int) -> list[str]:
    """``n`` words drawn with Zipf's law (the word of rank r about 1/r as often as the first)."""
    weights = _ZIPF.setdefault(len(vocab), [1 / (r + 1) for r in range(len(vocab))])
    return rng.choices(vocab, cum_weights=_CUM.setdefault(len(vocab), _cumulate(weights)), k=n)


_ZIPF: dict[int, list[float]] = {}
_CUM: dict[int, list[float]] = {}


def _cumulate(weights: list[float]) -> list[float]:
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return out


def reply_length(rng: random.Random) -> int:
    """Characters of one ordinary reply: log-normal, median about 300, within 20-2,000."""
    return int(min(2000, max(20, rng.lognormvariate(math.log(300), 0.8))))


def chit_chat(rng: random.Random, length: int, earlier: list[str], vocab: list[str]) -> str:
    if earlier and rng.random() < 0.04:
        return rng.choice(earlier)  # a model repeating itself
    parts = [rng.choice(OPENERS)]
    if rng.random() < 0.03:
        parts.insert(0, rng.choice(LEAKS))
    while sum(len(p) + 1 for p in parts) < length:
        r = rng.random()
        if r < 0.15:
            parts.append(rng.choice(TOPICS))
        elif r < 0.2:
            parts.append(rng.choice(LISTS))
        else:
            words = " ".join(zipf_words(rng, vocab, rng.randint(6, 24)))
            parts.append(words[0].upper() + words[1:] + rng.choice([".", "!", "?", "..."]))
    parts.append(rng.choice(CLOSERS))
    return " ".join(p for p in parts if p)[: max(length, 20)]


def user_turn(rng: random.Random, vocab: list[str]) -> str:
    if rng.random() < 0.001:
        return " "  # an empty turn, as logs hold them
    text = " ".join(zipf_words(rng, vocab, rng.randint(3, 30)))
    return text[0].upper() + text[1:] + rng.choice(["?", ".", "!", " 😂", "？"])


def huge_reply(rng: random.Random, max_chars: int, vocab: list[str]) -> str:
    """A reply of 64 KB - ``max_chars``: half the time a model stuck in a loop, else long varied text."""
    size = rng.randint(64 * 1024, max(64 * 1024, max_chars))
    if rng.random() < 0.5:
        unit = rng.choice(TOPICS + LISTS) + " "
        return (unit * (size // len(unit) + 1))[:size]
    return chit_chat(rng, size, [], vocab)


def dialogue(i: int, rng: random.Random, vocab: list[str], *, huge_rate: float, max_huge: int) -> dict:
    agent_turns = min(60, max(4, int(rng.expovariate(1 / 12)) + 4))
    negotiation = rng.random() < 0.3
    task: dict = {}
    vals: dict = {}
    if negotiation:
        cur = rng.randrange(90, 300)
        tgt = cur - rng.randrange(10, 40)
        room, hotel = rng.choice(ROOMS), rng.choice(HOTELS)
        tickets = [{"id": f"T-{1000 + i}", "room_type": room, "current_price": cur, "target_price": tgt}]
        if rng.random() < 0.3:
            room2 = rng.choice([r for r in ROOMS if r != room])
            tickets.append(
                {"id": f"T-{5000 + i}", "room_type": room2, "current_price": cur + 40, "target_price": tgt + 30}
            )
        task = {"hotel": hotel, "city": "Lisbon", "currency": "EUR", "tickets": tickets}
        vals = {"room": room, "hotel": hotel, "cur": cur, "tgt": tgt, "hi": cur - 5, "mid": (cur + tgt) // 2}
    turns = []
    earlier: list[str] = []
    for k in range(agent_turns):
        if negotiation:
            user = NEG_HOTEL[k % len(NEG_HOTEL)] if k < 4 else rng.choice(NEG_HOTEL)
            turns.append({"role": "user", "content": user.format(**vals)})
        else:
            turns.append({"role": "user", "content": user_turn(rng, vocab)})
        if rng.random() < huge_rate:
            reply = huge_reply(rng, max_huge, vocab)
        elif negotiation:
            reply = (NEG_AGENT[k] if k < 4 else rng.choice(NEG_AGENT)).format(words=rng.choice(NUMBER_WORDS), **vals)
            if rng.random() < 0.3:
                reply += " " + chit_chat(rng, reply_length(rng) // 2, earlier, vocab)
        else:
            reply = chit_chat(rng, reply_length(rng), earlier, vocab)
        earlier.append(reply)
        turns.append({"role": "assistant", "content": reply})
    return {"id": f"d{i}", "task": task, "turns": turns, "metadata": {"kind": "negotiation" if task else "chat"}}


def write_corpus(
    path: Path, dialogues: int, *, seed: int = 0, huge_rate: float = 1 / 5000, max_huge: int = 1024 * 1024
) -> dict[str, int]:
    """Write ``dialogues`` generated dialogues as JSONL; returns counts (dialogues, agent turns, bytes)."""
    rng = random.Random(seed)
    vocab = vocabulary(rng)
    turns = 0
    with path.open("w", encoding="utf-8") as fh:
        for i in range(dialogues):
            d = dialogue(i, rng, vocab, huge_rate=huge_rate, max_huge=max_huge)
            turns += sum(t["role"] == "assistant" for t in d["turns"])
            fh.write(json.dumps(d, ensure_ascii=False) + "\n")
    return {"dialogues": dialogues, "agent_turns": turns, "bytes": path.stat().st_size}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("output", type=Path)
    ap.add_argument("--dialogues", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--huge-rate", type=float, default=1 / 5000, help="share of replies of 64 KB - --max-huge")
    ap.add_argument("--max-huge", type=int, default=1024 * 1024, help="largest huge reply, in characters")
    args = ap.parse_args(argv)
    counts = write_corpus(args.output, args.dialogues, seed=args.seed, huge_rate=args.huge_rate, max_huge=args.max_huge)
    print(json.dumps(counts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
