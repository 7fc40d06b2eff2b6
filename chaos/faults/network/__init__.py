"""The network layer: iptables and tc in the services' namespaces, which a runtime
with network namespaces gives as `Runtime.network` (the docker runtime does).

rules.py      the iptables chain and tc qdisc of one step (pure)
plan.py       which namespaces hold the rules, which peers they name, what to check
probes.py     measurements from inside a namespace (reach, loss, bandwidth)
driver.py     NetworkFaultDriver: inject, verify, rollback
leftovers.py  what killed runs left, for preflight and `chaosbed cleanup`
"""

from .driver import DRIVEN, NetworkFaultDriver

__all__ = ["DRIVEN", "NetworkFaultDriver"]
