"""The contract `chaosbed explore` checks each execution against.

A YAML file (the shipped one: chaos/explore/contract.yaml) maps each journey
to, per call site (``caller -> dependency``, any route; ``*`` for every site
not named), the member outcomes that keep the journey's promise when that
call fails in any way:

    journeys:
      homepage:
        "recommendations -> profiles": [ok, "degraded:default_preferences"]
        "*": [ok]

An outcome is ``ok``, ``degraded:<fallback>`` or ``failed:<status>``, with
``+upstream`` when the answer named the upstream failure
(`X-Chaosbed-Upstream-Failure`); a pattern may use ``*`` (``degraded:*``).
Every execution is also held to three rules whatever the contract says:

- no answer is a 500 (an unhandled error);
- no call is tried more often than its dependency's `attempts` setting;
- no POST or PATCH is retried unless it carried an Idempotency-Key.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from chaos.errors import ChaosbedError
from chaos.exitcodes import ExitCode

from .journeys import EXPLORED

__all__ = ["DEFAULT_CONTRACT", "Contract", "ContractError", "load_contract", "rule_violations"]

DEFAULT_CONTRACT = Path(__file__).with_name("contract.yaml")
ANY_SITE = "*"


class ContractError(ChaosbedError):
    """The contract file cannot be read: it names the file and the field."""

    exit_code = ExitCode.INVALID_INPUT


@dataclass(frozen=True)
class Contract:
    allowed: Mapping[str, Mapping[str, tuple[str, ...]]]
    path: Path

    def accepts(self, journey: str, site: str, outcome: str) -> bool:
        sites = self.allowed.get(journey, {})
        patterns = sites.get(site, sites.get(ANY_SITE, ("ok",)))
        return any(fnmatch.fnmatchcase(outcome, pattern) for pattern in patterns)

    def accepts_together(self, journey: str, sites: Sequence[str], outcome: str) -> bool:
        """The faulted sites (one, or two at depth 2) at once: `ok` when each allows it; a
        failure when one of them allows it; a degraded answer when each fallback it
        names (``degraded:a+b``) is one some faulted site allows."""
        if outcome == "ok":
            return all(self.accepts(journey, site, outcome) for site in sites)
        head, _, fallbacks = outcome.partition(":")
        if head != "degraded" or "+" not in fallbacks:
            return any(self.accepts(journey, site, outcome) for site in sites)
        return all(
            any(self.accepts(journey, site, f"degraded:{one}") for site in sites)
            for one in fallbacks.split("+")
        )

    def allowed_for(self, journey: str, site: str) -> tuple[str, ...]:
        sites = self.allowed.get(journey, {})
        return sites.get(site, sites.get(ANY_SITE, ("ok",)))


def load_contract(path: Path = DEFAULT_CONTRACT) -> Contract:
    try:
        document: Any = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ContractError(f"{path}: cannot read the contract: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ContractError(f"{path}: not YAML: {exc}") from None
    journeys = document.get("journeys") if isinstance(document, dict) else None
    if not isinstance(journeys, dict):
        raise ContractError(f"{path}: journeys: a mapping of journey -> call site -> outcomes")
    allowed: dict[str, dict[str, tuple[str, ...]]] = {}
    for journey, sites in journeys.items():
        where = f"{path}: journeys.{journey}"
        if journey not in EXPLORED:
            raise ContractError(f"{where}: not a journey explore drives ({', '.join(EXPLORED)})")
        if not isinstance(sites, dict):
            raise ContractError(f"{where}: a mapping of call site -> outcomes")
        allowed[journey] = {}
        for site, outcomes in sites.items():
            if site != ANY_SITE and " -> " not in str(site):
                raise ContractError(f"{where}: {site!r} is not `caller -> dependency` or `*`")
            if not isinstance(outcomes, list) or not all(isinstance(o, str) for o in outcomes):
                raise ContractError(f"{where}.{site}: a list of outcomes")
            for outcome in outcomes:
                head = outcome.split(":", 1)[0]
                if head not in ("ok", "degraded", "failed"):
                    raise ContractError(
                        f"{where}.{site}: {outcome!r} is not ok, degraded:... or failed:..."
                    )
            allowed[journey][str(site)] = tuple(outcomes)
    return Contract(allowed, path)


def flatten(calls: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Every try of a call record tree, depth first: the order they started in."""
    flat: list[Mapping[str, Any]] = []
    for call in calls:
        flat.append(call)
        flat.extend(flatten(call.get("calls") or ()))
    return flat


def rule_violations(
    status: int | None, calls: Sequence[Mapping[str, Any]], attempts: Mapping[str, int]
) -> list[str]:
    """What breaks the three rules every execution is held to."""
    found = []
    if status == 500:
        found.append("answered 500 (an unhandled error)")
    for call in flatten(calls):
        site = f"{call.get('service')} -> {call.get('dependency')}"
        attempt = int(call.get("attempt") or 1)
        limit = attempts.get(str(call.get("dependency")))
        if limit is not None and attempt > limit:
            found.append(f"{site} {call.get('route')}: try {attempt} of at most {limit}")
        if attempt > 1 and call.get("method") in ("POST", "PATCH") and not call.get("keyed"):
            found.append(
                f"{site} {call.get('method')} {call.get('route')}: retried (try {attempt})"
                " without an Idempotency-Key"
            )
    return found
