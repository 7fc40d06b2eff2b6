"""Chaos Toolkit actions: inject chaosbed faults into a running stack, and remove them.

Each is a plain function (`provider: {type: python, module: chaos.ctk.actions, func:
..., arguments: {...}}`). A fault is recorded under `tag` until `remove_faults` rolls
it back; application faults also end by themselves after `duration_s` plus 5 s, and
docker network faults 10 s after that. What each returns is written into CTK's
journal. Which stack: the CTK configuration keys `chaosbed_state_dir`,
`chaosbed_port_base` and `chaosbed_runtime` (each optional), as for `chaosbed run`.

This module's annotations are real types (no postponed evaluation): `chaos discover`
reports each argument's type from them.
"""

import typing
from typing import Any

from . import faults, session
from .stack import ActivityError, run, stack_of

__all__ = [
    "add_corruption",
    "add_drops",
    "add_errors",
    "add_hangs",
    "add_latency",
    "add_packet_loss",
    "inject",
    "isolate_service",
    "kill_service",
    "limit_bandwidth",
    "partition",
    "pause_service",
    "remove_faults",
    "restart_service",
    "run_step",
    "stop_service",
]

#: `typing.Dict`, not `dict[...]`: `chaos discover` names it "mapping" (a builtin
#: generic it names "object").
Json = typing.Dict[str, Any]  # noqa: UP006
Configuration = dict[str, Any] | None


def inject(step: Json, tag: str = "", configuration: Configuration = None) -> Json:
    """Inject any chaosbed fault, written as a method step of a chaosbed experiment
    (`{fault: latency, target: catalog, delay_ms: 300, duration: 20s}`; every fault
    kind the stack's runtime drives: application, process, network), verify it, and
    record it under `tag`. Returns what was injected and how it was verified."""
    return run(faults.inject(stack_of(configuration), step, tag))


def _fault(kind: str, duration_s: float, tag: str, configuration: Configuration,
           **fields: Any) -> dict[str, Any]:  # fmt: skip
    """Inject the `kind` step of `fields` (those given: not "" or None) under `tag`."""
    step: dict[str, Any] = {"fault": kind, "duration": f"{duration_s:g}s"}
    step |= {k: v for k, v in fields.items() if v not in ("", None)}
    return dict(run(faults.inject(stack_of(configuration), step, tag)))


def add_latency(
    delay_ms: float,
    duration_s: float,
    target: str = "",
    edge: str = "",
    route: str = "",
    jitter_ms: float = 0.0,
    percent: float = 100.0,
    cohort: str = "any",
    tag: str = "",
    configuration: Configuration = None,
) -> Json:
    """Delay requests by `delay_ms` (± `jitter_ms`) for `duration_s`: served by `target`
    (optionally one `route`), or called on `edge` ("recommendations -> profiles", in the
    caller); `percent` of them, of a `cohort` (experiment, control or any)."""
    return _fault("latency", duration_s, tag, configuration, target=target, edge=edge, route=route,
                  delay_ms=delay_ms, jitter_ms=jitter_ms, percent=percent,
                  cohort=cohort)  # fmt: skip


def add_errors(
    duration_s: float,
    target: str = "",
    edge: str = "",
    route: str = "",
    status: int = 503,
    percent: float = 100.0,
    cohort: str = "any",
    tag: str = "",
    configuration: Configuration = None,
) -> Json:
    """Answer `percent` of requests with HTTP `status` for `duration_s`, served by `target`
    or called on `edge`."""
    return _fault("error", duration_s, tag, configuration, target=target, edge=edge, route=route,
                  status=status, percent=percent, cohort=cohort)  # fmt: skip


def add_drops(
    duration_s: float,
    target: str = "",
    edge: str = "",
    route: str = "",
    percent: float = 100.0,
    cohort: str = "any",
    tag: str = "",
    configuration: Configuration = None,
) -> Json:
    """Drop the connection of `percent` of requests for `duration_s` (no answer, at once)."""
    return _fault("drop", duration_s, tag, configuration, target=target, edge=edge, route=route,
                  percent=percent, cohort=cohort)  # fmt: skip


def add_hangs(
    duration_s: float,
    target: str = "",
    edge: str = "",
    route: str = "",
    percent: float = 100.0,
    cohort: str = "any",
    tag: str = "",
    configuration: Configuration = None,
) -> Json:
    """Hold `percent` of requests unanswered for `duration_s` (the caller's timeout decides)."""
    return _fault("hang", duration_s, tag, configuration, target=target, edge=edge, route=route,
                  percent=percent, cohort=cohort)  # fmt: skip


def add_corruption(
    duration_s: float,
    target: str = "",
    edge: str = "",
    message: str = "response",
    percent: float = 100.0,
    cohort: str = "any",
    tag: str = "",
    configuration: Configuration = None,
) -> Json:
    """Change one value of `percent` of JSON bodies (`message`: request or response) for
    `duration_s`, as a flipped bit would."""
    return _fault("corrupt", duration_s, tag, configuration, target=target, edge=edge,
                  message=message, percent=percent, cohort=cohort)  # fmt: skip


