"""The report's stylesheet, inline in the page (no fonts, no images, no links out).

Phone first where it matters: grids collapse to one column under 900 px, wide tables
scroll inside their box, and long unbroken text (a hostile reply) wraps anywhere.
"""

from __future__ import annotations

__all__ = ["CSS"]

CSS = """
:root{--ink:#0f172a;--muted:#64748b;--line:#e2e8f0;--bg:#f8fafc;--card:#fff;--accent:#4f46e5}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);
 font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
header.top{background:#1e1b4b;color:#fff;padding:22px 32px 14px}
header.top h1{margin:0;font-size:22px;font-weight:650;overflow-wrap:anywhere}
header.top .sub{color:#c7d2fe;font-size:12.5px;margin-top:2px}
nav{margin-top:12px;display:flex;flex-wrap:wrap;gap:6px}
nav a{color:#e0e7ff;text-decoration:none;font-size:12.5px;padding:3px 10px;border-radius:999px;background:#312e81}
main{max-width:1220px;margin:0 auto;padding:18px 32px 40px}
section{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:16px 20px;margin:16px 0;
 box-shadow:0 1px 2px rgba(15,23,42,.04);min-width:0}
h2{font-size:16px;margin:0 0 4px}
h3{font-size:13px;margin:0;display:flex;align-items:center;gap:6px;flex-wrap:wrap}
h4{font-size:13.5px;margin:0 0 4px;overflow-wrap:anywhere}
p.lead{color:var(--muted);margin:0 0 12px;font-size:13px}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:10px;margin:8px 0 14px}
.kpi{border:1px solid var(--line);border-radius:8px;padding:10px 12px;background:#fcfcfd}
.kpi .v{font-size:22px;font-weight:650;font-variant-numeric:tabular-nums}
.kpi .l{font-size:11.5px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:12px}
.chartcard{border:1px solid var(--line);border-radius:8px;padding:10px 12px 6px;min-width:0}
.chartcard .meta{color:var(--muted);font-size:12px;margin:2px 0 4px}
svg.chart{width:100%;height:auto;display:block}
.swatch{width:10px;height:10px;border-radius:3px;display:inline-block}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top;overflow-wrap:break-word}
th{font-size:11.5px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em;font-weight:600;
 background:#f8fafc}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.two,.cols{display:grid;grid-template-columns:minmax(0,2fr) minmax(0,1fr);gap:16px}
.cols{grid-template-columns:minmax(0,1fr) minmax(0,1fr)}.cols>section{margin:0}
.reply{white-space:pre-wrap;overflow-wrap:anywhere;max-height:14em;overflow:auto;background:#f8fafc;
 border:1px solid var(--line);border-radius:6px;padding:6px 8px;font-size:12.5px}
.cut{color:var(--muted);font-style:italic}
mark{background:#fecdd3;color:#881337;border-radius:2px;padding:0 1px}
.pill{display:inline-block;border-radius:999px;padding:1px 8px;font-size:11.5px;margin:1px 2px 1px 0;
 background:#ffe4e6;color:#9f1239;overflow-wrap:anywhere}
.pill.ok{background:#dcfce7;color:#166534}.pill.warn{background:#fef3c7;color:#92400e}
.pill.grey{background:#f1f5f9;color:#475569}
.chips{display:flex;flex-wrap:wrap;gap:4px;margin:4px 0 6px}
.chip{font-size:11.5px;border-radius:6px;padding:1px 7px;background:#f1f5f9;color:#334155;
 font-variant-numeric:tabular-nums;overflow-wrap:anywhere}
.chip.term{background:#eef2ff;color:#3730a3}.chip .k{color:var(--muted)}
.hit{font-size:12px;margin:2px 0;overflow-wrap:anywhere}
.hit .ev{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;
 background:#f1f5f9;padding:0 3px;border-radius:3px;font-size:11.5px}
.reason{font-size:12.5px;color:#334155;margin-top:4px;overflow-wrap:anywhere}
.callout{border-left:4px solid #94a3b8;background:#f8fafc;padding:8px 12px;border-radius:0 6px 6px 0;margin:8px 0 12px;
 font-size:13px;overflow-wrap:anywhere}
.callout.warn{border-color:#d97706;background:#fffbeb}
.warnings{margin:16px 0}.warnings .callout{margin:6px 0;background:#fffbeb}
.note{color:var(--muted);font-size:12.5px}
details{margin-top:8px}summary{cursor:pointer;font-weight:600;font-size:13px;margin-bottom:6px}
.empty{color:var(--muted);font-style:italic;padding:8px 0}
.cards{display:grid;gap:10px}.cards.wide{grid-template-columns:repeat(auto-fill,minmax(340px,1fr))}
.card{border:1px solid var(--line);border-radius:8px;padding:10px 12px;background:#fff;min-width:0}
.card .head{display:flex;justify-content:space-between;gap:8px;flex-wrap:wrap;font-size:12.5px}
.card .head b{font-size:15px}.card .label{font-size:12px;color:#92400e;font-weight:600}
.why{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:11.5px;background:#f8fafc;
 border-radius:4px;padding:3px 6px;margin:6px 0 2px;overflow-wrap:anywhere}
.ctx summary{font-weight:500;color:var(--muted);font-size:12px}
.turn{font-size:12px;padding:4px 8px;border-radius:6px;margin:3px 0;white-space:pre-wrap;overflow-wrap:anywhere}
.turn.them{background:#f1f5f9}.turn.me{background:#eef2ff;margin-left:14px}
.turn .role{display:block;font-size:10.5px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
.task{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:11px;color:#475569;overflow-wrap:anywhere;
 margin:2px 0 6px}
.plot{max-width:760px}
.rule{border:1px solid var(--line);border-radius:8px;padding:10px 12px;margin:12px 0;scroll-margin-top:8px}
.case{border:1px solid var(--line);border-radius:8px;padding:8px 10px;margin:8px 0}
.case .sides{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:10px;margin-top:6px}
.hbars{display:grid;gap:5px}
.hbar{display:grid;grid-template-columns:minmax(0,16em) minmax(0,1fr) 9.5em;gap:10px;align-items:center;
 text-decoration:none;color:inherit;font-size:12.5px}
.hbar .name{overflow-wrap:anywhere;text-align:right}.hbar:hover .name{text-decoration:underline}
.hbar .track{display:block;background:#f1f5f9;border-radius:3px;height:14px}
.hbar .fill{display:block;height:100%;background:#e11d48;border-radius:3px;min-width:2px}
.hbar .val{font-variant-numeric:tabular-nums;color:var(--muted);white-space:nowrap}
h3.sub{margin:14px 0 4px}.up{color:#b91c1c}.down{color:#15803d}
footer{color:var(--muted);font-size:12px;text-align:center;padding:0 0 28px}
@media (max-width:900px){.two,.cols,.case .sides{grid-template-columns:minmax(0,1fr)}
 .hbar{grid-template-columns:minmax(0,1fr) auto;gap:2px 8px}.hbar .name{grid-column:1/-1;text-align:left}
 main{padding:10px 10px 30px}header.top{padding:16px 14px 12px}section{padding:12px 12px}
 .cards.wide{grid-template-columns:minmax(0,1fr)}}
@media print{section{break-inside:avoid}}
"""
