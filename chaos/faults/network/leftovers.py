"""What runs left in the services' network namespaces, and removing it.

A runner killed outright (SIGKILL) rolls nothing back. Everything the network
layer adds can be found again: chains named `cb-*` (rules.CHAIN_PREFIX) and
the INPUT/OUTPUT rules that jump to them, a root qdisc on eth0 whose handle
is `cbNN:`, and helper containers labelled `org.chaosbed.net-helper`.
`find` reads every running container's namespace (`iptables-save`, `tc qdisc
show`); `remove` deletes what it found and says what.
"""

from __future__ import annotations

import asyncio
import re
import shlex
from dataclasses import dataclass, field

from chaos.runtime.network import Namespace, NetworkLayer

from .rules import CHAIN_PREFIX, DEVICE, QDISC_MAJOR_PREFIX

__all__ = ["Leftover", "find", "parse", "remove", "removal_script"]

READ = f"iptables-save -t filter; echo '#--tc--'; tc qdisc show dev {DEVICE} root"
CLEANUP_RUN_ID = "cleanup"
_QDISC = re.compile(rf"^qdisc \S+ ({QDISC_MAJOR_PREFIX}[0-9a-f]{{2}}:) root")


@dataclass
class Leftover:
    """What one namespace still holds."""

    namespace: Namespace
    chains: list[str] = field(default_factory=list)
    jumps: list[list[str]] = field(default_factory=list)  # `-A HOOK ...` as saved
    qdisc: str | None = None

    def __bool__(self) -> bool:
        return bool(self.chains or self.jumps or self.qdisc)

    def describe(self) -> list[str]:
        where = f"{self.namespace.service} ({self.namespace.container})"
        said = [f"{where}: iptables chain {chain}" for chain in self.chains]
        said += [f"{where}: rule {' '.join(j)}" for j in self.jumps if j[-1] not in self.chains]
        if self.qdisc:
            said.append(f"{where}: tc qdisc {self.qdisc} on {DEVICE}")
        return said


def parse(namespace: Namespace, output: str) -> Leftover:
    """Read `READ`'s output: our chains, the rules jumping to them, our qdisc."""
    found = Leftover(namespace)
    for line in output.splitlines():
        if line.startswith(f":{CHAIN_PREFIX}"):
            found.chains.append(line[1:].split()[0])
        elif line.startswith("-A ") and f"-j {CHAIN_PREFIX}" in line:
            args = shlex.split(line)
            if args[1] in ("INPUT", "OUTPUT", "FORWARD"):
                found.jumps.append(args)
        elif match := _QDISC.match(line):
            found.qdisc = match.group(1)
    return found


def removal_script(left: Leftover) -> str:
    lines = ["set -e"]
    for jump in left.jumps:
        lines.append("iptables -w -D " + " ".join(shlex.quote(a) for a in jump[1:]))
    for chain in left.chains:
        lines.append(f"iptables -w -F {shlex.quote(chain)}")
    for chain in left.chains:
        lines.append(f"iptables -w -X {shlex.quote(chain)}")
    if left.qdisc:
        lines.append(f"tc qdisc del dev {DEVICE} root handle {left.qdisc}")
    return "\n".join(lines) + "\n"


async def find(namespaces: NetworkLayer) -> tuple[list[Leftover], list[str]]:
    """(what is left in each namespace, helper containers a killed runner left)."""
    running = await namespaces.all()

    async def read(ns: Namespace) -> Leftover:
        return parse(ns, await namespaces.run(ns, ["sh", "-c", READ], CLEANUP_RUN_ID))

    found = await asyncio.gather(*(read(ns) for ns in running))
    return [left for left in found if left], await namespaces.helpers(stale_only=True)


async def remove(namespaces: NetworkLayer) -> tuple[list[str], list[str]]:
    """(what was removed, what could not be)."""
    removed: list[str] = []
    failed: list[str] = []
    for name in await namespaces.helpers():  # first: a helper may still be adding rules
        try:
            await namespaces.remove_helper(name)
            removed.append(f"network helper {name}")
        except Exception as exc:  # noqa: BLE001 - reported, the others still cleaned
            failed.append(f"network helper {name}: {exc}")
    leftovers, _ = await find(namespaces)
    for left in leftovers:
        try:
            await namespaces.run(left.namespace, ["sh", "-c", removal_script(left)], "cleanup")
            removed += left.describe()
        except Exception as exc:  # noqa: BLE001 - reported, the others still cleaned
            failed.append(f"{left.namespace.container}: {exc}")
    return removed, failed
