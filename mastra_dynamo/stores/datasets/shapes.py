"""Cheap paths from the datasets models to items and requests (PynamoDB builds each shape once).

A dataset mutation writes a handful of items and sends requests whose expressions never change between calls,
only their values do. Building them with PynamoDB on every call (model instances, ``serialize()``, update
actions and conditions, ``get_operation_kwargs``) costs several times what the whole call cost before the
models, so:

* Items are serialized by ``Model.encode_item`` (the model's attributes, without a model instance:
  models/layout.py).
* :class:`Shape` is a ``models.templates`` template: a request that PynamoDB builds once per process (on
  first use) from the models, with slots (:class:`Slots`); :meth:`Shape.bind` returns it for a table and key
  with the call's values serialized by the slots' attributes (a ``models.layout.Stored`` value as is). The
  result is the request PynamoDB builds for those values.
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
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.projection import create_projection_expression

from mastra_dynamo.dynamo.codec import Item
from mastra_dynamo.models import requests
from mastra_dynamo.models.base import UNBOUND_TABLE_NAME, TableItem
from mastra_dynamo.models.templates import (
    MARKER_ITEM,
    MARKER_KEY,
    ConditionTemplate,
    Slots,
    Template,
    TemplateCache,
    key_item,
)
from mastra_dynamo.schema.keys import Key

__all__ = ["MARK_KEY", "FilterShape", "Shape", "Slots", "filter_shape", "get_request", "put_shape",
           "query_request", "update_shape"]

MARK_KEY = MARKER_KEY
"""The key a shape is built for (:meth:`Shape.bind` replaces it)."""


class Shape:
    """A request built once by PynamoDB (``build(slots)`` returns the request for any table and key, on first
    use) and bound to each call's table, key, item and slot values."""

    __slots__ = ("_build", "_lock", "_template")

    def __init__(self, build: Callable[[Slots], dict[str, Any]]) -> None:
        self._build = build
        self._lock = threading.Lock()
        self._template: Template | None = None

    def _built(self) -> Template:
        template = self._template
        if template is None:
            with self._lock:
                if self._template is None:
                    self._template = Template.build(self._build)
                template = self._template
        return template

    def bind(self, table_name: str, key: Key | None = None, *, item: Item | None = None,
             **values: Any) -> dict[str, Any]:
        """The request for ``table_name``, ``key`` (UpdateItem, DeleteItem, ConditionCheck) or ``item``
        (PutItem), with each slot bound to ``values[slot]`` (serialized by its attribute, or a
        ``models.layout.Stored`` value as is)."""
        return self._built().bind(table_name, key=key, item=item, values=values)


def _get_shape(consistent: bool) -> Shape:
    return Shape(lambda slots: requests.get_item(UNBOUND_TABLE_NAME, MARK_KEY, consistent=consistent))


_GET = {consistent: _get_shape(consistent) for consistent in (True, False)}


def get_request(table_name: str, key: Key, *, consistent: bool) -> dict[str, Any]:
    """``requests.get_item(table_name, key, consistent=consistent)``, built once per consistency."""
    return _GET[consistent].bind(table_name, key)


def put_shape(condition: Callable[[Slots], Condition | None]) -> Shape:
    """A PutItem (or transaction Put) shape with ``condition(slots)``; bind it with ``item=``."""
    return Shape(lambda slots: requests.put_item(UNBOUND_TABLE_NAME, MARKER_ITEM, serialized=key_item(MARK_KEY),
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
    """A listing filter built once by PynamoDB from a condition over slots (``build(slots)``), bound to each
    Query's values by :meth:`builder` (a ``stores.listing`` filter builder, like ``requests.condition_filter``
    gives, without building and serializing the condition per Query)."""

    __slots__ = ("template",)

    def __init__(self, build: Callable[[Slots], Condition]) -> None:
        self.template = ConditionTemplate(build)

    def builder(self, **values: Any) -> Callable[[Any], str]:
        """The filter builder of a listing: each Query gets the expression with ``values`` bound (a callable
        value is called for each Query, e.g. the TTL clock's now)."""
        if any(callable(value) for value in values.values()):
            return self.template.filter(lambda: {name: value() if callable(value) else value
                                                 for name, value in values.items()})
        return self.template.filter(values)


_filters: TemplateCache[FilterShape] = TemplateCache()


def filter_shape(key: Any, build: Callable[[Slots], Condition]) -> FilterShape:
    """The :class:`FilterShape` of ``build`` cached under ``key`` (one per distinct filter structure)."""
    return _filters.get(key, lambda: FilterShape(build))
