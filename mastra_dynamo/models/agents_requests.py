"""Cheap request paths of the agents domain: items serialized by the model attributes, conditions and filters
serialized by PynamoDB once and bound per call.

Building a PynamoDB model instance and calling ``serialize()`` visits every declared attribute through its
descriptor (about 50 us for an agent item), and serializing a condition costs about 15 us, so a ``create``
(three conditional Puts) built that way would take three times the CPU of the dictionaries the store built
before the models. Here:

* :func:`serialize_values` serializes an item from its values with the model's own attributes (as
  ``TableItem.decode_attributes`` decodes one): the result is ``Model(**values).serialize()``.
* :class:`GetRequests` is the GetItem that ``requests.get_item`` builds, and :class:`ConditionTemplate` a
  condition whose call-dependent values (the time of a TTL check, a revision) are slots: both are
  ``models.templates`` templates (PynamoDB builds them once, each call binds its values), named by keyword.
  :meth:`BoundCondition.put` is then the request ``requests.put_item`` builds, and
  :meth:`BoundCondition.filter` a listing filter that adds the expression to every Query of a listing without
  serializing it again.

Unit tests (tests/unit/test_agents_items.py) compare each of them with PynamoDB's own result.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from pynamodb.attributes import Attribute, NumberAttribute
from pynamodb.expressions.condition import Condition

from mastra_dynamo.dynamo.codec import Item
from mastra_dynamo.models import requests, templates
from mastra_dynamo.models.attributes import SelfTypedAttribute
from mastra_dynamo.models.base import UNBOUND_TABLE_NAME, TableItem
from mastra_dynamo.models.templates import MARKER_KEY, BoundCondition, TemplateCache
from mastra_dynamo.schema.keys import Key

__all__ = ["EPOCH_SECONDS", "BoundCondition", "ConditionTemplate", "GetRequests", "TemplateCache", "decode_one",
           "serialize_values"]


def decode_one(attr: Attribute[Any], raw: Item) -> Any:
    """Attribute ``attr`` of a raw item, decoded as ``TableItem.decode_attributes`` decodes it (absent or NULL:
    None)."""
    value = raw.get(attr.attr_name)
    return attr.deserialize(attr.get_value(value)) if value and "NULL" not in value else None


class GetRequests:
    """GetItem requests by key, as ``requests.get_item(table_name, key, consistent=consistent)`` builds them."""

    def __init__(self, *, consistent: bool) -> None:
        self._template = templates.Template.build(
            lambda slots: requests.get_item(UNBOUND_TABLE_NAME, MARKER_KEY, consistent=consistent))

    def __call__(self, table_name: str, key: Key) -> dict[str, Any]:
        return self._template.bind(table_name, key=key)


_Serializer = tuple[str, Callable[[Any], Any] | None, str | None]
"""(stored name, the attribute's ``serialize`` (None: PynamoDB's identity, ``Attribute.serialize``), the
DynamoDB type to wrap its result in (None: self-typed))"""


@cache
def _model_layout(model: type[TableItem]) -> tuple[dict[str, _Serializer], frozenset[str], Item]:
    """How ``model`` serializes: the serializer of each attribute (by Python name), the stored names of the
    required attributes, and the stamp (``_et``, ``_sv``) every item of ``model`` carries, as PynamoDB
    serializes it."""
    serializers: dict[str, _Serializer] = {}
    required: set[str] = set()
    for name, attr in model.get_attributes().items():
        self_typed = isinstance(attr, SelfTypedAttribute)
        serialize = None if type(attr).serialize is Attribute.serialize else attr.serialize
        serializers[name] = (attr.attr_name, serialize, None if self_typed else attr.attr_type)
        if not attr.null and name not in ("item_type", "schema_version"):
            required.add(attr.attr_name)
    return serializers, frozenset(required), templates.stamp(model)


def serialize_values(model: type[TableItem], values: Mapping[str, Any], *,
                     serialized: Mapping[str, Any] | None = None) -> Item:
    """``model(**values).serialize()`` without building the instance: each value serialized by its attribute,
    ``None`` values left out, the entity stamp and schema version added. ``serialized`` holds, by attribute
    name, values the caller already serialized as their attribute's ``serialize`` does (a timestamp it also
    formats into an index key, say): they are taken as they are. Raises ValueError when a required attribute
    has no value (PynamoDB's null check)."""
    serializers, required, stamp = _model_layout(model)
    item: Item = {}
    for name, value in values.items():
        if value is not None:
            attr_name, serialize, attr_type = serializers[name]
            if serialize is not None:
                value = serialized[name] if serialized is not None and name in serialized else serialize(value)
            item[attr_name] = value if attr_type is None else {attr_type: value}
    if not required.issubset(item):
        raise ValueError(f"{model.__name__}: attributes {sorted(required.difference(item))} cannot be None")
    item.update(stamp)
    return item


EPOCH_SECONDS = NumberAttribute()
"""The slot attribute of a time in epoch seconds (an ``int``): it serializes as ``TTLAttribute`` serializes
the same time (a DynamoDB number: the seconds), without its datetime round trips."""


class ConditionTemplate:
    """A condition PynamoDB serializes once, with named slots for the values that change from call to call.

    ``build`` takes one marker per slot (by keyword) and returns the condition; ``slots`` names the attribute
    that serializes each slot's value (e.g. ``now=EPOCH_SECONDS``). :meth:`bind` gives the condition for one
    call's slot values."""

    def __init__(self, build: Callable[..., Condition], **slots: Attribute[Any]) -> None:
        self._template = templates.ConditionTemplate(
            lambda marks: build(**{name: marks(name, attr) for name, attr in slots.items()}))

    def bind(self, **slot_values: Any) -> BoundCondition:
        """The condition with these slot values: what PynamoDB serializes ``build(<slot values>)`` to."""
        return self._template.bind(slot_values)
