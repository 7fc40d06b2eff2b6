"""docs/experiments.md stays the format's reference: its example loads, every key is in it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from chaos.experiment import limits, load_experiment_text
from chaos.experiment.durations import format_duration
from chaos.experiment.loader import TOP_KEYS
from chaos.experiment.model import COMPARE_DIRECTIONS, COMPARE_METRICS
from chaos.experiment.read_compare import COMPARE_KEYS, METRIC_KEYS
from chaos.experiment.read_expect import EXPECTATIONS
from chaos.experiment.read_faults import ALL_KEYS, FAULTS, STEP_KEYS
from chaos.experiment.read_load import LOAD_KEYS
from chaos.experiment.read_slos import SLO_KEYS

DOCS = Path(__file__).parents[3] / "docs" / "experiments.md"
TEXT = DOCS.read_text()
BLOCKS = re.findall(r"```yaml\n(.*?)```", TEXT, flags=re.S)


def test_the_complete_example_loads() -> None:
    experiment = load_experiment_text(BLOCKS[0], str(DOCS))
    by_name = {step.name: step for step in experiment.method}
    assert by_name["3-error"].offset == 25 and by_name["4-partition"].offset == 35
    assert len(experiment.steady_state.slos) == 4 and len(experiment.expect) == 5


KEYS = sorted(
    {*TOP_KEYS, *LOAD_KEYS, *SLO_KEYS, *STEP_KEYS, *ALL_KEYS, *FAULTS, *EXPECTATIONS,
     *COMPARE_KEYS, *METRIC_KEYS, *COMPARE_METRICS, *COMPARE_DIRECTIONS, "compare",
     "warmup", "hold", "slos", "percentile", "service", "source", "slo", "below", "above", "for"}
)  # fmt: skip


@pytest.mark.parametrize("key", KEYS)
def test_every_key_the_loader_knows_is_documented(key: str) -> None:
    assert f"`{key}" in TEXT


def test_the_docs_never_cite_the_internal_design_page() -> None:
    assert "DESIGN" not in TEXT


def test_the_refusals_section_states_the_cap_and_intervals_the_loader_uses() -> None:
    section = TEXT.split("## What is refused at load time, and why", 1)[1]
    cap = f"{limits.LATENCY_CAP_MS:g}"
    assert f"`below_ms` above {cap} " in section and f"latency 0 to {cap} ms" in section
    assert f"largest finite bucket is {limits.LATENCY_CAP_MS / 1000:g} s" in section
    docker, process = limits.SCRAPE_INTERVALS["docker"], limits.SCRAPE_INTERVALS["process"]
    assert f"Prometheus scrapes every {docker:g} s" in section
    assert f"scrape backend) every {process:g} s" in section
    shortest = format_duration(limits.SCRAPES_PER_WINDOW * max(docker, process))
    assert f"a window is at least {shortest.replace('s', ' s')}" in section
    assert f"or {format_duration(limits.SCRAPES_PER_WINDOW * process).replace('s', ' s')} for" in (
        section
    )
