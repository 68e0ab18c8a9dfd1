"""Cheap paths to the requests of the workflows domain: items, keys, request shapes and filters from the models.

The workflows store writes a run head at every step of a run, so the CPU of a write matters. PynamoDB's own
paths are slow for that: a model instance's ``serialize()`` visits every declared attribute (about 50 us for
a head), building an UpdateItem of eight actions and a condition costs about 65 us, and serializing even a
small condition 10 to 20 us. This module keeps PynamoDB the serializer while doing that work once:

* Items are serialized without building instances by ``TableItem.encode_item``/``encode_values``
  (models/layout.py); :func:`key_attributes` does it for a table key and :func:`ttl_value` for a ``ttl``.
  A unit test compares them with ``Model(...).serialize()``.
* A *shape* is a ``models.templates`` template: a request (or a listing filter) that PynamoDB serialized
  once, with :func:`slot` markers in place of the values that vary from call to call: :func:`shaped` (a
  request built by ``models.requests``), :func:`shaped_query` (a keys-only Query), :func:`shaped_filter` (a
  ``stores.listing`` filter). Binding a shape fills a call's serialized values into the placeholders PynamoDB
  chose for its slots. A bound shape is the request PynamoDB builds for those values
  (unit tests compare them).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from functools import lru_cache
from typing import Any

from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Value
from pynamodb.expressions.projection import create_projection_expression

from mastra_dynamo.dynamo.codec import AttributeValue, Item
from mastra_dynamo.models import templates
from mastra_dynamo.models.base import TableItem, epoch_datetime
from mastra_dynamo.models.layout import typed
from mastra_dynamo.models.templates import key_item as key_attributes
from mastra_dynamo.schema.keys import Key

__all__ = ["FilterShape", "RequestShape", "key_attributes", "shaped", "shaped_filter", "shaped_query", "slot",
           "ttl_value"]


# ---------------------------------------------------------------------------- values
@lru_cache(maxsize=8)
def _ttl_value(epoch: int) -> AttributeValue:
    return typed(TableItem.ttl, epoch_datetime(epoch))


def ttl_value(epoch: int) -> AttributeValue:
    """Epoch seconds as a ``ttl`` value (TTLAttribute's serialization, done once per second: every write of a
    run and every Query of a listing carries ``now`` or the expiry)."""
    return dict(_ttl_value(epoch))


# ---------------------------------------------------------------------------- shapes
_SLOTS = templates.Slots()
"""The domain's slots: untyped, each bound to a value serialized by the caller."""
_requests: templates.TemplateCache[RequestShape] = templates.TemplateCache()
_filters: templates.TemplateCache[FilterShape] = templates.TemplateCache()


def slot(name: str) -> Value:
    """The value that stands for slot ``name`` in a shape: a key of the ``values`` a shape is bound to (the
    stored name of the attribute whose value it takes, as ``TableItem.encode_values`` names them)."""
    _SLOTS.attributes.setdefault(name, None)
    return templates.marker(name)


class RequestShape:
    """One request PynamoDB built with slot values (a ``models.templates.Template``)."""

    __slots__ = ("template",)

    def __init__(self, template: templates.Template) -> None:
        self.template = template

    def bind(self, table_name: str | None, target: Item | None, values: Mapping[str, AttributeValue]) -> dict[str, Any]:
        """The request for ``table_name`` (None: left to the sender, as for a Query), the key or whole item
        ``target`` and the slots' ``values``."""
        return self.template.bind(table_name, key=target, item=target, values=values)


def shaped(shape_key: Hashable, build: Callable[[Key], dict[str, Any]]) -> RequestShape:
    """The request shape ``shape_key`` names. ``build(key)`` makes it the first time: a ``models.requests``
    call with :func:`slot` values for the key ``key`` (a PutItem: of an item with only that key)."""
    return _requests.get(("request", shape_key),
                         lambda: RequestShape(templates.Template(build(templates.MARKER_KEY), _SLOTS)))


def shaped_query(shape_key: Hashable, key_condition: Callable[[], Condition], *, consistent: bool) -> RequestShape:
    """The shape of a Query (ascending, no table name) of the keys of the items ``key_condition()`` selects
    (built with :func:`slot` values the first time). PynamoDB serializes the condition and the projection."""

    def make() -> RequestShape:
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        expression = key_condition().serialize(names, values)
        projection = create_projection_expression([TableItem.pk.attr_name, TableItem.sk.attr_name], names)
        params: dict[str, Any] = {
            "KeyConditionExpression": expression, "ScanIndexForward": True, "ProjectionExpression": projection,
            "ExpressionAttributeNames": {placeholder: name for name, placeholder in names.items()},
            "ExpressionAttributeValues": values}
        if consistent:
            params["ConsistentRead"] = True
        return RequestShape(templates.Template(params, _SLOTS))

    return _requests.get(("query", shape_key, consistent), make)


class FilterShape:
    """A filter condition PynamoDB serialized once (see :func:`shaped_filter`)."""

    __slots__ = ("template",)

    def __init__(self, template: templates.ConditionTemplate) -> None:
        self.template = template

    def builder(self, values: Callable[[], Mapping[str, AttributeValue]]) -> Callable[[Any], str]:
        """A ``stores.listing`` filter builder: each Query gets the expression, with its names and the
        values ``values()`` gives at that moment."""
        return self.template.filter(values)


def shaped_filter(shape_key: Hashable, condition: Callable[[], Condition]) -> FilterShape:
    """The filter shape ``shape_key`` names: ``condition()`` (with :func:`slot` values) serialized the first
    time, as ``requests.condition_filter`` serializes a condition for each Query."""
    return _filters.get(shape_key,
                        lambda: FilterShape(templates.ConditionTemplate(lambda _: condition(), _SLOTS)))
