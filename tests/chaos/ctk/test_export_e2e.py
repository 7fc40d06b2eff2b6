"""Experiments of chaosbed's library exported with `chaosbed export --format ctk` and
run by the real `chaos run` (Chaos Toolkit) against a process stack: the verdict is
chaosbed's (held: completed; deviated: deviated), an abort condition and a SIGINT
mid-fault stop the run (interrupted) with every fault rolled back, and nothing is
left on the stack. Needs its worker's ports free (`pytest -m e2e`)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from chaos.cli import main
from chaos.ctk import reads
from chaos.ctk.stack import run
from chaos.runtime.process import ProcessRuntime
from tests.chaos.experiments.library import judged_alone_if_busy

from .conftest import chaos, run_argv

pytestmark = pytest.mark.e2e

LIBRARY = Path(__file__).parents[3] / "chaos" / "experiments"
HELD = LIBRARY / "catalog-popular-erroring.yaml"
DEVIATED = LIBRARY / "playback-catalog-errors-over-budget.yaml"
#: Its steady state asks 50%: the abort (below 90 for 2 s) decides, and a 99% objective
#: beside other stacks can read not steady, which ends the run before any fault.
ABORTED = """\
title: Every playback lookup of a title fails; the abort condition stops the run
hypothesis: Starts fail at once; the run stops within seconds rather than hold the fault.
predicts: deviated
load: {rate: 40, mix: {play: 100}, members: 50}
steady_state:
  warmup: 6s
  hold: 3s
  slos:
    - {name: play-ok, availability: {service: playback, source: members}, objective: 50, window: 5s}
method:
  - {fault: error, edge: playback -> catalog, status: 503, duration: 60s}
abort_when:
  - {slo: play-ok, below: 90, for: 2s}
"""

#: Held for a minute unless a signal stops it; steady (10%) at any load the machine gives
#: a stack beside others, where a 99% objective can read not steady, and then nothing is
#: injected to stop (a stall read plays at 47.4% beside others, their breakers open: a
#: stack serving a tenth of its homepages is broken, not busy).
SIGNALLED = """\
title: Catalog's popular list erroring for a minute; the run is stopped mid-fault
hypothesis: Homepages fall back to the cached popular list.
predicts: held
load: {rate: 20, mix: {homepage: 100}, members: 50}
steady_state:
  warmup: 4s
  hold: 2s
  slos:
    - name: homepage-ok
      availability: {service: recommendations, source: members}
      objective: 10
      window: 5s
method:
  - {fault: error, target: catalog, route: /popular, status: 503, duration: 60s}
"""


def exported(experiment: Path, tmp_path: Path) -> Path:
    path = tmp_path / f"{experiment.stem}.json"
    assert main(["export", "--format", "ctk", str(experiment), "-o", str(path)]) == 0
    return path


def on_stack(state_dir: Path) -> dict[str, str]:
    """The environment that names the stack, as a user's shell after `chaosbed up` would."""
    return {**os.environ, "CHAOSBED_STATE_DIR": str(state_dir)}


def leftovers(state_dir: Path) -> list[str]:
    return list(run(reads.leftovers(ProcessRuntime(state_dir))))


def chaos_run_judged(
    source: Path,
    path: Path,
    journal_path: Path,
    state_dir: Path,
    record: Callable[[str, object], None],
) -> subprocess.CompletedProcess[str]:
    """`chaos run` of `path` (exported from `source`), to its end; a run that load can
    explain is played again holding every stack slot, as the library's own runs are
    (the first run's CTK journal kept beside, as journal.beside-others.json)."""

    def attempt() -> subprocess.CompletedProcess[str]:
        return chaos("run", "--journal-path", str(journal_path), str(path),
                     cwd=path.parent, env=on_stack(state_dir))  # fmt: skip

    def chaosbeds_journal(_: object) -> dict[str, Any]:
        said = json.loads(journal_path.read_text()).get("chaosbed", {}).get("run")
        assert said, "CTK's journal says nothing of chaosbed's run"
        return dict(json.loads(Path(said["journal"]).read_text()))

    def status(done: subprocess.CompletedProcess[str]) -> int:
        """chaosbed's exit, when CTK's run ended as that exit makes it end (1, and the
        control failed at nothing); else -1, which load never gives."""
        if done.returncode != 1 or json.loads(journal_path.read_text())["chaosbed"]["failed"]:
            return -1
        return int(chaosbeds_journal(None)["exit_code"])

    def set_aside(_: object) -> None:
        assert leftovers(state_dir) == []
        journal_path.rename(journal_path.with_name("journal.beside-others.json"))

    return judged_alone_if_busy(source, attempt, status, chaosbeds_journal, set_aside, record)


