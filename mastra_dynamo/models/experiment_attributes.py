"""PynamoDB attributes and cheap paths of the experiments domain's models (``models/experiments.py``).

* :class:`TextAttribute`, :class:`IntegerAttribute`: record fields stored as ``codec.encode_value`` stores
  them (valid Unicode text; integers of at most 38 digits), ValidationErrors naming the field.
* :class:`SortedStringSetAttribute`: a string set in sorted order; :class:`CounterAttribute` and
  :class:`EpochSecondsAttribute`: plain integers the store itself computes.

Items are serialized and decoded by the models' layouts (models/layout.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from pynamodb.attributes import Attribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.constants import NUMBER

from mastra_dynamo.dynamo.codec import encode_number
from mastra_dynamo.schema.table import TABLE_SPEC
from mastra_dynamo.validate import utf8_size


class TextAttribute(UnicodeAttribute):
    """A record's text field (``S``): only valid Unicode is stored (a lone surrogate is a ValidationError
    naming ``field``, code INVALID_TEXT)."""

    def __init__(self, *, field: str, null: bool | None = None, attr_name: str | None = None) -> None:
        super().__init__(null=null, attr_name=attr_name)
        self.field = field

    def serialize(self, value: str) -> str:
        utf8_size(value, field=self.field)
        return value


class IntegerAttribute(Attribute[int]):
    """An integer as ``codec.encode_number`` stores it (``N``; more than 38 digits is a ValidationError
    naming ``field``), read back as ``int``."""

    attr_type = NUMBER

    def __init__(self, *, field: str, null: bool | None = None, attr_name: str | None = None) -> None:
        super().__init__(null=null, attr_name=attr_name)
        self.field = field

    def serialize(self, value: int) -> str:
        text: str = encode_number(value, field=self.field)[NUMBER]
        return text

    def deserialize(self, value: str) -> int:
        return int(Decimal(value))


class SortedStringSetAttribute(UnicodeSetAttribute):
    """A string set (``SS``) serialized in sorted order (a set has no order; a fixed one keeps items and
    requests reproducible). An empty set is absent."""

    def serialize(self, value: Iterable[str]) -> list[str] | None:
        return sorted(set(value)) or None


class EpochSecondsAttribute(Attribute[int]):
    """Whole epoch seconds (``N``), as ``TTLAttribute`` stores ``epoch_datetime(seconds)``."""

    attr_type = NUMBER

    def serialize(self, value: int) -> str:
        return str(int(value))

    def deserialize(self, value: str) -> int:
        return int(Decimal(value))


EPOCH_SECONDS = EpochSecondsAttribute(attr_name=TABLE_SPEC.ttl_attribute)
"""Whole epoch seconds as a ``ttl`` value (``N``): what ``TableItem.ttl`` stores for ``epoch_datetime(s)``,
without its datetime round trip (``TableItem.encode_item`` takes an ``int`` ``ttl`` the same way)."""


class CounterAttribute(Attribute[int]):
    """A counter the store keeps (``N``, an ``int``; changed by ADD): no validation, it is never user input."""

    attr_type = NUMBER

    def serialize(self, value: int) -> str:
        return str(int(value))

    def deserialize(self, value: str) -> int:
        return int(Decimal(value))
