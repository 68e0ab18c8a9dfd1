"""Message counters on the thread item: the ``total`` of a thread's history without reading the history.

Attributes of the thread item (absent means unknown; a counter is never guessed):

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
revision read *before* that Query, so any write in between turns the rebuild into a no-op.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from mastra_dynamo.dynamo.client import key_attr
from mastra_dynamo.dynamo.codec import Item
from mastra_dynamo.dynamo.expressions import Expr
from mastra_dynamo.errors import ConflictError
from mastra_dynamo.schema import keys
from mastra_dynamo.stores import listing
from mastra_dynamo.stores.base import DynamoDomain
from mastra_dynamo.stores.writes import revision_condition

COUNT = "_mc"
REF = "_mcr"
FOREIGN = "_mcx"
FROZEN = "_mcz"
ALL = (COUNT, REF, FOREIGN)


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()
"""The resource of a message that is replaced or deleted but whose pointer does not record it."""

ResourceRef = str | _Unknown


def ref_of(resource_id: str | None) -> str:
    return resource_id or ""


def ref_in(item: Item | None, attribute: str) -> ResourceRef:
    """The resource reference stored in ``attribute`` of an item (a message or its pointer)."""
    if item is None or attribute not in item:
        return UNKNOWN
    text: str = item[attribute].get("S", "")
    return text


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


def read(thread_item: Item | None) -> Counters | None:
    if thread_item is None or COUNT not in thread_item or FOREIGN not in thread_item or REF not in thread_item:
        return None
    return Counters(int(thread_item[COUNT]["N"]), thread_item[REF].get("S", ""), int(thread_item[FOREIGN]["N"]))


@dataclass
class Deltas:
    """What one transaction changes in one thread's history: (resource, +1/-1) per message."""

    moves: list[tuple[ResourceRef, int]] = field(default_factory=list)
    expiring: bool = False

    @property
    def invalidates(self) -> bool:
        """The counters cannot follow this change: they are removed."""
        return self.expiring or any(ref is UNKNOWN for ref, _ in self.moves)


def applied(counters: Counters | None, deltas: Deltas) -> Counters | None:
    """The counters after a write that ran the clauses of :func:`update_clauses` for ``deltas``."""
    if counters is None or deltas.invalidates:
        return None
    total = sum(d for _, d in deltas.moves)
    foreign = sum(d for ref, d in deltas.moves if ref != counters.ref)
    return Counters(counters.total + total, counters.ref, counters.foreign + foreign)


def without(thread_item: Item) -> Item:
    return {name: value for name, value in thread_item.items() if name not in ALL}


def update_clauses(expr: Expr, thread_item: Item, deltas: Deltas) -> tuple[list[str], list[str], list[str]]:
    """(ADD parts, REMOVE parts, conditions) that keep the counters of ``thread_item`` exact."""
    counters = read(thread_item)
    if counters is None:
        return [], [], [f"attribute_not_exists({expr.name(COUNT)})"]
    if deltas.invalidates:
        return [], [expr.name(name) for name in ALL], []
    total = sum(d for _, d in deltas.moves)
    foreign = sum(d for ref, d in deltas.moves if ref != counters.ref)
    adds = [f"{expr.name(COUNT)} {expr.n(total)}"]
    if foreign:
        adds.append(f"{expr.name(FOREIGN)} {expr.n(foreign)}")
    return adds, [], [f"{expr.name(REF)} = {expr.s(counters.ref)}"]


def initial(messages: Iterable[str | None]) -> Item:
    """Counters of a thread created together with all of its messages (resource ids given)."""
    refs = [ref_of(r) for r in messages]
    ref = Counter(refs).most_common(1)[0][0] if refs else ""
    return {COUNT: {"N": str(len(refs))}, REF: {"S": ref}, FOREIGN: {"N": str(sum(1 for r in refs if r != ref))}}


