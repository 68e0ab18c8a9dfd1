"""Request and filter shapes: built by PynamoDB once, bound to each call's values.

Building and serializing PynamoDB conditions and update actions costs tens of microseconds per request
(a result write sends five of them), several times what the whole hand-built request cost. Most of a
request does not depend on the call: only a few values do (the key, ``now``, a revision, a counter delta).
A :class:`Shape` is the request ``models/requests.py`` builds with *marked* values in their place (a
``Value`` whose text is ``NUL + name``, typed like the attribute it stands for); PynamoDB builds it once per
shape, and :meth:`Shape.bind` puts the call's values, serialized by the marked attributes, in the
placeholders PynamoDB chose. The bound request equals the one PynamoDB builds with the values themselves
(tests/unit/test_experiments_items.py compares them).

A :class:`BoundFilter` does the same for a listing filter: the condition is serialized once per shape and
each Query of the listing copies its expression, names and bound values.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any

from pynamodb.attributes import Attribute
from pynamodb.constants import STRING_SET
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Path, Value
from pynamodb.expressions.update import Action

from mastra_dynamo.models import requests
from mastra_dynamo.models.attributes import SelfTypedAttribute
from mastra_dynamo.models.base import UNBOUND_TABLE_NAME, TableItem
from mastra_dynamo.schema.keys import Key

_MARK = "\x00"  # attribute values of the table never start with NUL
_SECTIONS = ("Key", "ExpressionAttributeValues")
KEY_MARK = Key(_MARK + "pk", _MARK + "sk")
"""The key a shape is built for: :meth:`Shape.bind` fills in the call's key (values ``pk`` and ``sk``)."""
UNBOUND = UNBOUND_TABLE_NAME
"""The table name a shape is built for; :meth:`Shape.bind` names the store's table."""


class Marks:
    """The marked values of one shape: ``marks("now", TableItem.ttl)`` stands for the call's value ``now``."""

    def __init__(self) -> None:
        self.attributes: dict[str, Attribute[Any]] = {"pk": TableItem.pk, "sk": TableItem.sk}

    def __call__(self, name: str, attribute: Attribute[Any]) -> Value:
        self.attributes[name] = attribute
        marker = _MARK + name
        return Value({attribute.attr_type: [marker] if attribute.attr_type == STRING_SET else marker})

    def set(self, name: str, attribute: Attribute[Any]) -> Action:
        """SET ``attribute`` to the call's value ``name``."""
        return Path(attribute).set(self(name, attribute))


@dataclass(frozen=True)
class _Slot:
    section: str
    placeholder: str
    name: str
    attr_type: str


@dataclass(frozen=True)
class Shape:
    """A request built once with marked values (see the module docstring)."""

    kwargs: dict[str, Any]
    slots: tuple[_Slot, ...]
    attributes: Mapping[str, Attribute[Any]]

    def bind(self, table_name: str, values: Mapping[str, Any], **parts: Any) -> dict[str, Any]:
        """The request for ``table_name`` with ``values`` (by mark name; ``pk``/``sk`` for a keyed request)
        in place of the marks, and ``parts`` (e.g. ``Item``) replacing whole parameters."""
        request = {**self.kwargs, "TableName": table_name, **parts}
        sections = {section: dict(self.kwargs[section]) for section in _SECTIONS if section in self.kwargs}
        for slot in self.slots:
            attribute = self.attributes[slot.name]
            serialized = attribute.serialize(values[slot.name])
            sections[slot.section][slot.placeholder] = (
                serialized if isinstance(attribute, SelfTypedAttribute) else {slot.attr_type: serialized})
        request.update(sections)
        return request


def _slots(kwargs: Mapping[str, Any]) -> tuple[_Slot, ...]:
    slots: list[_Slot] = []
    for section in _SECTIONS:
        for placeholder, typed in kwargs.get(section, {}).items():
            ((attr_type, value),) = typed.items()
            marker = value[0] if isinstance(value, list) and len(value) == 1 else value
            if isinstance(marker, str) and marker.startswith(_MARK):
                slots.append(_Slot(section, placeholder, marker[len(_MARK):], attr_type))
    return tuple(slots)


_shapes: dict[Hashable, Shape] = {}
_lock = threading.Lock()
MAX_CACHED = 4096
"""Shapes kept per cache; beyond it (e.g. listings with ever more tags) a shape is built for its call only."""


def shape(key: Hashable, build: Callable[[Marks], dict[str, Any]]) -> Shape:
    """The shape cached under ``key``, built by ``build(marks)`` (a request of models/requests.py for
    :data:`UNBOUND` and :data:`KEY_MARK`, with ``marks(...)`` for every value of the call) the first time."""
    found = _shapes.get(key)
    if found is None:
        marks = Marks()
        kwargs = build(marks)
        found = Shape(kwargs, _slots(kwargs), marks.attributes)
        with _lock:
            if len(_shapes) < MAX_CACHED:
                _shapes.setdefault(key, found)
    return found


class BoundFilter(Condition):
    """A filter condition serialized once per shape, with the call's values bound: its ``serialize`` copies
    the expression, names and values into the (empty) dictionaries ``requests.condition_filter`` passes."""

    def __init__(self, expression: str, names: Mapping[str, str], values: Mapping[str, Any]) -> None:
        super().__init__("BOUND")
        self.expression = expression
        self.names = names
        self.values_by_placeholder = values

    def serialize(self, placeholder_names: dict[str, str], expression_attribute_values: dict[str, Any]) -> str:
        assert not placeholder_names and not expression_attribute_values
        placeholder_names.update(self.names)
        expression_attribute_values.update(self.values_by_placeholder)
        return self.expression


@dataclass(frozen=True)
class FilterShape:
    """A filter condition serialized once with marked values."""

    expression: str
    names: dict[str, str]
    values: dict[str, Any]
    slots: tuple[_Slot, ...]
    attributes: Mapping[str, Attribute[Any]]

    def bind(self, values: Mapping[str, Any]) -> BoundFilter:
        bound = dict(self.values)
        for slot in self.slots:
            attribute = self.attributes[slot.name]
            serialized = attribute.serialize(values[slot.name])
            bound[slot.placeholder] = (
                serialized if isinstance(attribute, SelfTypedAttribute) else {slot.attr_type: serialized})
        return BoundFilter(self.expression, self.names, bound)


_filters: dict[Hashable, FilterShape] = {}


def filter_shape(key: Hashable, build: Callable[[Marks], Condition]) -> FilterShape:
    """The filter shape cached under ``key``, serialized from ``build(marks)`` the first time."""
    found = _filters.get(key)
    if found is None:
        marks = Marks()
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        expression = build(marks).serialize(names, values)
        found = FilterShape(expression, names, values, _slots({"ExpressionAttributeValues": values}),
                            marks.attributes)
        with _lock:
            if len(_filters) < MAX_CACHED:
                _filters.setdefault(key, found)
    return found


_MARKED_ITEM = TableItem(KEY_MARK.pk, KEY_MARK.sk)


def put_shape(key: Hashable, condition: Callable[[Marks], Condition] | None = None) -> Shape:
    """The shape of a PutItem (conditioned by ``condition(marks)``): bind it with ``Item=`` the item."""

    def build(marks: Marks) -> dict[str, Any]:
        return requests.put_item(UNBOUND, _MARKED_ITEM, serialized=_MARKED_ITEM.serialize(null_check=False),
                                 condition=None if condition is None else condition(marks))

    return shape(("put", key), build)


def key_values(key: Key) -> dict[str, Any]:
    """The values of :data:`KEY_MARK`'s marks for ``key``."""
    return {"pk": key.pk, "sk": key.sk}
