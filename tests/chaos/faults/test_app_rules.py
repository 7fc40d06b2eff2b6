"""The rule the runner sends for an application-layer fault."""

from __future__ import annotations

from chaos.experiment import limits
from chaos.experiment.model import AppFault, Edge
from chaos.faults.app import rule_for


def test_an_edge_fault_is_a_client_side_rule_in_the_caller() -> None:
    fault = AppFault("latency", edge=Edge("recommendations", "profiles"), delay_ms=800)
    service, rule = rule_for(fault, tag="chaosbed-run-x", ttl=25.0)
    assert service == "recommendations"
    assert rule["edge"] == "recommendations -> profiles" and "route" not in rule
    assert rule["delay_ms"] == 800 and "status" not in rule


def test_a_target_fault_is_a_server_side_rule_on_every_route_by_default() -> None:
    service, rule = rule_for(AppFault("error", target="catalog"), tag="t", ttl=10.0)
    assert service == "catalog" and rule["route"] == "*" and rule["status"] == 503
    assert "delay_ms" not in rule  # the service refuses fields foreign to the kind


def test_every_rule_carries_the_run_tag_and_a_bounded_ttl() -> None:
    _, rule = rule_for(AppFault("drop", target="catalog"), tag="chaosbed-run-x", ttl=10**6)
    assert rule["tag"] == "chaosbed-run-x"
    assert rule["ttl_s"] == limits.RULE_TTL_MAX
