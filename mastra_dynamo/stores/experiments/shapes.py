"""Request and filter shapes of the experiments domain: built by PynamoDB once, bound to each call's values.

Building and serializing PynamoDB conditions and update actions costs tens of microseconds per request
(a result write sends five of them), several times what the whole hand-built request cost. A :class:`Shape`
is a ``models.templates`` template of a request of ``models/requests.py``, built with :class:`Marks` (slots
named by the call's values, typed like the attribute they stand for) for :data:`KEY_MARK`; :meth:`Shape.bind`
takes the call's values in one mapping, the key's as ``pk`` and ``sk``. The bound request equals the one
PynamoDB builds with the values themselves (tests/unit/test_experiments_items.py compares them).

A filter shape (:func:`filter_shape`) does the same for a listing filter: the condition is serialized once
per shape and each listing gets it bound, a PynamoDB ``Condition`` for ``requests.condition_filter``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from typing import Any

from pynamodb.attributes import Attribute
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Path
from pynamodb.expressions.update import Action

from mastra_dynamo.models import requests
from mastra_dynamo.models.base import UNBOUND_TABLE_NAME
from mastra_dynamo.models.templates import (
    MARKER_ITEM,
    MARKER_KEY,
    MARKER_SERIALIZED,
    MAX_CACHED,
    BoundCondition,
    ConditionTemplate,
    Slots,
    Template,
    TemplateCache,
)
from mastra_dynamo.schema.keys import Key

__all__ = ["KEY_MARK", "MAX_CACHED", "UNBOUND", "BoundCondition", "FilterShape", "Marks", "Shape", "filter_shape",
           "key_values", "put_shape", "shape"]

KEY_MARK = MARKER_KEY
"""The key a shape is built for: :meth:`Shape.bind` fills in the call's key (values ``pk`` and ``sk``)."""
UNBOUND = UNBOUND_TABLE_NAME
"""The table name a shape is built for; :meth:`Shape.bind` names the store's table."""
FilterShape = ConditionTemplate


class Marks(Slots):
    """The marked values of one shape: ``marks("now", TableItem.ttl)`` stands for the call's value ``now``."""

    def set(self, name: str, attribute: Attribute[Any]) -> Action:
        """SET ``attribute`` to the call's value ``name``."""
        return Path(attribute).set(self(name, attribute))


class Shape:
    """A request built once with marked values (see the module docstring)."""

    __slots__ = ("template",)

    def __init__(self, template: Template) -> None:
        self.template = template

    def bind(self, table_name: str, values: Mapping[str, Any], *, Item: Any = None) -> dict[str, Any]:
        """The request for ``table_name`` with ``values`` (by mark name; ``pk``/``sk`` for a keyed request) in
        place of the marks, and the whole ``Item`` of a PutItem."""
        key = Key(values["pk"], values["sk"]) if self.template.target == "Key" else None
        return self.template.bind(table_name, key=key, item=Item, values=values)


_shapes: TemplateCache[Shape] = TemplateCache()
_filters: TemplateCache[ConditionTemplate] = TemplateCache()


def _build(build: Callable[[Marks], dict[str, Any]]) -> Shape:
    marks = Marks()
    return Shape(Template(build(marks), marks))


def shape(key: Hashable, build: Callable[[Marks], dict[str, Any]]) -> Shape:
    """The shape cached under ``key``, built by ``build(marks)`` (a request of models/requests.py for
    :data:`UNBOUND` and :data:`KEY_MARK`, with ``marks(...)`` for every value of the call) the first time."""
    return _shapes.get(key, lambda: _build(build))


def _filter(build: Callable[[Marks], Condition]) -> ConditionTemplate:
    marks = Marks()
    return ConditionTemplate(lambda _: build(marks), marks)


def filter_shape(key: Hashable, build: Callable[[Marks], Condition]) -> ConditionTemplate:
    """The filter shape cached under ``key``, serialized from ``build(marks)`` the first time; its ``bind``
    gives a ``Condition`` to pass to ``requests.condition_filter``."""
    return _filters.get(key, lambda: _filter(build))


def put_shape(key: Hashable, condition: Callable[[Marks], Condition] | None = None) -> Shape:
    """The shape of a PutItem (conditioned by ``condition(marks)``): bind it with ``Item=`` the item."""

    def build(marks: Marks) -> dict[str, Any]:
        return requests.put_item(UNBOUND, MARKER_ITEM, serialized=MARKER_SERIALIZED,
                                 condition=None if condition is None else condition(marks))

    return shape(("put", key), build)


def key_values(key: Key) -> dict[str, Any]:
    """The values of :data:`KEY_MARK`'s marks for ``key``."""
    return {"pk": key.pk, "sk": key.sk}
