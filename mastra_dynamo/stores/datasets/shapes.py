"""Cheap paths from the datasets models to items and requests (PynamoDB builds each shape once).

A dataset mutation writes a handful of items and sends requests whose expressions never change between calls,
only their values do. Building them with PynamoDB on every call (model instances, ``serialize()``, update
actions and conditions, ``get_operation_kwargs``) costs several times what the whole call cost before the
models, so:

* Items are serialized by ``models.datasets.encode`` (the model's attributes, without a model instance).
* :class:`Shape` is a request that PynamoDB builds once per process from the models, with marker values in
  its named slots (:class:`Slots`); :meth:`Shape.bind` returns it for a table and key with the call's values
  serialized by the slots' attributes. The result is the request PynamoDB builds for those values.
* :class:`FilterShape` is a listing filter (a PynamoDB condition) serialized once and bound to each Query's
  values, for ``stores/listing.py`` (what ``requests.condition_filter`` does, without building the condition
  for every Query); :func:`get_request` is ``requests.get_item`` built once per consistency.
* :func:`query_request` builds a Query of one partition of the table with a PynamoDB condition as its filter
  and an optional projection (the keys-only reads of a collection).

The unit tests (tests/unit/test_datasets_items.py) compare every shape, bound, with the request PynamoDB
builds directly for the same values.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from pynamodb.attributes import Attribute
from pynamodb.constants import NUMBER
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Value
from pynamodb.expressions.projection import create_projection_expression

from mastra_dynamo.dynamo.codec import Item
from mastra_dynamo.models import requests
from mastra_dynamo.models.base import UNBOUND_TABLE_NAME, TableItem
from mastra_dynamo.models.datasets import Stored, key_item, typed
from mastra_dynamo.schema.keys import Key

_MARK = "\x00"  # no stored value starts with NUL

__all__ = ["MARK_KEY", "FilterShape", "Shape", "Slots", "Stored", "filter_shape", "get_request", "put_shape",
           "query_request", "update_shape"]


class Slots:
    """Marker values for the builder of a :class:`Shape`: ``slots("version", DatasetModel.version)`` stands for
    the value that :meth:`Shape.bind` later gets as ``version=...``, serialized by that attribute."""

    def __init__(self) -> None:
        self.attributes: dict[str, Attribute[Any]] = {}

    def __call__(self, name: str, attr: Attribute[Any]) -> Any:
        """A marker ``Value`` (typed as ``Any``: it stands for a value of the attribute's Python type)."""
        self.attributes[name] = attr
        return Value({attr.attr_type: _MARK + name})


class Shape:
    """A request built once by PynamoDB (``build(slots)`` returns the request for any table and key) and
    bound to each call's table, key, item and slot values."""

    def __init__(self, build: Callable[[Slots], dict[str, Any]]) -> None:
        self._build = build
        self._lock = threading.Lock()
        self._kwargs: dict[str, Any] | None = None
        self._slots: tuple[tuple[str, str, Attribute[Any]], ...] = ()

    def _built(self) -> dict[str, Any]:
        kwargs = self._kwargs
        if kwargs is None:
            with self._lock:
                if self._kwargs is None:
                    slots = Slots()
                    built = self._build(slots)
                    found: list[tuple[str, str, Attribute[Any]]] = []
                    for placeholder, value in built.get("ExpressionAttributeValues", {}).items():
                        (raw,) = value.values()
                        if isinstance(raw, str) and raw.startswith(_MARK) and raw[1:] in slots.attributes:
                            found.append((placeholder, raw[1:], slots.attributes[raw[1:]]))
                    assert {name for _, name, _ in found} == set(slots.attributes)
                    self._slots = tuple(found)
                    self._kwargs = built
                kwargs = self._kwargs
        assert kwargs is not None
        return kwargs

    def bind(self, table_name: str, key: Key | None = None, *, item: Item | None = None,
             **values: Any) -> dict[str, Any]:
        """The request for ``table_name``, ``key`` (UpdateItem, DeleteItem, ConditionCheck) or ``item``
        (PutItem), with each slot bound to ``values[slot]`` (serialized by its attribute, or a
        :class:`Stored` value as is)."""
        kwargs = self._built()
        out = {**kwargs, "TableName": table_name}
        if key is not None:
            out["Key"] = key_item(key)
        if item is not None:
            out["Item"] = item
        if self._slots:
            bound = dict(kwargs["ExpressionAttributeValues"])
            for placeholder, name, attr in self._slots:
                value = values[name]
                if attr.attr_type == NUMBER and type(value) is int:  # the common case, without a call
                    bound[placeholder] = {NUMBER: str(value)}
                    continue
                av = typed(attr, value)
                assert av is not None, name
                bound[placeholder] = av
            out["ExpressionAttributeValues"] = bound
        return out


MARK_KEY = Key(_MARK, _MARK)
"""The key a shape is built for (:meth:`Shape.bind` replaces it)."""
_MARK_ITEM = TableItem(_MARK, _MARK)


def _get_shape(consistent: bool) -> Shape:
    return Shape(lambda slots: requests.get_item(UNBOUND_TABLE_NAME, MARK_KEY, consistent=consistent))


_GET = {consistent: _get_shape(consistent) for consistent in (True, False)}


def get_request(table_name: str, key: Key, *, consistent: bool) -> dict[str, Any]:
    """``requests.get_item(table_name, key, consistent=consistent)``, built once per consistency."""
    return _GET[consistent].bind(table_name, key)


def put_shape(condition: Callable[[Slots], Condition | None]) -> Shape:
    """A PutItem (or transaction Put) shape with ``condition(slots)``; bind it with ``item=``."""
    return Shape(lambda slots: requests.put_item(UNBOUND_TABLE_NAME, _MARK_ITEM, serialized=key_item(MARK_KEY),
                                                 condition=condition(slots)))


def update_shape(build: Callable[[Slots], tuple[list[Any], Condition | None]]) -> Shape:
    """An UpdateItem (or transaction Update) shape: ``build(slots)`` returns (actions, condition)."""

    def request(slots: Slots) -> dict[str, Any]:
        actions, condition = build(slots)
        return requests.update_key(UNBOUND_TABLE_NAME, MARK_KEY, actions, condition=condition)

    return Shape(request)


def query_request(pk: str, *, sk_prefix: str, consistent: bool, filter: Condition | None = None,
                  projection: Iterable[Attribute[Any]] = ()) -> dict[str, Any]:
    """The parameters of a Query of partition ``pk`` of the table (sort keys beginning with ``sk_prefix``,
    ascending), filtered by ``filter`` and projected to ``projection``; ``TableClient.query_items`` adds the
    table and follows the pages."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    key_condition = TableItem.pk == pk
    if sk_prefix:
        key_condition &= TableItem.sk.startswith(sk_prefix)
    params: dict[str, Any] = {"KeyConditionExpression": key_condition.serialize(names, values),
                              "ScanIndexForward": True}
    if consistent:
        params["ConsistentRead"] = True
    if filter is not None:
        params["FilterExpression"] = filter.serialize(names, values)
    attributes = list(projection)
    if attributes:
        params["ProjectionExpression"] = create_projection_expression(attributes, names)
    params["ExpressionAttributeNames"] = {placeholder: name for name, placeholder in names.items()}
    if values:
        params["ExpressionAttributeValues"] = values
    return params


class FilterShape:
    """A listing filter built once by PynamoDB from a condition over slot markers (``build(slots)``), bound
    to each Query's values by :meth:`builder` (a ``stores.listing`` filter builder, like
    ``requests.condition_filter`` gives, without building and serializing the condition per Query)."""

    def __init__(self, build: Callable[[Slots], Condition]) -> None:
        slots = Slots()
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        self.expression = build(slots).serialize(names, values)
        self.names = {placeholder: name for name, placeholder in names.items()}
        self.values = values
        self.slots = tuple((placeholder, raw[1:], slots.attributes[raw[1:]])
                           for placeholder, value in values.items() for raw in value.values()
                           if isinstance(raw, str) and raw.startswith(_MARK) and raw[1:] in slots.attributes)

    def builder(self, **values: Any) -> Callable[[Any], str]:
        """The filter builder of a listing: each Query gets the expression with ``values`` bound (a callable
        value is called for each Query, e.g. the TTL clock's now)."""

        def build(expr: Any) -> str:
            for placeholder, name in self.names.items():
                assert placeholder not in expr.names
                expr.names[placeholder] = name
            bound = dict(self.values)
            for placeholder, slot, attr in self.slots:
                value = values[slot]
                bound[placeholder] = typed(attr, value() if callable(value) else value)
            assert bound.keys().isdisjoint(expr.values)
            expr.values.update(bound)
            return self.expression

        return build


_filters: dict[Any, FilterShape] = {}
_filters_lock = threading.Lock()


def filter_shape(key: Any, build: Callable[[Slots], Condition]) -> FilterShape:
    """The :class:`FilterShape` of ``build`` cached under ``key`` (one per distinct filter structure)."""
    shape = _filters.get(key)
    if shape is None:
        with _filters_lock:
            shape = _filters.get(key)
            if shape is None:
                shape = _filters[key] = FilterShape(build)
    return shape
