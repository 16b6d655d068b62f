"""The page: one self-contained HTML document (inline CSS and SVG; no scripts, fonts or links out).

The template is a string here, so the package needs no data files. Jinja autoescape is
on: every value from the rows is escaped; only chart SVG and highlighted replies,
built escaped in :mod:`repo_sdk.report.cards` and :mod:`repo_sdk.report.svg`, are
passed as ``Markup``. Collapsed parts (earlier turns, long lists) are ``<details>``:
they open without a script.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment
from markupsafe import Markup

from repo_sdk.report.stats import fmt
from repo_sdk.report.style import CSS

__all__ = ["render_page"]

_CARD = """{% macro card(t) %}<article class="card">
<div class="head"><span>{{ t.dialogue_id }} · turn {{ t.turn_index }}</span>
<span>reward <b>{{ t.reward }}</b></span></div>
{% if t.label %}<div class="label">{{ t.label }}</div>{% endif %}
<div class="why" title="how the combiner reached this reward">{{ t.why }}</div>
<div class="chips">{% for n, v in t.sources %}<span class="chip"><span class="k">{{ n }}</span> {{ v }}</span>
{% endfor %}
{% for n, v in t.terms %}<span class="chip term">{{ n }} {{ v }}</span>{% endfor %}</div>
{% if t.before or t.task %}<details class="ctx"><summary>{{ t.before|length }} earlier turn
{{- "s" if t.before|length != 1 }}
{%- if t.hidden %} (+{{ t.hidden }} before them){% endif %}{% if t.task %} and the task{% endif %}</summary>
{% if t.task %}<div class="task">task: {{ t.task }}</div>{% endif %}
{% for b in t.before %}<div class="turn {{ 'me' if b.role == 'assistant' else 'them' }}"><span class="role">{{ b.role }}
 · turn {{ b.index }}</span>{{ b.text }}</div>{% endfor %}</details>{% endif %}
<div class="reply">{{ t.reply }}</div><div class="note">{{ t.length }} chars</div>
{% for h in t.hits %}<div class="hit"><span class="pill">{{ h.rule }} {{ h.points }}</span> {{ h.reason }}
{% if h.evidence %}<br><span class="ev">{{ h.evidence }}</span>{% endif %}</div>{% endfor %}
{% if t.judge_reason %}<div class="reason"><b>judge:</b> {{ t.judge_reason }}</div>{% endif %}
{% for n, v in t.other_reasons %}<div class="reason note">{{ n }}: {{ v }}</div>{% endfor %}
</article>{% endmacro %}"""

_TEMPLATE = (
    _CARD
    + """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>{{ css }}</style></head>
<body>
<header class="top"><h1>{{ title }}</h1>
<div class="sub">repo-sdk reward report · {{ s.turns }} turns · {{ s.dialogues }} dialogues{% if generated %}
 · generated {{ generated }}{% endif %}</div>
<nav><a href="#summary">Summary</a>{% if ev %}<a href="#eval">Evaluation</a>{% endif %}
<a href="#agree">Source agreement</a><a href="#worst">Worst turns</a><a href="#best">Best turns</a>
<a href="#dist">Distributions</a><a href="#rules">Rules</a><a href="#length">Reward vs length</a>
{% if dialogues %}<a href="#dialogues">Worst dialogues</a>{% endif %}</nav></header>
<main>
{% if warnings %}<div class="warnings" id="warnings">{% for w in warnings %}<div class="callout warn"><b>warning:</b>
 {{ w }}: it carries no signal</div>{% endfor %}</div>{% endif %}
