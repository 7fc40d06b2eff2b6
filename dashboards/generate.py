"""Generate chaosbed's Grafana dashboards (dashboards/json/*.json).

    python dashboards/generate.py           # rewrite the JSON files
    python dashboards/generate.py --check   # exit 1 when they are out of date

The JSON is committed (Grafana provisions it as is); this script keeps the
per-service dashboards alike, and takes the services from
services/topology.py. Every query is plain PromQL without Grafana
variables, so tests can ask Prometheus the very same expressions.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services import topology
from services.topology import Metric

OUT_DIR = Path(__file__).resolve().parent / "json"
DATASOURCE = {"type": "prometheus", "uid": "chaosbed-prometheus"}

#: On every dashboard: what `chaosbed monkey` holds (a region per action, named by
#: kind and target) and when its guardrails halted it (Prometheus's job `monkey`).
ANNOTATIONS: tuple[dict[str, Any], ...] = (
    {
        "name": "chaos actions",
        "datasource": DATASOURCE,
        "enable": True,
        "hide": False,
        "iconColor": "#F2495C",
        "expr": "sum by (kind, target) (chaosbed_chaos_active_faults) > 0",
        "step": "2s",
        "titleFormat": "chaos: {{kind}} on {{target}}",
        "tagKeys": "kind,target",
        "textFormat": "held by chaosbed monkey",
        "useValueForTime": False,
    },
    {
        "name": "monkey halted",
        "datasource": DATASOURCE,
        "enable": True,
        "hide": False,
        "iconColor": "#FF9830",
        "expr": "max(chaosbed_monkey_halted) > 0",
        "step": "2s",
        "titleFormat": "chaosbed monkey halted by its guardrails",
        "tagKeys": "",
        "textFormat": "the error budget burned or a paging alert fired",
        "useValueForTime": False,
    },
)
# profiles runs as three replicas, one per region (us = profiles): one dashboard
PROFILES_REPLICAS = tuple(topology.PROFILES_REPLICAS.values())
# one dashboard per service module, in port order (the replicas share profiles')
SERVICES = tuple(
    dict.fromkeys(
        topology.SERVICES[name].module.removeprefix("services.") for name in topology.PORTS
    )
)
# the services with fallbacks, whose dependencies get panels of their own
WITH_DEPENDENCIES = tuple(topology.FALLBACKS)
BREAKER_MAPPINGS = [
    {
        "type": "value",
        "options": {
            "0": {"text": "closed", "color": "green"},
            "1": {"text": "open", "color": "red"},
            "2": {"text": "half-open", "color": "orange"},
        },
    }
]


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str


@dataclass(frozen=True)
class Panel:
    title: str
    queries: tuple[Query, ...]
    unit: str = "short"
    kind: str = "timeseries"
    description: str = ""
    width: int = 12
    extra: dict[str, Any] = field(default_factory=dict)


def q(expr: str, legend: str) -> Query:
    return Query(expr, legend)


def overview_panels() -> list[Panel]:
    member = f'job=~"{"|".join(SERVICES)}"'
    return [
        Panel(
            "Playback starts per second",
            (q("sum(service:chaosbed_playback_starts:rate1m)", "started/s"),),
            unit="reqps",
            kind="stat",
            description="The key metric: playback starts that succeeded, per second.",
            width=6,
        ),
        Panel(
            "Playback starts by outcome",
            (
                q(
                    "sum by (outcome) (service_outcome:chaosbed_playback_starts:rate1m)",
                    "{{outcome}}",
                ),
            ),
            unit="reqps",
            width=18,
        ),
        Panel(
            "Availability per service (1m)",
            (q("service:chaosbed_http_availability:ratio_rate1m", "{{service}}"),),
            unit="percentunit",
            description="Member-facing requests that did not end in a 5xx or a dropped connection.",
        ),
        Panel(
            "p99 latency per service (1m)",
            (q("service:chaosbed_http_request_duration_seconds:p99_1m", "{{service}}"),),
            unit="s",
        ),
        Panel(
            "Availability by cohort: control vs experiment (1m)",
            (
                q(
                    "service_cohort:chaosbed_http_availability:ratio_rate1m",
                    "{{service}} {{cohort}}",
                ),
            ),
            unit="percentunit",
            description="Faults target the experiment cohort; control shows the baseline.",
        ),
        Panel(
            "Playback starts per second by cohort",
            (q("service_cohort:chaosbed_playback_starts:rate1m", "{{cohort}}"),),
            unit="reqps",
        ),
        Panel(
            "Requests per second per service",
            (q("service:chaosbed_http_requests:rate1m", "{{service}}"),),
            unit="reqps",
        ),
        Panel(
            "Error budget burn rate (99.5% objective)",
            (
                q("service:chaosbed_error_budget_burn:rate5m", "{{service}} 5m"),
                q("service:chaosbed_error_budget_burn:rate1h", "{{service}} 1h"),
            ),
            description="1 spends the budget exactly over the SLO window; 14.4 over 1h pages.",
        ),
        Panel(
            "Circuit breaker states",
            (
                q(
                    f"max by (service, dependency) ({Metric.BREAKER_STATE})",
                    "{{service}} -> {{dependency}}",
                ),
            ),
            kind="state-timeline",
            extra={"mappings": BREAKER_MAPPINGS},
        ),
        Panel(
            "Fallbacks per second",
            (
                q(
                    f"sum by (service, fallback, result) (rate({Metric.FALLBACKS}[1m]))",
                    "{{service}} {{fallback}} {{result}}",
                ),
            ),
            unit="reqps",
        ),
        Panel(
            "Retries per second",
            (
                q(
                    f"sum by (service, dependency) (rate({Metric.RETRIES}[1m]))",
                    "{{service}} -> {{dependency}}",
                ),
            ),
            unit="reqps",
        ),
        Panel(
            "Dependency calls by outcome",
            (
                q(
                    f"sum by (service, dependency, outcome) (rate({Metric.DEPENDENCY_CALLS}[1m]))",
                    "{{service}} -> {{dependency}} {{outcome}}",
                ),
            ),
            unit="reqps",
        ),
        Panel(
            "Active faults",
            (q(f"sum by (service, kind) ({Metric.FAULTS_ACTIVE})", "{{service}} {{kind}}"),),
            description="Fault rules injected through the control API that have not expired.",
        ),
        Panel(
            "Scrape targets up",
            (q(f"up{{{member}}}", "{{job}}"),),
            kind="state-timeline",
            extra={
                "mappings": [
                    {
                        "type": "value",
                        "options": {
                            "0": {"text": "down", "color": "red"},
                            "1": {"text": "up", "color": "green"},
                        },
                    }
                ]
            },
        ),
    ]


def service_panels(service: str) -> list[Panel]:
    sel = f'service="{service}"'
    panels = [
        Panel(
            "Requests per second by route",
            (q(f"service_route:chaosbed_http_requests:rate1m{{{sel}}}", "{{route}}"),),
            unit="reqps",
        ),
        Panel(
            "Availability by route (1m)",
            (q(f"service_route:chaosbed_http_availability:ratio_rate1m{{{sel}}}", "{{route}}"),),
            unit="percentunit",
        ),
        Panel(
            "Latency (1m)",
            (
                q(f"service:chaosbed_http_request_duration_seconds:p50_1m{{{sel}}}", "p50"),
                q(f"service:chaosbed_http_request_duration_seconds:p99_1m{{{sel}}}", "p99"),
            ),
            unit="s",
        ),
        Panel(
            "p99 latency by route (1m)",
            (
                q(
                    f"service_route:chaosbed_http_request_duration_seconds:p99_1m{{{sel}}}",
                    "{{route}}",
                ),
            ),
            unit="s",
        ),
        Panel(
            "Responses by status",
            (
                q(
                    f"sum by (status) (rate({Metric.HTTP_REQUESTS}{{{sel}}}[1m]))",
                    "{{status}}",
                ),
            ),
            unit="reqps",
        ),
        Panel(
            "Requests by cohort",
            (
                q(
                    f"sum by (cohort) (rate({Metric.HTTP_REQUESTS}{{{sel}}}[1m]))",
                    "{{cohort}}",
                ),
            ),
            unit="reqps",
        ),
        Panel(
            "Error budget burn rate (99.5% objective)",
            (
                q(f"service:chaosbed_error_budget_burn:rate5m{{{sel}}}", "5m"),
                q(f"service:chaosbed_error_budget_burn:rate1h{{{sel}}}", "1h"),
            ),
        ),
        Panel(
            "Active faults",
            (q(f"sum by (kind) ({Metric.FAULTS_ACTIVE}{{{sel}}})", "{{kind}}"),),
        ),
    ]
    if service == "playback":
        panels[:0] = [
            Panel(
                "Playback starts by outcome",
                (
                    q(
                        "service_outcome:chaosbed_playback_starts:rate1m",
                        "{{outcome}}",
                    ),
                ),
                unit="reqps",
            ),
            Panel(
                "Playback start availability (5m)",
                (q("service:chaosbed_playback_start_availability:ratio_rate5m", "starts"),),
                unit="percentunit",
            ),
        ]
    if service in WITH_DEPENDENCIES:
        panels += dependency_panels(sel)
    if service == "profiles":
        panels += replication_panels()
    return panels


def replication_panels() -> list[Panel]:
    """The three profiles replicas (us = profiles, eu, apac) replicating to each other."""
    sel = f'service=~"{"|".join(PROFILES_REPLICAS)}"'
    return [
        Panel(
            "Replication lag per replica pair",
            (
                q(
                    f"max by (service, peer) ({Metric.REPLICATION_LAG}{{{sel}}})",
                    "{{service}} -> {{peer}}",
                ),
            ),
            unit="s",
            description="Age of the oldest version a replica has not yet delivered to a peer.",
        ),
        Panel(
            "Pending log entries per replica pair",
            (
                q(
                    f"max by (service, peer) ({Metric.REPLICATION_PENDING}{{{sel}}})",
                    "{{service}} -> {{peer}}",
                ),
            ),
        ),
        Panel(
            "Commit-to-apply delay (1m)",
            tuple(
                q(
                    f"histogram_quantile({quantile}, sum by (service, le) (rate("
                    f"{Metric.REPLICATION_DELAY}_bucket{{{sel}}}[1m])))",
                    f"{{{{service}}}} p{label}",
                )
                for quantile, label in ((0.5, "50"), (0.99, "99"))
            ),
            unit="s",
        ),
        Panel(
            "Versions applied from peers",
            (
                q(
                    f"sum by (service, via) (rate({Metric.REPLICATION_APPLIED}{{{sel}}}[1m]))",
                    "{{service}} {{via}}",
                ),
            ),
            unit="ops",
        ),
        Panel(
            "Device syncs by outcome",
            (
                q(
                    f"sum by (outcome) (rate({Metric.PROFILE_SYNCS}{{{sel}}}[1m]))",
                    "{{outcome}}",
                ),
            ),
            unit="ops",
        ),
        Panel(
            "Sync conflicts (stale base version)",
            (
                q(
                    f"sum by (service) (rate({Metric.PROFILE_CONFLICTS}{{{sel}}}[1m]))",
                    "{{service}}",
                ),
            ),
            unit="ops",
        ),
    ]


def dependency_panels(sel: str) -> list[Panel]:
    return [
        Panel(
            "Dependency calls by outcome",
            (
                q(
                    f"sum by (dependency, outcome) (rate({Metric.DEPENDENCY_CALLS}{{{sel}}}[1m]))",
                    "{{dependency}} {{outcome}}",
                ),
            ),
            unit="reqps",
        ),
        Panel(
            "Dependency call p99 (1m)",
            (
                q(
                    f"histogram_quantile(0.99, sum by (dependency, le) "
                    f"(rate({Metric.DEPENDENCY_DURATION}_bucket{{{sel}}}[1m])))",
                    "{{dependency}}",
                ),
            ),
            unit="s",
        ),
        Panel(
            "Circuit breaker state",
            (
                q(
                    f"max by (dependency) ({Metric.BREAKER_STATE}{{{sel}}})",
                    "{{dependency}}",
                ),
            ),
            kind="state-timeline",
            extra={"mappings": BREAKER_MAPPINGS},
        ),
        Panel(
            "Retries per second",
            (
                q(
                    f"sum by (dependency) (rate({Metric.RETRIES}{{{sel}}}[1m]))",
                    "{{dependency}}",
                ),
            ),
            unit="reqps",
        ),
        Panel(
            "Fallbacks per second",
            (
                q(
                    f"sum by (fallback, result) (rate({Metric.FALLBACKS}{{{sel}}}[1m]))",
                    "{{fallback}} {{result}}",
                ),
            ),
            unit="reqps",
        ),
    ]


def panel_json(panel: Panel, panel_id: int, x: int, y: int) -> dict[str, Any]:
    height = 5 if panel.kind == "stat" else 8
    defaults: dict[str, Any] = {"unit": panel.unit}
    if "mappings" in panel.extra:
        defaults["mappings"] = panel.extra["mappings"]
        defaults["color"] = {"mode": "thresholds"}
    return {
        "id": panel_id,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": DATASOURCE,
        "gridPos": {"h": height, "w": panel.width, "x": x, "y": y},
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True}},
        "targets": [
            {
                "datasource": DATASOURCE,
                "expr": query.expr,
                "legendFormat": query.legend,
                "refId": chr(ord("A") + index),
            }
            for index, query in enumerate(panel.queries)
        ],
    }


def dashboard(uid: str, title: str, panels: list[Panel], tags: list[str]) -> dict[str, Any]:
    laid_out: list[dict[str, Any]] = []
    x = y = row_height = 0
    for panel_id, panel in enumerate(panels, start=1):
        if x + panel.width > 24:
            x, y, row_height = 0, y + row_height, 0
        laid_out.append(panel_json(panel, panel_id, x, y))
        row_height = max(row_height, laid_out[-1]["gridPos"]["h"])
        x += panel.width
    return {
        "uid": uid,
        "title": title,
        "tags": tags,
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "refresh": "5s",
        "time": {"from": "now-15m", "to": "now"},
        "templating": {"list": []},
        "annotations": {"list": list(ANNOTATIONS)},
        "panels": laid_out,
    }


def dashboards() -> dict[str, dict[str, Any]]:
    out = {
        "chaosbed-overview.json": dashboard(
            "chaosbed-overview", "chaosbed: overview", overview_panels(), ["chaosbed"]
        )
    }
    for service in SERVICES:
        out[f"chaosbed-{service}.json"] = dashboard(
            f"chaosbed-{service}",
            f"chaosbed: {service}",
            service_panels(service),
            ["chaosbed", service],
        )
    return out


def render(board: dict[str, Any]) -> str:
    return json.dumps(board, indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the files are stale")
    args = parser.parse_args(argv)
    stale = []
    OUT_DIR.mkdir(exist_ok=True)
    for name, board in dashboards().items():
        path = OUT_DIR / name
        text = render(board)
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            path.write_text(text)
    if stale:
        print(f"stale dashboards (run python dashboards/generate.py): {', '.join(stale)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
