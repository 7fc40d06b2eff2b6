"""YAML text into a tree of `Node`s that know their line and dotted path.

YAML is composed (`yaml.compose` with the safe loader), never constructed
into Python objects wholesale, so every value keeps the line it came from and
nothing in the file can run code. Scalars become str, int, float, bool or
None by YAML's own resolution; dates and other tags stay the text written.
Duplicate keys, non-string keys, YAML syntax errors and documents that blow
up through aliases become `FieldError`s, not exceptions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from .errors import DOCUMENT, FieldError

__all__ = ["MAX_DEPTH", "MAX_NODES", "Node", "Scalar", "parse_document"]

Scalar: TypeAlias = str | int | float | bool | None

# PyYAML's own safe loader, not libyaml's (CSafeLoader): five times slower (about 30ms
# for a typical file), but libyaml's composer overflows the C stack, killing the process,
# on deeply nested input such as 100,000 "[", where this one raises RecursionError
_LOADER = yaml.SafeLoader

MAX_NODES = 20_000  # values in one document, aliases expanded
MAX_DEPTH = 32

_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_MERGE = "tag:yaml.org,2002:merge"


@dataclass(frozen=True)
class Node:
    """One value of the document: a scalar, a mapping or a list of Nodes."""

    value: Scalar | dict[str, Node] | list[Node]
    line: int
    path: str
    # the line each key of a mapping is written on, for errors about the key itself
    key_lines: Mapping[str, int] = field(default_factory=dict)

    @property
    def mapping(self) -> dict[str, Node] | None:
        return self.value if isinstance(self.value, dict) else None

    @property
    def items(self) -> list[Node] | None:
        return self.value if isinstance(self.value, list) else None

    def kind(self) -> str:
        """What the value is, in the words of an error message."""
        value = self.value
        if isinstance(value, dict):
            return "a mapping"
        if isinstance(value, list):
            return "a list"
        if value is None:
            return "nothing (null)"
        if isinstance(value, bool):
            return f"{str(value).lower()} (a boolean)"
        if isinstance(value, int | float):
            return f"the number {value!r}"
        return f"{value!r}"


def child_path(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


class _Builder:
    def __init__(self) -> None:
        self.errors: list[FieldError] = []
        self.count = 0
        self.constructor = SafeConstructor()

    def build(self, node: yaml.Node, path: str, depth: int) -> Node | None:
        self.count += 1
        line = node.start_mark.line + 1
        if self.count > MAX_NODES:
            raise _TooBig(line, f"the document holds more than {MAX_NODES} values")
        if depth > MAX_DEPTH:
            raise _TooBig(line, f"values are nested more than {MAX_DEPTH} deep")
        if isinstance(node, ScalarNode):
            return Node(self.scalar(node), line, path)
        if isinstance(node, SequenceNode):
            items = [
                self.build(item, child_path(path, i), depth + 1)
                for i, item in enumerate(node.value)
            ]
            return Node([item for item in items if item is not None], line, path)
        assert isinstance(node, MappingNode)
        return self.mapping(node, line, path, depth)

    def mapping(self, node: MappingNode, line: int, path: str, depth: int) -> Node:
        own: dict[str, tuple[yaml.Node, int]] = {}
        merged: dict[str, tuple[yaml.Node, int]] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if key_node.tag == _MERGE:
                self.merge(value_node, merged)
                continue
            if not isinstance(key_node, ScalarNode) or key_node.tag in (_NULL, _BOOL):
                self.errors.append(
                    FieldError(key_line, path or DOCUMENT, "keys must be plain names")
                )
                continue
            key = str(key_node.value)
            if key in own:
                message = f"{key!r} is given twice (first on line {own[key][1]})"
                self.errors.append(FieldError(key_line, child_path(path, key), message))
                continue
            own[key] = (value_node, key_line)
        entries = {**merged, **own}
        values: dict[str, Node] = {}
        for key, (value_node, _) in entries.items():
            built = self.build(value_node, child_path(path, key), depth + 1)
            if built is not None:
                values[key] = built
        key_lines = {key: key_line for key, (_, key_line) in entries.items()}
        return Node(values, line, path, key_lines)

    def merge(self, value: yaml.Node, into: dict[str, tuple[yaml.Node, int]]) -> None:
        """`<<: *anchor` (or a list of them): the anchored mapping's entries, first ones win."""
        sources = value.value if isinstance(value, SequenceNode) else [value]
        for source in sources:
            if not isinstance(source, MappingNode):
                line = source.start_mark.line + 1
                self.errors.append(FieldError(line, "<<", "can only merge mappings"))
                continue
            for key_node, value_node in source.value:
                if isinstance(key_node, ScalarNode) and key_node.tag != _MERGE:
                    into.setdefault(str(key_node.value), (value_node, key_node.start_mark.line + 1))

    def scalar(self, node: ScalarNode) -> Scalar:
        converters: dict[str, Any] = {
            _INT: self.constructor.construct_yaml_int,
            _FLOAT: self.constructor.construct_yaml_float,
            _BOOL: self.constructor.construct_yaml_bool,
            _NULL: self.constructor.construct_yaml_null,
        }
        convert = converters.get(node.tag)
        if convert is None:
            return str(node.value)
        try:
            value: Scalar = convert(node)
        except (ValueError, OverflowError, yaml.YAMLError):
            return str(node.value)
        return value


class _TooBig(Exception):
    def __init__(self, line: int, message: str) -> None:
        self.line = line
        self.message = message


def parse_document(text: str) -> tuple[Node | None, list[FieldError]]:
    """The document's tree (None when it cannot be read at all) and the errors found."""
    try:
        root = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 1
        what = error.problem or error.context or "unreadable"
        return None, [FieldError(line, DOCUMENT, f"not valid YAML: {what}")]
    except yaml.reader.ReaderError as error:  # a character YAML does not allow
        line = text[: error.position].count("\n") + 1
        code = (
            error.character if isinstance(error.character, int) else ord(error.character[:1] or "?")
        )
        message = f"not valid YAML: {error.reason} (U+{code:04X})"
        return None, [FieldError(line, DOCUMENT, message)]
    except yaml.YAMLError as error:
        return None, [FieldError(1, DOCUMENT, f"not valid YAML: {error}")]
    except RecursionError:
        return None, [FieldError(1, DOCUMENT, f"values are nested more than {MAX_DEPTH} deep")]
    if root is None:
        return None, [FieldError(1, DOCUMENT, "the file is empty; expected an experiment")]
    builder = _Builder()
    try:
        tree = builder.build(root, "", 0)
    except _TooBig as error:
        return None, [FieldError(error.line, DOCUMENT, error.message)]
    return tree, builder.errors
