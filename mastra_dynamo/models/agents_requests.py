"""Cheap request paths of the agents domain: items serialized by the model attributes, conditions and filters
serialized by PynamoDB once and bound per call.

Building a PynamoDB model instance and calling ``serialize()`` visits every declared attribute through its
descriptor (about 50 us for an agent item), and serializing a condition costs about 15 us, so a ``create``
(three conditional Puts) built that way would take three times the CPU of the dictionaries the store built
before the models. Here:

* :func:`serialize_values` serializes an item from its values with the model's own attributes (as
  ``TableItem.decode_attributes`` decodes one): the result is ``Model(**values).serialize()``.
* :class:`GetRequests` builds the GetItem that ``requests.get_item`` builds (PynamoDB's builder takes about
  3 us a request, the item keys are all alike): PynamoDB's request for a marker key, with each key serialized
  by the key attributes; :func:`decode_one` decodes one attribute as ``TableItem.decode_attributes`` does.
* :class:`ConditionTemplate` asks PynamoDB once for the expression of a condition whose call-dependent values
  (the time of a TTL check, a revision) are marker values, and binds each call's values to the placeholders
  PynamoDB chose (like ``requests.upsert_item`` does for update shapes). :meth:`ConditionTemplate.put` is
  then the request ``requests.put_item`` builds, and :meth:`ConditionTemplate.filter` a listing filter that
  adds the expression to every Query of a listing without serializing it again.

Unit tests (tests/unit/test_agents_items.py) compare each of them with PynamoDB's own result.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from pynamodb.attributes import Attribute, NumberAttribute
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Value

from mastra_dynamo.dynamo.codec import Item
from mastra_dynamo.models import requests
from mastra_dynamo.models.attributes import SelfTypedAttribute
from mastra_dynamo.models.base import UNBOUND_TABLE_NAME, TableItem
from mastra_dynamo.schema.keys import Key

FilterBuilder = Callable[[Any], str]
"""A ``stores.listing.FilterBuilder``: adds its names and values to those of a Query, returns the filter."""

_MARK = "\x00"  # marker values start with NUL, which no value of a condition does


_PK, _SK = TableItem.pk, TableItem.sk
_PK_NAME, _SK_NAME = _PK.attr_name, _SK.attr_name


def serialize_key(key: Key) -> Item:
    """``key`` as the item key of a request, serialized by the model's key attributes."""
    return {_PK_NAME: {_PK.attr_type: _PK.serialize(key.pk)}, _SK_NAME: {_SK.attr_type: _SK.serialize(key.sk)}}


def decode_one(attr: Attribute[Any], raw: Item) -> Any:
    """Attribute ``attr`` of a raw item, decoded as ``TableItem.decode_attributes`` decodes it (absent or NULL:
    None)."""
    value = raw.get(attr.attr_name)
    return attr.deserialize(attr.get_value(value)) if value and "NULL" not in value else None


class GetRequests:
    """GetItem requests by key, as ``requests.get_item(table_name, key, consistent=consistent)`` builds them."""

    def __init__(self, *, consistent: bool) -> None:
        template = requests.get_item(UNBOUND_TABLE_NAME, Key(_MARK, _MARK), consistent=consistent)
        self._rest = {k: v for k, v in template.items() if k not in ("TableName", "Key")}

    def __call__(self, table_name: str, key: Key) -> dict[str, Any]:
        return {"TableName": table_name, "Key": serialize_key(key), **self._rest}


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
    stamped = model().serialize(null_check=False)
    stamp = {attr.attr_name: stamped[attr.attr_name] for attr in (TableItem.item_type, TableItem.schema_version)}
    return serializers, frozenset(required), stamp


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

    ``build`` takes one PynamoDB ``Value`` per slot (a marker) and returns the condition; ``slots`` names the
    attribute that serializes each slot's value (e.g. ``now=EPOCH_SECONDS``). :meth:`bind` gives the condition
    for one call's slot values."""

    def __init__(self, build: Callable[..., Condition], **slots: Attribute[Any]) -> None:
        markers = {name: Value(_MARK + name, attribute=TableItem.pk) for name in slots}
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        self.expression: str = build(**markers).serialize(names, values)
        self.names: dict[str, str] = {placeholder: name for name, placeholder in names.items()}
        self._constants: dict[str, Any] = {}
        self._slots: list[tuple[str, str, Attribute[Any]]] = []
        for placeholder, value in values.items():
            (marker,) = value.values()
            if isinstance(marker, str) and marker.startswith(_MARK) and marker[1:] in slots:
                self._slots.append((placeholder, marker[1:], slots[marker[1:]]))
            else:
                self._constants[placeholder] = value

    def bind(self, **slot_values: Any) -> BoundCondition:
        """The condition with these slot values: what PynamoDB serializes ``build(<slot values>)`` to."""
        values = dict(self._constants)
        for placeholder, name, attr in self._slots:
            values[placeholder] = Value(slot_values[name], attribute=attr).value
        return BoundCondition(self.expression, self.names, values)


class BoundCondition:
    """A serialized condition: its expression, names and values, ready to go into requests (each request gets
    its own copy of the names and values)."""

    __slots__ = ("expression", "names", "values")

    def __init__(self, expression: str, names: dict[str, str], values: dict[str, Any]) -> None:
        self.expression = expression
        self.names = names
        self.values = values

    def put(self, table_name: str, serialized: Item) -> dict[str, Any]:
        """PutItem of ``serialized`` on this condition: ``requests.put_item(table_name, item,
        serialized=serialized, condition=<the condition>)``."""
        request: dict[str, Any] = {"TableName": table_name, "Item": serialized,
                                   "ConditionExpression": self.expression,
                                   "ExpressionAttributeNames": dict(self.names)}
        if self.values:
            request["ExpressionAttributeValues"] = dict(self.values)
        return request

    def filter(self) -> FilterBuilder:
        """A ``stores.listing`` filter builder: ``requests.condition_filter(lambda: <the condition>)``, serialized
        once for every Query of a listing."""

        def filter_builder(expr: Any) -> str:
            for placeholder, name in self.names.items():
                assert placeholder not in expr.names
                expr.names[placeholder] = name
            assert self.values.keys().isdisjoint(expr.values)
            expr.values.update(self.values)
            return self.expression

        return filter_builder


class TemplateCache:
    """Condition templates by shape (e.g. which optional filters a listing has), built on first use."""

    def __init__(self, make: Callable[..., ConditionTemplate]) -> None:
        self._make = make
        self._templates: dict[tuple[Any, ...], ConditionTemplate] = {}
        self._lock = threading.Lock()

    def __call__(self, *shape: Any) -> ConditionTemplate:
        template = self._templates.get(shape)
        if template is None:
            with self._lock:
                template = self._templates.get(shape)
                if template is None:
                    template = self._templates[shape] = self._make(*shape)
        return template
