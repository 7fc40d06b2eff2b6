"""Ctrl-C and SIGTERM: deferred while a cleanup runs, raised as exceptions in commands."""

from __future__ import annotations

import os
import signal

import pytest

from chaos.runtime.interrupts import Terminated, interrupts_deferred, termination_raises


def test_a_sigint_inside_the_deferred_block_is_raised_only_when_it_ends() -> None:
    reached_the_end = False
    with pytest.raises(KeyboardInterrupt):
        with interrupts_deferred():
            os.kill(os.getpid(), signal.SIGINT)
            reached_the_end = True
    assert reached_the_end


def test_a_block_leaving_by_an_exception_keeps_that_exception() -> None:
    with pytest.raises(ValueError, match="the original"):
        with interrupts_deferred():
            os.kill(os.getpid(), signal.SIGINT)
            raise ValueError("the original")


def test_the_handlers_are_restored_after_the_block() -> None:
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    with interrupts_deferred():
        pass
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


def test_sigterm_raises_terminated_a_keyboard_interrupt() -> None:
    with pytest.raises(Terminated) as raised:
        with termination_raises():
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(1000):  # the handler runs between bytecodes
                pass
    assert isinstance(raised.value, KeyboardInterrupt)
    assert raised.value.signum == signal.SIGTERM


def test_a_sigterm_deferred_inside_a_command_is_raised_as_terminated_after_the_block() -> None:
    with pytest.raises(Terminated):
        with termination_raises():
            with interrupts_deferred():
                os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(1000):
                pass
