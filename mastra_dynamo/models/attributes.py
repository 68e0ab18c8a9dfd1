"""PynamoDB attributes for the table's own storage formats (see ``dynamo/codec.py`` and ``schema/keys.py``).

* :class:`JsonAttribute`: a JSON value exactly as ``codec.encode_json`` stores it: compact JSON text (``S``), or
  zlib-compressed JSON (``B``) from the attribute's ``compress_min`` on (16 KB unless the model says otherwise)
  when that is smaller. Reads also accept native documents (``M``/``L``) written by other tools, as
  ``codec.decode_json`` does.
* :class:`TimestampAttribute`: an aware UTC datetime stored as the fixed-width string of ``keys.ts``
  (``2026-01-02T03:04:05.123456Z``), whose lexical order is time order.

A JSON attribute's DynamoDB type depends on its value (``S`` or ``B``), which a PynamoDB attribute cannot
declare (one ``attr_type`` per attribute, see ``AttributeContainer._container_serialize`` in
pynamodb/attributes.py). A :class:`SelfTypedAttribute` therefore serializes to the complete typed value
(``{"S": ...}`` or ``{"B": ...}``): ``TableItem.serialize`` unwraps it, ``get_value`` hands the typed value to
``deserialize``, and ``set``/``|`` pass it to expressions as an already serialized value (which
``pynamodb.expressions.operand.Value`` takes as is).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from pynamodb.attributes import Attribute
from pynamodb.constants import STRING
from pynamodb.expressions.operand import Path

from mastra_dynamo.clock import parse_datetime, to_utc
from mastra_dynamo.dynamo.codec import COMPRESS_MIN_BYTES, AttributeValue, decode_json, encode_json
from mastra_dynamo.schema.keys import ts

if TYPE_CHECKING:
    from pynamodb.expressions.operand import _IfNotExists
    from pynamodb.expressions.update import RemoveAction, SetAction


class SelfTypedAttribute(Attribute[Any]):
    """An attribute whose serialized form carries its own DynamoDB type (``{"S": ...}``, ``{"B": ...}``).

    ``attr_type`` is only nominal (the type PynamoDB wraps the value in, and that ``TableItem.serialize``
    removes again)."""

    attr_type = STRING

    def encode(self, value: Any) -> AttributeValue:
        raise NotImplementedError

    def serialize(self, value: Any) -> AttributeValue:
        return self.encode(value)

    def get_value(self, value: dict[str, Any]) -> Any:
        return value  # the typed value: deserialize needs to know whether it is S or B

    # Expressions: hand PynamoDB the typed value (an "already serialized" Value), never the raw Python value.
    def set(self, value: Any) -> SetAction | RemoveAction:
        return Path(self).set(value if _is_operand(value) else self.encode(value))

    def __or__(self, other: Any) -> _IfNotExists:
        return cast("_IfNotExists", Path(self) | (other if _is_operand(other) else self.encode(other)))


def _is_operand(value: Any) -> bool:
    from pynamodb.expressions.operand import _Operand

    return isinstance(value, _Operand | Attribute)


class JsonAttribute(SelfTypedAttribute):
    """A JSON document, stored as ``codec.encode_json`` stores it: JSON text, or compressed JSON when its text
    has at least ``compress_min`` bytes (UTF-8) and compressing makes it smaller.

    ``field`` names the record field in a ValidationError for a value that is not JSON."""

    def __init__(self, *, field: str, compress_min: int = COMPRESS_MIN_BYTES, null: bool | None = None,
                 attr_name: str | None = None) -> None:
        super().__init__(null=null, attr_name=attr_name)
        self.field = field
        self._compress_min = compress_min

    def encode(self, value: Any) -> AttributeValue:
        return encode_json(value, field=self.field, compress_min=self._compress_min)

    def deserialize(self, value: AttributeValue) -> Any:
        return decode_json(value)


class TimestampAttribute(Attribute[datetime]):
    """An aware UTC datetime stored as ``keys.ts`` (fixed width, microseconds, ``Z``): sortable as text.
    A naive datetime is taken to be UTC."""

    attr_type = STRING

    def serialize(self, value: datetime) -> str:
        return ts(to_utc(value))

    def deserialize(self, value: str) -> datetime:
        return parse_datetime(value)
