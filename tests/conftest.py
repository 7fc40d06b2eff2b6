"""What every test shares: pytest's own `pytester` fixture (for the tests of
chaosbed's pytest plugin); Ctrl-C as a terminal gives it, for the tests that
interrupt a command; and, when the suite runs on pytest-xdist workers, a
stack of each worker's own.

Each xdist worker gets its own port base (CHAOSBED_PORT_BASE, see
chaos/runtime/layout.py): every stack a test starts through `chaosbed up` or
a runtime with the default layout lands on that worker's ports, so workers
run end-to-end tests side by side. Run alone (no xdist), the suite keeps
the usual ports. Tests that hold resources of their own no base moves (a
fixed compose project, fixed host ports) share an `xdist_group` and run on
one worker, one after another (`pytest_collection_modifyitems`).
"""

import os
import signal

import pytest

pytest_plugins = ("pytester",)

# A suite started in the background by a shell without job control inherits
# SIGINT ignored, and so would every command a test interrupts with Ctrl-C
# (an ignored disposition survives exec): those tests would wait in vain. A
# terminal gives commands the default, so the suite does too.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

#: Worker gwK's stack is on WORKER_BASE + K * WORKER_SPAN (room for ten stacks
#: of ten ports each: `verify --parallel` starts its lanes from that base).
WORKER_BASE = 14000
WORKER_SPAN = 100
_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _worker.startswith("gw"):
    os.environ["CHAOSBED_PORT_BASE"] = str(WORKER_BASE + WORKER_SPAN * int(_worker[2:]))

#: Test folders whose stacks use fixed resources (a compose project and host
#: ports of their own): each runs on one worker at a time.
FIXED_RESOURCES = {
    os.path.join("tests", "compose"): "compose-project",
    os.path.join("tests", "chaos", "runtime", "docker"): "docker-runtime-project",
    os.path.join("tests", "chaos", "faults", "network"): "network-project",
}


#: The longest runs (minutes each): started first, so that no worker is left
#: with one of them while the others have finished.
LONGEST_FIRST = (
    os.path.join("tests", "chaos", "mutate", "test_mutate_process.py"),
    os.path.join("tests", "chaos", "experiments", "test_library_docker.py"),
    os.path.join("tests", "chaos", "gameday", "test_short_gameday.py"),
)
#: Markers of tests that start a stack, Prometheus or a browser: next after those.
HEAVY = ("e2e", "docker", "prometheus", "browser")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Group the tests on fixed resources; order the rest longest first (a stable
    sort: a module's tests stay together, so its shared stack starts once)."""
    root = str(config.rootpath)

    def rank(item: pytest.Item) -> int:
        where = os.path.relpath(str(item.path), root)
        if where in LONGEST_FIRST:
            return LONGEST_FIRST.index(where)
        heavy = any(item.get_closest_marker(name) for name in HEAVY)
        return len(LONGEST_FIRST) + (0 if heavy else 1)

    for item in items:
        where = os.path.relpath(str(item.path), root)
        for folder, group in FIXED_RESOURCES.items():
            if where.startswith(folder + os.sep):
                item.add_marker(pytest.mark.xdist_group(group))
    items.sort(key=rank)
