"""The page: one self-contained HTML document (inline CSS and SVG; no scripts, fonts or links out).

The template is a string here, so the package needs no data files. Jinja autoescape is
on: every value from the rows is escaped; only chart SVG and highlighted replies,
built escaped in :mod:`repo_sdk.report.sections`, are passed as ``Markup``.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment
from markupsafe import Markup

__all__ = ["render_page"]

_CSS = """
:root{--ink:#0f172a;--muted:#64748b;--line:#e2e8f0;--bg:#f8fafc;--card:#fff;--accent:#4f46e5}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);
 font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
header{background:#1e1b4b;color:#fff;padding:22px 32px 14px}
header h1{margin:0;font-size:22px;font-weight:650}
header .sub{color:#c7d2fe;font-size:12.5px;margin-top:2px}
nav{margin-top:12px;display:flex;flex-wrap:wrap;gap:6px}
nav a{color:#e0e7ff;text-decoration:none;font-size:12.5px;padding:3px 10px;border-radius:999px;background:#312e81}
main{max-width:1220px;margin:0 auto;padding:18px 32px 40px}
section{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:16px 20px;margin:16px 0;
 box-shadow:0 1px 2px rgba(15,23,42,.04)}
h2{font-size:16px;margin:0 0 4px}
h3{font-size:13px;margin:0;display:flex;align-items:center;gap:6px}
p.lead{color:var(--muted);margin:0 0 12px;font-size:13px}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:10px;margin:8px 0 14px}
.kpi{border:1px solid var(--line);border-radius:8px;padding:10px 12px;background:#fcfcfd}
.kpi .v{font-size:22px;font-weight:650;font-variant-numeric:tabular-nums}
.kpi .l{font-size:11.5px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:12px}
.chartcard{border:1px solid var(--line);border-radius:8px;padding:10px 12px 6px}
.chartcard .meta{color:var(--muted);font-size:12px;margin:2px 0 4px}
svg.chart{width:100%;height:auto;display:block}
.swatch{width:10px;height:10px;border-radius:3px;display:inline-block}
table{border-collapse:collapse;width:100%;font-size:13px}
table.worst{table-layout:fixed}table.worst td{overflow-wrap:anywhere}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:11.5px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em;font-weight:600;
 background:#f8fafc}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.two{display:grid;grid-template-columns:minmax(0,2fr) minmax(0,1fr);gap:16px}
.reply{white-space:pre-wrap;word-break:break-word;max-height:11em;overflow:auto;background:#f8fafc;
 border:1px solid var(--line);border-radius:6px;padding:6px 8px;font-size:12.5px}
mark{background:#fecdd3;color:#881337;border-radius:2px;padding:0 1px}
.pill{display:inline-block;border-radius:999px;padding:1px 8px;font-size:11.5px;margin:1px 2px 1px 0;
 background:#ffe4e6;color:#9f1239;white-space:nowrap}
.pill.ok{background:#dcfce7;color:#166534}.pill.warn{background:#fef3c7;color:#92400e}
.pill.grey{background:#f1f5f9;color:#475569}
.hit{font-size:12px;margin:2px 0}.hit .ev{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;
 background:#f1f5f9;padding:0 3px;border-radius:3px;word-break:break-word;font-size:11.5px}
.reason{font-size:12.5px;color:#334155}
td.srcs{white-space:nowrap;font-variant-numeric:tabular-nums}
.callout{border-left:4px solid #94a3b8;background:#f8fafc;padding:8px 12px;border-radius:0 6px 6px 0;margin:8px 0 12px;
 font-size:13px}
.callout.warn{border-color:#d97706;background:#fffbeb}
.note{color:var(--muted);font-size:12.5px}
details{margin-top:14px}summary{cursor:pointer;font-weight:600;font-size:13px;margin-bottom:6px}
.empty{color:var(--muted);font-style:italic;padding:8px 0}
footer{color:var(--muted);font-size:12px;text-align:center;padding:0 0 28px}
@media print{section{break-inside:avoid}}
"""

_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>{{ css }}</style></head>
<body>
<header><h1>{{ title }}</h1>
<div class="sub">repo-sdk reward report · {{ s.turns }} turns · {{ s.dialogues }} dialogues{% if generated %}
 · generated {{ generated }}{% endif %}</div>
<nav><a href="#summary">Summary</a>{% if ev %}<a href="#eval">Evaluation</a>{% endif %}<a href="#dist">Distributions</a>
<a href="#rules">Rule fire rates</a><a href="#corr">Correlation</a><a href="#length">Reward vs length</a>
<a href="#worst">Worst turns</a>{% if dialogues %}<a href="#dialogues">Worst dialogues</a>{% endif %}</nav></header>
<main>
<section id="summary"><h2>Summary</h2>
<div class="kpis">
<div class="kpi"><div class="v">{{ s.turns }}</div><div class="l">turns</div></div>
<div class="kpi"><div class="v">{{ s.dialogues }}</div><div class="l">dialogues</div></div>
<div class="kpi"><div class="v">{{ s.mean }}</div><div class="l">mean reward</div></div>
<div class="kpi"><div class="v">{{ s.min }}</div><div class="l">min reward</div></div>
<div class="kpi"><div class="v">{{ s.hit_share }}</div><div class="l">turns with a rule hit</div></div>
<div class="kpi"><div class="v">{{ s.reward_missing }}</div><div class="l">turns without reward</div></div>
</div>
{% for w in s.degenerate %}<div class="callout warn">warning: {{ w }}: it carries no signal</div>{% endfor %}
<div class="two"><div><table><thead><tr><th>source</th><th class="num">scored</th><th class="num">None</th>
<th class="num">mean</th><th class="num">min</th><th class="num">max</th></tr></thead><tbody>
{% for src in s.sources %}<tr><td><span class="swatch" style="background:{{ src.color }}"></span> {{ src.name }}
{% if src.name == "reward" %}<span class="note">(combined)</span>{% endif %}</td>
<td class="num">{{ src.n }}</td><td class="num">{{ src.missing }}</td><td class="num">{{ src.mean }}</td>
<td class="num">{{ src.min }}</td><td class="num">{{ src.max }}</td></tr>{% endfor %}
</tbody></table>
<p class="note">None: the source did not run (e.g. <code>--only</code>) or could not score the turn; never read
as 0.</p>
</div><div>{% if s.telemetry %}<table><thead><tr><th>telemetry</th><th class="num">value</th></tr></thead><tbody>
{% for k, v in s.telemetry %}<tr><td>{{ k }}</td><td class="num">{{ v }}</td></tr>{% endfor %}</tbody></table>
{% else %}<p class="empty">No telemetry recorded.</p>{% endif %}</div></div></section>
{% if ev %}<section id="eval"><h2>Evaluation</h2>
<p class="lead">The paper's evaluation with the <b>{{ ev.rating_source }}</b> rating standing in for the human experts
and rules for the guardrails. A bad case is a baseline turn with a rule hit or a rating ≤ {{ ev.bad_rating }}.</p>
{% for n in ev.notes %}<div class="callout warn">{{ n }}</div>{% endfor %}
<div class="two"><div><table><thead><tr><th>metric</th>{% for r in ev.runs %}<th class="num">{{ r }}</th>
{% endfor %}</tr></thead><tbody>{% for label, vals in ev.metrics %}<tr><td>{{ label }}</td>
{% for v in vals %}<td class="num">{{ v }}</td>{% endfor %}</tr>{% endfor %}</tbody></table></div>
<div>{% if ev.bad %}<table><thead><tr><th>bad cases</th><th class="num">value</th></tr></thead><tbody>
{% for label, v in ev.bad.rows %}<tr><td>{{ label }}</td><td class="num">{{ v }}</td></tr>{% endfor %}
</tbody></table>{% else %}<p class="empty">No baseline given: fix rates need <code>--baseline</code>.</p>
{% endif %}</div></div>
{% if ev.bad and ev.bad.cases %}<details{% if ev.bad.cases|length <= 30 %} open{% endif %}>
<summary>Bad cases ({{ ev.bad.cases|length }}{% if ev.bad.more %} shown of {{ ev.bad.cases|length + ev.bad.more }}
{% endif %}) <span class="note">· rules: <span class="pill">still fires</span><span class="pill grey">gone</span>
<span class="pill warn">new</span></span></summary>
<table><thead><tr><th>dialogue</th>
<th class="num">turn</th><th>flagged by</th><th>baseline rules</th><th class="num">baseline rating</th>
<th>candidate rules</th><th class="num">candidate rating</th><th>outcome</th></tr></thead><tbody>
{% for c in ev.bad.cases %}<tr><td>{{ c.dialogue_id }}</td><td class="num">{{ c.turn_index }}</td>
<td>{{ c.flagged_by | join(", ") }}</td>
<td>{% for r in c.baseline_rules %}<span class="pill{% if r not in c.remaining_rules %} grey{% endif %}">{{ r }}</span>
{% endfor %}</td><td class="num">{{ fmt(c.baseline_rating) }}</td>
<td>{% if c.candidate_rules is none %}&ndash;{% else %}{% for r in c.candidate_rules %}
<span class="pill{% if r in c.new_rules %} warn{% endif %}">{{ r }}</span>
{% endfor %}{% endif %}</td><td class="num">{{ fmt(c.candidate_rating) }}</td>
<td><span class="pill {{ outcome[c.status][1] }}">{{ outcome[c.status][0] }}</span>
{% if c.note %}<div class="note">{{ c.note }}</div>{% endif %}</td></tr>{% endfor %}</tbody></table>
{% if ev.bad.more %}<p class="note">… and {{ ev.bad.more }} more (all of them are in the JSON output).</p>{% endif %}
</details>{% endif %}</section>{% endif %}
<section id="dist"><h2>Reward distributions</h2>
<p class="lead">Histograms of the combined reward and of each source over all turns (None values left out).</p>
{% if s.turns %}<div class="grid">{% for d in dists %}<div class="chartcard">
<h3><span class="swatch" style="background:{{ d.color }}"></span>{{ d.name }}{% if d.name == "reward" %}
<span class="note">(combined)</span>{% endif %}</h3>
<div class="meta">n = {{ d.n }} · mean {{ d.mean }}{% if d.missing %} · {{ d.missing }} None{% endif %}</div>
{{ d.svg }}</div>{% endfor %}</div>{% else %}<p class="empty">No turns.</p>{% endif %}</section>
<section id="rules"><h2>Rule fire rates</h2>
<p class="lead">Share of turns on which each rule fires (a rule firing twice on one turn counts once; a
dialogue-level hit that names a turn counts for that turn).</p>
{% if rules.count %}{{ rules.svg }}{% else %}<p class="empty">No rule fired on any turn.</p>{% endif %}
{% if s.dialogue_wide_hits %}<p class="note">{{ s.dialogue_wide_hits }} dialogue-level hits name no turn and are not in
these rates; see the worst dialogues.</p>{% endif %}</section>
<section id="corr"><h2>Correlation between sources</h2>
<p class="lead">Pearson r over the turns where both values are present (n). n/a: fewer than two pairs or a constant
series. Sources that should agree but do not are worth a look.</p>
{% if corr.svg %}<div style="max-width:{{ 90 + 78 * corr.names|length }}px">{{ corr.svg }}</div>
{% else %}<p class="empty">Needs at least two series with values.</p>{% endif %}</section>
<section id="length"><h2>Reward against reply length</h2>
<div class="callout{% if length.r_value is not none and length.r_value|abs >= 0.3 %} warn{% endif %}">
<b>Reward-hacking tell.</b> Pearson r(reply length, reward) = <b>{{ length.r }}</b> over {{ length.n }} turns
{%- if length.r_value is none %} (undefined: fewer than two turns, or a constant length or reward){% endif %}.
A strong positive r means longer replies earn more: the policy may learn to pad; a strong negative r,
that length penalties dominate.</div>
{% if length.n %}{{ length.svg }}{% if length.shown < length.n %}<p class="note">{{ length.shown }} of {{ length.n }}
points shown (evenly sampled); r uses all.</p>{% endif %}{% else %}<p class="empty">No turns with a reward.</p>
{% endif %}</section>
<section id="worst"><h2>Worst turns</h2>
<p class="lead">The {% if worst|length > 1 %}{{ worst|length }} {% endif %}lowest-reward
turn{{ "s" if worst|length != 1 }} with the rules that fired (evidence marked in the reply)
and the judge's reason.</p>
{% if worst %}<table class="worst"><colgroup><col style="width:9%"><col style="width:4%"><col style="width:6%">
<col style="width:9%"><col style="width:27%"><col style="width:14%"><col style="width:31%"></colgroup>
<thead><tr><th>dialogue</th><th class="num">turn</th><th class="num">reward</th>
<th>sources</th><th>fired rules · evidence</th><th>judge reason</th><th>reply</th></tr></thead><tbody>
{% for t in worst %}<tr><td>{{ t.dialogue_id }}</td><td class="num">{{ t.turn_index }}</td>
<td class="num"><b>{{ t.reward }}</b></td>
<td class="srcs">{% for n, v in t.sources %}<div><span class="note">{{ n }}</span> <b>{{ v }}</b></div>{% endfor %}
{% for n, v in t.combiner %}<div class="note">{{ n }} {{ v }}</div>{% endfor %}</td>
<td>{% for h in t.hits %}<div class="hit"><span class="pill">{{ h.rule }} {{ h.points }}</span> {{ h.reason }}
{% if h.evidence %}<br><span class="ev">{{ h.evidence|truncate(90, true, "…", 0) }}</span>{% endif %}</div>
{% else %}<span class="note">none</span>{% endfor %}</td>
<td class="reason">{{ t.judge_reason or "\u2013" }}{% for n, v in t.other_reasons %}<div class="note">{{ n }}: {{ v }}
</div>{% endfor %}</td>
<td><div class="reply">{{ t.reply }}</div><div class="note">{{ t.length }} chars</div></td></tr>{% endfor %}
</tbody></table>{% else %}<p class="empty">No turns.</p>{% endif %}</section>
{% if dialogues %}<section id="dialogues"><h2>Worst dialogues</h2>
<p class="lead">Dialogues by mean reward, lowest first, with dialogue-level rule hits.</p>
<table><thead><tr><th>dialogue</th><th class="num">turns</th><th class="num">mean reward</th>
<th class="num">min reward</th><th class="num">rule hits</th><th>worst rule</th><th>dialogue-level rules</th></tr>
</thead><tbody>{% for d in dialogues %}<tr><td>{{ d.dialogue_id }}</td><td class="num">{{ d.turns }}</td>
<td class="num">{{ d.mean }}</td><td class="num">{{ d.min }}</td><td class="num">{{ d.fired }}</td>
<td>{{ d.worst_rule }}</td><td>{% for r in d.dialogue_rules %}<span class="pill">{{ r }}</span>{% endfor %}</td></tr>
{% endfor %}</tbody></table></section>{% endif %}
</main>
<footer>Self-contained report written by repo-sdk: no scripts, no network.</footer>
</body></html>
"""

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
    from repo_sdk.report.stats import fmt

    return _page.render(
        title=title,
        css=Markup(_CSS),
        generated=generated,
        fmt=fmt,
        outcome=_OUTCOME,
        s=sections["summary"],
        ev=sections["eval"],
        dists=sections["distributions"],
        rules=sections["rules"],
        corr=sections["correlation"],
        length=sections["length"],
        worst=sections["worst"],
        dialogues=sections["dialogues"],
    )
