"""The experiments benchmark (e) runs, built in code: member load on
homepage and title, one edge-availability SLO on catalog, and a method of one
step, either a breach (every catalog route answers 503, the run aborted at
once by `below 99 for 0s`) or a harmless fault (1 ms on catalog's titles)."""

from __future__ import annotations

from chaos.experiment.model import (
    AbortCondition,
    AppFault,
    Availability,
    Experiment,
    LoadSpec,
    Objective,
    Slo,
    SteadyState,
    Step,
)

__all__ = [
    "CATALOG_FAILS",
    "DETECTION_RATE",
    "HARMLESS",
    "MIX",
    "SLO",
    "STEADY_RATE",
    "TAG",
    "experiment",
]

TAG = "chaosbed-run-bench-runner"  # every rule the benchmark adds carries it
DETECTION_RATE, STEADY_RATE = 40.0, 100.0
MIX = {"homepage": 50.0, "title": 50.0}
SLO = Slo("catalog-edge", Availability("catalog"), Objective(">=", 99.0), window=3.0)
ABORT = AbortCondition(SLO.name, below=99.0, for_=0.0)


def experiment(rate: float, step: Step, *, abort: bool, seed: int) -> Experiment:
    return Experiment(
        title=f"benchmark: {step.name} at {rate:g}/s",
        hypothesis="the runner sees the breach within two checks and rolls back at once",
        load=LoadSpec(rate=rate, mix=MIX, members=200, seed=seed),
        steady_state=SteadyState(warmup=3.0, slos=(SLO,), hold=2.0),
        method=(step,),
        abort_when=(ABORT,) if abort else (),
    )


CATALOG_FAILS = Step("catalog-503", AppFault("error", target="catalog", route="*"), 0.0, 20.0)
HARMLESS = Step(
    "titles-1ms", AppFault("latency", target="catalog", route="/titles/{id}", delay_ms=1), 0.0, 6.0
)
