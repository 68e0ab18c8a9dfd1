"""Cheap paths to the requests of the workflows domain: items, keys, request shapes and filters from the models.

The workflows store writes a run head at every step of a run, so the CPU of a write matters. PynamoDB's own
paths are slow for that: a model instance's ``serialize()`` visits every declared attribute (about 50 us for
a head), building an UpdateItem of eight actions and a condition costs about 65 us, and serializing even a
small condition 10 to 20 us. This module keeps PynamoDB the serializer while doing that work once:

* :func:`encode_attributes` serializes the given attributes of a model exactly as ``serialize()`` does
  (each attribute's own ``serialize`` and DynamoDB type, the model's discriminator and defaults), without
  building an instance; :func:`key_attributes` does it for a table key. A unit test compares both with
  ``Model(...).serialize()``.
* A *shape* is a ``models.templates`` template: a request (or a listing filter) that PynamoDB serialized
  once, with :func:`slot` markers in place of the values that vary from call to call: :func:`shaped` (a
  request built by ``models.requests``), :func:`shaped_query` (a keys-only Query), :func:`shaped_filter` (a
  ``stores.listing`` filter). Binding a shape fills a call's serialized values into the placeholders PynamoDB
  chose for its slots. A bound shape is the request PynamoDB builds for those values
  (unit tests compare them).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from pynamodb.attributes import Attribute
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Value
from pynamodb.expressions.projection import create_projection_expression

from mastra_dynamo.dynamo.codec import AttributeValue, Item
from mastra_dynamo.models import templates
from mastra_dynamo.models.attributes import SelfTypedAttribute
from mastra_dynamo.models.base import TableItem, epoch_datetime
from mastra_dynamo.models.templates import key_item as key_attributes
from mastra_dynamo.models.templates import typed
from mastra_dynamo.schema.keys import Key

__all__ = ["FilterShape", "RequestShape", "encode_attributes", "encode_values", "key_attributes", "shaped",
           "shaped_filter", "shaped_query", "slot", "ttl_value", "typed"]


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




# ---------------------------------------------------------------------------- shapes
_SLOTS = templates.Slots()
"""The domain's slots: untyped, each bound to a value serialized by the caller."""
_requests: templates.TemplateCache[RequestShape] = templates.TemplateCache()
_filters: templates.TemplateCache[FilterShape] = templates.TemplateCache()


def slot(name: str) -> Value:
    """The value that stands for slot ``name`` in a shape: a key of the ``values`` a shape is bound to (the
    stored name of the attribute whose value it takes, as :func:`encode_values` names them)."""
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
