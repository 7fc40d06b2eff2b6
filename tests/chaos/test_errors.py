"""chaos.errors: every error chaosbed raises on purpose has one root carrying its exit status."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import chaos
from chaos.errors import ChaosbedError
from chaos.exitcodes import ExitCode

#: Public exception classes that deliberately do not derive from ChaosbedError, and why.
DELIBERATE: dict[str, str] = {
    "chaos.cli.mutate.Interrupted": "control flow: a signal stopping the matrix, caught by "
    "the mutate command itself to say which lanes it stopped",
}


def public_exception_classes() -> dict[str, type[Exception]]:
    """Every public Exception subclass defined in a module of the chaos package."""
    found: dict[str, type[Exception]] = {}
    for module_info in pkgutil.walk_packages(chaos.__path__, "chaos."):
        if module_info.name.rsplit(".", 1)[-1] == "__main__":  # running it runs the CLI
            continue
        module = importlib.import_module(module_info.name)
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, Exception)
                and value.__module__ == module.__name__
                and not name.startswith("_")
            ):
                found[f"{module.__name__}.{name}"] = value
    return found


def test_every_public_exception_of_chaos_derives_from_chaosbed_error_or_says_why_not() -> None:
    classes = public_exception_classes()
    assert "chaos.runtime.errors.RuntimeFailure" in classes  # the walk reached the packages
    strays = sorted(
        name
        for name, cls in classes.items()
        if not issubclass(cls, ChaosbedError) and name not in DELIBERATE
    )
    assert strays == [], "derive these from chaos.errors.ChaosbedError, or list them with a reason"


def test_every_deliberate_exception_still_exists_and_still_stays_outside_the_root() -> None:
    classes = public_exception_classes()
    for name in DELIBERATE:
        assert name in classes and not issubclass(classes[name], ChaosbedError), name


def test_every_error_carries_an_exit_status_of_the_one_table() -> None:
    for name, cls in public_exception_classes().items():
        if issubclass(cls, ChaosbedError):
            assert cls.exit_code in set(ExitCode), name
            assert cls.exit_code not in (ExitCode.OK, ExitCode.DEVIATED), name
