"""The report as one self-contained HTML page: inline CSS, inline SVG plots,
no external resource of any kind (it opens with no network).

A tiny inline script records any script error or `console.error` in the
page's `data-errors` attribute, so a headless browser test can read it back
from the DOM; it also counts the plots in `data-plots`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

from services.common.fault_plans import FAULTS

from .model import ExplorationRun, Report, Run
from .plots import baseline_plot, comparison_plot, run_plot, timeline_plot
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
table.matrix{table-layout:fixed;width:100%}
table.matrix td.cell{font-size:11px;overflow-wrap:anywhere} td.ok{background:#e6f4ea}
td.degraded{background:#fff4d6} td.failed{background:#f6e3e3} td.violation{background:#f4b4b4;
font-weight:600} pre{white-space:pre-wrap;font-size:12px}
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
root.setAttribute('data-timeline-rows',String(q('table.timeline tbody tr').length));
root.setAttribute('data-matrix-cells',String(q('table.matrix td.cell').length));
root.setAttribute('data-violations',String(q('table.matrix td.violation').length));})();
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


def _reasons(run: Run | ExplorationRun) -> str:
    if not run.reasons:
        if isinstance(run, ExplorationRun):
            return f"every one of {len(run.executions)} executions met the contract"
        return "every SLO held, the stack recovered and every expectation was met"
    return "<br>".join(escape(r) for r in run.reasons)


def _summary(report: Report, card: Scorecard) -> str:
    scores = iter(card.runs)
    rows = []
    for index, part in enumerate(report.parts(), 1):
        passed = (
            next(scores).as_predicted if isinstance(part, Run) else (part.verdict == part.predicts)
        )
        rows.append(
            [
                f'<a href="#run-{index}">{escape(part.title)}</a>',
                escape(part.predicts),
                _verdict(part.verdict),
                "yes" if passed else "<strong>no</strong>",
                _reasons(part),
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


def _notes(notes: Mapping[str, str]) -> str:
    """A game day's texts for one part (before, expect, narration)."""
    return "".join(
        f"<p><strong>{escape(key)}:</strong> {escape(text)}</p>"
        for key, text in notes.items()
        if key != "name"
    )


def _run(index: int, run: Run) -> str:
    label = f"run {index}: {run.title}"
    notes = _notes(run.notes)
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
{_comparison(run, label)}<h3>Expectations</h3>{expectations}
<h3>Timeline</h3>
<figure class="plot timeline">{timeline_plot(run, label)}</figure>
<details><summary>Every event ({len(run.events)})</summary>{events}</details>
</section>"""


def _g(value: Any, digits: int = 3) -> str:
    if value is None:
        return "&ndash;"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return escape(str(value))


def _comparison(run: Run, label: str) -> str:
    """The cohorts compared: the score, each cohort's size, each metric's test and
    effect, and the two distributions side by side."""
    c = run.comparison
    if not c:
        return ""
    cohorts = c.get("cohorts") or {}
    percents = c.get("percents") or {}
    sizes = _table(
        ["cohort", "share of members", "members seen", "requests", "good answers"],
        [
            [
                name,
                f"{_g(percents.get(name))}%",
                *(_g(cohorts.get(name, {}).get(k)) for k in ("members", "requests", "good")),
            ]  # fmt: skip
            for name in ("control", "experiment")
        ],
    )
    rows = []
    for m in c.get("metrics") or ():
        allowed = {"increase": f"&le; {_g(m.get('allowed_increase'))}x",
                   "decrease": f"&ge; {_g(m.get('allowed_decrease'))}x"}  # fmt: skip
        bad = m.get("direction", "either")
        tolerance = allowed.get(bad) or f"{allowed['decrease']}, {allowed['increase']}"
        shift = (
            f"{_g(m.get('shift'))} [{_g(m.get('shift_low'))}, {_g(m.get('shift_high'))}]"
            if m.get("shift") is not None
            else "&ndash;"
        )
        classified = m.get("classification", "")
        cls = "fails" if m.get("fails") else "passes"
        rows.append(
            [
                escape(str(m.get("name"))) + (" (critical)" if m.get("critical") else ""),
                escape(
                    f"{m.get('metric')} of {m['journey']}"
                    if m.get("journey")
                    else str(m.get("query") or m.get("metric"))
                ),  # fmt: skip
                f'<span class="{cls}" data-classification="{escape(str(classified))}">'
                f"{escape(str(classified))}</span>",
                f"{_g(m.get('control_mean'))} (n={_g(m.get('control_n'))})",
                f"{_g(m.get('experiment_mean'))} (n={_g(m.get('experiment_n'))})",
                f"{_g(m.get('ratio'))} ({escape(str(bad))} bad; {tolerance})",
                f"U={_g(m.get('u_statistic'), 6)}, p={_g(m.get('p_value'))} "
                f"(&lt; {_g(m.get('alpha'))})",
                shift,
            ]
        )
    metrics = _table(
        ["metric", "of", "classified", "control mean", "experiment mean",
         "ratio (allowed)", "Mann-Whitney U", "Hodges-Lehmann shift [CI]"],
        rows,
        "comparison",
    )  # fmt: skip
    decision = c.get("decision")
    stopped = (
        f"<p><strong>Stopped at look {_g(decision.get('look'))}</strong> "
        f"({_g(decision.get('samples_to_s'))} s of samples into the method): "
        f"{escape(str(decision.get('metric')))}: {escape(str(decision.get('reason')))}</p>"
        if decision
        else ""
    )
    score, overall = c.get("score"), escape(str(c.get("score_verdict")))
    return f"""<h3>Cohorts compared</h3>
