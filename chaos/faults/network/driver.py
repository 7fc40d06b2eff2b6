"""The network layer's driver: partition, isolate, loss, bandwidth, in the namespaces
the runtime's `NetworkLayer` gives (chaos.runtime.network; the docker runtime has one).

inject   the rules (rules.py) go into the namespaces plan.py names, through
         the helper container; the handle records the chain or qdisc and the
         containers first, so a rollback after a half-done inject still finds them
verify   from inside the namespaces (probes.py): every cut direction refuses a
         TCP connect, the open direction of a one-way cut connects, Prometheus
         still reaches an isolated service; the loss the chain's counters
         measure over a burst of probes is near the asked rate; a stream
         offered at three times the limit leaves eth0 near the limit
confirm  at the step's end (effect.py): callers across the cut had calls fail or
         used a fallback (partition: either side's calls to the other; isolate,
         loss and bandwidth on a service: its callers' calls to it and its own
         calls, or member journeys entering it; loss on an edge: that edge's calls)
rollback the jumps, the chain, the qdisc of this injection, and nothing else;
         then checks that they are gone
TTL      beside the inject, a helper per namespace that runs the same rollback
         once the TTL and TTL_SLACK_S are over (`NetworkLayer.expire`): a runner
         or monkey killed outright leaves no rule behind for longer than that.
         The rollback waits for an inject cut short to land, then removes
         those helpers first, so a later fault is never ended early.

A fault that did nothing raises NotVerified (NoEffect when nobody saw it):
the run fails with exit 5.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from chaos.experiment.describe import describe_fault
from chaos.experiment.model import NetworkFault, Step
from chaos.runtime.network import Namespace, NetworkLayer
from chaos.slo import SliReader

from .. import effect
from ..base import Injection
from ..errors import InjectionFailed, NotVerified, RollbackFailed
from . import probes
from .plan import Reach, place, reach_checks, sides
from .rules import qdisc_handle, rollback_script, tbf_rollback_script, tbf_script

__all__ = ["DRIVEN", "TTL_SLACK_S", "NetworkFaultDriver", "evidence", "loss_tolerance"]

DRIVEN = ("partition", "isolate", "loss", "bandwidth")
T = TypeVar("T")
LOSS_PROBES = 400
BANDWIDTH_PROBE_S = 2.0
#: The rules' TTL helper waits this much longer than the TTL: it starts with the
#: inject, and a step's hold is counted from the end of the inject, then the
#: verification and the effect's grace come (an isolation's probes of cut
#: connections time out, a loss takes 400 probes).
TTL_SLACK_S = 10.0
#: The longest a rollback waits for an inject that was cut short to land.
PENDING_WAIT_S = 60.0
#: measured/asked bandwidth outside this range: the limit did not take (or throttles
#: far below what was asked)
BANDWIDTH_RANGE = (0.5, 1.3)


def evidence(fault: NetworkFault) -> list[effect.Look]:
    """Where callers and members would see `fault` (see the module's docstring)."""
    if fault.kind == "partition":
        if fault.between is not None:
            first, second = fault.between
        else:
            first, second = fault.from_ or (), fault.to or ()
        pairs = [(a, b) for a in first for b in second]  # one way loses the replies too
        return [look for a, b in pairs for look in [*effect.calls(a, b), *effect.calls(b, a)]]
    if fault.edge is not None:
        return effect.calls(fault.edge.caller, fault.edge.dependency)
    assert fault.target is not None
    target = fault.target
    return [
        *effect.calls(dependency=target),
        *effect.calls(caller=target),
        *effect.members(target),
    ]


def loss_tolerance(percent: float, seen: int) -> float:
    """How far a measured loss rate may be from the asked one: 4 sigma, plus 3 points."""
    p = percent / 100
    return 4 * math.sqrt(p * (1 - p) / max(1, seen)) + 0.03


class NetworkFaultDriver:
    layer = "network"

    def __init__(
        self,
        namespaces: NetworkLayer,
        *,
        run_id: str,
        tag: str,
        effect_grace: float = effect.GRACE_S,
        clock: Callable[[], float] = time.monotonic,
        ttl_slack: float = TTL_SLACK_S,
    ) -> None:
        """`ttl_slack`: how much longer than the TTL the rules' helper waits."""
        self._namespaces = namespaces
        self._ttl_slack = ttl_slack
        self._pending: dict[str, asyncio.Future[Any]] = {}
        self._effect_grace = effect_grace
        self._run_id = run_id
        self._tag = tag
        self._clock = clock
        self._count = 0

    def accepts(self, step: Step) -> bool:
        return isinstance(step.fault, NetworkFault) and step.fault.kind in DRIVEN

    async def inject(self, step: Step, injection: Injection, ttl: float) -> None:
        fault = step.fault
        assert isinstance(fault, NetworkFault)
        self._count += 1
        index = self._count
        started = self._clock()
        found = await self._namespaces.all()
        services = self._namespaces.services
        holders, peers = sides(fault, found, services)
        if not holders or (fault.kind != "bandwidth" and not any(p.addresses for p in peers)):
            raise InjectionFailed(step.name, "no running container on one side of the fault")
        injection.handle["containers"] = [ns.container for ns in holders]
        if fault.kind == "bandwidth":
            if fault.edge is not None or fault.rate_kbit is None:
                raise InjectionFailed(step.name, "bandwidth is limited on a target service only")
            handle = qdisc_handle(self._run_id, index)
            injection.handle["qdisc"] = handle
            script = tbf_script(handle, fault.rate_kbit)
            inject: Callable[[Namespace], str] = lambda _: script  # noqa: E731
        else:
            placements = place(
                fault, found, services, run_id=self._run_id, step_index=index, tag=self._tag
            )
            rules = {p.namespace.container: p.rules for p in placements}
            first = placements[0].rules
            injection.handle["chain"] = first.chain
            injection.handle["jumps"] = first.jumps()
            injection.handle["peers"] = list(first.peers)
            inject = lambda ns: rules[ns.container].inject_script()  # noqa: E731
        # named before they start: a rollback finds every one, whatever interrupted this
        helpers = {ns.container: f"chaosbed-ttl-{uuid.uuid4().hex[:12]}" for ns in holders}
        injection.handle["expiry"] = list(helpers.values())
        work = asyncio.ensure_future(
            asyncio.gather(  # both to the end: the rollback removes what they did
                self._each(step, holders, inject, InjectionFailed),
                self._arm_expiry(step, injection, holders, helpers, ttl + self._ttl_slack),
                return_exceptions=True,
            )
        )
        self._pending[step.name] = work  # a rollback waits for it: nothing lands after
        for outcome in await asyncio.shield(work):
            if isinstance(outcome, BaseException):
                raise outcome
        injection.handle["inject_s"] = round(self._clock() - started, 3)

    async def _arm_expiry(self, step: Step, injection: Injection, holders: Sequence[Namespace],
                          helpers: Mapping[str, str], after_s: float) -> None:  # fmt: skip
        """A helper per holder that rolls this injection back `after_s` from now."""
        script = _rollback_script(injection)

        async def one(ns: Namespace) -> None:
            name = helpers[ns.container]
            try:
                await self._namespaces.expire(ns, script, after_s, self._run_id, name)
            except Exception as exc:  # noqa: BLE001 - the engine's error, named
                raise InjectionFailed(step.name, f"{ns.container}: its TTL: {exc}") from exc

        for outcome in await asyncio.gather(*(one(ns) for ns in holders), return_exceptions=True):
            if isinstance(outcome, BaseException):
                raise outcome

    async def verify(self, step: Step, injection: Injection) -> None:
        fault = step.fault
        assert isinstance(fault, NetworkFault)
        started = self._clock()
        found = await self._namespaces.all()
        if fault.kind == "loss":
            injection.verification = await self._verify_loss(step, fault, injection, found)
        elif fault.kind == "bandwidth":
            injection.verification = await self._verify_bandwidth(step, fault, injection, found)
        else:
            checks = reach_checks(fault, found, self._namespaces.services, self._namespaces.scraper)
            injection.verification = await self._verify_reach(step, checks)
        injection.handle["verify_s"] = round(self._clock() - started, 3)

    async def confirm_effect(
        self, step: Step, injection: Injection, reader: SliReader, since: float
    ) -> None:
        fault = step.fault
        assert isinstance(fault, NetworkFault)
        injection.effect = await effect.confirm(
            step.name,
            describe_fault(fault),
            evidence(fault),
            reader,
            since,
            grace=self._effect_grace,
            clock=self._clock,
        )

    async def rollback(self, step: Step, injection: Injection) -> None:
        names = injection.handle.get("containers")
        if not names:
            injection.rollback = "nothing was injected"
            return
        started = self._clock()
        pending = self._pending.pop(step.name, None)
        if pending is not None and not pending.done():  # an inject cut short: let it land
            await asyncio.wait({pending}, timeout=PENDING_WAIT_S)
        helpers = list(injection.handle.get("expiry", []))
        # first, all of them side by side: never two rollbacks at once
        removals = await asyncio.gather(
            *(self._namespaces.remove_helper(helper) for helper in helpers),
            return_exceptions=True,
        )
        unremoved = [  # the engine's error, said after the rules go
            f"its TTL helper {helper}: {outcome}"
            for helper, outcome in zip(helpers, removals, strict=True)
            if isinstance(outcome, BaseException)
        ]
        holders = [ns for ns in await self._namespaces.all() if ns.container in names]
        if "qdisc" in injection.handle:
            handle = str(injection.handle["qdisc"])
            script = _rollback_script(injection) + _gone_qdisc(handle)
            what = f"qdisc {handle} removed from eth0 of"
        else:
            chain = str(injection.handle["chain"])
            script = _rollback_script(injection) + _gone_chain(chain)
            what = f"chain {chain} and its jumps removed from"
        await self._each(step, holders, lambda _: script, RollbackFailed)
        injection.handle["rollback_s"] = round(self._clock() - started, 3)
        if unremoved:  # the rules are gone; the helper, acting later, finds nothing to remove
            raise RollbackFailed(step.name, "; ".join(unremoved))
        gone = sorted(set(names) - {ns.container for ns in holders})
        injection.rollback = f"{what} {', '.join(ns.container for ns in holders) or 'none'}"
        if gone:
            injection.rollback += f" ({', '.join(gone)} no longer running: nothing to remove)"

    # -- verification ---------------------------------------------------------

    async def _verify_reach(self, step: Step, checks: Sequence[Reach]) -> str:
        by_source: dict[str, list[Reach]] = {}
        for check in checks:
            by_source.setdefault(check.source.container, []).append(check)

        async def probe(group: list[Reach]) -> list[tuple[Reach, bool]]:
            # a cut holds on every address of the target (in the cluster: its pod's and
            # its Service's); a path that stays open is shown by its first
            asked = [c.target.addresses if not c.expect else c.target.addresses[:1] for c in group]
            for check, each in zip(group, asked, strict=True):
                if not each:  # no probe is no evidence, either way
                    raise NotVerified(
                        step.name, f"{check.target.service} ({check.target.container}) has no "
                        "address to probe",
                    )  # fmt: skip
            targets = [
                (a, c.target.port or 0) for c, each in zip(group, asked, strict=True) for a in each
            ]
            out = await self._run(group[0].source, probes.argv(probes.REACH, _reach(targets)))
            answers = iter(probes.parse_reach(out, len(targets)))
            return [
                (c, any([next(answers) for _ in each]))
                for c, each in zip(group, asked, strict=True)
            ]

        groups = await _gather(probe(g) for g in by_source.values())
        results = [r for group in groups for r in group]
        wrong = [c for c, reached in results if reached != c.expect]
        if wrong:
            raise NotVerified(
                step.name, "the cut did not take: " + "; ".join(
                    f"{c.source.service} {'reached' if c.expect is False else 'could not reach'} "
                    f"{c.target.service}" for c in wrong
                ),
            )  # fmt: skip
        return "; ".join(c.describe() for c, _ in results)

    def _holders(
        self, step: Step, injection: Injection, found: Sequence[Namespace]
    ) -> list[Namespace]:
        """Every running namespace that holds this injection's rules: each is measured."""
        holders = [ns for ns in found if ns.container in injection.handle["containers"]]
        if not holders:
            raise NotVerified(step.name, "no namespace that holds the rules is running")
        return holders

    async def _verify_loss(
        self, step: Step, fault: NetworkFault, injection: Injection, found: Sequence[Namespace]
    ) -> str:
        holders = self._holders(step, injection, found)
        chain, peers = str(injection.handle["chain"]), list(injection.handle["peers"])
        argv = probes.argv(probes.LOSS, chain, _json(peers), str(LOSS_PROBES))

        async def one(holder: Namespace) -> probes.Loss:
            return probes.parse_loss(await self._run(holder, argv))

        measured = await _gather(one(holder) for holder in holders)
        asked = fault.percent / 100
        worst = max(measured, key=lambda m: abs(m.rate - asked))
        injection.handle["measured_loss_percent"] = round(100 * worst.rate, 2)
        said = (
            "; ".join(
                f"{100 * m.rate:.1f}% of {m.seen} packets dropped in {_named(h, holders)}"
                for h, m in zip(holders, measured, strict=True)
            )
            + f" (asked {fault.percent:g}%)"
        )
        if any(
            m.seen < LOSS_PROBES // 2 or abs(m.rate - asked) > loss_tolerance(fault.percent, m.seen)
            for m in measured
        ):
            raise NotVerified(step.name, f"loss not near the asked rate: {said}")
        return said

    async def _verify_bandwidth(
        self, step: Step, fault: NetworkFault, injection: Injection, found: Sequence[Namespace]
    ) -> str:
        assert fault.rate_kbit is not None
        rate = fault.rate_kbit
        holders = self._holders(step, injection, found)
        names = injection.handle["containers"]
        peer = next((ns for ns in found if ns.container not in names and ns.addresses), None)
        if peer is None:
            raise NotVerified(step.name, "no other running namespace to send the probe to")
        argv = probes.argv(probes.BANDWIDTH, peer.addresses[0], str(rate), str(BANDWIDTH_PROBE_S))

        async def one(holder: Namespace) -> probes.Bandwidth:
            return probes.parse_bandwidth(await self._run(holder, argv))

        measured = await _gather(one(holder) for holder in holders)
        low, high = BANDWIDTH_RANGE
        worst = max(measured, key=lambda m: abs(m.kbit / rate - 1))
        injection.handle["measured_kbit"] = round(worst.kbit, 1)
        said = (
            "; ".join(
                f"{m.kbit:.0f} kbit/s left {_named(h, holders)}'s eth0 while "
                f"{m.offered_kbit:.0f} were offered"
                for h, m in zip(holders, measured, strict=True)
            )
            + f" (asked {rate} kbit/s)"
        )
        if any(not low <= m.kbit / rate <= high for m in measured):
            raise NotVerified(step.name, f"bandwidth not capped near the asked rate: {said}")
        return said

    # -- running the helper -------------------------------------------------------

    async def _each(
        self,
        step: Step,
        holders: Sequence[Namespace],
        script: Callable[[Namespace], str],
        error: type[InjectionFailed] | type[RollbackFailed],
    ) -> None:
        async def one(ns: Namespace) -> None:
            try:
                await self._run(ns, ["sh", "-c", script(ns)])
            except Exception as exc:  # noqa: BLE001 - the helper's or the engine's error, named
                raise error(step.name, f"{ns.container}: {exc}") from exc

        await _gather(one(ns) for ns in holders)

    async def _run(self, namespace: Namespace, argv: Sequence[str]) -> str:
        return await self._namespaces.run(namespace, argv, self._run_id)


async def _gather(jobs: Iterable[Awaitable[T]]) -> list[T]:
    return list(await asyncio.gather(*jobs))


def _named(holder: Namespace, holders: Sequence[Namespace]) -> str:
    """A holder by its service, and by its instance where the service has several."""
    many = sum(1 for ns in holders if ns.service == holder.service) > 1
    return f"{holder.service} ({holder.container})" if many else holder.service


def _json(value: object) -> str:
    return json.dumps(value)


def _reach(targets: Sequence[tuple[str, int]]) -> str:
    return probes.reach_args(targets)


def _rollback_script(injection: Injection) -> str:
    """What undoes this injection's rules in one namespace (the handle says which)."""
    if "qdisc" in injection.handle:
        return tbf_rollback_script(str(injection.handle["qdisc"]))
    return rollback_script(str(injection.handle["chain"]), injection.handle["jumps"])


def _gone_chain(chain: str) -> str:
    """Fail (exit 1) while the chain, or a rule jumping to it, is still there."""
    return (
        f"if iptables -w -n -L {chain} >/dev/null 2>&1 || iptables -w -S | grep -q -- '-j {chain}$'"
        f"; then echo 'chain {chain} is still there' >&2; exit 1; fi\n"
    )


def _gone_qdisc(handle: str) -> str:
    return (
        f"if tc qdisc show dev eth0 root | grep -q ' {handle} root'"
        f"; then echo 'qdisc {handle} is still there' >&2; exit 1; fi\n"
    )
