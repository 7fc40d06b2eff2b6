"""services/topology.py is the one home of the stack's facts: nothing else restates them."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from prometheus_client import CollectorRegistry

from chaos.load.metrics import LoadMetrics
from services.catalog.app import create_app as catalog_app
from services.catalog.settings import CatalogSettings
from services.playback.app import create_app as playback_app
from services.playback.settings import PlaybackSettings
from services.profiles.app import create_app as profiles_app
from services.profiles.settings import ProfilesSettings
from services.recommendations.app import create_app as recommendations_app
from services.recommendations.settings import RecommendationsSettings
from services.topology import EDGES, PORTS, PROFILES_REPLICAS, SERVICES, Metric

REPO = Path(__file__).resolve().parents[2]
TOPOLOGY = REPO / "services" / "topology.py"
#: Python that builds the stack or reads its metrics.
CODE = [
    *sorted((REPO / "services").rglob("*.py")),
    *sorted((REPO / "chaos").rglob("*.py")),
    REPO / "compose" / "generate.py",
    REPO / "dashboards" / "generate.py",
]
# a metric's name, not a recording rule's (level:metric:operations)
METRIC_NAME = re.compile(r"(?<![:\w])chaosbed_[a-z_]+(?![:\w])")
SERIES = {str(m) for m in Metric} | {f"{m}_{p}" for m in Metric for p in ("bucket", "sum", "count")}


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the constant nodes that are docstrings (prose may name a metric)."""
    found: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            if isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
                found.add(id(body[0].value))
    return found


def _spelled_metrics(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    docstrings = _docstrings(tree)
    spelled = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) in docstrings:
                continue
            for name in METRIC_NAME.findall(node.value):
                if name in SERIES:
                    spelled.append(f"{path.relative_to(REPO)}:{node.lineno}: {name}")
    return spelled


def test_only_the_topology_spells_a_metric_name() -> None:
    """Renaming a metric is a change in services/topology.py: code refers to `Metric`."""
    assert TOPOLOGY in CODE
    spelled = [hit for path in CODE if path != TOPOLOGY for hit in _spelled_metrics(path)]
    assert not spelled, spelled
    assert _spelled_metrics(TOPOLOGY), "the check must see the names where they are declared"


def _exported() -> set[str]:
    """The metric families every service and the load generator register."""
    registries = [CollectorRegistry() for _ in range(4)]
    catalog_app(CatalogSettings.from_env({}), registry=registries[0])
    recommendations_app(RecommendationsSettings.from_env({}), registry=registries[1])
    playback_app(PlaybackSettings.from_env({}), registry=registries[2])
    profiles_app(ProfilesSettings.from_env({}), registry=registries[3])
    registries.append(LoadMetrics().registry)
    return {family.name for registry in registries for family in registry.collect()}


def test_every_declared_metric_is_exported_and_every_exported_one_declared() -> None:
    """Families as prometheus-client names them: a counter's without `_total`."""
    exported = {name for name in _exported() if name.startswith("chaosbed_")}
    declared = {str(metric).removesuffix("_total") for metric in Metric}
    assert exported == declared


def test_each_service_listens_on_its_own_port_and_starts_after_what_it_needs() -> None:
    assert len(set(PORTS.values())) == len(PORTS) == len(SERVICES)
    started: set[str] = set()
    for service in SERVICES.values():
        assert set(service.starts_after) <= started, service.name
        started.add(service.name)
    assert set(PROFILES_REPLICAS.values()) <= set(SERVICES)
    assert {name for edge in EDGES for name in edge} <= set(SERVICES)
