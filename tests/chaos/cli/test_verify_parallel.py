"""`chaosbed verify --parallel N` without the services: invalid input is refused
before any lane starts; the lanes' journals merge into one suite in suite
order; a lane whose stack could not start leaves its experiments not run,
saying why, and the suite exits 5 as it does serially. `--start-stack` (what a
lane runs) stops the stack it started whatever happens, and refuses to start
one where a stack already runs, leaving that one alone."""

from __future__ import annotations

import io
import json
import signal
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
import xmlschema

from chaos.cli import RuntimeChoice, main
from chaos.cli.command import RuntimeFactory
from chaos.cli.lanes import Job, JobEnd
from chaos.cli.verify import NOT_RUN, merge_lanes
from chaos.exitcodes import ExitCode
from chaos.experiment import load_experiment
from chaos.gameday import Act, GameDay, play
from chaos.runtime import ProcessRuntime

from ..verify.journals import write_journal
from .tiny_cli import tiny_runtime

SCHEMA = Path(__file__).parents[1] / "verify" / "junit.xsd"
EXPERIMENT = """
title: {title}
hypothesis: A little latency on catalog changes nothing members see.
predicts: held
runtimes: [process]
load: {{rate: 10, mix: {{homepage: 100}}, members: 20}}
steady_state:
  warmup: 2s
  hold: 1s
  slos:
    - {{name: home-ok, availability: {{service: recommendations, source: members}},
       objective: 50, window: 3s}}
method:
  - {{fault: latency, edge: recommendations -> catalog, delay_ms: 20, duration: 3s}}
"""


