"""Input checks shared by the domains (ids, metadata filters, order-by)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from mastra_dynamo.errors import ValidationError

MAX_ID_BYTES = 4096
_METADATA_KEY = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_FORBIDDEN_KEYS = frozenset({"__proto__", "prototype", "constructor"})


def utf8_size(value: str, *, field: str, code: str = "INVALID_TEXT") -> int:
    """Bytes of ``value`` in UTF-8; text that has no UTF-8 form (a lone surrogate) is a ValidationError."""
    if value.isascii():
        return len(value)
    try:
        return len(value.encode("utf-8"))
    except UnicodeEncodeError:
        raise ValidationError(f"{field} is not valid Unicode text (lone surrogate)", code=code,
                              details={"field": field}) from None


def is_list(value: Any) -> bool:
    """A list-like argument (a sequence that is not text, bytes or a mapping)."""
    return isinstance(value, Sequence) and not isinstance(value, str | bytes | bytearray)


def require_mapping(value: Any, *, field: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ValidationError(f"{field} must be an object", code="INVALID_INPUT", details={"field": field})
    return dict(value)


def require_id(value: Any, *, field: str) -> str:
    """A usable id: a non-blank string of at most 4 KiB (UTF-8). Any characters are allowed."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{field} must be a non-empty string", code="INVALID_ID", details={"field": field})
    if utf8_size(value, field=field, code="INVALID_ID") > MAX_ID_BYTES:
        raise ValidationError(f"{field} is longer than {MAX_ID_BYTES} bytes", code="INVALID_ID",
                              details={"field": field})
    return value


def optional_id(value: Any, *, field: str) -> str | None:
    return None if value is None else require_id(value, field=field)


def check_metadata_filter(metadata: Mapping[str, Any] | None, *, scalar_values: bool) -> dict[str, Any]:
    """Validate a metadata filter: keys like identifiers (<= 128 chars, no prototype names); with
    ``scalar_values`` the values must be string, finite number, boolean or None."""
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise ValidationError("metadata filter must be an object", code="INVALID_METADATA_FILTER")
    for key, value in metadata.items():
        if (not isinstance(key, str) or len(key) > 128 or not _METADATA_KEY.match(key)
                or key in _FORBIDDEN_KEYS):
            raise ValidationError(
                f"invalid metadata filter key {str(key)[:64]!r}: keys must match ^[a-zA-Z_][a-zA-Z0-9_]*$ "
                "(at most 128 characters)",
                code="INVALID_METADATA_FILTER",
            )
        if scalar_values and not (
            value is None or isinstance(value, str | bool)
            or (isinstance(value, int | float) and math.isfinite(value))
        ):
            raise ValidationError(
                f"metadata filter value for {key!r} must be a string, finite number, boolean or null",
                code="INVALID_METADATA_FILTER",
            )
    return dict(metadata)


def typed_equal(actual: Any, expected: Any) -> bool:
    """Exact, type-aware equality (True != 1, 1 == 1.0 like JSON numbers)."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(actual) is type(expected) and actual == expected
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return actual == expected
    return type(actual) is type(expected) and bool(actual == expected)


def matches_metadata(metadata: Any, expected: Mapping[str, Any]) -> bool:
    if not expected:
        return True
    if not isinstance(metadata, Mapping):
        return False
    return all(key in metadata and typed_equal(metadata[key], value) for key, value in expected.items())


def resolve_order(order_by: Any, *, allowed: tuple[str, ...], default_field: str, default_direction: str,
                  strict: bool) -> tuple[str, str]:
    """(field, direction). Unknown values fall back to defaults, or raise when ``strict``."""
    field_name: Any = None
    direction: Any = None
    if order_by is not None:
        if isinstance(order_by, Mapping):
            field_name = order_by.get("field")
            direction = order_by.get("direction")
        else:
            field_name = getattr(order_by, "field", None)
            direction = getattr(order_by, "direction", None)
    aliases = {"created_at": "createdAt", "updated_at": "updatedAt", "started_at": "startedAt",
               "ended_at": "endedAt", "version_number": "versionNumber"}
    if isinstance(field_name, str):
        field_name = aliases.get(field_name, field_name)
    if field_name is None:
        field_name = default_field
    elif field_name not in allowed:
        if strict:
            raise ValidationError(f"Invalid orderBy field {field_name!r}", code="INVALID_ORDER_BY")
        field_name = default_field
    if direction is None:
        direction = default_direction
    elif not isinstance(direction, str) or direction.upper() not in ("ASC", "DESC"):
        if strict:
            raise ValidationError(f"Invalid orderBy direction {direction!r}", code="INVALID_ORDER_BY")
        direction = default_direction
    return str(field_name), str(direction).upper()
