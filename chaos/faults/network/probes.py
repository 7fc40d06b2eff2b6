"""Measurements made from inside a namespace, by the helper's python3.

Each probe is a small program run as `python3 -c PROGRAM ARG`; it prints
one JSON line, which the parse functions here read.

- reach: a TCP connect to each (address, port), all at once, 1.5 s at most each;
- loss: the chain's counters around a burst of small UDP probes to the
  peers: packets counted by the chain, and dropped by its random-drop rules;
- bandwidth: eth0's qdisc counter ("Sent N bytes") around a bounded UDP
  stream to a peer, offered at about three times the asked rate for 2 s.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "BANDWIDTH",
    "LOSS",
    "REACH",
    "Bandwidth",
    "Loss",
    "argv",
    "parse_bandwidth",
    "parse_loss",
    "parse_reach",
]

REACH = """
import json, socket, sys, threading
targets = json.loads(sys.argv[1])
out = [False] * len(targets)
def connect(index, address, port):
    s = socket.socket(); s.settimeout(1.5)
    try:
        s.connect((address, port)); out[index] = True
    except OSError:
        pass
    finally:
        s.close()
threads = [threading.Thread(target=connect, args=(i, *t)) for i, t in enumerate(targets)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(json.dumps(out))
"""

LOSS = """
import json, socket, subprocess, sys, time
chain, peers, count = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
def counters():
    text = subprocess.run(["iptables", "-w", "-n", "-v", "-x", "-L", chain],
                          capture_output=True, text=True, check=True).stdout
    seen = dropped = 0
    for line in text.splitlines()[2:]:
        fields = line.split()
        if len(fields) > 2 and fields[0].isdigit():
            if "statistic" in line and fields[2] == "DROP":
                dropped += int(fields[0])
            elif "statistic" not in line:
                seen += int(fields[0])
    return seen, dropped
seen0, dropped0 = counters()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(count):
    try:
        s.sendto(b"chaosbed-loss-probe", (peers[i % len(peers)], 9))
    except OSError:
        pass
    if i % 50 == 49:
        time.sleep(0.01)
time.sleep(0.2)
seen1, dropped1 = counters()
print(json.dumps({"seen": seen1 - seen0, "dropped": dropped1 - dropped0}))
"""

BANDWIDTH = """
import json, re, socket, subprocess, sys, time
peer, rate_kbit, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
def sent():
    text = subprocess.run(["tc", "-s", "qdisc", "show", "dev", "eth0", "root"],
                          capture_output=True, text=True, check=True).stdout
    return int(re.search(r"Sent (\\d+) bytes", text).group(1))
payload = b"x" * 1200
offered_per_s = max(3 * rate_kbit * 125, 60000)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
before, start, offered = sent(), time.monotonic(), 0
while (elapsed := time.monotonic() - start) < seconds:
    if offered < elapsed * offered_per_s:
        try:
            s.sendto(payload, (peer, 9)); offered += len(payload)
        except OSError:
            time.sleep(0.001)
    else:
        time.sleep(0.002)
elapsed = time.monotonic() - start
print(json.dumps({"bytes": sent() - before, "seconds": elapsed, "offered": offered}))
"""


def argv(program: str, *args: str) -> list[str]:
    return ["python3", "-c", program, *args]


def reach_args(targets: Sequence[tuple[str, int]]) -> str:
    return json.dumps([list(t) for t in targets])


def parse_reach(output: str, count: int) -> list[bool]:
    answers = json.loads(_last_line(output))
    if not isinstance(answers, list) or len(answers) != count:
        raise ValueError(f"reach probe: expected {count} answers, got {output!r}")
    return [bool(a) for a in answers]


@dataclass(frozen=True)
class Loss:
    seen: int
    dropped: int

    @property
    def rate(self) -> float:
        return self.dropped / self.seen if self.seen else 0.0


def parse_loss(output: str) -> Loss:
    data = json.loads(_last_line(output))
    return Loss(int(data["seen"]), int(data["dropped"]))


@dataclass(frozen=True)
class Bandwidth:
    bytes: int
    seconds: float
    offered: int

    @property
    def kbit(self) -> float:
        return self.bytes * 8 / 1000 / self.seconds if self.seconds > 0 else 0.0

    @property
    def offered_kbit(self) -> float:
        return self.offered * 8 / 1000 / self.seconds if self.seconds > 0 else 0.0


def parse_bandwidth(output: str) -> Bandwidth:
    data = json.loads(_last_line(output))
    return Bandwidth(int(data["bytes"]), float(data["seconds"]), int(data["offered"]))


def _last_line(output: str) -> str:
    lines = [line for line in output.strip().splitlines() if line.strip()]
    if not lines:
        raise ValueError("the probe printed nothing")
    return lines[-1]
