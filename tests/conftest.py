"""What every test shares: pytest's own `pytester` fixture (for the tests of
chaosbed's pytest plugin); Ctrl-C as a terminal gives it, for the tests that
interrupt a command; and, when the suite runs on pytest-xdist workers, a
stack of each worker's own, with at most STACK_SLOTS tests driving stacks
at once.

Each xdist worker gets its own port base (CHAOSBED_PORT_BASE, see
chaos/runtime/layout.py): every stack a test starts through `chaosbed up` or
a runtime with the default layout lands on that worker's ports, so workers
run end-to-end tests side by side. Run alone (no xdist), the suite keeps
the usual ports. The container tests that run a compose project of a fixed
shape take a block and a project name of their worker's (tests/worker.py).

A test that drives a stack (marked e2e, docker or prometheus) takes one of
STACK_SLOTS slots shared by every worker for as long as it runs
(`stack_slots`); one that drives several stacks at once says how many with
`@pytest.mark.stacks(N)`. The other workers meanwhile run the fast tests.
One experiment on a stack costs about a quarter of a core (process) or a
third (docker), measured. The default is 3 slots on `make test`'s 3 workers:
while one worker runs the fast tests (the first minutes) at most two stacks
run beside it, and three once every worker is on stack tests. A library
experiment that judges sub-second latency holds every slot
(tests/chaos/experiments/library.py `runs_alone`): at 3 slots on 4 workers
(three stacks beside the fast tests) one read p99 609 ms against its 500 ms
objective before any fault. CHAOSBED_TEST_STACKS changes it; tests/BUDGET.md
has the figures. The slots themselves are in tests/slots.py.
"""

import atexit
import fcntl
import json
import os
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.leaks import stop_leftovers
from tests.slots import (
    RAN_AGAIN,
    STACK_SLOTS,
    alone_on_the_machine,
    cpu_stalled_us,
    slot_dir,
    slots,
)

pytest_plugins = ("pytester",)

# A suite started in the background by a shell without job control inherits
# SIGINT ignored, and so would every command a test interrupts with Ctrl-C
# (an ignored disposition survives exec): those tests would wait in vain. A
# terminal gives commands the default, so the suite does too.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

#: Worker gwK's stack is on the suite's base + K * WORKER_SPAN (room for ten
#: stacks of ten ports each: `verify --parallel` starts its lanes from that base).
#: Each suite running on the machine takes a base of its own, below the kernel's
#: ephemeral ports (held by a lock for as long as the suite runs, and handed to
#: its workers in SUITE_BASE_VARIABLE): two suites at once, say a developer's
#: beside a CI run, never share a port, a compose project or a leftover sweep.
SUITE_BASES = (14000, 24000, 10000)
WORKER_SPAN = 100
SUITE_BASE_VARIABLE = "CHAOSBED_TEST_SUITE_BASE"
_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
_suite_lock = None  # held open by the controlling process: its lock is the claim


def _claim_suite_base() -> str:
    global _suite_lock
    for base in SUITE_BASES:
        lock = open(Path(tempfile.gettempdir()) / f"chaosbed-test-suite-{base}.lock", "w")  # noqa: SIM115
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            continue
        _suite_lock = lock
        atexit.register(lock.close)  # released when the suite ends
        return str(base)
    raise pytest.UsageError(
        f"{len(SUITE_BASES)} test suites already run on this machine (port bases "
        f"{', '.join(map(str, SUITE_BASES))}); wait for one to finish"
    )


if not _worker and SUITE_BASE_VARIABLE not in os.environ:
    os.environ[SUITE_BASE_VARIABLE] = _claim_suite_base()  # the workers inherit it
if _worker.startswith("gw"):
    _base = int(os.environ.get(SUITE_BASE_VARIABLE, SUITE_BASES[0]))
    os.environ["CHAOSBED_PORT_BASE"] = str(_base + WORKER_SPAN * int(_worker[2:]))


