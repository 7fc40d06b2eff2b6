"""Typed readers of document `Node`s that record a `FieldError` instead of raising.

Every reader returns the value, or None after noting what was wrong (at the
node's line, naming its dotted path, saying what was expected), so a loader
can read on and report every problem of a file in one pass.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Collection, Mapping, Sequence

from .document import Node
from .durations import format_duration, parse_duration
from .errors import FieldError
from .model import Edge
from .topology import EDGES, SERVICES, parse_edge

__all__ = ["Fields", "Problems"]

NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,63}")
MAX_TEXT = 2000


def nearest(word: str, known: Collection[str]) -> str:
    """`; did you mean 'x'?` when a known word is close, else an empty string."""
    close = difflib.get_close_matches(word, sorted(known), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _finite(value: object) -> bool:
    """A real number that fits a float (YAML ints are unbounded); booleans are not numbers."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


class Problems:
    """The errors of one file, collected while reading it."""

    def __init__(self, errors: Sequence[FieldError] = ()) -> None:
        self.errors: list[FieldError] = list(errors)

    def add(self, line: int, field: str, message: str) -> None:
        self.errors.append(FieldError(line, field, message))

    def at(self, node: Node, message: str) -> None:
        self.add(node.line, node.path, message)

    # ------------------------------------------------------------ structure

    def mapping(self, node: Node, what: str) -> dict[str, Node] | None:
        if node.mapping is None:
            self.at(node, f"expected {what} (a mapping of keys), got {node.kind()}")
        return node.mapping

    def items(self, node: Node, what: str) -> list[Node] | None:
        if node.items is None:
            self.at(node, f"expected a list of {what}, got {node.kind()}")
        return node.items

    # ------------------------------------------------------------ scalars

    def text(self, node: Node, what: str = "text", max_len: int = MAX_TEXT) -> str | None:
        value = node.value
        if not isinstance(value, str) or not value.strip():
            self.at(node, f"expected {what} (a non-empty string), got {node.kind()}")
            return None
        if len(value) > max_len:
            self.at(node, f"expected at most {max_len} characters, got {len(value)}")
            return None
        return value.strip()

    def name(self, node: Node) -> str | None:
        value = self.text(node, "a name")
        if value is not None and not NAME.fullmatch(value):
            self.at(
                node,
                f"expected a name: a letter, then letters, digits, '_', '.' or '-' "
                f"(at most 64), got {value!r}",
            )
            return None
        return value

    def choice(self, node: Node, options: Sequence[str], what: str = "") -> str | None:
        value = node.value
        if isinstance(value, str) and value.strip() in options:
            return value.strip()
        hint = nearest(value, options) if isinstance(value, str) else ""
        label = f"{what} " if what else ""
        self.at(node, f"expected {label}one of {', '.join(options)}, got {node.kind()}{hint}")
        return None

    def number(
        self,
        node: Node,
        lo: float,
        hi: float,
        *,
        unit: str = "",
        above: bool = False,
        integer: bool = False,
    ) -> float | None:
        """A number in [lo, hi] (in (lo, hi] when `above`); whole when `integer`."""
        value = node.value
        kind = "a whole number" if integer else "a number"
        low, high = ("more than", "up to") if above else ("from", "to")
        bounds = f"{low} {lo:g}{unit} {high} {hi:g}{unit}"
        if not _finite(value):
            self.at(node, f"expected {kind} {bounds}, got {node.kind()}")
            return None
        assert isinstance(value, int | float)
        if integer and value != int(value):
            self.at(node, f"expected {kind} {bounds}, got {value!r}")
            return None
        if value < lo or value > hi or (above and value == lo):
            self.at(node, f"expected {kind} {bounds}, got {value!r}")
            return None
        return float(value)

    def integer(self, node: Node, lo: int, hi: int) -> int | None:
        value = self.number(node, lo, hi, integer=True)
        if value is None:
            return None
        written = node.value
        # a YAML integer keeps every digit (a float would round seeds past 2**53)
        if isinstance(written, int) and not isinstance(written, bool):
            return written
        return int(value)

    def flag(self, node: Node) -> bool | None:
        """true or false (what YAML reads as a boolean; 1 and "true" in quotes are refused)."""
        if isinstance(node.value, bool):
            return node.value
        self.at(node, f"expected true or false, got {node.kind()}")
        return None

    def percent(self, node: Node, *, above_zero: bool = False) -> float | None:
        return self.number(node, 0, 100, unit="%", above=above_zero)

    def duration(self, node: Node, lo: float, hi: float) -> float | None:
        """Seconds, written `500ms`/`20s`/`2m`/`1h`/`1m30s` or as a number of seconds."""
        value = node.value
        bounds = f"from {format_duration(lo)} to {format_duration(hi)}"
        expected = f"expected a duration {bounds} (like 500ms, 20s, 2m or a number of seconds)"
        seconds: float | None = None
        if isinstance(value, str):
            seconds = parse_duration(value)
        elif _finite(value):
            assert isinstance(value, int | float)
            seconds = float(value)
        if seconds is None:
            self.at(node, f"{expected}, got {node.kind()}")
            return None
        if not lo <= seconds <= hi:
            self.at(node, f"{expected}, got {format_duration(seconds)}")
            return None
        return seconds

    # ------------------------------------------------------------ the graph

    def service(self, node: Node) -> str | None:
        return self.choice(node, SERVICES, "a service:")

    def edge(self, node: Node) -> Edge | None:
        known = ", ".join(str(edge) for edge in EDGES)
        value = node.value
        edge = parse_edge(value) if isinstance(value, str) else None
        if edge is None:
            hint = ""
            if isinstance(value, str):
                written = " -> ".join(part.strip() for part in value.split("->"))
                hint = nearest(written, [str(edge) for edge in EDGES])
            expected = f"expected an edge 'caller -> dependency', one of: {known}"
            self.at(node, f"{expected}; got {node.kind()}{hint}")
        return edge

    def services(self, node: Node) -> tuple[str, ...] | None:
        """One service, or a non-empty list of distinct services."""
        if isinstance(node.value, str):
            one = self.service(node)
            return None if one is None else (one,)
        items = node.items
        if not items:
            self.at(node, f"expected a service or a non-empty list of services, got {node.kind()}")
            return None
        names = [self.service(item) for item in items]
        if any(name is None for name in names):
            return None
        if len(set(names)) != len(names):
            self.at(node, "lists a service twice")
            return None
        return tuple(name for name in names if name is not None)


class Fields:
    """The keys of one mapping, checked against the keys it may have.

    Unknown keys are reported at once, with the nearest known key; `misplaced`
    maps keys that are valid elsewhere to why they do not belong here.
    """

    def __init__(
        self,
        node: Node,
        values: dict[str, Node],
        problems: Problems,
        known: Collection[str],
        misplaced: Mapping[str, str] | None = None,
    ) -> None:
        self.node = node
        self.values = values
        self.problems = problems
        for key, value in values.items():
            if key in known:
                continue
            line = node.key_lines.get(key, value.line)
            if misplaced and key in misplaced:
                problems.add(line, value.path, misplaced[key])
            else:
                allowed = ", ".join(sorted(known))
                problems.add(
                    line, value.path, f"unknown key{nearest(key, known)} (known here: {allowed})"
                )

    def get(self, key: str) -> Node | None:
        return self.values.get(key)

    def has(self, key: str) -> bool:
        return key in self.values

    def require(self, key: str, what: str) -> Node | None:
        node = self.values.get(key)
        if node is None:
            where = f"{self.node.path}.{key}" if self.node.path else key
            self.problems.add(self.node.line, where, f"is required: {what}")
        return node
