"""Message counters on the thread item: the ``total`` of a thread's history without reading the history.

Attributes of the thread item (``ThreadItem`` in models/memory.py; absent means unknown; a counter is never
guessed):

* ``_mc``  number of messages in the thread;
* ``_mcr`` the resource the split below refers to (``""`` stands for messages without a resourceId);
* ``_mcx`` how many of those messages have a resourceId other than ``_mcr``;
* ``_mcz`` set by ``delete_thread`` before its cascade: the counters of this thread are not rebuilt.

Every message transaction already carries an Update of its thread (``updatedAt``); that Update also ADDs
the message deltas, conditioned on the counters being present exactly as the transaction's plan read them
(a concurrent rebuild or invalidation cancels the transaction, which is then re-planned). A transaction that
writes a message with a TTL (expiry would not decrement), or that replaces or deletes a message whose
resource it cannot tell, removes the counters instead.

Missing counters are rebuilt by the first read that needs an exact total: one projected Query over the
thread's messages (the same requests as a COUNT) and one conditional UpdateItem guarded by the thread's
revision read *before* that Query, so any write in between turns the rebuild into a no-op. A read that saw
a thread's whole history anyway (a newest-first page with nothing after it) sends nothing more: the
process remembers those counters (:class:`Unstored`) and its next message transaction into the thread sets
them, guarded the same way by the revision that read saw.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from pynamodb.attributes import Attribute
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Path, Value
from pynamodb.expressions.update import Action

from mastra_dynamo.dynamo.codec import Item
from mastra_dynamo.errors import ConflictError
from mastra_dynamo.models import requests
from mastra_dynamo.models.memory import MessageItem, MessageRefItem, ThreadItem
from mastra_dynamo.schema import keys
from mastra_dynamo.stores.base import DynamoDomain
from mastra_dynamo.stores.memory import templates
from mastra_dynamo.stores.memory.queries import query_params

COUNT = ThreadItem.message_count.attr_name
REF = ThreadItem.counted_resource.attr_name
FOREIGN = ThreadItem.foreign_count.attr_name
FROZEN = ThreadItem.counts_frozen.attr_name
LINKED = ThreadItem.linked_resources.attr_name
ALL = (COUNT, REF, FOREIGN)
_COUNTERS = (("total", "message_count"), ("ref", "counted_resource"), ("foreign", "foreign_count"))


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()
"""The resource of a message that is replaced or deleted but whose pointer does not record it."""

ResourceRef = str | _Unknown


def ref_of(resource_id: str | None) -> str:
    return resource_id or ""


def _ref(values: dict[str, Any]) -> ResourceRef:
    if "ref" not in values:
        return UNKNOWN
    text: str | None = values["ref"]
    return text or ""


def ref_of_message(item: Item | None) -> ResourceRef:
    """The resource reference of a stored message item (its ``resourceId``; NULL: none)."""
    return UNKNOWN if item is None else _ref(MessageItem.decode_present(item, (("ref", "resource_id"),)))


def ref_of_pointer(item: Item | None) -> ResourceRef:
    """The resource reference a message pointer records (``mr``); UNKNOWN for pointers without one."""
    return UNKNOWN if item is None else _ref(MessageRefItem.decode_present(item, (("ref", "resource_ref"),)))


@dataclass(frozen=True)
class Counters:
    total: int
    ref: str
    foreign: int

    def matching(self, resource_id: str | None) -> int | None:
        """Messages of the thread with ``resource_id`` (all when None); None when the split cannot tell."""
        if resource_id is None:
            return self.total
        if resource_id == self.ref:
            return self.total - self.foreign
        return 0 if self.foreign == 0 else None


@dataclass(frozen=True)
class Unstored:
    """Counters a read found exact (it saw the thread's whole history, none of it expiring) that the thread
    item does not hold: the next message transaction of this process sets them, conditioned on the thread's
    revision as that read saw it (``revision``; None: none), so a write in between only cancels it."""

    counters: Counters
    revision: int | None


Seen = Counters | Unstored | None
"""What a process knows of a thread's counters: stored ones, exact but unstored ones, or none."""


def counted(thread_item: Item, messages: Iterable[Item]) -> Unstored | None:
    """The counters of a thread whose whole live history is ``messages`` (None when one carries a TTL or the
    thread item has, or must not get, counters)."""
    if COUNT in thread_item or FROZEN in thread_item:
        return None
    per_ref: Counter[str] = Counter()
    for item in messages:
        if MessageItem.ttl.attr_name in item:
            return None
        ref = ref_of_message(item)
        per_ref[ref if isinstance(ref, str) else ""] += 1
    values = ThreadItem.decode_present(thread_item, (("ref", "resource_id"), ("revision", "revision")))
    return Unstored(_split(values, per_ref), values.get("revision"))


def _split(thread_values: dict[str, Any], per_ref: Counter[str]) -> Counters:
    """Counters referring to the thread's own resource (``thread_values["ref"]``), from messages per resource."""
    thread_ref = _ref(thread_values)
    ref = thread_ref if isinstance(thread_ref, str) else ""
    total = sum(per_ref.values())
    return Counters(total, ref, total - per_ref[ref])


def stored_attributes(counters: Seen) -> Item:
    """The thread item attributes that :func:`read` reads back as ``counters`` when they are stored (none
    otherwise): a thread item as remembered, for a write planned without reading the thread."""
    if not isinstance(counters, Counters):
        return {}
    return ThreadItem.encode_values({"message_count": counters.total, "counted_resource": counters.ref,
                                     "foreign_count": counters.foreign})


def read(thread_item: Item | None) -> Counters | None:
    if thread_item is None or COUNT not in thread_item or FOREIGN not in thread_item or REF not in thread_item:
        return None
    values = ThreadItem.decode_present(thread_item, _COUNTERS)
    return Counters(int(values["total"] or 0), values["ref"] or "", int(values["foreign"] or 0))


@dataclass
class Deltas:
    """What one transaction changes in one thread's history: (resource, +1/-1) per message."""

    moves: list[tuple[ResourceRef, int]] = field(default_factory=list)
    expiring: bool = False

    @property
    def invalidates(self) -> bool:
        """The counters cannot follow this change: they are removed."""
        return self.expiring or any(ref is UNKNOWN for ref, _ in self.moves)


def applied(counters: Seen, deltas: Deltas) -> Counters | None:
    """The counters after a write that ran the :func:`update` for ``deltas``."""
    if isinstance(counters, Unstored):
        counters = counters.counters
    if counters is None or deltas.invalidates:
        return None
    total = sum(d for _, d in deltas.moves)
    foreign = sum(d for ref, d in deltas.moves if ref != counters.ref)
    return Counters(counters.total + total, counters.ref, counters.foreign + foreign)


def without(thread_item: Item) -> Item:
    return {name: value for name, value in thread_item.items() if name not in ALL}


@dataclass(frozen=True)
class Update:
    """What a thread Update does to the counters: ``absent`` (none: require that they are still absent),
    ``remove`` (drop them), ``add`` (add ``total`` and ``foreign``, require the split's ``ref``) or ``set``
    (store ``total``, ``foreign`` and ``ref``, require none stored, not frozen, and the thread's ``revision``
    as counted)."""

    mode: Literal["absent", "remove", "add", "set"]
    total: int = 0
    foreign: int = 0
    ref: str = ""
    revision: int | None = None

    @property
    def shape(self) -> tuple[str, bool]:
        return self.mode, bool(self.foreign) if self.mode != "set" else self.revision is not None

    def values(self) -> dict[str, Any]:
        """The slot values of :meth:`clauses`."""
        return {"count_total": self.total, "count_foreign": self.foreign, "count_ref": self.ref,
                "count_revision": self.revision}

    def clauses(self) -> tuple[list[Action], Condition | None]:
        """(update actions, condition) with slots (see stores/memory/templates.py)."""
        if self.mode == "absent":
            return [], ThreadItem.message_count.does_not_exist()
        if self.mode == "set":
            revision = ThreadItem.revision
            unchanged = (revision.does_not_exist() if self.revision is None
                         else revision == templates.slot("count_revision", revision))
            return ([Path(attribute).set(templates.slot(name, attribute)) for name, attribute in (
                        ("count_total", ThreadItem.message_count), ("count_ref", ThreadItem.counted_resource),
                        ("count_foreign", ThreadItem.foreign_count))],
                    ThreadItem.message_count.does_not_exist() & ThreadItem.counts_frozen.does_not_exist()
                    & unchanged)
        if self.mode == "remove":
            return [ThreadItem.message_count.remove(), ThreadItem.counted_resource.remove(),
                    ThreadItem.foreign_count.remove()], None
        actions: list[Action] = [ThreadItem.message_count.add(templates.slot("count_total",
                                                                             ThreadItem.message_count))]
        if self.foreign:
            actions.append(ThreadItem.foreign_count.add(templates.slot("count_foreign", ThreadItem.foreign_count)))
        condition: Condition = ThreadItem.counted_resource == templates.slot("count_ref", ThreadItem.counted_resource)
        return actions, condition


def update(counters: Seen, deltas: Deltas) -> Update:
    """How the Update of a thread whose counters were read as ``counters`` keeps them exact."""
    if isinstance(counters, Unstored):
        after = applied(counters, deltas)
        if after is None:
            return Update("absent")
        return Update("set", after.total, after.foreign, after.ref, counters.revision)
    if counters is None:
        return Update("absent")
    if deltas.invalidates:
        return Update("remove")
    total = sum(d for _, d in deltas.moves)
    foreign = sum(d for ref, d in deltas.moves if ref != counters.ref)
    return Update("add", total, foreign, counters.ref)


def initial(messages: Iterable[str | None]) -> dict[str, Any]:
    """Counters (model attribute values) of a thread created together with all of its messages (resource ids
    given)."""
    refs = [ref_of(r) for r in messages]
    ref = Counter(refs).most_common(1)[0][0] if refs else ""
    return {"message_count": len(refs), "counted_resource": ref,
            "foreign_count": sum(1 for r in refs if r != ref)}


class Hints:
    """The counters this process last saw on each thread item (None: the thread had none). A write planned
    without reading the thread takes its conditions from here; those conditions, not the hint, keep the
    counters exact: a stale hint only makes that write fail and fall back to a planned one."""

    LIMIT = 10_000

    def __init__(self) -> None:
        self._seen: dict[str, Seen] = {}
        self._linked: dict[str, frozenset[str]] = {}

    def seen(self, thread_id: str, thread_item: Item | None) -> Item | None:
        """Note the counters and linked resources of a thread item just read or written (returns the item)."""
        if thread_item is not None:
            self.note(thread_id, read(thread_item))
            self._linked[thread_id] = linked(thread_item)
        return thread_item

    def note(self, thread_id: str, counters: Seen, links: Iterable[str] = ()) -> None:
        """Note counters that a write of this process has just set, and resources it has just linked."""
        if len(self._seen) >= self.LIMIT:
            self._seen.clear()
            self._linked.clear()
        self._seen[thread_id] = counters
        if links:
            self._linked[thread_id] = self._linked.get(thread_id, frozenset()) | frozenset(links)

    def linked(self, thread_id: str) -> frozenset[str]:
        """The resources last seen linked to the thread (see models/memory.py ``ResourceLinkItem``)."""
        return self._linked.get(thread_id, frozenset())

    def known(self, thread_id: str) -> bool:
        return thread_id in self._seen

    def get(self, thread_id: str) -> Seen:
        return self._seen.get(thread_id)

    def forget(self, thread_id: str) -> None:
        self._seen.pop(thread_id, None)
        self._linked.pop(thread_id, None)


def linked(thread_item: Item | None) -> frozenset[str]:
    """The resources a thread item records as linked (``_rl``)."""
    value = None if thread_item is None else thread_item.get(LINKED)
    return frozenset() if value is None else frozenset(ThreadItem.linked_resources.deserialize(
        ThreadItem.linked_resources.get_value(value)))  # type: ignore[no-untyped-call]


def freeze(domain: DynamoDomain, thread_id: str) -> None:
    """Drop the counters for good (until the thread item is deleted): a cascade is about to start."""
    actions = [ThreadItem.counts_frozen.set(1), ThreadItem.message_count.remove(),
               ThreadItem.counted_resource.remove(), ThreadItem.foreign_count.remove(), ThreadItem.revision.add(1)]
    with contextlib.suppress(ConflictError):  # no thread item: nothing to freeze
        domain.table.call("UpdateItem", **requests.update_key(domain.table.table_name, keys.thread_key(thread_id),
                                                              actions, condition=ThreadItem.pk.exists()))


def revision_unchanged(revision: Attribute[Any], read_item: Item) -> Condition:
    """Optimistic concurrency: the item still has the revision (``revision``, ``_rev``) it had when
    ``read_item`` was read (none: still none)."""
    old = read_item.get(revision.attr_name)
    condition: Condition = revision.does_not_exist() if old is None else revision == Value(old)
    return condition


def rebuild(domain: DynamoDomain, thread_id: str, thread_item: Item | None, resource_id: str | None,
            hints: Hints | None = None) -> int:
    """Count the live messages of the thread (of ``resource_id`` when given) with one projected Query of the
    thread's messages, and store the counters when that is safe: no message carries a TTL, the thread item
    read before the Query is unchanged, has none and is not frozen. ``hints`` learn what was stored."""
    low, high = keys.message_sk_bounds(None, None)
    params = query_params((MessageItem.pk == keys.thread_pk(thread_id)) & MessageItem.sk.between(low, high),
                          consistent=True, projection=(MessageItem.resource_id, MessageItem.ttl))
    per_ref: Counter[str] = Counter()
    expiring = False
    for item in domain.table.query_items(params):
        if MessageItem.ttl.attr_name in item:
            expiring = True
            if domain.alive(item) is None:
                continue
        ref = ref_of_message(item)
        per_ref[ref if isinstance(ref, str) else ""] += 1
    matching = sum(per_ref.values()) if resource_id is None else per_ref[resource_id]
    if thread_item is None or expiring or COUNT in thread_item or FROZEN in thread_item:
        return matching
    counters = _split(ThreadItem.decode_present(thread_item, (("ref", "resource_id"),)), per_ref)
    actions = [ThreadItem.message_count.set(counters.total), ThreadItem.counted_resource.set(counters.ref),
               ThreadItem.foreign_count.set(counters.foreign)]
    condition = (ThreadItem.pk.exists() & ThreadItem.message_count.does_not_exist()
                 & ThreadItem.counts_frozen.does_not_exist() & revision_unchanged(ThreadItem.revision, thread_item))
    try:
        domain.table.call("UpdateItem", **requests.update_key(domain.table.table_name, keys.thread_key(thread_id),
                                                              actions, condition=condition))
    except ConflictError:  # written meanwhile: a later read rebuilds from fresh data
        if hints is not None:
            hints.forget(thread_id)
    else:
        if hints is not None:
            hints.note(thread_id, counters)
    return matching
