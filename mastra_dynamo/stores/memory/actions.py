"""Transaction actions of the memory domain's message writes, built by PynamoDB once per shape.

Each action is a request of models/requests.py (``put_item``, ``delete_item``, ``update_key``,
``condition_check``) wrapped by ``requests.transact``. Its conditions and updates are PynamoDB expressions on
the models with slots for the call's values (stores/memory/templates.py): the conditions are named (see
``_CONDITIONS``) and each name is built once.

* Put/Delete conditions: ``absent`` (a new message or pointer), ``absent_or_expired`` (a pointer whose message
  was not found, a clone's thread), ``pointing_at`` (the pointer still names the location read),
  ``same_revision``/``present`` (:func:`unchanged`: an updated message is still the one read).
* :func:`touch_action`: the thread Update every message transaction carries (``updatedAt``, revision, the
  message counters, see counts.py, and the resource links, :class:`Links`); :func:`link_put` writes a link.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.attributes import UnicodeAttribute
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Path, Value
from pynamodb.expressions.update import Action

from mastra_dynamo.dynamo.codec import Item
from mastra_dynamo.models import requests
from mastra_dynamo.models.base import UNBOUND_TABLE_NAME, TableItem, epoch_datetime
from mastra_dynamo.models.memory import MessageItem, MessageRefItem, ResourceLinkItem, ThreadItem
from mastra_dynamo.schema import keys
from mastra_dynamo.schema.keys import Key
from mastra_dynamo.stores.memory import counts, templates
from mastra_dynamo.stores.memory.templates import MARKER_ITEM, MARKER_KEY, MARKER_SERIALIZED, item_slot, slot


def _now() -> Value:
    return slot("now", TableItem.ttl)


def absent() -> Condition:
    """No item under the key."""
    condition: Condition = TableItem.pk.does_not_exist()
    return condition


def absent_or_expired() -> Condition:
    """No item under the key, or an expired one (slot ``now``)."""
    condition: Condition = TableItem.pk.does_not_exist() | ~TableItem.not_expired(_now())
    return condition


def pointing_at() -> Condition:
    """The pointer still names the location that was read (slots ``msk``, ``thread``)."""
    condition: Condition = ((MessageRefItem.message_sk == slot("msk", MessageRefItem.message_sk))
                            & (MessageRefItem.thread_id == slot("thread", MessageRefItem.thread_id)))
    return condition


def same_revision() -> Condition:
    """The message item has the revision of the item that was read (the item slot ``_rev``)."""
    condition: Condition = MessageItem.revision == item_slot(MessageItem.revision)
    return condition


def present() -> Condition:
    """An item is under the key."""
    condition: Condition = TableItem.pk.exists()
    return condition


_CONDITIONS = {"absent": absent, "absent_or_expired": absent_or_expired, "pointing_at": pointing_at,
               "same_revision": same_revision, "present": present}


def unchanged(read: Item) -> str:
    """The condition (of ``_CONDITIONS``; its item slot is bound to ``read``) that the message item is still
    the one that was read: the same revision (``_rev``), or, for one written without a revision, present."""
    return "present" if MessageItem.revision.attr_name not in read else "same_revision"


def _transact(kind: requests.TransactKind, request: dict[str, Any]) -> dict[str, Any]:
    """``requests.transact(kind, request)`` of a request bound for this action alone (it is not copied)."""
    return {kind: request} if "ReturnValues" not in request else requests.transact(kind, request)


_PUTS: dict[str | None, templates.Template] = {}
"""The Put templates by condition name (``templates.request``'s, looked up once)."""


def put_action(table: str, item: Item, condition: str | None = None, *, typed: Item | None = None,
               **values: Any) -> dict[str, Any]:
    """Transaction Put of the serialized ``item``, under the condition named ``condition`` (see
    ``_CONDITIONS``) with its slot values (``typed``: the item its item slots take their values from)."""
    template = _PUTS.get(condition)
    if template is None:
        template = _PUTS[condition] = templates.request(("put", condition), lambda: requests.put_item(
            UNBOUND_TABLE_NAME, MARKER_ITEM, serialized=MARKER_SERIALIZED,
            condition=None if condition is None else _CONDITIONS[condition]()))
    return _transact("Put", template.bind(table, item=item, serialized=typed, values=values))


def delete_action(table: str, key: Key, condition: str | None = None, *, typed: Item | None = None,
                  **values: Any) -> dict[str, Any]:
    """Transaction Delete of ``key`` (under the named condition, as :func:`put_action`)."""
    template = templates.request(("delete", condition), lambda: requests.delete_item(
        UNBOUND_TABLE_NAME, MARKER_KEY, condition=None if condition is None else _CONDITIONS[condition]()))
    return _transact("Delete", template.bind(table, key=key, serialized=typed, values=values))


_LINKED_PATH = Path(ThreadItem.linked_resources.attr_name)  # an untyped path: ``contains`` takes a Value
_LINK_ELEMENT = ThreadItem.linked_resources.attr_name + "[]"


@dataclass(frozen=True)
class Links:
    """What a message transaction does to its thread's resource links (models/memory.py ``ResourceLinkItem``):
    ``add`` the resources it links (their link items are Put by the same transaction), ``check`` the resources
    it found linked, which the thread item must still record (a thread deleted and created again records none,
    so a write planned from an older read fails and is planned again)."""

    add: tuple[str, ...] = ()
    check: tuple[str, ...] = ()

    @classmethod
    def plan(cls, resources: Iterable[str], known: frozenset[str]) -> Links:
        wanted = sorted(set(resources))
        return cls(tuple(r for r in wanted if r not in known), tuple(r for r in wanted if r in known))

    @property
    def shape(self) -> tuple[bool, int]:
        return bool(self.add), len(self.check)

    def clauses(self) -> tuple[list[Action], Condition | None]:
        actions: list[Action] = []
        if self.add:
            actions.append(ThreadItem.linked_resources.add(slot("links", ThreadItem.linked_resources)))
        condition: Condition | None = None
        for index in range(len(self.check)):
            clause = _LINKED_PATH.contains(slot(f"linked{index}", _LINK_TEXT))
            condition = clause if condition is None else condition & clause
        return actions, condition

    def values(self) -> dict[str, Any]:
        values: dict[str, Any] = {f"linked{index}": resource for index, resource in enumerate(self.check)}
        if self.add:
            values["links"] = set(self.add)
        return values


_LINK_TEXT = UnicodeAttribute(attr_name=_LINK_ELEMENT)
NO_LINKS = Links()


def link_put(table: str, thread_id: str, resource_id: str) -> dict[str, Any]:
    """Transaction Put of the link item of (thread, resource): unconditional, a repeat writes the same item."""
    return put_action(table, ResourceLinkItem.new(thread_id, resource_id).serialize())


def touch_action(table: str, thread_id: str, when: datetime, update: counts.Update, *,
                 alive_at: int | None = None, links: Links = NO_LINKS) -> dict[str, Any]:
    """Transaction Update of a thread: ``updatedAt`` := ``when``, conditioned on the thread existing (and
    being alive at ``alive_at``, epoch seconds, when given) with an earlier ``updatedAt``; its revision +1,
    its message counters kept exact by ``update`` and its resource links by ``links``."""
    alive = alive_at is not None

    def build() -> dict[str, Any]:
        touched = slot("touched", ThreadItem.updated_at)
        counter_actions, counter_condition = update.clauses()
        link_actions, link_condition = links.clauses()
        condition = ThreadItem.pk.exists()
        if alive:
            condition &= ThreadItem.not_expired(_now())
        condition &= ThreadItem.updated_at < touched
        if counter_condition is not None:
            condition &= counter_condition
        if link_condition is not None:
            condition &= link_condition
        return requests.update_key(UNBOUND_TABLE_NAME, MARKER_KEY,
                                   [Path(ThreadItem.updated_at).set(touched), ThreadItem.revision.add(1),
                                    *counter_actions, *link_actions], condition=condition)

    template = templates.request(("touch", alive, update.shape, links.shape), build)
    # ``now`` as epoch seconds: what TTLAttribute stores for epoch_datetime(alive_at)
    return _transact("Update", template.bind(table, key=keys.thread_key(thread_id), values={
        "touched": when, "now": alive_at, **update.values(), **links.values()}))


def absent_thread_check(table: str, thread_id: str, now_epoch: int) -> dict[str, Any]:
    """Transaction ConditionCheck: the thread a plan read as absent (or expired) is still so at ``now_epoch``."""
    template = templates.request(("check", "absent_or_expired"), lambda: requests.condition_check(
        UNBOUND_TABLE_NAME, MARKER_KEY, absent_or_expired()))
    return requests.transact("ConditionCheck", template.bind(table, key=keys.thread_key(thread_id),
                                                             values={"now": epoch_datetime(now_epoch)}))
