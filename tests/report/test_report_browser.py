"""The report and the eval report in a real browser (headless Chromium), at a phone's and a desktop's width.

Fails on any console error (Chromium logs malformed SVG attributes there too), on any request
the page makes beyond its own file (the report must work offline), on horizontal overflow of
the page, and on a section or chart that is missing or renders empty. Skipped, saying why,
only where Chromium is not installed and cannot be (``make setup`` installs Debian's package
where apt runs as root; in CI it must be there).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from repo_sdk import RewardPipeline
from repo_sdk.evaluation import evaluate
from repo_sdk.near_miss import find_near_misses
from repo_sdk.report import write_report
from repo_sdk.scoring import score_dialogues
from repo_sdk.testing import make_dialogue

_spec = importlib.util.spec_from_file_location("report_browser", Path(__file__).with_name("browser.py"))
assert _spec and _spec.loader
browser_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(browser_mod)

WIDTHS = [(390, True), (1280, False)]
HOSTILE = "</details></article></section><script>console.error('escaped?')</script><img src=//x.invalid/a.png>"
RUN_SECTIONS = ["summary", "agree", "corr", "worst", "best", "dist", "rules", "length", "dialogues"]
EVAL_SECTIONS = [*RUN_SECTIONS, "warnings", "eval", "deltas", "cases"]

CHECK = """(() => {
  const box = e => e.getBoundingClientRect();
  const sections = {};
  for (const id of %s) {
    const e = document.getElementById(id);
    sections[id] = e ? {h: box(e).height, text: e.innerText.trim().length} : null;
  }
  const charts = [...document.querySelectorAll('svg.chart')].map(s => ({
    label: s.getAttribute('aria-label'), w: box(s).width, h: box(s).height,
    marks: s.querySelectorAll('rect, circle, line, text').length, right: box(s).right}));
  const bars = [...document.querySelectorAll('#rule-bars .fill')].map(f => box(f).width);
  return {sections, charts, bars, width: innerWidth, scroll: document.documentElement.scrollWidth,
          scripts: document.querySelectorAll('script').length, images: document.querySelectorAll('img').length,
          cards: document.querySelectorAll('article.card').length};
})()"""


def _chromium() -> str:
    found = browser_mod.find_chromium()
    if found:
        return found
    can_install = shutil.which("apt-get") is not None and os.geteuid() == 0
    if os.environ.get("CI") and can_install:
        pytest.fail("chromium is missing although apt runs as root here: `make setup` should have installed it")
    why = "apt-get as root is not available here" if not can_install else "run `make setup` to install it"
    pytest.skip(f"no chromium binary (Debian package `chromium`): {why}")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    b = browser_mod.Browser(_chromium())
    try:
        yield b
    finally:
        b.close()


def scored_run(tag: str, fixed: bool) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """Rules scored for real; an RM and a judge as numbers beside them (a constant judge when ``fixed``);
    the near-misses of ``max_length`` (its 38-character replies are within 80 % of its 45)."""
    dialogues = [
        make_dialogue(
            [
                ("user", f"Hotel {i}, hello. Our rate is {100 + i} euros."),
                (
                    "assistant",
                    f"Could we meet at {95 + i}?" if fixed or i % 3 else "<think>push</think>Could we do 90?",
                ),
                ("user", HOSTILE if i == 2 else "No, too low."),
                (
                    "assistant",
                    HOSTILE if i == 4 and not fixed else "I understand, thank you for your time." * (1 + i % 2),
                ),
            ],
            id=f"d{i}",
            task={"hotel": f"Hotel {i}", "current_price": 100 + i},
        )
        for i in range(14)
    ]
    spec = {"sources": {"rules": ["cot_leak", {"name": "max_length", "max_chars": 45}]}}
    with RewardPipeline.from_spec(spec) as pipe:
        rows = list(score_dialogues(pipe, dialogues))
        turns = [r for r in rows if r["kind"] == "turn"]
        near = find_near_misses(pipe, dialogues, turns)
    for n, r in enumerate(turns):
        r["sources"]["rm"] = 0.2 + 0.01 * len(r["response"]) + 0.003 * n
        r["sources"]["judge"] = 3.0 if fixed else float(1 + (n * 7) % 5)
        r["reasons"]["judge"] = f"{tag} judge: {HOSTILE}"
        e = max(-100.0, min(100.0, r["sources"]["rules"] + (r["sources"]["judge"] - 3) * 25))
        r["combiner"] = {"E": e, "E_judge": (r["sources"]["judge"] - 3) * 25, "E_rules": r["sources"]["rules"]}
        r["combiner"]["multiplier"] = 1 + e / 100
        r["reward"] = r["sources"]["rm"] * r["combiner"]["multiplier"]
        r["details"] = {"judge": {"telemetry": {"calls": 1, "cache_hit": n % 4 == 0, "latency_s": 0.2}}}
    return turns, [r for r in rows if r["kind"] == "dialogue"], near


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("browser")
    base, base_d, near = scored_run("baseline", fixed=False)
    cand, cand_d, _ = scored_run("candidate", fixed=True)
    rules = ["cot_leak", "max_length", "x"]
    write_report(base, base_d, out / "report.html", title=f"run {HOSTILE}", rules=rules, near_misses=near)
    result = evaluate(cand, base, candidate_dialogues=cand_d, baseline_dialogues=base_d, rating_source="rm")
    write_report(
        cand, cand_d, out / "eval.html", title="eval", eval_result=result, baseline_rows=base, baseline_dialogues=base_d
    )
    return {"report": out / "report.html", "eval": out / "eval.html"}


@pytest.mark.parametrize(("width", "mobile"), WIDTHS, ids=["phone", "desktop"])
@pytest.mark.parametrize("page", ["report", "eval"])
def test_page_renders_whole_in_a_browser(browser: Any, pages: dict[str, Path], page: str, width: int, mobile: bool):
    browser.events.clear()
    browser.open(pages[page], width, mobile=mobile)
    wanted = EVAL_SECTIONS if page == "eval" else RUN_SECTIONS
    got = browser.evaluate(CHECK % wanted)
    assert browser.errors() == []
    assert browser.requests() == [pages[page].resolve().as_uri()]  # nothing fetched: works offline
    assert got["scripts"] == 0 and got["images"] == 0  # hostile text stayed text
    assert got["scroll"] <= got["width"], "the page scrolls sideways"
    for name in wanted:
        assert got["sections"][name] is not None, f"section #{name} is missing"
        assert got["sections"][name]["h"] > 0 and got["sections"][name]["text"] > 0, f"section #{name} is empty"
    assert got["cards"] >= 10
    if page == "report":  # the near-miss cards of max_length, in its section
        assert browser.evaluate("document.getElementById('rules').innerText.includes('came close on')")
    labels = [c["label"] for c in got["charts"]]
    assert got["bars"] and all(w >= 2 for w in got["bars"]), got["bars"]  # the rule fire rates
    expected = ["correlation between sources", "rank correlation", "combined reward vs"]
    assert all(any(label.startswith(e) for label in labels) for e in expected), labels
    assert sum(label.startswith("distribution of") for label in labels) == 4
    assert sum(label.startswith(("judge vs rm", "rules vs rm")) for label in labels) == 2
    for chart in got["charts"]:
        assert chart["w"] > 50 and chart["h"] > 30 and chart["marks"] > 3, chart
        assert chart["right"] <= got["width"] + 1, chart
