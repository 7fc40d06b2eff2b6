"""`chaosbed lint`: the resilience settings this environment gives the services, checked
along every call path (chaos/lint.py) before anything starts."""

from __future__ import annotations

import argparse
import os

from chaos.exitcodes import ExitCode
from chaos.lint import lint
from services.common.settings import SettingsError

from .command import Command, Context

__all__ = ["COMMAND"]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--errors-only", action="store_true", help="print the errors, not the warnings"
    )


def run(args: argparse.Namespace, context: Context) -> int:
    try:
        findings = lint(os.environ)
    except (SettingsError, ValueError) as exc:
        context.complain(f"the environment does not start a stack: {exc}")
        return ExitCode.INVALID_INPUT
    errors = [f for f in findings if f.severity == "error"]
    for finding in errors if args.errors_only else findings:
        context.say(str(finding))
    warnings = len(findings) - len(errors)
    context.say(f"{len(errors)} errors, {warnings} warnings")
    return ExitCode.DEVIATED if errors else ExitCode.OK


COMMAND = Command(
    name="lint",
    help="check the resilience settings along every call path, before anything starts",
    description="Read the settings every service would start with from this environment "
    "(CHAOSBED_<DEPENDENCY>_TIMEOUT_MS, _ATTEMPTS, _BREAKER_RESET_S, "
    "CHAOSBED_DEFAULT_DEADLINE_MS, ...) and check them along each member journey's call "
    "paths: a per-try timeout longer than the deadline its caller has, configured tries "
    "that cannot run within it, a breaker that stays open longer than the cached fallback "
    "lives, retried calls nested in retried calls. Exit 1 when there is an error (at the hop "
    "a member's request enters, or a fallback), 0 when there are only warnings or none, 2 "
    "when the environment would not start a stack.",
    configure=configure,
    run=run,
)
