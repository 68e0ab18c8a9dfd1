"""Span records <-> ClickHouse rows.

Datetimes travel as integer microseconds since the epoch (``toUnixTimestamp64Micro`` on the way out), so no
timezone of client, server or process can shift them. JSON payloads are stored as compact JSON text; on read,
text that is not valid JSON is returned as the raw string.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from mastra_dynamo.composite.clickhouse.schema import SPAN_COLUMNS, Column, quote
from mastra_dynamo.composite.spans import SpanData, SpanRecord

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_micros(value: datetime) -> int:
    """Aware UTC datetime -> integer microseconds since the epoch (exact)."""
    delta = value - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=int(value))


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value) if math.isfinite(value) else str(value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dump_json(value: Any) -> str:
    """Compact JSON text. Raises TypeError/ValueError for values JSON cannot hold (NaN, bytes, objects)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_json_default)


def load_json(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _cell(column: Column, value: Any) -> Any:
    if value is None:
        return None
    if column.kind == "json":
        return dump_json(value)
    if column.kind == "datetime":
        return to_micros(value)
    return value


def to_row(record: SpanData, version: int, overrides: Mapping[str, Any]) -> list[Any]:
    """One insert row in ``SPAN_COLUMNS`` order: the record's fields, ``overrides`` first (e.g. createdAt).

    Raises:
        TypeError, ValueError: a payload JSON cannot hold (NaN, bytes, arbitrary objects).
    """
    row: list[Any] = []
    for column in SPAN_COLUMNS:
        if column.field is None:
            row.append(version)
        elif column.field in overrides:
            row.append(_cell(column, overrides[column.field]))
        else:
            row.append(_cell(column, getattr(record, column.field, None)))
    return row


def _result_name(column: Column) -> str:
    # Datetime results get their own alias: ClickHouse resolves aliases in WHERE/ORDER BY, and the column name
    # there must keep meaning the DateTime64 column, not its integer form.
    return f"{column.name}__us" if column.kind == "datetime" else column.name


def select_list() -> str:
    """The SELECT expressions that ``from_row`` reads (datetimes as integer microseconds)."""
    parts: list[str] = []
    for column in SPAN_COLUMNS:
        if column.kind == "datetime":
            parts.append(f"toUnixTimestamp64Micro({quote(column.name)}) AS {quote(_result_name(column))}")
        else:
            parts.append(quote(column.name))
    return ", ".join(parts)


def from_row(names: Sequence[str], row: Sequence[Any]) -> tuple[SpanRecord, int]:
    """A stored span and its version from one result row of ``select_list()``."""
    values: Mapping[str, Any] = dict(zip(names, row, strict=True))
    data: dict[str, Any] = {}
    version = 0
    for column in SPAN_COLUMNS:
        value = values.get(_result_name(column))
        if column.field is None:
            version = int(value or 0)
            continue
        if value is None:
            continue  # unset on the record: to_mastra() omits it
        if column.kind == "json":
            value = load_json(value)
        elif column.kind == "datetime":
            value = from_micros(value)
        elif column.kind == "bool":
            value = bool(value)
        data[column.field] = value
    return SpanRecord.model_validate(data), version


__all__ = ["dump_json", "from_micros", "from_row", "load_json", "select_list", "to_micros", "to_row"]
