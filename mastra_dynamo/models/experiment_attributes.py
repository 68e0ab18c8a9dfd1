"""PynamoDB attributes and cheap paths of the experiments domain's models (``models/experiments.py``).

* :class:`TextAttribute`, :class:`IntegerAttribute`: record fields stored as ``codec.encode_value`` stores
  them (valid Unicode text; integers of at most 38 digits), ValidationErrors naming the field.
* :class:`SortedStringSetAttribute`: a string set in sorted order; :class:`CounterAttribute` and
  :class:`EpochSecondsAttribute`: plain integers the store itself computes.
* :func:`serialize_values` and :func:`decoder`: what a model's ``serialize()`` and ``decode_attributes``
  compute, without a model instance and with the attributes looked up once (the write and listing paths
  serialize or decode an item per call or per listed item).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from functools import cache
from typing import Any

from pynamodb.attributes import Attribute, TTLAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.constants import NULL, NUMBER

from mastra_dynamo.dynamo.codec import Item, encode_number
from mastra_dynamo.models.attributes import SelfTypedAttribute
from mastra_dynamo.models.base import TableItem
from mastra_dynamo.models.templates import key_item, stamp
from mastra_dynamo.schema.keys import Key
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


def serialize_values(model: type[TableItem], key: Key, values: Mapping[str, Any]) -> Item:
    """``model(key.pk, key.sk, **values).serialize()`` without building the model instance (PynamoDB's
    instance set-up and ``_container_serialize`` visit every declared attribute): each given value is
    serialized by its attribute, None values are absent, ``_et`` and ``_sv`` are the model's. An ``int``
    ``ttl`` is taken as epoch seconds (``epoch_datetime(ttl)``)."""
    plan = _serializers(model)
    item: Item = {**key_item(key), **stamp(model)}
    for name, value in values.items():
        if value is None:
            continue
        attr_name, attr_type, serialize = plan[name]
        serialized = serialize(value)
        if attr_type is None:
            item[attr_name] = serialized
        elif serialized is not None:
            item[attr_name] = {attr_type: serialized}
    return item


_Serializer = tuple[str, str | None, Callable[[Any], Any]]


@cache
def _serializers(model: type[TableItem]) -> dict[str, _Serializer]:
    """Per attribute (Python name): its stored name, its DynamoDB type (None: a self-typed attribute, whose
    serialized form is the typed value) and its serializer."""
    plan: dict[str, _Serializer] = {}
    for name, attribute in model.get_attributes().items():
        serialize: Callable[[Any], Any] = attribute.serialize
        if isinstance(attribute, TTLAttribute):
            serialize = _ttl_serializer(attribute)
        attr_type = None if isinstance(attribute, SelfTypedAttribute) else attribute.attr_type
        plan[name] = (attribute.attr_name, attr_type, serialize)
    return plan


def _ttl_serializer(attribute: TTLAttribute) -> Callable[[Any], Any]:
    serialize_datetime: Callable[[Any], Any] = attribute.serialize

    def serialize(value: Any) -> Any:
        return EPOCH_SECONDS.serialize(value) if isinstance(value, int) else serialize_datetime(value)

    return serialize


class EpochSecondsAttribute(Attribute[int]):
    """Whole epoch seconds (``N``), as ``TTLAttribute`` stores ``epoch_datetime(seconds)``."""

    attr_type = NUMBER

    def serialize(self, value: int) -> str:
        return str(int(value))

    def deserialize(self, value: str) -> int:
        return int(Decimal(value))


EPOCH_SECONDS = EpochSecondsAttribute(attr_name=TABLE_SPEC.ttl_attribute)
"""Whole epoch seconds as a ``ttl`` value (``N``): what ``TableItem.ttl`` stores for ``epoch_datetime(s)``,
without its datetime round trip. :func:`serialize_values` takes an ``int`` ``ttl`` this way."""


def decoder(model: type[TableItem], names: tuple[str, ...]) -> Callable[[Item], dict[str, Any]]:
    """``model.decode_attributes(raw, names)`` without the attributes that are absent or NULL, as one
    function with the attributes looked up once (the read paths decode every listed item with it)."""
    attributes = model.get_attributes()
    plan = tuple((name, attributes[name].attr_name, attributes[name].get_value, attributes[name].deserialize)
                 for name in names)

    def decode(raw: Item) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, attr_name, get_value, deserialize in plan:
            value = raw.get(attr_name)
            if value and NULL not in value:
                out[name] = deserialize(get_value(value))
        return out

    return decode


class CounterAttribute(Attribute[int]):
    """A counter the store keeps (``N``, an ``int``; changed by ADD): no validation, it is never user input."""

    attr_type = NUMBER

    def serialize(self, value: int) -> str:
        return str(int(value))

    def deserialize(self, value: str) -> int:
        return int(Decimal(value))
