from chaos.runtime import RestartPolicy

POLICY = RestartPolicy(backoff_initial_s=0.2, backoff_max_s=5.0, max_restarts=3, window_s=60.0)


def test_first_restart_waits_the_initial_backoff() -> None:
    assert POLICY.backoff_s(1) == 0.2


def test_backoff_doubles_with_each_consecutive_failure() -> None:
    assert [POLICY.backoff_s(n) for n in (1, 2, 3, 4)] == [0.2, 0.4, 0.8, 1.6]


def test_backoff_is_capped_at_the_maximum() -> None:
    assert POLICY.backoff_s(30) == 5.0


def test_gives_up_once_the_restarts_in_the_window_reach_the_limit() -> None:
    assert POLICY.gives_up([10.0, 20.0, 30.0], now=31.0)


def test_keeps_restarting_below_the_limit() -> None:
    assert not POLICY.gives_up([10.0, 20.0], now=31.0)


def test_restarts_older_than_the_window_do_not_count() -> None:
    assert not POLICY.gives_up([0.0, 20.0, 30.0], now=70.0)


def test_a_long_run_resets_the_backoff() -> None:
    assert POLICY.resets_backoff(ran_for_s=10.0) and not POLICY.resets_backoff(ran_for_s=9.9)
