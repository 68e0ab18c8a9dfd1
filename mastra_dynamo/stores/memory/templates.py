"""Requests that PynamoDB builds once per shape, bound to each call's values: the memory hot path's CPU.

Building and serializing a condition and a few update actions costs PynamoDB about 150 us (a thread's
Update in a message transaction), more than the rest of a ``save_messages`` call. The expressions of such a
request depend only on its shape (which clauses it has), not on the call's values, so each shape is built
once by the request builders of :mod:`mastra_dynamo.models.requests` with *slots* (marker values) where the
call's values go, and each call binds its values, serialized by the slot's model attribute, to the
placeholders PynamoDB chose. Unit tests compare a bound template with the request built directly.

* :func:`slot` is the Value to use in a condition or an action: ``ThreadItem.updated_at < slot("now",
  ThreadItem.updated_at)``.
* :func:`request` returns the cached :class:`Template` of a shape (built by ``build()`` on first use);
  :meth:`Template.bind` makes the request for a table, a key or an item, and slot values.
* :func:`listing_filter` does the same for a listing's FilterExpression (``stores/listing.py``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from pynamodb.attributes import Attribute
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Value

from mastra_dynamo.dynamo.codec import AttributeValue, Item
from mastra_dynamo.models.attributes import SelfTypedAttribute
from mastra_dynamo.models.base import TableItem
from mastra_dynamo.schema.keys import Key

_MARK = "\x00"  # no stored value starts with NUL
MARKER_KEY = Key(_MARK + "pk", _MARK + "sk")
"""The key a template is built with (replaced by :meth:`Template.bind`)."""
MARKER_ITEM = TableItem(MARKER_KEY.pk, MARKER_KEY.sk)
MARKER_SERIALIZED: Item = MARKER_ITEM.serialize(null_check=False)
"""The item a Put template is built with (``requests.put_item(..., MARKER_ITEM, serialized=MARKER_SERIALIZED)``;
replaced by :meth:`Template.bind`)."""

_PK, _SK = TableItem.pk, TableItem.sk
(_PK_NAME, _PK_TYPE), (_SK_NAME, _SK_TYPE) = (_PK.attr_name, _PK.attr_type), (_SK.attr_name, _SK.attr_type)
_slot_attributes: dict[str, Attribute[Any]] = {}
_lock = threading.Lock()


def slot(name: str, attribute: Attribute[Any]) -> Value:
    """The marker Value of slot ``name``: bound to a value serialized by ``attribute``."""
    with _lock:
        known = _slot_attributes.setdefault(name, attribute)
    assert known is attribute, f"slot {name!r} names two attributes"
    return Value({str(attribute.attr_type): _MARK + name})


def item_slot(attribute: Attribute[Any]) -> Value:
    """The marker Value of an attribute of the item being written: bound to its serialized value (the
    ``typed`` argument of :meth:`Template.bind`, keyed by stored attribute name)."""
    return Value({str(attribute.attr_type): _MARK + _ITEM + attribute.attr_name})


_ITEM = "item:"


def _typed(name: str, value: Any) -> AttributeValue:
    attribute = _slot_attributes[name]
    if isinstance(attribute, SelfTypedAttribute):
        return attribute.serialize(value)
    return {attribute.attr_type: attribute.serialize(value)}


def _split(values: Mapping[str, AttributeValue]) -> tuple[dict[str, AttributeValue], tuple[tuple[str, str], ...]]:
    static: dict[str, AttributeValue] = {}
    slots: list[tuple[str, str]] = []
    for placeholder, value in values.items():
        ((_, raw),) = value.items()
        if isinstance(raw, str) and raw.startswith(_MARK):
            slots.append((placeholder, raw[len(_MARK):]))
        else:
            static[placeholder] = value
    return static, tuple(slots)


@dataclass(frozen=True)
class Template:
    """A request built by PynamoDB with slots in place of the call's values."""

    kwargs: dict[str, Any]
    static: dict[str, AttributeValue]
    slots: tuple[tuple[str, str], ...]
    """(value placeholder, slot name)"""

    @classmethod
    def of(cls, kwargs: dict[str, Any]) -> Template:
        static, slots = _split(kwargs.get("ExpressionAttributeValues", {}))
        return cls(kwargs, static, slots)

    def bind(self, table_name: str, *, key: Key | None = None, item: Item | None = None,
             typed: Item | None = None, **values: Any) -> dict[str, Any]:
        """The request for ``table_name``, on ``key`` (Update, Delete, ConditionCheck) or writing ``item``
        (Put), with each slot's value (Python values, serialized by the slot's attribute) and each item slot's
        serialized value from ``typed``."""
        request = dict(self.kwargs)
        request["TableName"] = table_name
        if key is not None:
            request["Key"] = {_PK_NAME: {_PK_TYPE: _PK.serialize(key.pk)}, _SK_NAME: {_SK_TYPE: _SK.serialize(key.sk)}}
        if item is not None:
            request["Item"] = item
        if self.slots or self.static:
            bound = dict(self.static)
            for placeholder, name in self.slots:
                if name.startswith(_ITEM):
                    assert typed is not None
                    bound[placeholder] = typed[name[len(_ITEM):]]
                else:
                    bound[placeholder] = _typed(name, values[name])
            request["ExpressionAttributeValues"] = bound
        return request


_templates: dict[Hashable, Template] = {}


def request(shape: Hashable, build: Callable[[], dict[str, Any]]) -> Template:
    """The template of ``shape`` (any hashable naming the request and its clauses), built by ``build()`` (a
    request of models/requests.py, on :data:`MARKER_KEY` or a marker item) the first time."""
    template = _templates.get(shape)
    if template is None:
        template = _templates[shape] = Template.of(build())
    return template


class Placeholders(Protocol):
    """The names and values of one Query that ``stores/listing.py`` assembles (its ``Expr``)."""

    names: dict[str, str]
    values: dict[str, AttributeValue]


@dataclass(frozen=True)
class _Filter:
    expression: str
    names: dict[str, str]
    static: dict[str, AttributeValue]
    slots: tuple[tuple[str, str], ...]


_filters: dict[Hashable, _Filter] = {}


def listing_filter(shape: Hashable, build: Callable[[], Condition],
                   **values: Any) -> Callable[[Placeholders], str]:
    """A ``stores.listing`` filter builder: the condition ``build()`` (with slots) of ``shape`` serialized by
    PynamoDB once, each Query getting the slot ``values``. PynamoDB's placeholders (``#0``, ``:0``) never
    collide with the listing's own (``#n0``, ``:v0``)."""
    flt = _filters.get(shape)
    if flt is None:
        names: dict[str, str] = {}
        raw: dict[str, Any] = {}
        expression = build().serialize(names, raw)
        static, slots = _split(raw)
        flt = _filters[shape] = _Filter(expression, {p: n for n, p in names.items()}, static, slots)
    bound = {**flt.static, **{placeholder: _typed(name, values[name]) for placeholder, name in flt.slots}}

    def filter_builder(expr: Placeholders) -> str:
        assert expr.names.keys().isdisjoint(flt.names) and expr.values.keys().isdisjoint(bound)
        expr.names.update(flt.names)
        expr.values.update(bound)
        return flt.expression

    return filter_builder