def chaosbed_run(journal: dict[str, Any]) -> dict[str, Any]:
    """What chaosbed's control wrote into CTK's journal about its run."""
    said = journal["chaosbed"]
    assert not said["failed"], said
    run_said: dict[str, Any] = said["run"]
    chaosbed_journal = json.loads(Path(run_said["journal"]).read_text())
    assert chaosbed_journal["verdict"] == run_said["verdict"]
    assert Path(run_said["report"]).is_file()
    return run_said


@pytest.mark.parametrize(
    ("experiment", "code", "deviated", "verdict"),
    [(HELD, 0, False, "held"), (DEVIATED, 1, True, "deviated")],
    ids=["held", "deviated"],
)
def test_an_exported_experiment_reaches_chaosbeds_verdict_under_chaos_run(
    state_dir: Path,
    tmp_path: Path,
    experiment: Path,
    code: int,
    deviated: bool,
    verdict: str,
    record_property: Callable[[str, object], None],
) -> None:
    """A run that load can explain (in a grading run, the deviating experiment's plays
    read 90% before any fault beside other stacks: not steady, CTK's run interrupted) is
    played again holding every stack slot, as the library's own runs are."""
    path, journal_path = exported(experiment, tmp_path), tmp_path / "journal.json"
    done = chaos_run_judged(experiment, path, journal_path, state_dir, record_property)
    journal = json.loads(journal_path.read_text())
    assert done.returncode == code, done.stderr[-3000:]
    assert journal["status"] == "completed" and journal["deviated"] is deviated
    said = chaosbed_run(journal)
    assert said["verdict"] == verdict, said["reasons"]
    step = journal["run"][0]
    assert step["status"] == "succeeded" and step["output"]["run"] == said["run"]
    (probe,) = journal["steady_states"]["after"]["probes"]
    assert probe["output"] == verdict
    assert leftovers(state_dir) == []


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
def test_a_signal_mid_fault_interrupts_and_leaves_no_fault(
    state_dir: Path, tmp_path: Path, signum: signal.Signals
) -> None:
    """Ctrl-C, or SIGTERM (an orchestrator's stop, which CTK would otherwise take as a
    failed step and go on with the method)."""
    source = tmp_path / "signalled.yaml"
    source.write_text(SIGNALLED)
    path, journal_path = exported(source, tmp_path), tmp_path / "journal.json"
    argv = run_argv(path, journal_path)
    with subprocess.Popen(argv, cwd=tmp_path, env=on_stack(state_dir), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True) as chaos:  # fmt: skip
        try:
            deadline = time.monotonic() + 90
            while not leftovers(state_dir):  # the run's rule is in: now Ctrl-C
                assert chaos.poll() is None and time.monotonic() < deadline, "no fault injected"
                time.sleep(0.2)
            chaos.send_signal(signum)
            output, _ = chaos.communicate(timeout=60)
        finally:
            if chaos.poll() is None:
                chaos.kill()

    journal = json.loads(journal_path.read_text())
    assert chaos.returncode == 1, output[-3000:]
    assert journal["status"] == "interrupted"
    said = chaosbed_run(journal)
    assert said["verdict"] == "aborted" and said["reasons"] == ["interrupted during method"]
    assert journal["run"][0].get("status") != "succeeded"  # the step was cut short
    assert leftovers(state_dir) == []


def test_an_abort_condition_stops_the_chaos_run_and_rolls_back(
    state_dir: Path, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    """Played again holding every slot when load explains the first run: in a grading
    run, a 1-2 s stall of the machine timed out playback's lookups, its breakers opened,
    and plays read 47% before any fault (not steady, so nothing to abort)."""
    source = tmp_path / "aborted.yaml"
    source.write_text(ABORTED)
    path, journal_path = exported(source, tmp_path), tmp_path / "journal.json"

    done = chaos_run_judged(source, path, journal_path, state_dir, record_property)

    journal = json.loads(journal_path.read_text())
    assert done.returncode == 1, done.stderr[-3000:]
    assert journal["status"] == "interrupted" and not journal["deviated"]
    said = chaosbed_run(journal)
    assert said["verdict"] == "aborted", said["reasons"]
    assert said["reasons"][0].startswith("abort: SLO play-ok below 90 for 2s")
    events = json.loads(Path(said["journal"]).read_text())["events"]
    injected = next(e["t"] for e in events if e["event"] == "injected")
    aborted = next(e["t"] for e in events if e["event"] == "abort")
    rolled = next(e["t"] for e in events if e["event"] == "rolled_back")
    assert injected < aborted, "the abort came before the fault: it says nothing of it"
    assert rolled - injected < 20, "the fault was held, not stopped by the abort"
    assert leftovers(state_dir) == []
