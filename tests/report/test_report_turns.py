"""Turn cards, per-rule sections, source agreement and the eval comparison, in the rendered page."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from repo_sdk import RewardPipeline
from repo_sdk.evaluation import evaluate
from repo_sdk.report import render_report
from repo_sdk.scoring import score_dialogues
from repo_sdk.testing import make_dialogue

HOSTILE = "</details></div></article></section><script>alert(1)</script><!-- <details open>"


class Tags(HTMLParser):
    """Counts of start and end tags, and the text of every <script> (there must be none)."""

    def __init__(self) -> None:
        super().__init__()
        self.starts: dict[str, int] = {}
        self.ends: dict[str, int] = {}

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.starts[tag] = self.starts.get(tag, 0) + 1

    def handle_endtag(self, tag: str) -> None:
        self.ends[tag] = self.ends.get(tag, 0) + 1


def tags(html: str) -> Tags:
    parser = Tags()
    parser.feed(html)
    return parser


def section(html: str, anchor: str) -> str:
    start = html.index(f'id="{anchor}"')
    end = html.find("<section", start)
    return html[start : end if end > 0 else len(html)]


def turn(d: str, t: int, reward: float | None, **sources: Any) -> dict[str, Any]:
    fired = sources.pop("fired", [])
    return {
        "kind": "turn",
        "dialogue_id": d,
        "turn_index": t,
        "response": sources.pop("response", f"reply {d}#{t}"),
        "reward": reward,
        "sources": sources,
        "fired": [
            {"rule": r, "points": -10.0, "reason": f"{r} fired", "span": [0, 3], "evidence": "rep"} for r in fired
        ],
        "reasons": {"judge": f"judge on {d}#{t}"},
        "combiner": {},
    }


def negotiation_rows() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Real rows: rules scored by the pipeline, an RM and a judge as plain numbers beside them."""
    dialogues = [
        make_dialogue(
            [
                ("user", f"Hotel {i}, hello. Our rate is {100 + i} euros."),
                ("assistant", "<think>push</think>Could we do 90?" if i % 3 == 0 else f"Could we meet at {95 + i}?"),
                ("user", "No, too low." if i != 4 else HOSTILE),
                ("assistant", HOSTILE if i == 4 else "I understand, thank you for your time."),
            ],
            id=f"d{i}",
            task={"hotel": f"Hotel {i}", "current_price": 100 + i},
        )
        for i in range(12)
    ]
    spec = {"sources": {"rules": ["cot_leak", {"name": "max_length", "max_chars": 60}]}}
    with RewardPipeline.from_spec(spec) as pipe:
        rows = list(score_dialogues(pipe, dialogues))
    turns = [r for r in rows if r["kind"] == "turn"]
    for n, r in enumerate(turns):  # an RM that likes long replies, a judge that does not
        r["sources"]["rm"] = 0.01 * len(r["response"]) + 0.001 * n
        r["sources"]["judge"] = float(1 + (n * 7) % 5)
        r["reasons"]["judge"] = f"judge on {r['dialogue_id']}"
        r["reward"] = r["sources"]["rm"] * (1 + r["sources"]["rules"] / 100)
        r["combiner"] = {"E": r["sources"]["rules"], "E_judge": 0.0, "E_rules": r["sources"]["rules"]}
        r["combiner"]["multiplier"] = 1 + r["sources"]["rules"] / 100
    return turns, [r for r in rows if r["kind"] == "dialogue"]


def test_hostile_reply_cannot_break_the_page() -> None:
    turns, dialogues = negotiation_rows()
    html = render_report(turns, dialogues, title=HOSTILE, rules=["cot_leak", "max_length", "never_fires"])
    t = tags(html)
    assert "script" not in t.starts
    assert t.starts.get("details") == t.ends.get("details")  # the reply's </details> is text, not a tag
    assert t.starts.get("section") == t.ends.get("section") and t.starts.get("article") == t.ends.get("article")
    assert "&lt;/details&gt;&lt;/div&gt;" in html and "&lt;!-- &lt;details open&gt;" in html


