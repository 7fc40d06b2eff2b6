"""The bad-deploy game day in both runtimes, through the CLI: `chaosbed up`, then
`chaosbed gameday chaos/gamedays/bad-deploy.yaml --no-pause`. The release with
partial-sync-tv is deployed mid-run to every profiles replica (a supervised process
restarted with it, or the one container recreated with it); the game day ends as
predicted (deviated), the journal names the partial syncs by op id and blames them on
tv (checked op by op against the history saved beside it), and afterwards every
replica runs its own environment again: no release recorded or in its environment
(process runtime: no mutant in its log since its last start), and a TV's sync is
applied whole. Beside other stacks, a game day whose only findings off tv are ones
load gives (stale reads) is played again holding every slot, where it must blame tv
alone. Needs the stack's ports (CHAOSBED_PORT_BASE, which the suite sets per
worker); `pytest -m e2e` (process) or `-m docker`."""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from chaos.history.values import value_preferences
from chaos.runtime import StackPorts
from chaos.runtime.docker import DockerRuntime
from chaos.runtime.process import ProcessRuntime
from services.topology import PROFILES_REPLICAS
from services.vocabulary.devices import DEVICE_TYPE_HEADER, UNKNOWN_DEVICE_TYPE
from tests.chaos.experiments.library import load_can_explain
from tests.compose.compose_support import require_docker_images
from tests.slots import (
    RAN_AGAIN,
    alone_on_the_machine,
    cpu_stalled_us,
    cpu_waited_since,
    holds_every_slot,
)

BAD_DEPLOY = Path(__file__).parents[3] / "chaos" / "gamedays" / "bad-deploy.yaml"
REPLICAS = tuple(PROFILES_REPLICAS.values())
BANNER = "--- chaosbed supervisor: starting "


def history_expectation(journal: dict[str, Any]) -> dict[str, Any]:
    (found,) = [e for e in journal["expectations"] if e["expectation"].startswith("the profiles")]
    return dict(found)


def listed(pattern: str, text: str) -> str:
    match = re.search(pattern, text)
    assert match is not None, f"{pattern!r} not in {text!r}"
    return match[1]


def by_device_type(measured: str) -> dict[str, dict[str, int]]:
    """The findings by device type, as the history expectation reports them."""
    rows = re.findall(
        r"(?:by device type: |; )(tv|mobile|web|unknown) ([a-z-]+ \d+(?:, [a-z-]+ \d+)*)", measured
    )
    return {
        device: {kind: int(n) for kind, n in (part.rsplit(" ", 1) for part in row.split(", "))}
        for device, row in rows
    }


def ops_in(history: Path) -> dict[int, tuple[str, str]]:
    """op id -> (device type, kind) of every operation the saved history invoked."""
    events = [json.loads(line) for line in history.read_text().splitlines()]
    return {e["op"]: (e["device_type"], e["kind"]) for e in events if e.get("type") == "invoke"}


async def sync_as_a_tv(port: int) -> dict[str, Any]:
    """A TV's sync of every field for a new member; the preferences the replica answers."""
    member = f"m-bd{uuid.uuid4().hex[:8]}"
    changes = value_preferences(4242)
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"http://127.0.0.1:{port}/profiles/{member}/sync",
            json={"base_version": 0, "changes": changes},
            headers={DEVICE_TYPE_HEADER: "tv", "Idempotency-Key": uuid.uuid4().hex},
        ) as answer,
    ):
        assert answer.status == 200, await answer.text()
        body = await answer.json()
    return {"sent": changes, "applied": body["preferences"]}


async def rolled_back(runtime: ProcessRuntime | DockerRuntime) -> None:
    """After the game day's rollback: every replica on its own environment (no release
    recorded; on the process runtime no mutant in its log since its last start), and a
    TV's sync applied whole."""
    assert [i.release for i in await runtime.instances()] == [()] * len(runtime.services)
    assert runtime.paths.releases() == {}
    for replica in REPLICAS if isinstance(runtime, ProcessRuntime) else ():
        log = runtime.paths.service_log(replica).read_text()
        since_last_start = log[log.rindex(BANNER) :]
        assert "MUTANT" not in since_last_start
        assert "release CHAOSBED" not in since_last_start
    port = StackPorts.from_environment().services["profiles"]
    synced = await sync_as_a_tv(port)
    assert synced["applied"] == synced["sent"]


#: The findings that decide which load alone gives a device type other than tv: a read
#: of a version older than one acknowledged more than 5 s before it (replication lagging
#: that long). In a clean-clone run (CI) beside other stacks (a library run of the same
#: minutes read some task waiting for a CPU 68% of its time), the game day's warm-up
#: made three such reads, one of web's and two of tv's, all before the first fault (ops
#: 27-163 of 3,372). Its devices were starved: each such read came more than 5 s after
#: the write it missed, so its first 164 ops took over 5 s, where alone they take 0.66 s
#: (and 10,025 ops in all).
LOAD_CAN_FIND = {"stale"}


def blamed_beyond_tv(measured: str) -> dict[str, set[str]]:
    """The kinds of finding that decide, by device type, blamed on neither tv nor no
    one ("unknown": a mixed version that writes of two device types could have made);
    a stale read during the restarts is reported only, and not here."""
    return {
        device: set(kinds) - {"stale-in-fault"}
        for device, kinds in by_device_type(measured).items()
        if device not in ("tv", UNKNOWN_DEVICE_TYPE) and set(kinds) - {"stale-in-fault"}
    }


