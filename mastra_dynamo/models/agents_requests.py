"""Cheap request paths of the agents domain: items serialized by the model attributes, conditions and filters
serialized by PynamoDB once and bound per call.

Building a PynamoDB model instance and calling ``serialize()`` visits every declared attribute through its
descriptor (about 50 us for an agent item), and serializing a condition costs about 15 us, so a ``create``
(three conditional Puts) built that way would take three times the CPU of the dictionaries the store built
before the models. Here:

* :func:`serialize_values` serializes an item from its values with the model's own attributes (as
  ``TableItem.decode_attributes`` decodes one): the result is ``Model(**values).serialize()``.
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

from pynamodb.attributes import Attribute
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Value

from mastra_dynamo.dynamo.codec import Item
from mastra_dynamo.models.attributes import SelfTypedAttribute
from mastra_dynamo.models.base import TableItem

FilterBuilder = Callable[[Any], str]
"""A ``stores.listing.FilterBuilder``: adds its names and values to those of a Query, returns the filter."""

_MARK = "\x00"  # marker values start with NUL, which no value of a condition does


@cache
def _model_layout(model: type[TableItem]) -> tuple[dict[str, tuple[str, Attribute[Any], bool]], frozenset[str], Item]:
    """(attribute name -> (stored name, attribute, self-typed)), the required attributes, and the stamp
    (``_et``, ``_sv``) every item of ``model`` carries, as PynamoDB serializes it."""
    attributes = {name: (attr.attr_name, attr, isinstance(attr, SelfTypedAttribute))
                  for name, attr in model.get_attributes().items()}
    required = frozenset(name for name, attr in model.get_attributes().items() if not attr.null)
    stamped = model().serialize(null_check=False)
    stamp = {attr.attr_name: stamped[attr.attr_name] for attr in (TableItem.item_type, TableItem.schema_version)}
    return attributes, required - {"item_type", "schema_version"}, stamp


def serialize_values(model: type[TableItem], values: Mapping[str, Any]) -> Item:
    """``model(**values).serialize()`` without building the instance: each value serialized by its attribute,
    ``None`` values left out, the entity stamp and schema version added. Raises ValueError when a required
    attribute has no value (PynamoDB's null check)."""
    attributes, required, stamp = _model_layout(model)
    for name in required:
        if values.get(name) is None:
            missing = sorted(n for n in required if values.get(n) is None)
            raise ValueError(f"{model.__name__}: attributes {missing} cannot be None")
    item: Item = {}
    for name, value in values.items():
        if value is None:
            continue
        attr_name, attr, self_typed = attributes[name]
        item[attr_name] = attr.serialize(value) if self_typed else {attr.attr_type: attr.serialize(value)}
    item.update(stamp)
    return item


class ConditionTemplate:
    """A condition PynamoDB serializes once, with named slots for the values that change from call to call.

    ``build`` takes one PynamoDB ``Value`` per slot (a marker) and returns the condition; ``slots`` names the
    attribute that serializes each slot's value (e.g. ``now=TableItem.ttl``). :meth:`bind` returns the
    expression's names and values for one call's slot values."""

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

    def bind(self, **slot_values: Any) -> tuple[dict[str, str], dict[str, Any]]:
        """(ExpressionAttributeNames, ExpressionAttributeValues) of the condition for these slot values."""
        values = dict(self._constants)
        for placeholder, name, attr in self._slots:
            values[placeholder] = Value(slot_values[name], attribute=attr).value
        return dict(self.names), values

    def put(self, table_name: str, serialized: Item, **slot_values: Any) -> dict[str, Any]:
        """PutItem of ``serialized`` conditioned on this condition: ``requests.put_item(table_name, item,
        serialized=serialized, condition=build(<slot values>))``."""
        names, values = self.bind(**slot_values)
        request: dict[str, Any] = {"TableName": table_name, "Item": serialized,
                                   "ConditionExpression": self.expression, "ExpressionAttributeNames": names}
        if values:
            request["ExpressionAttributeValues"] = values
        return request

    def filter(self, **slot_values: Any) -> FilterBuilder:
        """A ``stores.listing`` filter builder: ``requests.condition_filter(lambda: build(<slot values>))``,
        with the expression serialized once for every Query of the listing."""
        names, values = self.bind(**slot_values)

        def filter_builder(expr: Any) -> str:
            for placeholder, name in names.items():
                assert placeholder not in expr.names
                expr.names[placeholder] = name
            assert values.keys().isdisjoint(expr.values)
            expr.values.update(values)
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