def test_every_turn_card_explains_its_reward_with_context() -> None:
    turns, dialogues = negotiation_rows()
    html = render_report(turns, dialogues, title="t", worst=5)
    worst = section(html, "worst")
    assert worst.count('<article class="card">') == 5
    assert worst.count('class="why"') == 5 and "RM +" in worst and "multiplier" in worst
    # the turns before the reply, collapsed, with the task
    assert worst.count('<details class="ctx">') == 5
    assert "Hotel 0, hello. Our rate is 100 euros." in html and "task: {&#34;hotel&#34;" in html
    assert '<span class="k">judge</span>' in worst and "judge on d" in worst
    best = section(html, "best")
    assert best.count('<article class="card">') == 5
    top = max(turns, key=lambda r: r["reward"])
    assert f"{top['dialogue_id']} · turn {top['turn_index']}" in best


def test_each_rule_has_a_section_with_examples_and_the_bars_link_there() -> None:
    turns, dialogues = negotiation_rows()
    html = render_report(turns, dialogues, title="t", rules=["cot_leak", "max_length", "never_fires"])
    rules = section(html, "rules")
    links = re.findall(r'<a class="hbar" href="#(rule-\d+)">', rules)
    assert len(links) == 2 and all(f'id="{a}"' in rules for a in links)
    for name in ("cot_leak", "max_length"):
        block = rules[rules.index(f"<h4>{name}</h4>") :]
        block = block[: block.find('<div class="rule"', 10) if '<div class="rule"' in block[10:] else len(block)]
        assert 1 <= block.count('<article class="card">') <= 3
        assert "reward when it fires" in block and "clean turns" in block
        assert f'<mark title="{name}' in block or name == "max_length"
    never = rules[rules.index("<h4>never_fires</h4>") :]
    assert "Never fired on these turns." in never and "fires on <b>0</b> turns" in never
    assert "Near-misses: not looked for in this report" in rules


def test_source_agreement_lists_the_largest_disagreements() -> None:
    turns, dialogues = negotiation_rows()
    html = render_report(turns, dialogues, title="t")
    agree = section(html, "agree")
    assert "judge against rm" in agree and "rules against rm" in agree
    assert agree.count("&rho; = ") == 2 and "Spearman &rho;" in agree
    assert re.search(r"rm (high|low) \(\d+% rank\), judge (low|high) \(\d+% rank\)", agree)
    assert agree.count('class="chart"') == 4  # two heatmaps, two scatters


def test_degenerate_sources_are_warned_first() -> None:
    turns = [turn(f"d{i}", 1, 0.1 * i, rm=0.1 * i, judge=1.0, rules=0.0) for i in range(10)]
    html = render_report(turns, [], title="t")
    warnings = html.index('id="warnings"')
    assert warnings < html.index('id="summary"')
    assert "source &#39;judge&#39; is constant: 1 on 10 of 10 scored turns (100%)" in html[warnings:]
    assert "judge is\n constant</b>: no ranking" in section(html, "agree")


def test_eval_shows_both_replies_the_baseline_overlay_rule_deltas_and_both_telemetries() -> None:
    cand = [turn(f"d{i}", 1, 0.5, judge=4.0, rules=0.0, response=f"fixed reply {i}") for i in range(6)]
    base = [
        turn(f"d{i}", 1, -0.5, judge=2.0, rules=-10.0, fired=["cot_leak"], response=f"<think>bad {i}</think>")
        for i in range(6)
    ]
    for r in base:
        r["details"] = {"judge": {"telemetry": {"calls": 1, "cache_hit": False, "latency_s": 0.25}}}
    result = evaluate(cand, base, allow_degenerate=True)
    html = render_report(cand, [], title="t", eval_result=result, baseline_rows=base)
    ev = section(html, "eval")
    assert ev.count('<div class="case">') == 6 and ev.count('class="why"') == 12  # each side explained
    assert '<mark title="cot_leak">&lt;th</mark>ink&gt;bad 0&lt;/think&gt;' in ev and "fixed reply 0" in ev
    assert 'cot_leak</td><td class="num">100.0%</td>' in ev.replace("\n", "") and "-100.0 pp" in ev
    dist = section(html, "dist")
    assert "baseline (dashed): n = 6" in dist and 'stroke-dasharray="3 2"' in dist
    summary = section(html, "summary")
    assert '<th class="num">baseline</th>' in summary and "judge · calls" in summary
    assert "No telemetry" not in summary
