"""The report as one self-contained HTML page: inline CSS, inline SVG plots,
no external resource of any kind (it opens with no network).

A tiny inline script records any script error or `console.error` in the
page's `data-errors` attribute, so a headless browser test can read it back
from the DOM; it also counts the plots in `data-plots`.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from .model import Report, Run
from .plots import baseline_plot, run_plot, timeline_plot
from .scorecard import RunScore, Scorecard, score

__all__ = ["render"]

CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:1em 2em;color:#222}
h1{margin-bottom:.2em} h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0} td,th{border:1px solid #ddd;padding:3px 8px;
text-align:left;vertical-align:top} th{background:#f4f4f4}
.held{color:#1a7f37;font-weight:600} .deviated,.aborted,.failed,.not_steady{color:#c62828;
font-weight:600} .muted{color:#666} figure{margin:.5em 0} figure svg{max-width:100%;height:auto}
.notes{background:#f7f7fb;border-left:4px solid #8888cc;padding:.4em .8em} dt{font-weight:600}
details{margin:.5em 0}
"""

GUARD = """
(function(){var root=document.documentElement,errors=[];
function note(m){errors.push(String(m));root.setAttribute('data-errors',errors.join(' | '));}
root.setAttribute('data-errors','');
window.addEventListener('error',function(e){note(e.message||'error');});
window.addEventListener('unhandledrejection',function(e){note(e.reason);});
var original=console.error;console.error=function(){note(Array.prototype.join.call(arguments,' '));
return original.apply(console,arguments);};})();
"""

COUNT = """
(function(){var root=document.documentElement,q=function(s){return document.querySelectorAll(s);};
root.setAttribute('data-plots',String(q('figure svg').length));
root.setAttribute('data-timeline-rows',String(q('table.timeline tbody tr').length));})();
"""

DEFINITIONS = (
    (
        "Held",
        "the verdict is <em>held</em>: every SLO held during the method, the stack "
        "recovered and every expectation was met. <em>As predicted</em> compares the verdict "
        "with the experiment's <code>predicts</code>.",
    ),
    (
        "Error budget spent",
        "for each availability SLO with objective O&nbsp;%, the budget "
        "is the (100&nbsp;&minus;&nbsp;O)&nbsp;% of requests allowed to fail. Spent is the mean, "
        "over the SLI samples from the first injection to the end of the run, of "
        "(100&nbsp;&minus;&nbsp;value)&nbsp;/&nbsp;(100&nbsp;&minus;&nbsp;O), as a percent; "
        "a run's figure is its highest SLO's. Over 100&nbsp;% the SLO was breached on average.",
    ),
    (
        "Time to detect",
        "seconds from the first injection to the first sample after it that "
        "shows the fault: an SLO sample breaching its objective, or a circuit breaker leaving "
        "<em>closed</em>. &ldquo;&ndash;&rdquo; when nothing showed it.",
    ),
    (
        "Time to recover",
        "seconds from the rollback of the last fault to the first check at "
        "which every SLO holds again. &ldquo;&ndash;&rdquo; when it did not recover.",
    ),
)


def _num(value: float | None, unit: str = "") -> str:
    return "&ndash;" if value is None else f"{value:g}{unit}"


def _verdict(verdict: str) -> str:
    return f'<span class="{escape(verdict)}">{escape(verdict)}</span>'