<p class="score" data-score="{_g(score)}" data-score-verdict="{overall}">
Score <strong>{_g(score)}</strong> ({overall}: passes at
{_g(c.get("pass"))}, marginal at {_g(c.get("marginal"))}; {_g(c.get("passed"))} of
{_g(c.get("counted"))} metrics passed{
        "; critical failed: " + escape(", ".join(c.get("critical_failed") or ()))
        if c.get("critical_failed")
        else ""
    }) over
{_g(c.get("looks"))} looks.</p>
{stopped}{sizes}{metrics}
<figure class="plot comparison">{comparison_plot(run, label)}</figure>
"""


_OUTCOME_CLASS = {"ok": "ok", "degraded": "degraded", "failed": "failed"}


def _cell(index: int, execution: Mapping[str, Any] | None) -> str:
    if execution is None:
        return '<td class="cell muted">&ndash;</td>'
    outcome = str(execution["outcome"])
    violations = [str(v) for v in execution["violations"]]
    kind = _OUTCOME_CLASS.get(outcome.split(":", 1)[0], "failed")
    if violations:
        anchor = f"x{index}-{escape(str(execution.get('request_id', '')))}"
        title = escape("; ".join(violations), quote=True)
        return (
            f'<td class="cell violation" title="{title}"><a href="#{anchor}">'
            f"{escape(outcome)}&nbsp;!</a></td>"
        )
    return f'<td class="cell {kind}">{escape(outcome)}</td>'


def _journey_matrix(index: int, journey: str, ran: Sequence[Mapping[str, Any]]) -> str:
    """A row per call site, a column per fault (on every try); what the member got."""
    baseline = next((e for e in ran if e.get("site") is None), None)
    singles = [e for e in ran if e.get("site") and not e.get("first_try") and not e.get("also")]
    sites = list(dict.fromkeys(str(e["site"]) for e in singles))
    faults = [f for f in FAULTS if any(e.get("fault") == f for e in singles)]
    fault_free = "&ndash;" if baseline is None else escape(str(baseline["outcome"]))
    head = f"<h4>{escape(journey)}: fault-free {fault_free}</h4>"
    if baseline is not None and baseline["violations"]:
        head += f'<p class="deviated">{escape("; ".join(baseline["violations"]))}</p>'
    if not sites:
        return head + '<p class="muted">no dependency call was faulted</p>'
    rows = []
    for site in sites:
        cells = "".join(
            _cell(
                index,
                next((e for e in singles if e["site"] == site and e.get("fault") == f), None),
            )
            for f in faults
        )
        rows.append(f"<tr><th>{escape(site)}</th>{cells}</tr>")
    table = (
        '<table class="matrix"><thead><tr><th>call site</th>'
        + "".join(f"<th>{escape(f)}</th>" for f in faults)
        + f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )
    extra = []
    for label, chosen in (
        ("the fault on the first try only (it must be retried away, unseen)",
         [e for e in ran if e.get("first_try")]),
        ("pairs of faults (--depth 2)", [e for e in ran if e.get("also")]),
    ):  # fmt: skip
        if chosen:
            bad = sum(1 for e in chosen if e["violations"])
            extra.append(
                f"<li>{label}: {len(chosen) - bad} of {len(chosen)} met the contract"
                + (' <span class="deviated">!</span>' if bad else "")
                + "</li>"
            )
    return head + table + (f"<ul>{''.join(extra)}</ul>" if extra else "")


def _exploration(index: int, x: ExplorationRun) -> str:
    label = f"exploration {index}: {x.title}"
    notes = _notes(x.notes)
    journeys = list(dict.fromkeys(str(e["journey"]) for e in x.executions))
    matrices = "".join(
        _journey_matrix(index, j, [e for e in x.executions if e["journey"] == j]) for j in journeys
    )
    violating = [e for e in x.executions if e["violations"]]
    details = "".join(
        f'<tr id="x{index}-{escape(str(e.get("request_id", "")))}">'
        f"<td>{escape(str(e.get('request_id', '')))}</td>"
        f"<td>{escape(_execution_name(e))}</td><td>{escape(str(e['outcome']))}</td>"
        f"<td>{'<br>'.join(escape(str(v)) for v in e['violations'])}</td>"
        f"<td><details><summary>{_count_calls(e.get('calls') or [])} tries</summary>"
        f"<pre>{escape(json.dumps(e.get('calls') or [], indent=1))}</pre></details></td></tr>"
        for e in violating
    )
    violations = (
        "<h3>Violations</h3>"
        + '<table class="violations"><thead><tr><th>request</th><th>execution</th>'
        "<th>the member got</th><th>what broke the contract</th><th>the calls it made</th>"
        f"</tr></thead><tbody>{details}</tbody></table>"
        if violating
        else ""
    )
    return f"""
