"""`chaosbed lint`: the settings an environment gives the services, along every call path."""

from __future__ import annotations

import io

import pytest

from chaos.cli.command import RuntimeChoice
from chaos.cli.main import main
from chaos.lint import lint
from chaos.runtime.interface import Runtime


def errors(env: dict[str, str]) -> list[str]:
    return [str(f) for f in lint(env) if f.severity == "error"]


def test_the_default_settings_have_no_error() -> None:
    found = lint({})
    assert [f for f in found if f.severity == "error"] == []
    # what the nested hops meet is said, with the numbers
    assert any("quorum push" in f.message and f.check == "timeout" for f in found)
    assert any(f.check == "amplification" and "9 times" in f.message for f in found)


def test_a_per_try_timeout_past_the_callers_deadline_is_an_error_naming_the_path() -> None:
    found = errors({"CHAOSBED_CATALOG_TIMEOUT_MS": "5000"})
    assert len(found) == 2
    assert all("the per-try timeout 5 s is longer than the 2 s budget" in f for f in found)
    assert any(f.startswith("error: timeout: playback -> catalog:") for f in found)
    # a longer deadline makes room for it
    ample = {"CHAOSBED_CATALOG_TIMEOUT_MS": "5000", "CHAOSBED_DEFAULT_DEADLINE_MS": "20000"}
    assert errors(ample) == []


def test_tries_that_cannot_run_within_the_deadline_are_an_error() -> None:
    (first, second) = errors({"CHAOSBED_PROFILES_ATTEMPTS": "9"})
    assert "9 tries are configured, but within the 2 s budget only 3 can run" in first
    assert {first.split(":")[2].strip(), second.split(":")[2].strip()} == {
        "recommendations -> profiles",
        "playback -> profiles",
    }


def test_a_breaker_open_longer_than_its_fallback_lives_is_an_error() -> None:
    (found,) = errors({"CHAOSBED_CATALOG_BREAKER_RESET_S": "7200"})
    assert "error: fallback: playback -> catalog" in found
    assert "longer than a cached title lives (3600 s)" in found


def run_lint(monkeypatch: pytest.MonkeyPatch, **env: str) -> tuple[int, str]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    out = io.StringIO()
    status = main(["lint", "--errors-only"], make_runtime=_no_runtime, out=out, err=out)
    return status, out.getvalue()


def _no_runtime(choice: RuntimeChoice) -> Runtime:
    raise AssertionError("lint starts nothing")


def test_the_command_exits_1_on_an_error_0_on_warnings_2_on_a_bad_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    status, out = run_lint(monkeypatch)
    assert status == 0 and "0 errors, 10 warnings" in out
    status, out = run_lint(monkeypatch, CHAOSBED_CATALOG_TIMEOUT_MS="5000")
    assert status == 1 and "2 errors" in out and "recommendations -> catalog" in out
    status, out = run_lint(monkeypatch, CHAOSBED_REGION="mars")
    assert status == 2 and "CHAOSBED_REGION" in out
