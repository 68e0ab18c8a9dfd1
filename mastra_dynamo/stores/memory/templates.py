"""Requests that PynamoDB builds once per shape, bound to each call's values: the memory hot path's CPU.

Building and serializing a condition and a few update actions costs PynamoDB about 150 us (a thread's
Update in a message transaction), more than the rest of a ``save_messages`` call. So each shape is built once
by the request builders of :mod:`mastra_dynamo.models.requests` with slots where the call's values go, and each
call binds its values (see :mod:`mastra_dynamo.models.templates`). Unit tests compare a bound template with
the request built directly.

The memory domain names its slots once for all its shapes:

* :func:`slot` is the Value to use in a condition or an action: ``ThreadItem.updated_at < slot("now",
  ThreadItem.updated_at)`` (a slot name always stands for the same attribute).
* :func:`request` returns the cached :class:`Template` of a shape (built by ``build()`` on first use);
  ``Template.bind`` makes the request for a table, a key or an item, and slot values.
* :func:`listing_filter` does the same for a listing's FilterExpression (``stores/listing.py``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any

from pynamodb.attributes import Attribute
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Value

from mastra_dynamo.models.templates import (
    MARKER_ITEM,
    MARKER_KEY,
    MARKER_SERIALIZED,
    ConditionTemplate,
    Slots,
    Template,
    TemplateCache,
    item_slot,
    marker,
)

__all__ = ["MARKER_ITEM", "MARKER_KEY", "MARKER_SERIALIZED", "Template", "item_slot", "listing_filter", "request",
           "slot"]

_SLOTS = Slots()
"""Every slot of the domain's shapes, by name."""
_lock = threading.Lock()
_requests: TemplateCache[Template] = TemplateCache()
_filters: TemplateCache[ConditionTemplate] = TemplateCache()


def slot(name: str, attribute: Attribute[Any]) -> Value:
    """The marker Value of slot ``name``: bound to a value serialized by ``attribute``."""
    with _lock:
        known = _SLOTS.attributes.setdefault(name, attribute)
    assert known is attribute, f"slot {name!r} names two attributes"
    return marker(name, attribute)


def request(shape: Hashable, build: Callable[[], dict[str, Any]]) -> Template:
    """The template of ``shape`` (any hashable naming the request and its clauses), built by ``build()`` (a
    request of models/requests.py, on :data:`MARKER_KEY` or :data:`MARKER_ITEM`) the first time."""
    return _requests.get(shape, lambda: Template(build(), _SLOTS))


def listing_filter(shape: Hashable, build: Callable[[], Condition], **values: Any) -> Callable[[Any], str]:
    """A ``stores.listing`` filter builder: the condition ``build()`` (with slots) of ``shape`` serialized by
    PynamoDB once, each Query getting the slot ``values``."""
    return _filters.get(shape, lambda: ConditionTemplate(lambda _: build(), _SLOTS)).filter(values)
