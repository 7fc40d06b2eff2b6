"""What a network fault becomes in one namespace: iptables and tc commands (pure).

Every rule a run adds lives in a chain of its own, `cb-<run id>-<step>`
(iptables allows 28 characters), jumped to from INPUT and OUTPUT by rules
carrying the comment `chaosbed-run-<run id>`. Bandwidth is a tbf qdisc at
the root of eth0 with a handle `cbNN:` of the run's own. Rollback deletes the
jumps, then flushes and deletes the chain, and deletes the qdisc only while
its handle is still the run's: exactly what the run added.

| rules in the chain   | for packets to (OUTPUT) / from (INPUT) each peer address   |
|----------------------|------------------------------------------------------------|
| cut                  | DROP both ways (partition both ways, isolate)              |
| one_way              | DROP the packets of connections this side opens (conntrack |
|                      | direction ORIGINAL out, REPLY in); the peer's connections  |
|                      | to this side, and their answers, still pass                |
| loss                 | count, then DROP at random with the asked probability      |
"""

from __future__ import annotations

import re
import shlex
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "CHAIN_PREFIX",
    "QDISC_MAJOR_PREFIX",
    "Mode",
    "NetRules",
    "chain_name",
    "qdisc_handle",
    "rollback_script",
    "tbf_script",
    "tbf_rollback_script",
]

CHAIN_PREFIX = "cb-"
CHAIN_MAX = 28
QDISC_MAJOR_PREFIX = "cb"
DEVICE = "eth0"
Mode = Literal["cut", "one_way", "loss"]


def chain_name(run_id: str, step_index: int) -> str:
    """`cb-<run id, letters and digits only>-<step index>`, at most 28 characters."""
    suffix = f"-{step_index}"
    compact = re.sub(r"[^0-9A-Za-z]", "", run_id)
    room = CHAIN_MAX - len(CHAIN_PREFIX) - len(suffix)
    if len(compact) > room:  # keep the end: the random part of the id
        compact = compact[-room:]
    return f"{CHAIN_PREFIX}{compact}{suffix}"


def qdisc_handle(run_id: str, step_index: int) -> str:
    """A tc handle `cbNN:` derived from the run and step (NN: two hex digits)."""
    low = zlib.crc32(f"{run_id}/{step_index}".encode()) & 0xFF
    return f"{QDISC_MAJOR_PREFIX}{low:02x}:"


@dataclass(frozen=True)
class NetRules:
    """The rules of one step in one namespace."""

    chain: str
    tag: str  # chaosbed-run-<run id>
    mode: Mode
    peers: tuple[str, ...]
    probability: float = 1.0

    def rule_specs(self) -> list[list[str]]:
        """The `-A <chain> ...` rules, in order."""
        comment = ["-m", "comment", "--comment", self.tag]
        specs: list[list[str]] = []
        for peer in self.peers:
            for way, flag in (("out", "-d"), ("in", "-s")):
                base = ["-A", self.chain, flag, peer, *comment]
                if self.mode == "cut":
                    specs.append([*base, "-j", "DROP"])
                elif self.mode == "one_way":
                    direction = "ORIGINAL" if way == "out" else "REPLY"
                    specs.append([*base, "-m", "conntrack", "--ctdir", direction, "-j", "DROP"])
                else:
                    specs.append(base)  # counts every packet to/from the peer
                    specs.append(
                        [
                            *base,
                            "-m",
                            "statistic",
                            "--mode",
                            "random",
                            "--probability",
                            f"{self.probability:.4f}",
                            "-j",
                            "DROP",
                        ]
                    )
        return specs

    def jumps(self) -> list[list[str]]:
        return [
            [hook, "-m", "comment", "--comment", self.tag, "-j", self.chain]
            for hook in ("INPUT", "OUTPUT")
        ]

    def inject_script(self) -> str:
        """Create the chain, fill it, then jump to it (first) from INPUT and OUTPUT."""
        lines = [_ipt("-N", self.chain)]
        lines += [_ipt(*spec) for spec in self.rule_specs()]
        lines += [_ipt("-I", jump[0], "1", *jump[1:]) for jump in self.jumps()]
        return "set -e\n" + "\n".join(lines) + "\n"

    def rollback_script(self) -> str:
        return rollback_script(self.chain, [j for j in self.jumps()])


def rollback_script(chain: str, jumps: Sequence[Sequence[str]]) -> str:
    """Delete each jump while it is there, then flush and delete the chain if it exists."""
    lines = []
    for jump in jumps:
        spec = " ".join(shlex.quote(a) for a in jump[1:])
        hook = jump[0]
        lines.append(f"while iptables -w -C {hook} {spec} 2>/dev/null; do")
        lines.append(f"  iptables -w -D {hook} {spec}; done")
    quoted = shlex.quote(chain)
    lines.append(f"if iptables -w -n -L {quoted} >/dev/null 2>&1; then")
    lines.append(f"  iptables -w -F {quoted}; iptables -w -X {quoted}; fi")
    return "set -e\n" + "\n".join(lines) + "\n"


def tbf_script(handle: str, rate_kbit: int) -> str:
    """A tbf at the root of eth0: rate, a burst of about 20 ms (at least 3000 bytes)."""
    burst = max(3000, rate_kbit * 1000 // 8 // 50)
    return (
        f"set -e\ntc qdisc add dev {DEVICE} root handle {handle} tbf "
        f"rate {rate_kbit}kbit burst {burst} latency 200ms\n"
    )


def tbf_rollback_script(handle: str) -> str:
    """Delete the root qdisc of eth0 only while it is still ours."""
    return (
        f"if tc qdisc show dev {DEVICE} root | grep -q '^qdisc tbf {handle} root'; then\n"
        f"  tc qdisc del dev {DEVICE} root handle {handle}; fi\n"
    )


def _ipt(*args: str) -> str:
    return "iptables -w " + " ".join(shlex.quote(a) for a in args)
