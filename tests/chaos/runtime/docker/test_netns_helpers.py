"""Which helper containers cleanup may call stale (from `docker ps` data, no engine):
a command batch once it is older than any batch may run; a TTL helper only once it
is that long past the time it was due to act, however long its TTL."""

from __future__ import annotations

from chaos.runtime.docker.netns import EXPIRES_LABEL, HELPER_TIMEOUT_S, _stale, engine_socket

NOW = 1_800_000_000.0


def test_a_batch_is_stale_once_older_than_any_batch_may_run() -> None:
    assert not _stale({"Created": NOW - HELPER_TIMEOUT_S, "Labels": {}}, NOW)
    assert _stale({"Created": NOW - 3 * HELPER_TIMEOUT_S, "Labels": {}}, NOW)


def test_a_ttl_helper_is_live_until_well_after_it_was_due_to_act() -> None:
    long_ttl = {"Created": NOW - 3600, "Labels": {EXPIRES_LABEL: f"{NOW + 60:.0f}"}}
    assert not _stale(long_ttl, NOW)  # created an hour ago, acts in a minute: a live run's
    overdue = {"Created": NOW - 3600, "Labels": {EXPIRES_LABEL: f"{NOW - 3 * HELPER_TIMEOUT_S}"}}
    assert _stale(overdue, NOW)
    garbled = {"Created": NOW - 3600, "Labels": {EXPIRES_LABEL: "soon"}}
    assert _stale(garbled, NOW)  # read as a batch: by its age


def test_the_engine_socket_is_docker_hosts_when_it_names_one_and_none_past_tcp() -> None:
    assert engine_socket({}) == "/var/run/docker.sock"
    assert engine_socket({"DOCKER_HOST": "unix:///run/user/1000/docker.sock"}) == (
        "/run/user/1000/docker.sock"
    )
    assert engine_socket({"DOCKER_HOST": "tcp://10.0.0.1:2375"}) is None  # its own fallback