<section id="summary"><h2>Summary</h2>
<div class="kpis">
<div class="kpi"><div class="v">{{ s.turns }}</div><div class="l">turns</div></div>
<div class="kpi"><div class="v">{{ s.dialogues }}</div><div class="l">dialogues</div></div>
<div class="kpi"><div class="v">{{ s.mean }}</div><div class="l">mean reward</div></div>
<div class="kpi"><div class="v">{{ s.min }}</div><div class="l">min reward</div></div>
<div class="kpi"><div class="v">{{ s.hit_share }}</div><div class="l">turns with a rule hit</div></div>
<div class="kpi"><div class="v">{{ s.reward_missing }}</div><div class="l">turns without reward</div></div>
</div>
<div class="two"><div class="scroll"><table><thead><tr><th>source</th><th class="num">scored</th>
<th class="num">None</th>
<th class="num">mean</th><th class="num">min</th><th class="num">max</th></tr></thead><tbody>
{% for src in s.sources %}<tr><td><span class="swatch" style="background:{{ src.color }}"></span> {{ src.name }}
{% if src.name == "reward" %}<span class="note">(combined)</span>{% endif %}</td>
<td class="num">{{ src.n }}</td><td class="num">{{ src.missing }}</td><td class="num">{{ src.mean }}</td>
<td class="num">{{ src.min }}</td><td class="num">{{ src.max }}</td></tr>{% endfor %}
</tbody></table>
<p class="note">None: the source did not run (e.g. <code>--only</code>) or could not score the turn; never read
as 0.</p>
</div><div class="scroll">{% if s.telemetry %}<table><thead><tr><th>telemetry</th>{% for r in s.telemetry_runs %}
<th class="num">{{ r }}</th>{% endfor %}</tr></thead><tbody>
{% for k, vals in s.telemetry %}<tr><td>{{ k }}</td>{% for v in vals %}<td class="num">{{ v }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table>{% else %}<p class="empty">No telemetry: no source of {{ s.telemetry_runs|join(" or ") }}
kept counters (the judge does; rules and the RM keep none).</p>{% endif %}</div></div></section>
{% if ev %}<section id="eval"><h2>Evaluation</h2>
<p class="lead">The paper's evaluation with the <b>{{ ev.rating_source }}</b> rating standing in for the human experts
and rules for the guardrails. A bad case is a baseline turn with a rule hit or a rating ≤ {{ ev.bad_rating }}.</p>
{% for n in ev.notes %}<div class="callout warn">{{ n }}</div>{% endfor %}
<div class="two"><div class="scroll"><table><thead><tr><th>metric</th>{% for r in ev.runs %}<th class="num">{{ r }}</th>
{% endfor %}</tr></thead><tbody>{% for label, vals in ev.metrics %}<tr><td>{{ label }}</td>
{% for v in vals %}<td class="num">{{ v }}</td>{% endfor %}</tr>{% endfor %}</tbody></table></div>
<div class="scroll">{% if ev.bad %}<table><thead><tr><th>bad cases</th><th class="num">value</th></tr></thead><tbody>
{% for label, v in ev.bad.rows %}<tr><td>{{ label }}</td><td class="num">{{ v }}</td></tr>{% endfor %}
</tbody></table>{% else %}<p class="empty">No fix rates: {% if ev.runs|length > 1 %}refused (see above){% else %}they
need <code>--baseline</code>{% endif %}.</p>{% endif %}</div></div>
{% if ev.deltas %}<h3 class="sub" id="deltas">Rule fire rates, baseline → candidate</h3><div class="scroll"><table>
<thead><tr><th>rule</th><th class="num">baseline</th><th class="num">candidate</th><th class="num">change</th></tr>
</thead>
<tbody>{% for d in ev.deltas %}<tr><td>{{ d.rule }}</td><td class="num">{{ d.baseline }}</td>
<td class="num">{{ d.candidate }}</td><td class="num {{ 'up' if d.delta > 0 else 'down' if d.delta < 0 }}">
{{ d.delta_text }}</td></tr>{% endfor %}</tbody></table></div>{% endif %}
{% if ev.bad and ev.bad.cases %}<details id="cases"{% if ev.bad.cases|length <= 30 %} open{% endif %}>
<summary>Bad cases ({{ ev.bad.cases|length }}{% if ev.bad.more %} shown of {{ ev.bad.cases|length + ev.bad.more }}
{% endif %}) <span class="note">· rules: <span class="pill">still fires</span><span class="pill grey">gone</span>
<span class="pill warn">new</span></span></summary>
{% for row in ev.bad.cases %}{% set c = row.case %}<div class="case">
<div class="head"><b>{{ c.dialogue_id }}</b> · turn {{ c.turn_index }} · flagged by {{ c.flagged_by | join(", ") }}
 <span class="pill {{ outcome[c.status][1] }}">{{ outcome[c.status][0] }}</span>
{% if c.note %}<span class="note">{{ c.note }}</span>{% endif %}</div>
<div class="sides"><div><div class="note">baseline · rating {{ fmt(c.baseline_rating) }} · reward
 {{ row.baseline.reward }}</div>
{% for r in c.baseline_rules %}<span class="pill{% if r not in c.remaining_rules %} grey{% endif %}">{{ r }}</span>
{% endfor %}{% if row.baseline.why %}<div class="why">{{ row.baseline.why }}</div>{% endif %}
{% if row.baseline.reply is not none %}<div class="reply">{{ row.baseline.reply }}</div>
{% elif not ev.replies %}<div class="note">(reply not given to the report)</div>{% endif %}</div>
<div><div class="note">candidate · rating {{ fmt(c.candidate_rating) }} · reward {{ row.candidate.reward }}</div>
{% if c.candidate_rules is none %}<span class="note">no candidate turn</span>{% else %}{% for r in c.candidate_rules %}
<span class="pill{% if r in c.new_rules %} warn{% endif %}">{{ r }}</span>{% endfor %}{% endif %}
{% if row.candidate.why %}<div class="why">{{ row.candidate.why }}</div>{% endif %}
{% if row.candidate.reply is not none %}<div class="reply">{{ row.candidate.reply }}</div>{% endif %}</div></div>
</div>{% endfor %}
{% if ev.bad.more %}<p class="note">… and {{ ev.bad.more }} more (all of them are in the JSON output).</p>{% endif %}
</details>{% endif %}</section>{% endif %}
<section id="agree"><h2>Source agreement</h2>
<p class="lead">Where the sources rank the same turns differently is where REPO gets tuned first. r: Pearson;
&rho;: Spearman's rank correlation (scale-free). The turns listed are the largest rank disagreements.</p>
<div id="corr">{% if corr.pearson %}<div class="grid"><div class="chartcard"><h3>Pearson r</h3>{{ corr.pearson }}</div>
<div class="chartcard"><h3>Spearman &rho;</h3>{{ corr.spearman }}</div></div>
<p class="note">Over the turns where both values are present (n). n/a: fewer than two pairs or a constant series.</p>
{% else %}<p class="empty">Needs at least two series with values.</p>{% endif %}</div>
{% for sc in corr.scatters %}<h3 class="sub">{{ sc.b }} against {{ sc.a }}</h3>
<div class="meta note">n = {{ sc.n }} · r = {{ sc.r }} · &rho; = {{ sc.rho }}{% for c in sc.constant %} · <b>{{ c }} is
 constant</b>: no ranking{% endfor %}</div>
<div class="plot">{{ sc.svg }}</div>{% if sc.cards %}<details class="dis" open><summary>{{ sc.cards|length }} largest
 disagreement{{ "s" if sc.cards|length != 1 }} between {{ sc.a }} and {{ sc.b }}</summary><div class="cards wide">
{% for t in sc.cards %}{{ card(t) }}{% endfor %}</div></details>{% else %}<p class="empty">No turn where {{ sc.a }}
 and {{ sc.b }} disagree by more than a quarter of the ranking.</p>{% endif %}{% endfor %}</section>
<div class="cols"><section id="worst"><h2>Worst turns</h2>
<p class="lead">The lowest-reward turns: why each reward is what it is, the turns before it, the rules that fired
(evidence marked) and the judge's reason.</p>
{% if worst %}<div class="cards">{% for t in worst %}{{ card(t) }}{% endfor %}</div>
{% else %}<p class="empty">No turns.</p>{% endif %}</section>
<section id="best"><h2>Best turns</h2><p class="lead">The highest-reward turns, for contrast: is this what the
reward should pay for?</p>
{% if best %}<div class="cards">{% for t in best %}{{ card(t) }}{% endfor %}</div>
{% else %}<p class="empty">No turns with a reward.</p>{% endif %}</section></div>
<section id="dist"><h2>Reward distributions</h2>
<p class="lead">Histograms of the combined reward and of each source over all turns (None values left out)
{%- if ev and ev.runs|length > 1 %}: candidate as bars, baseline as dashed outlines{% endif %}.</p>
{% if s.turns %}<div class="grid">{% for d in dists %}<div class="chartcard">
<h3><span class="swatch" style="background:{{ d.color }}"></span>{{ d.name }}{% if d.name == "reward" %}
<span class="note">(combined)</span>{% endif %}</h3>
<div class="meta">n = {{ d.n }} · mean {{ d.mean }}{% if d.missing %} · {{ d.missing }} None{% endif %}
{% if d.base_n is not none %}<br>baseline (dashed): n = {{ d.base_n }} · mean {{ d.base_mean }}{% endif %}</div>
{{ d.svg }}</div>{% endfor %}</div>{% else %}<p class="empty">No turns.</p>{% endif %}</section>
<section id="rules"><h2>Rule fire rates and examples</h2>
<p class="lead">Share of turns on which each rule fires (a rule firing twice on one turn counts once; a
dialogue-level hit that names a turn counts for that turn). Each bar links to the rule's section below.</p>
{% if rules.count %}<div class="hbars" id="rule-bars">{% for b in rules.bars %}<a class="hbar" href="{{ b.href }}">
<span class="name">{{ b.rule }}</span><span class="track"><span class="fill" style="width:{{ b.pct }}%"></span></span>
<span class="val">{{ b.text }}</span></a>{% endfor %}</div>
{% else %}<p class="empty">No rule fired on any turn.</p>{% endif %}
{% if s.dialogue_wide_hits %}<p class="note">{{ s.dialogue_wide_hits }} dialogue-level hits name no turn and are not in
these rates; each rule's section lists their dialogues.</p>{% endif %}
<p class="note">Near-misses: {{ rules.near_miss }}.</p>
{% for r in rules.sections %}<div class="rule" id="{{ r.anchor }}"><h4>{{ r.rule }}</h4>
<div class="chips"><span class="chip">fires on <b>{{ r.turns }}</b> turns ({{ r.share }})</span>
<span class="chip">points per hit {{ r.points }}</span>
<span class="chip term">reward when it fires {{ r.hit_mean }} (n={{ r.hit_n }})</span>
<span class="chip term">clean turns {{ r.clean_mean }} (n={{ r.clean_n }})</span>
<span class="chip term">difference {{ r.delta }}</span>
{% if r.near %}<span class="chip">came close on <b>{{ r.near.turns }}</b> more turns ({{ r.near.share }})</span>
{% endif %}</div>
{% if r.wide %}<p class="note">dialogue-level hits naming no turn, in {{ r.wide|length }} dialogue{{ "s" if
 r.wide|length != 1 }}: {{ r.wide[:5]|join(", ") }}{% if r.wide|length > 5 %} …{% endif %}</p>{% endif %}
{% if r.examples %}<details{% if loop.index <= 3 %} open{% endif %}><summary>{{ r.examples|length }} example
{{- "s" if r.examples|length != 1 }} of its hits</summary><div class="cards wide">{% for t in r.examples %}{{ card(t) }}
{% endfor %}</div></details>{% elif not r.wide %}<p class="empty">Never fired on these turns.</p>{% endif %}
{% if r.near and r.near.examples %}<details><summary>{{ r.near.examples|length }} near-miss
{{- "es" if r.near.examples|length != 1 }}: replies that came close to firing it</summary><div class="cards wide">
{% for t in r.near.examples %}{{ card(t) }}{% endfor %}</div></details>{% endif %}
</div>{% endfor %}</section>
<section id="length"><h2>Reward against reply length</h2>
<div class="callout{% if length.r_value is not none and length.r_value|abs >= 0.3 %} warn{% endif %}">
<b>Reward-hacking tell.</b> Pearson r(reply length, reward) = <b>{{ length.r }}</b> over {{ length.n }} turns
{%- if length.r_value is none %} (undefined: fewer than two turns, or a constant length or reward){% endif %}.
A strong positive r means longer replies earn more: the policy may learn to pad; a strong negative r,
that length penalties dominate.</div>
{% if length.n %}{{ length.svg }}{% if length.shown < length.n %}<p class="note">{{ length.shown }} of {{ length.n }}
points shown (evenly sampled); r uses all.</p>{% endif %}{% else %}<p class="empty">No turns with a reward.</p>
{% endif %}</section>
{% if dialogues %}<section id="dialogues"><h2>Worst dialogues</h2>
<p class="lead">Dialogues by mean reward, lowest first, with dialogue-level rule hits.</p>
<div class="scroll"><table><thead><tr><th>dialogue</th><th class="num">turns</th><th class="num">mean reward</th>
<th class="num">min reward</th><th class="num">rule hits</th><th>worst rule</th><th>dialogue-level rules</th></tr>
</thead><tbody>{% for d in dialogues %}<tr><td>{{ d.dialogue_id }}</td><td class="num">{{ d.turns }}</td>
<td class="num">{{ d.mean }}</td><td class="num">{{ d.min }}</td><td class="num">{{ d.fired }}</td>
<td>{{ d.worst_rule }}</td><td>{% for r in d.dialogue_rules %}<span class="pill">{{ r }}</span>{% endfor %}</td></tr>
{% endfor %}</tbody></table></div></section>{% endif %}
</main>
<footer>Self-contained report written by repo-sdk: no scripts, no network.</footer>
</body></html>
"""
)

_OUTCOME = {
    "clean_fix": ("clean fix", "ok"),
    "fixed_new_problem": ("fixed, new problem", "warn"),
    "not_fixed": ("not fixed", ""),
    "missing": ("missing pair", "grey"),
}

_env = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
_page = _env.from_string(_TEMPLATE)


def render_page(title: str, sections: dict[str, Any], *, generated: str | None = None) -> str:
    """Render the HTML document from :func:`repo_sdk.report.sections.build_sections` output."""
    return _page.render(
        title=title,
        css=Markup(CSS),
        generated=generated,
        fmt=fmt,
        outcome=_OUTCOME,
        warnings=sections["warnings"],
        s=sections["summary"],
        ev=sections["eval"],
        dists=sections["distributions"],
        rules=sections["rules"],
        corr=sections["agreement"],
        length=sections["length"],
        worst=sections["worst"],
        best=sections["best"],
        dialogues=sections["dialogues"],
    )
