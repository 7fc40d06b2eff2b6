"""Errors of experiment loading. Callers catch these, not YAML's.

    ExperimentError                 (a chaos.errors.ChaosbedError) the file is not a
                                    valid experiment (exit 2);
                                    carries every FieldError found in one pass

A `FieldError` is not an exception: it is one problem, at one line, with one
field (a dotted path such as `method[1].delay_ms`). An `ExperimentError`
lists them all, one per line, as `FILE:LINE: FIELD: message`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from chaos.errors import ChaosbedError
from chaos.exitcodes import ExitCode

__all__ = ["ExperimentError", "FieldError"]

# the field named when the problem is the document as a whole (YAML syntax, not a mapping)
DOCUMENT = "<document>"


@dataclass(frozen=True, order=True)
class FieldError:
    """One problem: at `line` (1-based), with `field` (a dotted path), saying what was expected."""

    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.line}: {self.field}: {self.message}"


class ExperimentError(ChaosbedError):
    """The experiment file `path` is invalid; `errors` holds every problem found, by line."""

    exit_code = ExitCode.INVALID_INPUT

    def __init__(self, path: str, errors: Iterable[FieldError]) -> None:
        self.path = path
        self.errors: list[FieldError] = sorted(set(errors))
        if not self.errors:
            raise ValueError("an ExperimentError needs at least one FieldError")
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(f"{self.path}:{error}" for error in self.errors)

    def fields(self) -> list[str]:
        """The fields named, in the order reported."""
        return [error.field for error in self.errors]
