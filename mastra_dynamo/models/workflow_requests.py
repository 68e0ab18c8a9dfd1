"""Cheap paths to the requests of the workflows domain: items, keys, request shapes and filters from the models.

The workflows store writes a run head at every step of a run, so the CPU of a write matters. PynamoDB's own
paths are slow for that: a model instance's ``serialize()`` visits every declared attribute (about 50 us for
a head), building an UpdateItem of eight actions and a condition costs about 65 us, and serializing even a
small condition 10 to 20 us. This module keeps PynamoDB the serializer while doing that work once:

* :func:`encode_attributes` serializes the given attributes of a model exactly as ``serialize()`` does
  (each attribute's own ``serialize`` and DynamoDB type, the model's discriminator and defaults), without
  building an instance; :func:`key_attributes` does it for a table key. A unit test compares both with
  ``Model(...).serialize()``.
* A *shape* is a request (or a listing filter) that PynamoDB serialized once, with :func:`slot` markers in
  place of the values that vary from call to call: :func:`shaped` (a request built by ``models.requests``),
  :func:`shaped_query` (a keys-only Query), :func:`shaped_filter` (a ``stores.listing`` filter). Binding a
  shape fills a call's serialized values into the placeholders PynamoDB chose for its slots, as
  ``requests.upsert_item`` does for upserts. A bound shape is the request PynamoDB builds for those values
  (unit tests compare them).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from pynamodb.attributes import Attribute
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Value
from pynamodb.expressions.projection import create_projection_expression

from mastra_dynamo.dynamo.codec import AttributeValue, Item
from mastra_dynamo.models.attributes import SelfTypedAttribute
from mastra_dynamo.models.base import TableItem, epoch_datetime
from mastra_dynamo.schema.keys import Key

_MARK = "\x00"  # attribute values of slots; no stored value starts with NUL
_NAMES = "ExpressionAttributeNames"
_VALUES = "ExpressionAttributeValues"


# ---------------------------------------------------------------------------- items
@dataclass(frozen=True)
class _Layout:
    attributes: dict[str, Attribute[Any]]
    encoders: dict[str, tuple[str, str | None, Callable[[Any], Any]]]
    """Python name -> (stored name, DynamoDB type or None for a self-typed attribute, serialize)"""
    required: frozenset[str]
    """Required attributes (Python names) besides the constants."""
    constants: Item
    """The serialized discriminator and constant defaults (``_et``, ``_sv``)."""
    defaults: tuple[tuple[str, Callable[[], Any]], ...]
    """Defaults computed per item."""


@cache
def _layout(model: type[TableItem]) -> _Layout:
    attributes = model.get_attributes()
    constants: Item = {}
    if TableItem.item_type.get_discriminator(model) is not None:  # an entity (not a base of entities)
        constants[TableItem.item_type.attr_name] = typed(TableItem.item_type, model)
    given = {"item_type"}
    defaults: list[tuple[str, Callable[[], Any]]] = []
    for name, attr in attributes.items():
        default = attr.default_for_new if attr.default_for_new is not None else attr.default
        if callable(default):
            defaults.append((name, default))
        elif default is not None:
            constants[attr.attr_name] = typed(attr, default)
            given.add(name)
    required = frozenset(name for name, attr in attributes.items() if not attr.null and name not in given)
    encoders: dict[str, tuple[str, str | None, Callable[[Any], Any]]] = {
        name: (attr.attr_name, None if isinstance(attr, SelfTypedAttribute) else attr.attr_type, attr.serialize)
        for name, attr in attributes.items()}
    return _Layout(attributes, encoders, required, constants, tuple(defaults))


def typed(attribute: Attribute[Any], value: Any) -> AttributeValue:
    """``value`` serialized by ``attribute``, as the typed attribute value an item holds."""
    if isinstance(attribute, SelfTypedAttribute):
        return attribute.serialize(value)
    return {attribute.attr_type: attribute.serialize(value)}


def encode_attributes(model: type[TableItem], values: Mapping[str, Any], *, encoded: Item | None = None) -> Item:
    """``model(**values).serialize()`` without the instance: the attributes ``values`` names (Python names;
    None: absent), the discriminator and the defaults, and ``encoded``: attributes already serialized (by
    :func:`encode_values`, e.g. of a model this one inherits them from). Raises ValueError when a required
    attribute is missing, as ``serialize()`` does."""
    layout = _layout(model)
    given = {name: value for name, value in values.items() if value is not None}
    for name, default in layout.defaults:
        if name not in given:
            given[name] = default()
    missing = [name for name in layout.required.difference(given)
               if encoded is None or layout.encoders[name][0] not in encoded]
    if missing:
        raise ValueError(f"{model.__name__}: attributes {sorted(missing)} are required")
    return {**layout.constants, **(encoded or {}), **encode_values(model, given)}


def encode_values(model: type[TableItem], values: Mapping[str, Any]) -> Item:
    """The attributes ``values`` names (Python names; None: left out), serialized by ``model``'s attributes
    and named by their stored names: part of an item, or the values of a shape's slots."""
    encoders = _layout(model).encoders
    item: Item = {}
    for name, value in values.items():
        if value is not None:
            stored, kind, serialize = encoders[name]
            item[stored] = serialize(value) if kind is None else {kind: serialize(value)}
    return item