def verify(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(["verify", *argv], out=out, err=err)
    return status, out.getvalue(), err.getvalue()


@pytest.fixture
def experiments(tmp_path: Path) -> list[Path]:
    paths = []
    for name in ("a", "b", "c"):
        path = tmp_path / f"{name}.yaml"
        path.write_text(EXPERIMENT.format(title=f"Experiment {name}"))
        paths.append(path)
    return paths


def test_zero_lanes_are_refused(
    experiments: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, _ = verify(*map(str, experiments), "--parallel", "0",
                          "--state-dir", str(tmp_path / "state"))  # fmt: skip
    assert status == ExitCode.INVALID_INPUT
    assert "--parallel: 0: needs at least 1 lane" in capsys.readouterr().err


def test_lanes_past_the_last_port_are_refused_before_any_starts(
    experiments: list[Path], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    status, _, err = verify(*map(str, experiments), "--parallel", "3", "--port-base", "65510",
                            "--state-dir", str(tmp_path / "state"), "--out", str(out))  # fmt: skip
    assert status == ExitCode.INVALID_INPUT
    assert "--parallel 3 from port base 65510: lane 3 would take ports 65530..65539" in err
    assert not out.exists()


def test_an_invalid_experiment_is_refused_before_any_lane_starts(
    experiments: list[Path], tmp_path: Path
) -> None:
    experiments[1].write_text(experiments[1].read_text().replace("objective: 50", "objective: x"))
    out = tmp_path / "out"
    status, _, err = verify(*map(str, experiments), "--parallel", "2",
                            "--state-dir", str(tmp_path / "state"), "--out", str(out))  # fmt: skip
    assert status == ExitCode.INVALID_INPUT and "b.yaml" in err
    assert not out.exists()


def test_start_stack_is_for_one_stack_only(experiments: list[Path], tmp_path: Path) -> None:
    status, _, err = verify(str(experiments[0]), "--parallel", "2", "--start-stack",
                            "--state-dir", str(tmp_path / "state"))  # fmt: skip
    assert status == ExitCode.INVALID_INPUT and "--start-stack" in err


def test_the_cluster_runtime_is_refused_lanes(tmp_path: Path) -> None:
    """One cluster runs on a machine: lanes would each start one."""
    library = Path(__file__).resolve().parents[3] / "chaos" / "experiments"
    out = tmp_path / "out"
    status, _, err = verify(str(library / "cluster-node-drained-during-writes.yaml"),
                            "--runtime", "cluster", "--parallel", "2",
                            "--state-dir", str(tmp_path / "state"), "--out", str(out))  # fmt: skip
    assert status == ExitCode.INVALID_INPUT
    assert "the cluster runtime runs one stack on a machine" in err
    assert not out.exists()


def _lane(tmp_path: Path, lane: int, acts: tuple[Act, ...], verdicts: list[str]) -> Path:
    """A lane's directory as a child `verify` leaves it: journals played by `play`."""
    out = tmp_path / f"lane-{lane}"
    out.mkdir()
    given = iter(verdicts)

    def run_act(act: Act, journal: Path) -> int | None:
        verdict = next(given, None)
        if verdict is not None:
            write_journal(journal, act, verdict, [] if verdict == "held" else ["SLO broke"])
        return None

    play(GameDay("lane", "", "-", acts), out, run_act, say=lambda _: None, pause=None)
    return out


def test_the_lanes_results_merge_in_suite_order_and_the_unplayed_say_why(
    experiments: list[Path], tmp_path: Path
) -> None:
    a, b, c = (Act(p.stem, load_experiment(p)) for p in experiments)
    first = _lane(tmp_path, 1, (a, c), ["held", "deviated"])
    second = _lane(tmp_path, 2, (b,), [])
    ends = [
        JobEnd(Job("a, c", (), first), 1, 1),
        JobEnd(Job("b", (), second), 2, 5, tail=["chaosbed: port 30010 is already in use"]),
    ]
    results, not_run, interrupted = merge_lanes(
        (a, b, c), [((a, c), ends[0]), ((b,), ends[1])], None
    )
    assert [(r.name, r.verdict) for r in results] == [("a", "held"), ("c", "deviated")]
    assert [(s.name, s.why) for s in not_run] == [
        ("b", "not run: lane 2 ended (exit 5) before it: chaosbed: port 30010 is already in use")
    ]
    assert interrupted is None


def test_a_lane_stopped_by_a_signal_stops_the_suite(
    experiments: list[Path], tmp_path: Path
) -> None:
    a, b, _ = (Act(p.stem, load_experiment(p)) for p in experiments)
    lane = _lane(tmp_path, 1, (a, b), ["aborted"])
    end = JobEnd(Job("a, b", (), lane), 1, 128 + signal.SIGTERM)
    results, not_run, interrupted = merge_lanes((a, b), [((a, b), end)], None)
    assert [r.verdict for r in results] == ["aborted"]
    assert [(s.name, s.why) for s in not_run] == [("b", NOT_RUN)]
    assert interrupted == signal.SIGTERM


def test_lanes_whose_stacks_cannot_start_leave_every_experiment_not_run_and_exit_5(
    experiments: list[Path], tmp_path: Path, busy_lanes: int
) -> None:
    junit, out = tmp_path / "junit.xml", tmp_path / "out"
    status, said, _ = verify(
        *map(str, experiments), "--parallel", "2", "--port-base", str(busy_lanes),
        "--junit", str(junit), "--state-dir", str(tmp_path / "state"), "--out", str(out),
    )  # fmt: skip
    assert status == ExitCode.INFRASTRUCTURE_FAILED
    assert f"[lane 2] started: 1 experiments: b (port base {busy_lanes + 10})" in said
    xmlschema.XMLSchema(SCHEMA).validate(junit.read_text())
    cases = ET.parse(junit).getroot().findall("testcase")
    assert [c.get("name") for c in cases] == ["a", "b", "c"]
    for case in cases:
        skipped = case.find("skipped")
        assert skipped is not None, ET.tostring(case)
        assert "not run: lane " in skipped.get("message", "")
        assert "is already in use" in skipped.get("message", ""), skipped.get("message")
    assert json.loads((out / "gameday.json").read_text())["experiments"] == []


def _tiny(state: Path, free_port: Callable[[], int]) -> tuple[ProcessRuntime, RuntimeFactory]:
    alpha, beta = free_port(), free_port()
    return tiny_runtime(alpha, beta, RuntimeChoice("process", state)), (
        lambda choice: tiny_runtime(alpha, beta, choice)
    )


def test_start_stack_stops_the_stack_it_started_even_when_the_suite_fails(
    experiments: list[Path], tmp_path: Path, free_port: Callable[[], int]
) -> None:
    state = tmp_path / "state"
    runtime, factory = _tiny(state, free_port)
    argv = ["verify", str(experiments[0]), "--start-stack", "--state-dir", str(state)]
    out, err = io.StringIO(), io.StringIO()
    status = main([*argv, "--out", str(tmp_path / "out")], make_runtime=factory, out=out, err=err)
    # the tiny stack has none of the services the experiment needs: no verdict
    assert status == ExitCode.INFRASTRUCTURE_FAILED, out.getvalue()
    assert runtime.supervisor_pid() is None
    assert not runtime.down()  # nothing left to stop


def test_start_stack_refuses_a_running_stack_and_leaves_it_running(
    experiments: list[Path], tmp_path: Path, free_port: Callable[[], int]
) -> None:
    state = tmp_path / "state"
    runtime, factory = _tiny(state, free_port)
    runtime.up()
    try:
        argv = ["verify", str(experiments[0]), "--start-stack", "--state-dir", str(state)]
        err = io.StringIO()
        status = main([*argv, "--out", str(tmp_path / "out")], make_runtime=factory,
                      out=io.StringIO(), err=err)  # fmt: skip
        assert status == ExitCode.INFRASTRUCTURE_FAILED
        assert "a chaosbed stack is already running" in err.getvalue(), err.getvalue()
        assert runtime.supervisor_pid() is not None
    finally:
        runtime.down()