@pytest.mark.parametrize(
    "runtime_name",
    [
        pytest.param("process", marks=pytest.mark.e2e),
        pytest.param("docker", marks=pytest.mark.docker),
    ],
)
async def test_the_bad_deploy_is_found_blamed_on_tv_and_rolled_back(
    tmp_path: Path, runtime_name: str, record_property: Callable[[str, object], None]
) -> None:
    state, out = tmp_path / "state", tmp_path / "out"

    def chaosbed(*argv: str) -> subprocess.CompletedProcess[str]:
        where = ("--runtime", runtime_name, "--state-dir", str(state))
        return subprocess.run(
            [sys.executable, "-m", "chaos", *argv, *where],
            capture_output=True, text=True, timeout=300, check=False, stdin=subprocess.DEVNULL,
        )  # fmt: skip

    def up() -> ProcessRuntime | DockerRuntime:
        done = chaosbed("up")
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        # docker: the layout `up` wrote (ports, project)
        return ProcessRuntime(state) if runtime_name == "process" else DockerRuntime(state)

    def gameday() -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
        done = chaosbed("gameday", str(BAD_DEPLOY), "--no-pause", "--out", str(out))
        sys.stdout.write(done.stdout[-4000:] + done.stderr[-2000:])
        assert (out / "gameday.json").is_file(), done.stdout[-3000:] + done.stderr[-2000:]
        (act,) = json.loads((out / "gameday.json").read_text())["experiments"]
        return done, dict(act)

    def load_gave(done: subprocess.CompletedProcess[str], act: dict[str, Any]) -> str | None:
        """What, of this game day's outcome, load alone can give instead of a verdict
        blamed on tv alone (None: nothing, or not only that)."""
        journal = act["journal"]
        if done.returncode != 0:  # not steady before any fault, on SLO readings only
            if load_can_explain(journal, done.returncode, "deviated"):
                return f"exit {done.returncode}: " + "; ".join(journal["reasons"])
            return None
        beyond = blamed_beyond_tv(history_expectation(journal)["measured"])
        if beyond and set().union(*beyond.values()) <= LOAD_CAN_FIND:
            return "found off tv: " + ", ".join(f"{d} {sorted(k)}" for d, k in beyond.items())
        return None

    if runtime_name == "docker":
        require_docker_images()
    runtime: ProcessRuntime | DockerRuntime = (
        ProcessRuntime(state) if runtime_name == "process" else DockerRuntime(state)
    )
    with contextlib.ExitStack() as alone:
        try:
            runtime = up()
            busy, stalled, began = not holds_every_slot(), cpu_stalled_us(), time.monotonic()
            done, act = gameday()
            # Beside other stacks, what a starved machine gives (a warm-up not steady,
            # stale reads off tv): the whole game day once more, on a new stack, holding
            # every slot, where it must end as predicted and blame tv alone.
            gave = load_gave(done, act) if busy else None
            if gave is not None:
                said = (
                    f"bad-deploy: {gave} beside other stacks (some task waited for a CPU"
                    f" {cpu_waited_since(stalled, began)} of the run's time)"
                )
                sys.stdout.write(f"\n{said}; the game day again holding every slot\n")
                record_property(RAN_AGAIN, said)
                await rolled_back(runtime)  # what the first run left is checked too
                runtime.down()
                out.rename(tmp_path / "out.beside-others")
                alone.enter_context(alone_on_the_machine(regain=False))
                runtime = up()
                done, act = gameday()
                again = f"bad-deploy: again holding every slot, exit {done.returncode}"
                record_property(RAN_AGAIN, again)
            assert done.returncode == 0, done.stdout[-3000:]
            assert "1 of 1 as predicted" in done.stdout

            journal = act["journal"]
            assert (act["predicts"], act["verdict"]) == ("deviated", "deviated")
            assert [f["step"] for f in journal["faults"]] == [
                "release-us",
                "release-eu",
                "release-apac",
            ]
            assert all(f["effect"].startswith("release CHAOSBED_MUTANT") for f in journal["faults"])
            found = history_expectation(journal)
            assert found["met"] is False
            measured = found["measured"]
            # the partial syncs, by op id, and the findings by device type: tv only
            written = listed(r"partial writes by tv: ops \[([\d, ]+)\]", measured)
            partial_writes = [int(n) for n in written.split(",")]
            assert "partial writes by mobile" not in measured
            assert "partial writes by web" not in measured
            blamed = by_device_type(measured)
            assert "partial" in blamed["tv"], measured
            # what decides is blamed on tv only (a stale read during the restarts is
            # reported only); a mixed version whose writer's answer never came, and that
            # unanswered writes of two device types could have made, is blamed on no
            # one ("unknown")
            assert blamed_beyond_tv(measured) == {}, measured
            unknown = blamed.get(UNKNOWN_DEVICE_TYPE, {})
            assert set(unknown) <= {"partial", "stale-in-fault"}, measured
            assert unknown.get("partial", 0) * 10 <= blamed["tv"]["partial"], measured  # rare
            history = Path(act["journal_path"]).with_suffix(".history.jsonl")
            ops = ops_in(history)  # op by op, from the history: every one a TV's sync
            assert {ops[op] for op in partial_writes} == {("tv", "sync")}

            await rolled_back(runtime)
        finally:
            runtime.down()
