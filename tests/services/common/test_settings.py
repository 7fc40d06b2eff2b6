"""Settings read from the environment once: defaults, overrides, and refusals
whose message names the variable."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.common import DependencySettings, ServiceSettings, SettingsError

# -- ServiceSettings ---------------------------------------------------------


def test_service_settings_defaults_with_an_empty_environment() -> None:
    s = ServiceSettings.from_env("catalog", 8081, env={})

    assert s == ServiceSettings(
        name="catalog", port=8081, host="127.0.0.1", control_token=None, default_deadline_ms=2000,
        max_deadline_ms=60_000,
    )  # fmt: skip


def test_service_settings_are_read_from_the_environment() -> None:
    env = {
        "CHAOSBED_PORT": "9001",
        "CHAOSBED_HOST": "0.0.0.0",
        "CHAOSBED_CONTROL_TOKEN": " tok ",
        "CHAOSBED_DEFAULT_DEADLINE_MS": "750",
        "CHAOSBED_MAX_DEADLINE_MS": "10000",
    }

    s = ServiceSettings.from_env("catalog", 8081, env=env)

    assert (s.port, s.host, s.control_token, s.default_deadline_ms) == (9001, "0.0.0.0", "tok", 750)
    assert s.max_deadline_ms == 10_000


def test_a_blank_control_token_means_the_control_api_is_off() -> None:
    assert (
        ServiceSettings.from_env(
            "catalog", 8081, env={"CHAOSBED_CONTROL_TOKEN": "  "}
        ).control_token
        is None
    )


@pytest.mark.parametrize(
    ("key", "value", "complaint"),
    [
        ("CHAOSBED_PORT", "http", "is not an integer"),
        ("CHAOSBED_PORT", "80.5", "is not an integer"),
        ("CHAOSBED_PORT", "-1", "must be at least 0"),
        ("CHAOSBED_PORT", "70000", "must be at most 65535"),
        ("CHAOSBED_DEFAULT_DEADLINE_MS", "0", "must be at least 1"),
        ("CHAOSBED_DEFAULT_DEADLINE_MS", "soon", "is not an integer"),
        ("CHAOSBED_MAX_DEADLINE_MS", "0", "must be at least 1"),
    ],
)
def test_a_bad_service_setting_is_refused_naming_the_variable(
    key: str, value: str, complaint: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        ServiceSettings.from_env("catalog", 8081, env={key: value})

    assert str(caught.value).startswith(f"{key}=")
    assert complaint in str(caught.value)


# -- DependencySettings ------------------------------------------------------


def test_dependency_settings_defaults_are_the_documented_ones() -> None:
    s = DependencySettings.from_env("profiles", "http://127.0.0.1:8084", env={})

    assert s == DependencySettings(name="profiles", base_url="http://127.0.0.1:8084")
    assert (s.timeout_s, s.attempts, s.breaker_fail_max, s.breaker_reset_s) == (0.5, 3, 5, 5.0)
    assert (s.bulkhead_size, s.retry_budget_ratio, s.retry_budget_min_per_s) == (32, 0.1, 2.0)
    assert (s.breaker_failure_rate, s.breaker_min_calls, s.breaker_window_s) == (0.5, 10, 10.0)
    assert (s.breaker_half_open_calls, s.max_body_bytes) == (1, 4 * 1024 * 1024)
    assert s.min_try_s == 0.05


def test_dependency_settings_are_read_under_the_dependency_prefix() -> None:
    env = {
        "CHAOSBED_PROFILES_URL": "http://profiles:8084/",
        "CHAOSBED_PROFILES_TIMEOUT_MS": "250",
        "CHAOSBED_PROFILES_ATTEMPTS": "1",
        "CHAOSBED_PROFILES_BREAKER_FAIL_MAX": "10",
        "CHAOSBED_PROFILES_BREAKER_RESET_S": "0.5",
        "CHAOSBED_PROFILES_BULKHEAD": "4",
        "CHAOSBED_PROFILES_BREAKER_FAILURE_RATE": "0.25",
        "CHAOSBED_PROFILES_BREAKER_MIN_CALLS": "20",
        "CHAOSBED_PROFILES_BREAKER_WINDOW_S": "30",
        "CHAOSBED_PROFILES_BREAKER_HALF_OPEN_CALLS": "2",
        "CHAOSBED_PROFILES_MAX_BODY_BYTES": "65536",
        "CHAOSBED_PROFILES_MIN_TRY_MS": "20",
        "CHAOSBED_CATALOG_ATTEMPTS": "9",  # another dependency's: ignored
    }

    s = DependencySettings.from_env("profiles", "http://127.0.0.1:8084", env=env)

    assert s.base_url == "http://profiles:8084"
    assert (s.timeout_s, s.attempts, s.breaker_fail_max) == (0.25, 1, 10)
    assert (s.breaker_reset_s, s.bulkhead_size) == (0.5, 4)
    assert (s.breaker_failure_rate, s.breaker_min_calls, s.breaker_window_s) == (0.25, 20, 30.0)
    assert (s.breaker_half_open_calls, s.max_body_bytes) == (2, 65536)
    assert s.min_try_s == 0.02


@pytest.mark.parametrize(
    ("key", "value", "complaint"),
    [
        ("TIMEOUT_MS", "fast", "is not a number"),
        ("TIMEOUT_MS", "0", "must be at least 1"),
        ("TIMEOUT_MS", "nan", "is not a finite number"),
        ("TIMEOUT_MS", "inf", "is not a finite number"),
        ("ATTEMPTS", "0", "must be at least 1"),
        ("ATTEMPTS", "three", "is not an integer"),
        ("BREAKER_FAIL_MAX", "0", "must be at least 1"),
        ("BREAKER_RESET_S", "0", "must be at least 0.01"),
        ("BREAKER_RESET_S", "1e999", "is not a finite number"),
        ("BULKHEAD", "-2", "must be at least 1"),
        ("BREAKER_FAILURE_RATE", "1.5", "must be at most 1.0"),
        ("BREAKER_FAILURE_RATE", "0", "must be at least 0.01"),
        ("BREAKER_MIN_CALLS", "0", "must be at least 1"),
        ("BREAKER_WINDOW_S", "0", "must be at least 0.1"),
        ("BREAKER_HALF_OPEN_CALLS", "0", "must be at least 1"),
        ("MAX_BODY_BYTES", "lots", "is not an integer"),
        ("MIN_TRY_MS", "0", "must be at least 1"),
    ],
)
def test_a_bad_dependency_setting_is_refused_naming_the_variable(
    key: str, value: str, complaint: str
) -> None:
    variable = f"CHAOSBED_CATALOG_{key}"

    with pytest.raises(SettingsError) as caught:
        DependencySettings.from_env("catalog", "http://127.0.0.1:8081", env={variable: value})

    assert str(caught.value).startswith(f"{variable}=")
    assert complaint in str(caught.value)


NUMERIC_KEYS = [
    "TIMEOUT_MS", "ATTEMPTS", "BREAKER_FAIL_MAX", "BREAKER_RESET_S", "BULKHEAD",
    "BREAKER_FAILURE_RATE", "BREAKER_MIN_CALLS", "BREAKER_WINDOW_S", "BREAKER_HALF_OPEN_CALLS",
    "MAX_BODY_BYTES",
]  # fmt: skip
VALUES = st.text(max_size=12) | st.floats().map(repr) | st.integers().map(str)


@given(key=st.sampled_from(NUMERIC_KEYS), value=VALUES)
def test_any_value_either_gives_usable_settings_or_is_refused_naming_it(
    key: str, value: str
) -> None:
    variable = f"CHAOSBED_CATALOG_{key}"
    try:
        s = DependencySettings.from_env("catalog", "http://127.0.0.1:8081", env={variable: value})
    except SettingsError as exc:
        assert str(exc).startswith(f"{variable}=")
    else:
        assert math.isfinite(s.timeout_s) and s.timeout_s >= 0.001
        assert math.isfinite(s.breaker_reset_s) and s.breaker_reset_s >= 0.01
        assert min(s.attempts, s.breaker_fail_max, s.bulkhead_size) >= 1
        assert 0 < s.breaker_failure_rate <= 1 and s.breaker_window_s > 0
        assert min(s.breaker_min_calls, s.breaker_half_open_calls, s.max_body_bytes) >= 1


@given(value=VALUES)
def test_any_port_value_either_is_a_port_or_is_refused_naming_it(value: str) -> None:
    try:
        s = ServiceSettings.from_env("catalog", 8081, env={"CHAOSBED_PORT": value})
    except SettingsError as exc:
        assert str(exc).startswith("CHAOSBED_PORT=")
    else:
        assert 0 <= s.port <= 65535
