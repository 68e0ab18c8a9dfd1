"""Attribute codecs: Python values <-> DynamoDB attribute values, and item size accounting.

Scalars are stored natively (S, N, BOOL, NULL). JSON-valued fields (metadata, message content, snapshots...)
are stored as compact JSON text (S), or zlib-compressed JSON (B) above a size threshold: JSON text keeps
exact round-trips (int vs float, empty-string keys, nesting deeper than DynamoDB's 32 map levels) and the
attribute type tells the reader whether to decompress. ``None`` is stored as NULL and a missing field as no
attribute, so the two stay distinct.
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from mastra_dynamo.clock import to_utc
from mastra_dynamo.errors import ItemTooLargeError, ValidationError
from mastra_dynamo.schema.keys import ts

AttributeValue = dict[str, Any]
Item = dict[str, AttributeValue]
FieldKind = Literal["str", "json", "datetime", "number", "bool", "int"]

MAX_ITEM_BYTES = 400 * 1024
SAFE_ITEM_BYTES = 390 * 1024
"""Items are kept below this size (DynamoDB's limit is 400 KB including attribute names)."""
COMPRESS_MIN_BYTES = 16 * 1024
"""JSON fields at least this large are stored zlib-compressed when that saves space."""


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return to_utc(value).isoformat().replace("+00:00", "Z")
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"value of type {type(value).__name__} is not JSON serializable")


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_json_default)
"""What ``json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_json_default)``
encodes with (built once: ``json.dumps`` makes one per call)."""


def _json_text(value: Any, field: str) -> tuple[str, bytes]:
    """The compact JSON text of ``value`` and its UTF-8 bytes; a ValidationError when there are none."""
    try:
        text = _ENCODER.encode(value)
        return text, text.encode("utf-8")  # a lone surrogate has no UTF-8 form (UnicodeEncodeError: a ValueError)
    except (TypeError, ValueError, RecursionError) as exc:
        reason = "text that is not valid Unicode" if isinstance(exc, UnicodeEncodeError) else (
            "nesting too deep" if isinstance(exc, RecursionError) else str(exc))
        raise ValidationError(f"field {field!r} is not JSON-serializable: {reason}", code="INVALID_JSON",
                              details={"field": field}) from None


def dumps_json(value: Any, *, field: str) -> str:
    """Compact, exact JSON. Rejects NaN/Infinity and non-JSON types with a ValidationError."""
    return _json_text(value, field)[0]


def compress(raw: bytes) -> bytes:
    """zlib at level 6. Payloads of a few KB get a 4 KB window: the same size for them, at a seventh of the
    set-up time of the default 32 KB window (``zlib.decompress`` reads either)."""
    small = len(raw) <= 4096
    packer = zlib.compressobj(6, zlib.DEFLATED, 12 if small else 15, 4 if small else 8)
    return packer.compress(raw) + packer.flush()


def encode_json(value: Any, *, field: str, compress_min: int = COMPRESS_MIN_BYTES) -> AttributeValue:
    if value is None:
        return {"NULL": True}
    text, raw = _json_text(value, field)
    if len(raw) >= compress_min:
        packed = compress(raw)
        if len(packed) < len(raw):
            return {"B": packed}
    return {"S": text}


_scan_once: Callable[[str, int], tuple[Any, int]] = vars(json.JSONDecoder())["scan_once"]
"""The scanner ``json.loads`` runs (a decoder with the default options), per document."""


def loads_json(text: str) -> Any:
    """``json.loads(text)``: a document without surrounding whitespace (what :func:`dumps_json` writes) is
    scanned directly, anything else (and every error) goes through ``json.loads``."""
    try:
        value, end = _scan_once(text, 0)
    except StopIteration:
        return json.loads(text)
    return value if end == len(text) else json.loads(text)


def decode_json(attr: AttributeValue) -> Any:
    if "NULL" in attr:
        return None
    if "B" in attr:
        data = attr["B"]
        return loads_json(zlib.decompress(bytes(data)).decode("utf-8"))
    if "S" in attr:
        return loads_json(attr["S"])
    if "M" in attr or "L" in attr:  # written by other tools: accept native documents
        return decode_native(attr)
    raise ValueError(f"unexpected attribute for a JSON field: {sorted(attr)}")


def string_of(item: Item, name: str) -> str:
    """The string attribute ``name`` of a raw item (a key attribute: always present)."""
    value: str = item[name]["S"]
    return value