def _table(head: Iterable[str], rows: Iterable[Iterable[str]], cls: str = "") -> str:
    th = "".join(f"<th>{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


def _reasons(run: Run) -> str:
    if not run.reasons:
        return "every SLO held, the stack recovered and every expectation was met"
    return "<br>".join(escape(r) for r in run.reasons)


def _summary(report: Report, card: Scorecard) -> str:
    rows = []
    for index, (run, s) in enumerate(zip(report.runs, card.runs, strict=True), 1):
        rows.append(
            [
                f'<a href="#run-{index}">{escape(run.title)}</a>',
                escape(run.predicts),
                _verdict(run.verdict),
                "yes" if s.as_predicted else "<strong>no</strong>",
                _reasons(run),
            ]
        )
    return "<h2>Verdicts</h2>" + _table(
        ["experiment", "predicted", "verdict", "as predicted", "why"], rows, "verdicts"
    )


def _scorecard(report: Report, card: Scorecard) -> str:
    def row(label: str, s: RunScore) -> list[str]:
        return [
            label,
            "yes" if s.held else "no",
            _num(s.budget_spent, " %"),
            _num(s.detect_s, " s"),
            _num(s.recover_s, " s"),
        ]

    rows = [row(escape(run.title), s) for run, s in zip(report.runs, card.runs, strict=True)]
    total = len(card.runs)
    rows.append(
        [
            "<strong>all</strong>",
            f"<strong>{card.held} of {total} held</strong> ({card.as_predicted} as predicted)",
            f"worst {_num(card.worst_budget_spent, ' %')}",
            f"median {_num(card.median_detect_s, ' s')}",
            f"median {_num(card.median_recover_s, ' s')}",
        ]
    )
    definitions = "".join(f"<dt>{t}</dt><dd>{d}</dd>" for t, d in DEFINITIONS)
    return (
        "<h2>Scorecard</h2>"
        + _table(
            ["experiment", "held", "error budget spent", "time to detect", "time to recover"],
            rows,
            "scorecard",
        )
        + f"<details open><summary>How each figure is measured</summary><dl>{definitions}</dl>"
        "</details>"
    )


def _event_detail(event: dict[str, object]) -> str:
    skip = {"t", "at", "phase", "event"}
    return escape("; ".join(f"{k}: {v}" for k, v in event.items() if k not in skip))


def _run(index: int, run: Run) -> str:
    label = f"run {index}: {run.title}"
    notes = "".join(
        f"<p><strong>{escape(key)}:</strong> {escape(text)}</p>"
        for key, text in run.notes.items()
        if key != "name"
    )
    expectations = (
        _table(
            ["expectation", "met", "measured"],
            [
                [
                    escape(str(e.get("expectation", ""))),
                    "yes" if e.get("met") else "<strong>no</strong>",
                    escape(str(e.get("measured", ""))),
                ]
                for e in run.expectations
            ],
        )
        if run.expectations
        else '<p class="muted">no expectations were checked</p>'
    )
    events = _table(
        ["t (s)", "phase", "event", "detail"],
        [
            [
                f"{float(str(e.get('t', 0))):.3f}",
                escape(str(e.get("phase", ""))),
                escape(str(e.get("event", ""))),
                _event_detail(dict(e)),
            ]
            for e in run.events
        ],
        "timeline",
    )
    faults = "".join(
        f"<li>{escape(f.step)}: {escape(f.description)} (from {f.start:g}s to {f.end:g}s)</li>"
        for f in run.faults
    )
    return f"""
<section id="run-{index}">
<h2>{escape(label)}</h2>
<p class="muted">{escape(run.source)} &middot; {escape(run.runtime)} runtime &middot;
{run.duration:g}s &middot; predicts {escape(run.predicts)}</p>
<p><strong>Hypothesis:</strong> {escape(run.hypothesis)}</p>
{f'<div class="notes">{notes}</div>' if notes else ""}
<p><strong>Verdict:</strong> {_verdict(run.verdict)} &mdash; {_reasons(run)}</p>
<ul>{faults or '<li class="muted">no fault was injected</li>'}</ul>
<h3>SLIs and circuit breakers over time</h3>
<figure class="plot sli">{run_plot(run, label)}</figure>
<h3>Steady-state baseline against the values under fault</h3>
<figure class="plot baseline">{baseline_plot(run, label)}</figure>
<h3>Expectations</h3>{expectations}
<h3>Timeline</h3>
<figure class="plot timeline">{timeline_plot(run, label)}</figure>
<details><summary>Every event ({len(run.events)})</summary>{events}</details>
</section>"""


def render(report: Report) -> str:
    card = score(report.runs)
    kind = "Game day" if report.kind == "gameday" else "Experiment"
    runs = "".join(_run(i, run) for i, run in enumerate(report.runs, 1))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(report.title)} &middot; chaosbed report</title>
<script>{GUARD}</script>
<style>{CSS}</style></head>
<body>
<h1>{escape(report.title)}</h1>
<p class="muted">{kind} report &middot; started {escape(report.started_at)} &middot;
{len(report.runs)} experiment(s)</p>
{f"<p>{escape(report.narration)}</p>" if report.narration else ""}
{_summary(report, card)}
{_scorecard(report, card)}
{runs}
<script>{COUNT}</script>
</body></html>
"""
