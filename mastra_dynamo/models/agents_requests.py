"""Cheap request paths of the agents domain: conditions and filters serialized by PynamoDB once and bound per
call (items are serialized without building instances by ``TableItem.encode_item``, models/layout.py).

Serializing a condition costs about 15 us, so a ``create`` (three conditional Puts) built that way would take
several times the CPU of the dictionaries the store built before the models. Here:

* :class:`GetRequests` is the GetItem that ``requests.get_item`` builds, and :class:`ConditionTemplate` a
  condition whose call-dependent values (the time of a TTL check, a revision) are slots: both are
  ``models.templates`` templates (PynamoDB builds them once, each call binds its values), named by keyword.
  :meth:`BoundCondition.put` is then the request ``requests.put_item`` builds, and
  :meth:`BoundCondition.filter` a listing filter that adds the expression to every Query of a listing without
  serializing it again.

Unit tests (tests/unit/test_agents_items.py) compare each of them with PynamoDB's own result.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pynamodb.attributes import Attribute, NumberAttribute
from pynamodb.expressions.condition import Condition

from mastra_dynamo.models import requests, templates
from mastra_dynamo.models.base import UNBOUND_TABLE_NAME
from mastra_dynamo.models.templates import MARKER_KEY, BoundCondition, TemplateCache
from mastra_dynamo.schema.keys import Key

__all__ = ["EPOCH_SECONDS", "BoundCondition", "ConditionTemplate", "GetRequests", "TemplateCache"]


class GetRequests:
    """GetItem requests by key, as ``requests.get_item(table_name, key, consistent=consistent)`` builds them."""

    def __init__(self, *, consistent: bool) -> None:
        self._template = templates.Template.build(
            lambda slots: requests.get_item(UNBOUND_TABLE_NAME, MARKER_KEY, consistent=consistent))

    def __call__(self, table_name: str, key: Key) -> dict[str, Any]:
        return self._template.bind(table_name, key=key)


EPOCH_SECONDS = NumberAttribute()
"""The slot attribute of a time in epoch seconds (an ``int``): it serializes as ``TTLAttribute`` serializes
the same time (a DynamoDB number: the seconds), without its datetime round trips."""


class ConditionTemplate:
    """A condition PynamoDB serializes once, with named slots for the values that change from call to call.

    ``build`` takes one marker per slot (by keyword) and returns the condition; ``slots`` names the attribute
    that serializes each slot's value (e.g. ``now=EPOCH_SECONDS``). :meth:`bind` gives the condition for one
    call's slot values."""

    def __init__(self, build: Callable[..., Condition], **slots: Attribute[Any]) -> None:
        self._template = templates.ConditionTemplate(
            lambda marks: build(**{name: marks(name, attr) for name, attr in slots.items()}))

    def bind(self, **slot_values: Any) -> BoundCondition:
        """The condition with these slot values: what PynamoDB serializes ``build(<slot values>)`` to."""
        return self._template.bind(slot_values)