class Hints:
    """The counters this process last saw on each thread item (None: the thread had none). A write planned
    without reading the thread takes its conditions from here; those conditions, not the hint, keep the
    counters exact: a stale hint only makes that write fail and fall back to a planned one."""

    LIMIT = 10_000

    def __init__(self) -> None:
        self._seen: dict[str, Counters | None] = {}

    def seen(self, thread_id: str, thread_item: Item | None) -> Item | None:
        """Note the counters of a thread item just read or written (returns the item)."""
        if thread_item is not None:
            self.note(thread_id, read(thread_item))
        return thread_item

    def note(self, thread_id: str, counters: Counters | None) -> None:
        """Note counters that a write of this process has just set."""
        if len(self._seen) >= self.LIMIT:
            self._seen.clear()
        self._seen[thread_id] = counters

    def known(self, thread_id: str) -> bool:
        return thread_id in self._seen

    def get(self, thread_id: str) -> Counters | None:
        return self._seen.get(thread_id)

    def forget(self, thread_id: str) -> None:
        self._seen.pop(thread_id, None)


def freeze(domain: DynamoDomain, thread_id: str) -> None:
    """Drop the counters for good (until the thread item is deleted): a cascade is about to start."""
    expr = Expr()
    removes = ", ".join(expr.name(name) for name in ALL)
    rev = expr.name(domain.spec.revision_attribute)
    with contextlib.suppress(ConflictError):  # no thread item: nothing to freeze
        domain.table.call("UpdateItem", **expr.apply({
            "TableName": domain.table.table_name,
            "Key": key_attr(keys.thread_key(thread_id)),
            "UpdateExpression": f"SET {expr.name(FROZEN)} = {expr.n(1)} REMOVE {removes} ADD {rev} {expr.n(1)}",
            "ConditionExpression": f"attribute_exists({expr.name('pk')})",
        }))


def rebuild(domain: DynamoDomain, thread_id: str, thread_item: Item | None, resource_id: str | None,
            hints: Hints | None = None) -> int:
    """Count the live messages of the thread (of ``resource_id`` when given) with one projected Query of the
    thread's messages, and store the counters when that is safe: no message carries a TTL, the thread item
    read before the Query is unchanged, has none and is not frozen. ``hints`` learn what was stored."""
    expr = Expr()
    ttl_attr = domain.spec.ttl_attribute
    query = listing.PartitionQuery(None, "pk", "sk", keys.thread_pk(thread_id),
                                   sk_between=keys.message_sk_bounds(None, None), consistent=True)
    params = {**query.params(ascending=True, expr=expr, filter_expression=None, limit=None),
              "ProjectionExpression": f"{expr.name('resourceId')}, {expr.name(ttl_attr)}"}
    per_ref: Counter[str] = Counter()
    expiring = False
    for item in domain.table.query_items(expr.apply(params)):
        if ttl_attr in item:
            expiring = True
            if domain.alive(item) is None:
                continue
        ref = ref_in(item, "resourceId")
        per_ref[ref if isinstance(ref, str) else ""] += 1
    total = sum(per_ref.values())
    matching = total if resource_id is None else per_ref[resource_id]
    if thread_item is None or expiring or COUNT in thread_item or FROZEN in thread_item:
        return matching
    ref = ref_in(thread_item, "resourceId")
    ref = ref if isinstance(ref, str) else ""
    write = Expr()
    sets = [f"{write.name(COUNT)} = {write.n(total)}", f"{write.name(REF)} = {write.s(ref)}",
            f"{write.name(FOREIGN)} = {write.n(total - per_ref[ref])}"]
    condition = " AND ".join([
        f"attribute_exists({write.name('pk')})", f"attribute_not_exists({write.name(COUNT)})",
        f"attribute_not_exists({write.name(FROZEN)})", revision_condition(domain, write, thread_item),
    ])
    try:
        domain.table.call("UpdateItem", **write.apply({
            "TableName": domain.table.table_name,
            "Key": key_attr(keys.thread_key(thread_id)),
            "UpdateExpression": "SET " + ", ".join(sets),
            "ConditionExpression": condition,
        }))
    except ConflictError:  # written meanwhile: a later read rebuilds from fresh data
        if hints is not None:
            hints.forget(thread_id)
    else:
        if hints is not None:
            hints.note(thread_id, Counters(total, ref, total - per_ref[ref]))
    return matching
