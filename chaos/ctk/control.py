"""A Chaos Toolkit control that rolls back chaosbed's faults whatever ends the run.

CTK skips an experiment's rollbacks when the run is interrupted (Ctrl-C, SIGTERM) or
fails, under its default rollback strategy. Declared in the experiment

    controls: [{name: chaosbed, provider: {type: python, module: chaos.ctk.control}}]

this control, after the run whatever its status, rolls back every fault the run's
chaosbed actions injected (every `tag` they name) and writes what it did into CTK's
journal, under `chaosbed`. Control hooks must not raise (CTK would skip the others,
or crash before writing its journal): a rollback that fails is said in the journal and
logged, and `chaosbed cleanup` removes what is left.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any

from . import actions, faults
from .stack import run, stack_of

__all__ = ["after_experiment_control", "tags_of"]

log = logging.getLogger("chaostoolkit")
ACTIONS = actions.__name__
#: The actions that inject: every one but the removal.
INJECTING = frozenset(actions.__all__) - {"remove_faults"}


def _activities(experiment: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    hypothesis = experiment.get("steady-state-hypothesis") or {}
    for group in (hypothesis.get("probes"), experiment.get("method"), experiment.get("rollbacks")):
        for activity in group or []:
            if isinstance(activity, Mapping):
                yield activity


def tags_of(
    experiment: Mapping[str, Any],
    configuration: Mapping[str, Any] | None = None,
    secrets: Mapping[str, Any] | None = None,
) -> list[str]:
    """Every tag the experiment's chaosbed actions inject under ("" for none given),
    with `${...}` replaced from the configuration and secrets, as CTK does for them."""
    found: dict[str, None] = {}
    for activity in _activities(experiment):
        provider = activity.get("provider") or {}
        if provider.get("module") == ACTIONS and provider.get("func") in INJECTING:
            tag = (provider.get("arguments") or {}).get("tag") or ""
            if isinstance(tag, str) and "${" in tag:
                tag = _substitute(tag, configuration, secrets)
            found[str(tag)] = None
    return list(found)


def _substitute(
    text: str, configuration: Mapping[str, Any] | None, secrets: Mapping[str, Any] | None
) -> Any:
    from chaoslib import substitute  # inside `chaos run`: chaoslib is there

    return substitute(text, dict(configuration or {}), dict(secrets or {}))


def after_experiment_control(
    context: dict[str, Any],
    state: dict[str, Any],
    configuration: dict[str, Any] | None = None,
    secrets: dict[str, Any] | None = None,
    **kwargs: Any,
) -> None:
    """After the run, whatever its status: roll back every fault its actions injected.
    `context` is the experiment; `state` CTK's journal, written after this hook."""
    said: dict[str, Any] = {"status": state.get("status"), "rolled_back": [], "failed": []}
    try:
        stack = stack_of(configuration)
        for tag in tags_of(context, configuration, secrets):
            try:
                removed = run(faults.remove(stack, tag))
            except BaseException as error:  # noqa: BLE001 - said, never raised (a 2nd Ctrl-C too)
                said["failed"].append(f"tag {tag or '(none)'}: {error}")
                continue
            said["rolled_back"] += removed["rolled_back"]
            said["rules_removed"] = said.get("rules_removed", 0) + removed["rules_removed"]
    except BaseException as error:  # noqa: BLE001 - no stack found: nothing can be rolled back
        said["failed"].append(f"the stack: {error}")
    for failure in said["failed"]:
        log.error("chaosbed control: could not roll back %s; run `chaosbed cleanup`", failure)
    state["chaosbed"] = said