<section id="run-{index}" class="exploration">
<h2>{escape(label)}</h2>
<p class="muted">{escape(x.source or "chaosbed explore")} &middot; {escape(x.runtime)} runtime
&middot; {x.duration:g}s &middot; predicts {escape(x.predicts)}</p>
<p><strong>Hypothesis:</strong> {escape(x.hypothesis)}</p>
{f'<div class="notes">{notes}</div>' if notes else ""}
<p><strong>Verdict:</strong> {_verdict(x.verdict)} &mdash; {_reasons(x)}</p>
<p>{len(x.executions)} executions (one member request each, a signed fault plan on each) over
{len(journeys)} journeys, depth {x.depth}; {len(violating)} broke the contract. Each cell: what
the member got with that fault on every try of that call site.</p>
<h3>Call site &times; fault &rarr; what the member got</h3>
{matrices}
{violations}
</section>"""


def _execution_name(e: Mapping[str, Any]) -> str:
    where = "fault-free" if e.get("site") is None else f"{e['site']} {e.get('fault')}"
    if e.get("also"):
        where += f" + {e['also'][0]} {e['also'][1]}"
    return f"{e['journey']}: {where}" + (" (first try)" if e.get("first_try") else "")


def _count_calls(calls: Sequence[Mapping[str, Any]]) -> int:
    return sum(1 + _count_calls(c.get("calls") or []) for c in calls)


def render(report: Report) -> str:
    card = score(report.runs)
    kind = {"gameday": "Game day", "exploration": "Exploration"}.get(report.kind, "Experiment")
    parts = report.parts()
    sections = "".join(
        _run(i, part) if isinstance(part, Run) else _exploration(i, part)
        for i, part in enumerate(parts, 1)
    )
    counted = f"{len(report.runs)} experiment(s)"
    if report.explorations:
        counted += f", {len(report.explorations)} exploration(s)"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(report.title)} &middot; chaosbed report</title>
<script>{GUARD}</script>
<style>{CSS}</style></head>
<body>
<h1>{escape(report.title)}</h1>
<p class="muted">{kind} report &middot; started {escape(report.started_at)} &middot;
{counted}</p>
{f"<p>{escape(report.narration)}</p>" if report.narration else ""}
{_summary(report, card)}
{_scorecard(report, card) if report.runs else ""}
{sections}
<script>{COUNT}</script>
</body></html>
"""