@lru_cache(maxsize=8)
def _ttl_value(epoch: int) -> AttributeValue:
    return typed(TableItem.ttl, epoch_datetime(epoch))


def ttl_value(epoch: int) -> AttributeValue:
    """Epoch seconds as a ``ttl`` value (TTLAttribute's serialization, done once per second: every write of a
    run and every Query of a listing carries ``now`` or the expiry)."""
    return dict(_ttl_value(epoch))


def key_attributes(key: Key) -> Item:
    """A table key as the ``Key`` of a request (or the key attributes of an item)."""
    return {TableItem.pk.attr_name: typed(TableItem.pk, key.pk), TableItem.sk.attr_name: typed(TableItem.sk, key.sk)}


# ---------------------------------------------------------------------------- shapes
def slot(name: str) -> Value:
    """The value that stands for slot ``name`` in a shape: a key of the ``values`` a shape is bound to (the
    stored name of the attribute whose value it takes, as :func:`encode_values` names them)."""
    return Value(_MARK + name)


@dataclass(frozen=True)
class _Values:
    """The expression values of a serialized shape: constants, and the placeholders of each slot."""

    constants: dict[str, AttributeValue]
    slots: tuple[tuple[str, str], ...]
    """(value placeholder, slot name)"""

    @classmethod
    def of(cls, values: Mapping[str, AttributeValue]) -> _Values:
        constants: dict[str, AttributeValue] = {}
        slots: list[tuple[str, str]] = []
        for placeholder, value in values.items():
            (text,) = value.values()
            if isinstance(text, str) and text.startswith(_MARK):
                slots.append((placeholder, text[len(_MARK):]))
            else:
                constants[placeholder] = value
        return cls(constants, tuple(slots))

    def bind(self, values: Mapping[str, AttributeValue]) -> dict[str, AttributeValue]:
        bound = dict(self.constants)
        for placeholder, name in self.slots:
            bound[placeholder] = values[name]
        return bound


@dataclass(frozen=True)
class RequestShape:
    """One request PynamoDB built with slot values."""

    kwargs: dict[str, Any]
    """The request without its key (or item) and expression values."""
    values: _Values
    target: str | None
    """``Key`` or ``Item`` (what :meth:`bind` puts in), or None (a Query)."""

    def bind(self, table_name: str | None, target: Item | None, values: Mapping[str, AttributeValue]) -> dict[str, Any]:
        """The request for ``table_name`` (None: left to the sender, as for a Query), the key or whole item
        ``target`` and the slots' ``values``."""
        request = dict(self.kwargs)
        if table_name is not None:
            request["TableName"] = table_name
        if self.target == "Item":
            request["Item"] = target
        elif self.target == "Key":
            assert target is not None
            pk, sk = TableItem.pk.attr_name, TableItem.sk.attr_name
            request["Key"] = {pk: target[pk], sk: target[sk]}
        if _NAMES in request:
            request[_NAMES] = dict(request[_NAMES])
        if self.values.constants or self.values.slots:
            request[_VALUES] = self.values.bind(values)
        return request