def encode_number(value: int | float | Decimal, *, field: str) -> AttributeValue:
    if isinstance(value, bool):
        raise ValidationError(f"field {field!r} must be a number, not a boolean", code="INVALID_NUMBER",
                              details={"field": field})
    if isinstance(value, float) and not math.isfinite(value):
        raise ValidationError(f"field {field!r} must be a finite number", code="INVALID_NUMBER",
                              details={"field": field})
    text = str(Decimal(str(value)))
    digits = Decimal(text).as_tuple().digits
    if len(digits) > 38:
        raise ValidationError(f"field {field!r} has more than 38 significant digits", code="INVALID_NUMBER",
                              details={"field": field})
    return {"N": text}


def decode_number(attr: AttributeValue) -> int | float:
    text = attr["N"]
    if any(c in text for c in ".eE"):
        return float(text)
    return int(text)


def encode_value(value: Any, kind: FieldKind, *, field: str) -> AttributeValue:
    if value is None:
        return {"NULL": True}
    if kind == "str":
        if not isinstance(value, str):
            raise ValidationError(f"field {field!r} must be a string", code="INVALID_INPUT",
                                  details={"field": field})
        from mastra_dynamo.validate import utf8_size

        utf8_size(value, field=field)
        return {"S": value}
    if kind == "json":
        return encode_json(value, field=field)
    if kind == "datetime":
        return {"S": ts(to_utc(value))}
    if kind in ("number", "int"):
        return encode_number(value, field=field)
    if kind == "bool":
        return {"BOOL": bool(value)}
    raise AssertionError(kind)


def decode_value(attr: AttributeValue, kind: FieldKind) -> Any:
    if "NULL" in attr:
        return None
    if kind == "str":
        return attr["S"]
    if kind == "json":
        return decode_json(attr)
    if kind == "datetime":
        from mastra_dynamo.clock import parse_datetime

        return parse_datetime(attr["S"])
    if kind == "number":
        return decode_number(attr)
    if kind == "int":
        return int(Decimal(attr["N"]))
    if kind == "bool":
        return bool(attr["BOOL"])
    raise AssertionError(kind)


def decode_native(attr: AttributeValue) -> Any:
    """Decode any DynamoDB attribute value into plain Python (numbers as int/float)."""
    if "S" in attr:
        return attr["S"]
    if "N" in attr:
        return decode_number(attr)
    if "BOOL" in attr:
        return attr["BOOL"]
    if "NULL" in attr:
        return None
    if "M" in attr:
        return {k: decode_native(v) for k, v in attr["M"].items()}
    if "L" in attr:
        return [decode_native(v) for v in attr["L"]]
    if "B" in attr:
        return bytes(attr["B"])
    if "SS" in attr:
        return set(attr["SS"])
    if "NS" in attr:
        return {decode_number({"N": n}) for n in attr["NS"]}
    raise ValueError(f"unsupported attribute {sorted(attr)}")


def _text_size(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def _number_size(text: str) -> int:
    return (len(text.lstrip("-").replace(".", "")) + 1) // 2 + 1


def _one(_: Any) -> int:
    return 1


def _map_size(value: dict[str, AttributeValue]) -> int:
    return 3 + sum(_text_size(k) + attribute_size(v) + 1 for k, v in value.items())


def _list_size(value: list[AttributeValue]) -> int:
    return 3 + sum(attribute_size(v) + 1 for v in value)


_SIZES: dict[str, Callable[[Any], int]] = {
    "S": _text_size, "B": len, "N": _number_size, "BOOL": _one, "NULL": _one, "M": _map_size, "L": _list_size,
    "SS": lambda values: sum(map(_text_size, values)), "NS": lambda values: sum(map(_number_size, values)),
    "BS": lambda values: sum(map(len, values)),
}


def attribute_size(attr: AttributeValue) -> int:
    """DynamoDB's size accounting for one attribute value (bytes)."""
    for kind, value in attr.items():
        size = _SIZES.get(kind)
        if size is not None:
            return size(value)
    raise ValueError(f"unknown attribute value type: {sorted(attr)}")


def item_size(item: Item) -> int:
    total = 0
    for name, value in item.items():
        total += len(name) if name.isascii() else len(name.encode("utf-8"))
        text = value.get("S")  # the common kinds inline: this runs for every item a write sends
        if text is not None:
            total += len(text) if text.isascii() else len(text.encode("utf-8"))
        elif "B" in value:
            total += len(value["B"])
        else:
            total += attribute_size(value)
    return total


def check_item_size(item: Item, *, entity: str, entity_id: str, limit: int = SAFE_ITEM_BYTES) -> int:
    """The item's size; ItemTooLargeError above ``limit``."""
    size = item_size(item)
    if size > limit:
        raise ItemTooLargeError(
            f"{entity} {entity_id!r} is {size} bytes after compression; the limit is {limit} bytes",
            details={"entity": entity, "id": entity_id, "size": size, "limit": limit},
        )
    return size
