"""Lanes for `verify --parallel N`: how the suite is spread over stacks (game days
whole and in order, experiments longest-first so lanes finish together), each
lane's port base, and a lane's results read back from the journals it played."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chaos.experiment import load_experiment_text
from chaos.gameday import Act, GameDay, play
from chaos.verify import collect
from chaos.verify.lanes import estimated_seconds, lane_bases, lane_results, plan_lanes

from .journals import write_journal

EXPERIMENT = """
title: {title}
hypothesis: It holds.
runtimes: [process]
load: {{rate: 10, mix: {{homepage: 100}}, members: 20}}
steady_state:
  warmup: {warmup}s
  hold: 1s
  slos:
    - {{name: home-ok, availability: {{service: recommendations, source: members}},
       objective: 50, window: 3s}}
method:
  - {{fault: latency, edge: recommendations -> catalog, delay_ms: 20, duration: 3s}}
"""


@functools.cache
def act(name: str, warmup: float = 2) -> Act:
    return Act(name, load_experiment_text(EXPERIMENT.format(title=name, warmup=warmup)))


def names(lanes: tuple[tuple[Act, ...], ...]) -> list[list[str]]:
    return [[a.name for a in lane] for lane in lanes]


def test_the_estimate_counts_warm_up_method_tail_and_recovery() -> None:
    # 5 startup + 2 warm-up + 1 hold + 3 method + 3 tail (window) + 3 recovery (window)
    assert estimated_seconds(act("a").experiment) == 17
    assert estimated_seconds(act("b", warmup=12).experiment) == 27


def test_the_longest_go_first_each_to_the_least_loaded_lane() -> None:
    acts = [act("short1"), act("long", 60), act("short2"), act("mid", 30), act("short3")]
    lanes = plan_lanes(acts, 2)
    # long 75 -> lane 1; mid 45, short1 17, short2 17 -> lane 2 (79); short3 -> lane 1 (92)
    assert names(lanes) == [["long", "short3"], ["short1", "short2", "mid"]]


def test_a_game_day_stays_whole_and_in_order_on_one_lane(tmp_path: Path) -> None:
    for name in ("a", "b", "c", "d"):
        (tmp_path / f"{name}.yaml").write_text(EXPERIMENT.format(title=name, warmup=2))
    (tmp_path / "day.yaml").write_text(
        "title: d\nexperiments:\n"
        + "".join(f"  - experiment: {n}.yaml\n    name: {n}\n" for n in ("c", "a", "b"))
    )
    suite = collect([tmp_path], lambda _: [])
    lanes = plan_lanes(suite.acts, 3, suite.together)
    assert ["day/c", "day/a", "day/b"] in names(lanes)
    assert sorted(n for lane in names(lanes) for n in lane) == sorted(a.name for a in suite.acts)


def test_lanes_with_nothing_to_do_are_left_out() -> None:
    assert names(plan_lanes([act("a"), act("b")], 5)) == [["a"], ["b"]]


@given(st.lists(st.integers(0, 90), min_size=1, max_size=12), st.integers(1, 6))
def test_every_act_runs_once_in_suite_order_and_no_lane_waits_for_nothing(
    warmups: list[int], lanes: int
) -> None:
    acts = [act(f"e{i}", w) for i, w in enumerate(warmups)]
    planned = plan_lanes(acts, lanes)
    assert sorted(a.name for lane in planned for a in lane) == sorted(a.name for a in acts)
    for lane in planned:
        assert [acts.index(a) for a in lane] == sorted(acts.index(a) for a in lane)
    loads = [sum(estimated_seconds(a.experiment) for a in lane) for lane in planned]
    longest = max(estimated_seconds(a.experiment) for a in acts)
    assert max(loads) - min(loads) <= longest  # longest-first: within one act of each other


def test_lane_i_takes_the_block_ten_ports_above_lane_i_minus_1() -> None:
    assert lane_bases(30000, 3) == (30000, 30010, 30020)


@pytest.mark.parametrize(
    ("base", "lanes", "said"),
    [(30000, 0, "--parallel 0: needs at least 1 lane"),
     (65510, 3, "lane 3 would take ports 65530..65539, past 65535")],
)  # fmt: skip
def test_a_lane_count_or_base_no_stack_can_take_is_refused(
    base: int, lanes: int, said: str
) -> None:
    with pytest.raises(ValueError, match=said):
        lane_bases(base, lanes)


def test_a_lanes_results_are_read_back_from_the_journals_play_wrote(tmp_path: Path) -> None:
    acts = (act("a"), act("b"), act("c"))

    def run_act(played: Act, journal: Path) -> int | None:
        if played.name == "c":
            return None  # the lane stopped before it wrote this one
        verdict = "held" if played.name == "a" else "deviated"
        write_journal(journal, played, verdict, [f"{played.name}!"])
        return None

    played = play(GameDay("lane", "", "-", acts), tmp_path, run_act, say=lambda _: None,
                  pause=None)  # fmt: skip
    found = lane_results(acts, tmp_path)
    assert found == list(played.results)
    assert [(r.name, r.verdict, r.reasons) for r in found] == [
        ("a", "held", ("a!",)),
        ("b", "deviated", ("b!",)),
    ]