@pytest.fixture(scope="module", autouse=True)
def no_stack_left_behind(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each module, nothing listens on this worker's ports: a stack left
    running is stopped, and the module that left it fails, instead of every later
    module of the worker failing at `up` with "already running"."""
    yield
    base = os.environ.get("CHAOSBED_PORT_BASE")
    if not _worker.startswith("gw") or base is None:
        return
    left = stop_leftovers(range(int(base), int(base) + WORKER_SPAN))
    if left:
        pytest.fail(
            f"{request.node.nodeid} left running on its worker's ports (now stopped): "
            + "; ".join(left),
            pytrace=False,
        )


_LIBRARY = os.path.join("tests", "chaos", "experiments")
#: The longest files (minutes each), started first, one per stack slot, so that no
#: worker is left with one of them at the end; the process library first, so that
#: its journals are there when mutate reads them as its baseline.
FIRST = (
    os.path.join(_LIBRARY, "test_library_process_1.py"),
    os.path.join(_LIBRARY, "test_library_process_2.py"),
)
#: The next long files, right after the fast tests: the docker shares on the first
#: two workers free (the fast tests' and the shorter process share's), mutate on the
#: third, after the whole process library, whose journals are its baseline (it wants
#: two slots); then the cluster. Each of its tests holds a slot, its `up` and `down`
#: every slot (the images loaded into three nodes: beside them an evening peak read
#: p99 1.4 s against 500 ms, a replication experiment's homepages 39%); a cluster
#: experiment whose verdict load can explain runs again holding every slot. Handed
#: out last instead, it ran about alone at the end of the suite: 15 of a 68-minute
#: run. Started first, beside the process library, its node drains and losses
#: broke its neighbours: six of the process library's first seventeen runs were
#: not steady (83-89% before any fault) or deviated, and ran again holding every
#: slot (the monkey day's five minutes among them).
AFTER_FAST = (
    os.path.join(_LIBRARY, "test_library_docker_1.py"),
    os.path.join(_LIBRARY, "test_library_docker_2.py"),
    os.path.join("tests", "chaos", "mutate", "test_mutate_process.py"),
    os.path.join("tests", "compose", "test_stack.py"),  # else the last, minutes alone
    os.path.join("tests", "cluster", "test_stack_on_cluster.py"),
)
#: Handed out last: the Swarm deploy, which holds every slot for its 90 s (images
#: loaded into three node containers).
LAST = (os.path.join("tests", "cluster", "test_swarm_deploy.py"),)
#: Markers of tests that start a stack, Prometheus or a browser.
HEAVY = ("e2e", "docker", "prometheus", "browser")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Order the files for the workers (`make test`: --dist loadfile hands out whole
    files in this order, so a module's shared stack starts once): FIRST, the files of
    fast tests only (the workers without a stack slot do them meanwhile), AFTER_FAST,
    the other files with a test that starts a stack, LAST. A stable sort: a file's
    tests keep their order."""
    root = str(config.rootpath)

    def where(item: pytest.Item) -> str:
        return os.path.relpath(str(item.path), root)

    heavy_files = {where(item) for item in items if any(item.get_closest_marker(m) for m in HEAVY)}

    def rank(item: pytest.Item) -> int:
        file = where(item)
        if file in FIRST:
            return FIRST.index(file)
        if file not in heavy_files:
            return len(FIRST)
        if file in AFTER_FAST:
            return len(FIRST) + 1 + AFTER_FAST.index(file)
        if file in LAST:
            return len(FIRST) + 2 + len(AFTER_FAST) + LAST.index(file)
        return len(FIRST) + 1 + len(AFTER_FAST)

    items.sort(key=rank)


@pytest.fixture(scope="session")
def suite_shared_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory every worker of this suite run sees (one process: its own temp dir):
    evidence one test writes and a later one on another worker may read, such as the
    process library's journals, which mutate reads as its unmutated baseline."""
    directory = slot_dir() or tmp_path_factory.getbasetemp()
    shared = directory / "shared"
    shared.mkdir(exist_ok=True)
    return shared


#: The fixtures by which a module holds its slots (its tests are marked `stacks(0)`).
MODULE_SLOT_FIXTURES = ("module_every_slot",)


@pytest.fixture(scope="module")
def module_every_slot() -> Iterator[None]:
    """Every stack slot, held by a module for all its tests: a short module whose
    setup is as heavy as a cluster's (the swarm's: images loaded into three nodes).
    A long one holds them for its setup and teardown only (`alone_on_the_machine`),
    or a test that wants every slot waits for all of the module, and the other
    workers behind it at the turnstile."""
    with alone_on_the_machine(regain=False):  # a module's fixture holds none before
        yield


@pytest.fixture(autouse=True)
def stack_slots(request: pytest.FixtureRequest) -> Iterator[None]:
    """While a test drives stacks, it holds that many of the shared slots."""
    marker = request.node.get_closest_marker("stacks")
    if marker:
        wanted = int(marker.args[0])
        if any(int(m.args[0]) == 0 for m in request.node.iter_markers("stacks")):
            if wanted:  # waiting for more while its module holds one could deadlock
                pytest.fail("a test of a module that holds its stack slots asks for more")
            if not set(MODULE_SLOT_FIXTURES) & set(request.fixturenames):
                pytest.fail(
                    "stacks(0): the module holds its slots through one of "
                    f"{', '.join(MODULE_SLOT_FIXTURES)}, which this test does not use"
                )
    else:
        wanted = 1 if any(request.node.get_closest_marker(m) for m in HEAVY[:3]) else 0
    directory = slot_dir()
    if not wanted or directory is None:
        yield
        return
    asked = time.time()
    with slots(directory, min(wanted, STACK_SLOTS)):
        _timeline_note(request.node.nodeid, "slot", asked=asked, slots=min(wanted, STACK_SLOTS))
        yield


#: Where each worker appends when each test started and ended, and when it got its
#: stack slots (JSON lines; tests/timeline.py draws the suite's lanes from it).
TIMELINE_VARIABLE = "CHAOSBED_TEST_TIMELINE"


def _timeline_note(nodeid: str, what: str, **fields: object) -> None:
    path = os.environ.get(TIMELINE_VARIABLE)
    if not path or not _worker.startswith("gw"):  # the suite's workers, not a nested run
        return
    record = {"worker": _worker, "test": nodeid, "what": what, "at": time.time()}
    if what in ("start", "end"):  # the machine's CPU pressure over each test
        record["cpu_stalled_us"] = cpu_stalled_us()
    with open(path, "a") as out:  # a short append: lines from workers never interleave
        out.write(json.dumps(record | fields) + "\n")


def pytest_runtest_logstart(nodeid: str, location: object) -> None:
    _timeline_note(nodeid, "start")


def pytest_runtest_logfinish(nodeid: str, location: object) -> None:
    _timeline_note(nodeid, "end")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.failed:  # in the timeline as it happens: pytest names failures at its end
        _timeline_note(report.nodeid, "failed", when=report.when)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The tests whose first verdict, beside other stacks, was not the predicted one,
    and what the second was: a green run shows them too."""
    lines = [
        f"{report.nodeid}: {value}"
        for outcome in ("passed", "failed")
        for report in terminalreporter.stats.get(outcome, [])
        if getattr(report, "when", "call") == "call"
        for name, value in getattr(report, "user_properties", [])
        if name == RAN_AGAIN
    ]
    if lines:
        terminalreporter.section("experiments run again")
        for line in lines:
            terminalreporter.write_line(line)
