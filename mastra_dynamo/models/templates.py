"""Requests and conditions that PynamoDB builds once per shape, bound to each call's values.

Building and serializing PynamoDB conditions and update actions costs tens to hundreds of microseconds per
request, several times what the rest of a store call costs. The expressions of a request depend only on its
*shape* (which clauses it has), not on the call's values. So each shape is built once, by the request builders
of :mod:`mastra_dynamo.models.requests`, with *slots* (marker values) where the call's values go, and each call
binds its values to the placeholders PynamoDB chose:

* :class:`Slots` hands out the marker ``Value`` of a slot: ``slots("now", TableItem.ttl)`` stands for a value
  serialized by that attribute; ``slots("stamp")`` (no attribute) for a value the caller passes serialized;
  :func:`item_slot` for an attribute of the item being written (bound from its serialized form).
* :class:`Template` is a request built that way; :meth:`Template.bind` returns it for a table, a key (or a
  whole item) and the slots' values. :class:`ConditionTemplate` is a condition alone (a listing filter, the
  condition of a Put); :meth:`ConditionTemplate.bind` gives a :class:`BoundCondition`.
* :class:`TemplateCache` keeps the templates of a family of shapes by shape key (thread-safe, bounded).
* :func:`key_item` serializes a table key as a model instance's ``serialize()`` does (attribute values and
  whole items: ``models/layout.py``).

A bound template is the request PynamoDB builds for the same values: the unit tests of each domain
(tests/unit/test_*_items.py) compare the two.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Mapping
from typing import Any, Generic, TypeVar

from pynamodb.attributes import Attribute
from pynamodb.constants import BINARY_SET, NUMBER_SET, STRING, STRING_SET
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Value

from mastra_dynamo.dynamo.codec import AttributeValue, Item
from mastra_dynamo.models.attributes import SelfTypedAttribute
from mastra_dynamo.models.base import TableItem
from mastra_dynamo.models.layout import Stored, serializer
from mastra_dynamo.schema.keys import Key

MARK = "\x00"
"""The first character of every marker value: no stored value and no value of a condition starts with NUL."""
_ITEM = MARK + "item:"
_SETS = (STRING_SET, NUMBER_SET, BINARY_SET)
_NAMES = "ExpressionAttributeNames"
_VALUES = "ExpressionAttributeValues"
_PK, _SK = TableItem.pk, TableItem.sk
_PK_NAME, _PK_TYPE, _SK_NAME, _SK_TYPE = _PK.attr_name, _PK.attr_type, _SK.attr_name, _SK.attr_type

MARKER_KEY = Key(MARK + "pk", MARK + "sk")
"""The key a template is built for (:meth:`Template.bind` puts the call's key in its place)."""
MARKER_ITEM = TableItem(MARKER_KEY.pk, MARKER_KEY.sk)
MARKER_SERIALIZED: Item = MARKER_ITEM.serialize(null_check=False)
"""The item a Put template is built with: ``requests.put_item(..., MARKER_ITEM, serialized=MARKER_SERIALIZED)``
(:meth:`Template.bind` puts the call's item in its place)."""


# ---------------------------------------------------------------------------- serialization
def key_item(key: Key) -> Item:
    """A table key as the ``Key`` of a request (or the key attributes of an item)."""
    return {_PK_NAME: {_PK_TYPE: _PK.serialize(key.pk)}, _SK_NAME: {_SK_TYPE: _SK.serialize(key.sk)}}


# ---------------------------------------------------------------------------- slots
def marker(name: str, attr: Attribute[Any] | None = None) -> Value:
    """The marker ``Value`` of slot ``name``, typed like ``attr`` (a string without one)."""
    attr_type = STRING if attr is None else str(attr.attr_type)
    return Value({attr_type: [MARK + name] if attr_type in _SETS else MARK + name})


def item_slot(attr: Attribute[Any]) -> Value:
    """The marker Value of attribute ``attr`` of the item being written: bound to its serialized value (the
    ``serialized`` item passed to :meth:`Template.bind`, by stored attribute name)."""
    attr_type = str(attr.attr_type)
    text = _ITEM + attr.attr_name
    return Value({attr_type: [text] if attr_type in _SETS else text})


class Slots:
    """The slots of one shape being built: ``slots(name, attr)`` is the marker Value of slot ``name``, bound to
    a value serialized by ``attr`` (None: a value the caller passes already serialized)."""

    def __init__(self, attributes: Mapping[str, Attribute[Any] | None] | None = None) -> None:
        self.attributes: dict[str, Attribute[Any] | None] = dict(attributes or {})

    def __call__(self, name: str, attr: Attribute[Any] | None = None) -> Any:
        """The marker (typed ``Any``: it stands for a value of the attribute's Python type)."""
        self.attributes[name] = attr
        return marker(name, attr)


_Encode = Callable[[Any], AttributeValue] | None
_SlotPlan = tuple[tuple[str, ...], str, bool, _Encode]
"""(value placeholders, slot name or stored attribute name, from the written item?, encoder or None: as is)"""


def _encoder(attr: Attribute[Any] | None) -> _Encode:
    if attr is None:
        return None
    if isinstance(attr, SelfTypedAttribute):
        serialize = attr.serialize

        def encode_self_typed(value: Any) -> AttributeValue:
            return value.value if isinstance(value, Stored) else serialize(value)
        return encode_self_typed
    attr_type = str(attr.attr_type)
    plain = serializer(attr)  # attr.serialize, without its JSON round for plain numbers

    if plain is None:
        def encode_as_is(value: Any) -> AttributeValue:
            return value.value if isinstance(value, Stored) else {attr_type: value}
        return encode_as_is

    def encode(value: Any) -> AttributeValue:
        return value.value if isinstance(value, Stored) else {attr_type: plain(value)}
    return encode


class _Values:
    """The expression values of a serialized shape: its constants and where each slot's value goes (a slot
    named by several placeholders is encoded once)."""

    __slots__ = ("constants", "slots")

    def __init__(self, values: Mapping[str, AttributeValue], slots: Slots) -> None:
        self.constants: dict[str, AttributeValue] = {}
        plans: dict[tuple[str, bool], tuple[list[str], _Encode]] = {}
        for placeholder, value in values.items():
            ((_, raw),) = value.items()
            text = raw[0] if isinstance(raw, list) and len(raw) == 1 else raw
            if isinstance(text, str) and text.startswith(_ITEM):
                plans.setdefault((text[len(_ITEM):], True), ([], None))[0].append(placeholder)
            elif isinstance(text, str) and text.startswith(MARK):
                assert text[1:] in slots.attributes, f"unknown slot {text[1:]!r}"
                plans.setdefault((text[1:], False), ([], _encoder(slots.attributes[text[1:]])))[0].append(
                    placeholder)
            else:
                self.constants[placeholder] = value
        self.slots: tuple[_SlotPlan, ...] = tuple(
            (tuple(placeholders), name, from_item, encode)
            for (name, from_item), (placeholders, encode) in plans.items())

    def bind(self, values: Mapping[str, Any], serialized: Mapping[str, AttributeValue] | None) -> dict[str, Any]:
        bound: dict[str, Any] = dict(self.constants)
        for placeholders, name, from_item, encode in self.slots:
            if from_item:
                assert serialized is not None, name
                value = serialized[name]
            elif encode is None:
                value = values[name]
            else:
                value = encode(values[name])
            for placeholder in placeholders:
                bound[placeholder] = value
        return bound

    def __bool__(self) -> bool:
        return bool(self.constants or self.slots)


_NO_VALUES: Mapping[str, Any] = {}


class Template:
    """A request PynamoDB built with slots in place of the call's values (see the module docstring)."""

    __slots__ = ("has_names", "has_values", "kwargs", "target", "values")

    def __init__(self, kwargs: Mapping[str, Any], slots: Slots) -> None:
        self.values = _Values(kwargs.get(_VALUES, {}), slots)
        self.has_values = bool(self.values)
        self.has_names = _NAMES in kwargs
        self.target = "Item" if "Item" in kwargs else "Key" if "Key" in kwargs else None
        self.kwargs: dict[str, Any] = dict(kwargs)
        """The request as built (its key or item and expression values are replaced: the order of the
        parameters stays PynamoDB's)."""

    @classmethod
    def build(cls, build: Callable[[Slots], Mapping[str, Any]]) -> Template:
        """The template of the request ``build(slots)`` returns (for :data:`MARKER_KEY` or
        :data:`MARKER_ITEM`, with ``slots(...)`` markers for the call's values)."""
        slots = Slots()
        return cls(build(slots), slots)

    def bind(self, table_name: str | None, *, key: Key | Mapping[str, AttributeValue] | None = None,
             item: Item | None = None, values: Mapping[str, Any] = _NO_VALUES,
             serialized: Mapping[str, AttributeValue] | None = None) -> dict[str, Any]:
        """The request for ``table_name`` (None: left to the sender, as for a Query); on ``key`` (a ``Key``,
        or the serialized key attributes of an item) or writing ``item``; with each slot's value from
        ``values`` (by slot name) and each item slot's from ``serialized`` (by stored attribute name)."""
        request = dict(self.kwargs)
        if table_name is not None:
            request["TableName"] = table_name
        else:
            request.pop("TableName", None)
        if self.target == "Key":
            assert key is not None
            request["Key"] = key_item(key) if isinstance(key, Key) else {_PK_NAME: key[_PK_NAME],
                                                                          _SK_NAME: key[_SK_NAME]}
        elif self.target == "Item":
            request["Item"] = item
        if self.has_names:
            request[_NAMES] = dict(request[_NAMES])
        if self.has_values:
            request[_VALUES] = self.values.bind(values, serialized)
        return request


class BoundCondition(Condition):
    """A serialized condition with its values bound: its expression, names (placeholder -> name) and values.

    It is a PynamoDB ``Condition`` whose ``serialize`` copies them into the (empty) dictionaries it is given
    (``requests.condition_filter``, the builders of ``models.requests``), and gives a listing filter builder
    (:meth:`filter`) and a conditional PutItem (:meth:`put`) directly."""

    def __init__(self, expression: str, names: dict[str, str], values: dict[str, Any]) -> None:
        super().__init__("BOUND")
        self.expression = expression
        self.names = names
        self.values: dict[str, Any] = values  # type: ignore[assignment]  # a Condition's operands: none

    def serialize(self, placeholder_names: dict[str, str], expression_attribute_values: dict[str, Any]) -> str:
        assert not placeholder_names and not expression_attribute_values
        placeholder_names.update({name: placeholder for placeholder, name in self.names.items()})
        expression_attribute_values.update(self.values)
        return self.expression

    def put(self, table_name: str, item: Item) -> dict[str, Any]:
        """PutItem of the serialized ``item`` on this condition: ``requests.put_item(table_name, <the model
        instance>, serialized=item, condition=<the condition>)``."""
        request: dict[str, Any] = {"TableName": table_name, "Item": item, "ConditionExpression": self.expression,
                                   _NAMES: dict(self.names)}
        if self.values:
            request[_VALUES] = dict(self.values)
        return request

    def filter(self) -> Callable[[Any], str]:
        """A ``stores.listing`` filter builder: each Query gets the expression, names and values.
        PynamoDB's placeholders (``#0``, ``:0``) never collide with the listing's own (``#n0``, ``:v0``)."""
        return _filter_builder(self.expression, self.names, lambda: self.values)


def _filter_builder(expression: str, names: dict[str, str],
                    values: Callable[[], dict[str, Any]]) -> Callable[[Any], str]:
    def filter_builder(expr: Any) -> str:
        assert expr.names.keys().isdisjoint(names)
        expr.names.update(names)
        bound = values()
        assert bound.keys().isdisjoint(expr.values)
        expr.values.update(bound)
        return expression

    return filter_builder


class ConditionTemplate:
    """A condition PynamoDB serialized once with slots (``build(slots)``): a listing filter, the condition of
    a request assembled elsewhere."""

    __slots__ = ("expression", "names", "values")

    def __init__(self, build: Callable[[Slots], Condition], slots: Slots | None = None) -> None:
        """``slots``: the slots ``build`` uses (a fresh :class:`Slots` when None)."""
        slots = Slots() if slots is None else slots
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        self.expression: str = build(slots).serialize(names, values)
        self.names: dict[str, str] = {placeholder: name for name, placeholder in names.items()}
        """placeholder -> attribute name"""
        self.values = _Values(values, slots)

    def bind(self, values: Mapping[str, Any] = _NO_VALUES) -> BoundCondition:
        """The condition with these slot values: what PynamoDB serializes the condition built with them to."""
        return BoundCondition(self.expression, self.names, self.values.bind(values, None))

    def filter(self, values: Mapping[str, Any] | Callable[[], Mapping[str, Any]] = _NO_VALUES
               ) -> Callable[[Any], str]:
        """A ``stores.listing`` filter builder (what ``requests.condition_filter`` gives, serialized once):
        each Query gets the expression with the slot ``values`` bound; a callable gives them for each Query
        (e.g. the TTL clock's now)."""
        if callable(values):
            get = values
            return _filter_builder(self.expression, self.names, lambda: self.values.bind(get(), None))
        bound = self.values.bind(values, None)
        return _filter_builder(self.expression, self.names, lambda: bound)


# ---------------------------------------------------------------------------- caches
T = TypeVar("T")

MAX_CACHED = 4096
"""Templates kept per cache; beyond it (e.g. listings with ever more tags) a template is built for its call
only."""


class TemplateCache(Generic[T]):
    """Templates by shape key, made on first use (thread-safe: concurrent first uses may each make one, one is
    kept): by :meth:`get`'s ``make()``, or, calling the cache with the shape, by ``make(*shape)``."""

    def __init__(self, make: Callable[..., T] | None = None, *, max_size: int = MAX_CACHED) -> None:
        self._items: dict[Hashable, T] = {}
        self._lock = threading.Lock()
        self._max_size = max_size
        self._make = make

    def __call__(self, *shape: Hashable) -> T:
        found = self._items.get(shape)
        if found is None:
            make = self._make
            assert make is not None
            found = self.get(shape, lambda: make(*shape))
        return found

    def get(self, shape: Hashable, make: Callable[[], T]) -> T:
        found = self._items.get(shape)
        if found is None:
            made = make()
            with self._lock:
                if len(self._items) >= self._max_size:
                    return made
                found = self._items.setdefault(shape, made)
        return found
