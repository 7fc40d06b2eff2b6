"""Typed reads of one field of a JSON object, for parsing what another service sent.

Each raises `InvalidField` (a ValueError) naming the field: missing, of the
wrong type, or not one of a closed set.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.common.errors import InvalidField


def require_object(data: object, name: str) -> Mapping[str, Any]:
    """`data` itself, when it is a JSON object; `name` says what it should be."""
    if not isinstance(data, Mapping):
        raise InvalidField(name, "expected a JSON object")
    return data


def get(data: Mapping[str, Any], field: str) -> Any:
    if field not in data:
        raise InvalidField(field, "missing")
    return data[field]


def int_field(data: Mapping[str, Any], field: str) -> int:
    value = get(data, field)
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidField(field, "expected an integer")
    return value


def float_field(data: Mapping[str, Any], field: str) -> float:
    value = get(data, field)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidField(field, "expected a number")
    return float(value)


def bool_field(data: Mapping[str, Any], field: str) -> bool:
    value = get(data, field)
    if not isinstance(value, bool):
        raise InvalidField(field, "expected true or false")
    return value


def str_field(data: Mapping[str, Any], field: str) -> str:
    value = get(data, field)
    if not isinstance(value, str):
        raise InvalidField(field, "expected a string")
    return value


def str_list_field(data: Mapping[str, Any], field: str) -> tuple[str, ...]:
    value = get(data, field)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidField(field, "expected a list of strings")
    return tuple(value)


def choice_field(data: Mapping[str, Any], field: str, choices: tuple[str, ...]) -> str:
    value = str_field(data, field)
    if value not in choices:
        raise InvalidField(field, f"{value!r} is not one of {', '.join(choices)}")
    return value


def members_field(data: Mapping[str, Any], field: str, choices: tuple[str, ...]) -> tuple[str, ...]:
    value = str_list_field(data, field)
    unknown = [item for item in value if item not in choices]
    if unknown:
        raise InvalidField(field, f"{unknown[0]!r} is not one of {', '.join(choices)}")
    return value
