"""A critical compared metric stops the method: on the process stack, half the
experiment cohort's title pages fail, the comparison finds it at a look during
the method, the run ends aborted (exit 4) and the fault is rolled back within a
second of the decision. Prints the time from the fault to the decision and the
samples it needed. Needs its worker's ports free (`pytest -m e2e`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.chaos.experiments.library import chaosbed
from tests.chaos.experiments.library_runs import process_stack

pytestmark = pytest.mark.e2e

state_dir = process_stack()

CRITICAL = """\
title: Catalog fails half the experiment cohort's title pages; the comparison stops it
hypothesis: A critical metric significantly bad stops the method and rolls it back.
predicts: held
load: {rate: 40, mix: {title: 70, homepage: 30}, members: 400, experiment_percent: 25}
steady_state:
  warmup: 6s
  hold: 2s
  slos:
    - {name: titles-ok, availability: {service: catalog, source: members}, objective: 50}
  compare:
    metrics:
      - {name: title-success, metric: success, journey: title, direction: decrease,
         allowed_decrease: 0.95, critical: true}
method:
  - {fault: error, target: catalog, route: "/titles/{id}", status: 500, percent: 50,
     cohort: experiment, duration: 30s}
"""


#: Every slot: it bounds the rollback within a second of the decision, which a
#: neighbour's 1-2 s stall of the runner would break.
@pytest.mark.stacks(99)
def test_a_critical_metric_significantly_bad_stops_the_method_and_rolls_back(
    state_dir: Path, tmp_path: Path
) -> None:
    experiment, journal_path = tmp_path / "critical.yaml", tmp_path / "journal.json"
    experiment.write_text(CRITICAL)
    where = ("--runtime", "process", "--state-dir", str(state_dir))
    done = chaosbed("run", str(experiment), *where, "--journal", str(journal_path))
    cleanup = chaosbed("cleanup", *where)
    journal = json.loads(journal_path.read_text())
    assert done.returncode == 4, journal["reasons"]
    assert journal["verdict"] == "aborted"
    (reason,) = journal["reasons"]
    assert reason.startswith("abort: compared metric title-success is significantly lower")
    decision = journal["comparison"]["decision"]
    assert decision["metric"] == "title-success" and decision["classification"] == "low"
    (fault,) = journal["faults"]
    abort_t = journal["timings"]["abort_t"]
    assert fault["rolled_back_at"] - abort_t < 1.0, (fault, abort_t)
    assert abort_t - fault["injected_at"] < 25.0  # well before the fault's 30 s end
    assert journal["comparison"]["critical_failed"] == ["title-success"]
    assert "nothing left over" in cleanup.stdout
    print(
        f"fault to decision {abort_t - fault['injected_at']:.2f}s (look {decision['look']}, "
        f"{decision['samples_to_s']:.1f}s of samples: {decision['control_n']} control and "
        f"{decision['experiment_n']} experiment title pages, p={decision['p_value']:.3g} < "
        f"{decision['alpha']:.3g}); decision to rollback "
        f"{fault['rolled_back_at'] - abort_t:.3f}s"
    )