def _process(kind: str, service: str, duration_s: float, instances: int, tag: str,
             configuration: Configuration) -> dict[str, Any]:  # fmt: skip
    step: dict[str, Any] = {"fault": kind, "target": service, "duration": f"{duration_s:g}s"}
    if instances:
        step["instances"] = instances
    return dict(run(faults.inject(stack_of(configuration), step, tag)))


def kill_service(
    service: str, instances: int = 0, tag: str = "", configuration: Configuration = None
) -> Json:
    """SIGKILL `instances` of `service` (0: every one) once; its supervisor (or Docker)
    restarts it."""
    return _process("kill", service, 1.0, instances, tag, configuration)


def restart_service(
    service: str, instances: int = 0, tag: str = "", configuration: Configuration = None
) -> Json:
    """Restart `instances` of `service` (0: every one) gracefully, once."""
    return _process("restart", service, 1.0, instances, tag, configuration)


def stop_service(
    service: str, instances: int = 0, tag: str = "", configuration: Configuration = None
) -> Json:
    """Stop `instances` of `service` (0: every one) gracefully until `remove_faults`
    starts them again (no TTL: remove them, or run `chaosbed cleanup`)."""
    return _process("stop", service, 1.0, instances, tag, configuration)


def pause_service(
    service: str, instances: int = 0, tag: str = "", configuration: Configuration = None
) -> Json:
    """Freeze `instances` of `service` (0: every one: SIGSTOP, docker pause) until
    `remove_faults` resumes them (no TTL: remove them, or run `chaosbed cleanup`)."""
    return _process("pause", service, 1.0, instances, tag, configuration)


def partition(
    side_a: typing.List[str],  # noqa: UP006 - "list" to chaos discover
    side_b: typing.List[str],  # noqa: UP006
    duration_s: float,
    one_way: bool = False,
    tag: str = "",
    configuration: Configuration = None,
) -> Json:
    """Cut the network between the services of `side_a` and those of `side_b` for
    `duration_s` (docker runtime: iptables in their namespaces), both ways, or with
    `one_way` only what `side_a` sends to `side_b`. Verified from inside: a connection
    across it fails."""
    sides: dict[str, Any] = (
        {"from": list(side_a), "to": list(side_b)}
        if one_way
        else {"between": [list(side_a), list(side_b)]}
    )
    return _fault("partition", duration_s, tag, configuration, **sides)


def isolate_service(
    service: str, duration_s: float, tag: str = "", configuration: Configuration = None
) -> Json:
    """Cut `service` off from every other service for `duration_s` (docker runtime)."""
    return _fault("isolate", duration_s, tag, configuration, target=service)


def add_packet_loss(
    percent: float,
    duration_s: float,
    target: str = "",
    edge: str = "",
    tag: str = "",
    configuration: Configuration = None,
) -> Json:
    """Lose `percent` of the packets `target` sends, or that cross `edge` ("playback ->
    catalog"), for `duration_s` (docker runtime)."""
    return _fault("loss", duration_s, tag, configuration, target=target, edge=edge,
                    percent=percent)  # fmt: skip


def limit_bandwidth(
    rate_kbit: int,
    duration_s: float,
    target: str = "",
    edge: str = "",
    tag: str = "",
    configuration: Configuration = None,
) -> Json:
    """Limit what `target` sends, or what crosses `edge`, to `rate_kbit` kilobits a second
    for `duration_s` (docker runtime: tc tbf)."""
    return _fault("bandwidth", duration_s, tag, configuration, target=target, edge=edge,
                    rate_kbit=rate_kbit)  # fmt: skip


def remove_faults(tag: str = "", configuration: Configuration = None) -> Json:
    """Roll back every fault the activities injected under `tag` ("": under every tag)
    and remove any rule still carrying it; fails naming what could not be rolled back."""
    return run(faults.remove(stack_of(configuration), tag or None))


def run_step(step: str) -> Json:
    """Play the step named `step` of the chaosbed experiment this run carries (an
    experiment written by `chaosbed export --format ctk`), at its offset from the
    method's start (at once when that has passed), for its duration:
    chaosbed's runner injects it, verifies it, holds it, confirms its effect on
    members and rolls it back, judging every SLO meanwhile. Needs chaosbed's control
    (chaos.ctk.control), which runs the chaosbed experiment."""
    playing = session.current()
    if playing is None:
        raise ActivityError(
            "run_step plays a step of the chaosbed experiment chaosbed's control runs: "
            "declare the control (chaos.ctk.control) and the experiment in `extensions` "
            "(`chaosbed export --format ctk` writes both)"
        )
    return playing.play(step)