_shapes: dict[Hashable, Any] = {}
_lock = threading.Lock()
_TEMPLATE_KEY = Key(_MARK + "pk", _MARK + "sk")


def _cached(shape_key: Hashable, make: Callable[[], Any]) -> Any:
    shape = _shapes.get(shape_key)
    if shape is None:
        made = make()
        with _lock:
            shape = _shapes.setdefault(shape_key, made)
    return shape


def _request_shape(kwargs: dict[str, Any], target: str | None) -> RequestShape:
    values = _Values.of(kwargs.get(_VALUES, {}))
    rest = {k: v for k, v in kwargs.items() if k not in (_VALUES, "Key", "Item")}
    return RequestShape(rest, values, target)


def shaped(shape_key: Hashable, build: Callable[[Key], dict[str, Any]]) -> RequestShape:
    """The request shape ``shape_key`` names. ``build(key)`` makes it the first time: a ``models.requests``
    call with :func:`slot` values for the key ``key`` (a PutItem: of an item with only that key)."""

    def make() -> RequestShape:
        kwargs = build(_TEMPLATE_KEY)
        return _request_shape(kwargs, "Item" if "Item" in kwargs else "Key")

    shape: RequestShape = _cached(("request", shape_key), make)
    return shape


def shaped_query(shape_key: Hashable, key_condition: Callable[[], Condition], *, consistent: bool) -> RequestShape:
    """The shape of a Query (ascending, no table name) of the keys of the items ``key_condition()`` selects
    (built with :func:`slot` values the first time). PynamoDB serializes the condition and the projection."""

    def make() -> RequestShape:
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        expression = key_condition().serialize(names, values)
        projection = create_projection_expression([TableItem.pk.attr_name, TableItem.sk.attr_name], names)
        params: dict[str, Any] = {"KeyConditionExpression": expression, "ScanIndexForward": True,
                                  "ProjectionExpression": projection,
                                  _NAMES: {placeholder: name for name, placeholder in names.items()},
                                  _VALUES: values}
        if consistent:
            params["ConsistentRead"] = True
        return _request_shape(params, None)

    shape: RequestShape = _cached(("query", shape_key, consistent), make)
    return shape


@dataclass(frozen=True)
class FilterShape:
    """A filter condition PynamoDB serialized once (see :func:`shaped_filter`)."""

    expression: str
    names: dict[str, str]
    """placeholder -> attribute name"""
    values: _Values

    def builder(self, values: Callable[[], Mapping[str, AttributeValue]]) -> Callable[[Any], str]:
        """A ``stores.listing`` filter builder: each Query gets the expression, with its names and the
        values ``values()`` gives at that moment added to the Query's ``Expr``. PynamoDB's placeholders
        (``#0``, ``:0``) never collide with Expr's (``#n0``, ``:v0``)."""

        def filter_builder(expr: Any) -> str:
            for placeholder, name in self.names.items():
                assert placeholder not in expr.names
                expr.names[placeholder] = name
            bound = self.values.bind(values())
            assert bound.keys().isdisjoint(expr.values)
            expr.values.update(bound)
            return self.expression

        return filter_builder


def shaped_filter(shape_key: Hashable, condition: Callable[[], Condition]) -> FilterShape:
    """The filter shape ``shape_key`` names: ``condition()`` (with :func:`slot` values) serialized the first
    time, as ``requests.condition_filter`` serializes a condition for each Query."""

    def make() -> FilterShape:
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        expression = condition().serialize(names, values)
        return FilterShape(expression, {placeholder: name for name, placeholder in names.items()},
                           _Values.of(values))

    shape: FilterShape = _cached(("filter", shape_key), make)
    return shape
