"""Write capacity of one TransactWriteItems, priced from its items the way DynamoDB bills it.

DynamoDB Local under-reports transactions: inside one transaction it counts identical per-item capacities
once (10 Puts of 1.5 KB report 4 units, not 40). The counting proxy (``bench/proxy.py``) therefore reads each
item's before-image (a strongly consistent read sent before the transaction) and, when the transaction
succeeded, its after-image, and records the figure below in place of the reported one. Everything here is a
pure function of (actions, before images, after images, table shapes), so it is tested without a server.

Rules, with the documentation each one follows (Amazon DynamoDB Developer Guide):

- **Item size** is DynamoDB's: ``item_size`` of ``mastra_dynamo.dynamo.codec`` (attribute name UTF-8 bytes +
  value bytes; S UTF-8, B raw bytes, N about one byte per two significant digits + 1, BOOL/NULL 1, L/M
  3 + elements + 1 per element). The wire JSON this module receives carries B as base64 and may carry sets,
  so values are first brought to that function's shape (``sizing_item``): binaries decoded, and a set sized
  as the sum of its elements.
- **Base table** ("Capacity management for transactions", transaction-apis: "DynamoDB performs two
  underlying reads or writes of every item in the transaction: one to prepare the transaction and one to
  commit"; example: three 500-byte items need six WCUs): every action costs
  ``2 x max(1, ceil(size / 1 KB))``, each item rounded on its own before summing. Size: the larger of the
  before- and after-image for Put and Update (a Put of a new item: its after-image), the before-image for a
  Delete, and the item read for a ConditionCheck. A ConditionCheck is an item of the transaction, so it is
  priced like a write (2 units per KB, at least 2); captures against real DynamoDB agree that it is billed
  as 2 write units (martinhicks.dev, "What a conditional DynamoDB transaction actually costs"; dynoxide
  CHANGELOG: "A ConditionCheck writes nothing and is still charged on the image it read").
- **Global secondary indexes** ("Provisioned throughput considerations for global secondary indexes",
  GSI.html#GSI.ThroughputConsiderations.Writes): an item is in an index when it has every key attribute of
  that index. Not in the index before or after: nothing. New in the index: one put of the new entry. Out of
  the index: one delete of the old entry. Index key changed: a delete and a put. Same key: nothing when no
  projected attribute changed ("if a write to a table does not require a global secondary index update, then
  no write capacity is consumed from the index"), else one write of the larger entry. Each write is
  ``max(1, ceil(entry / 1 KB))`` standard units, times the factor below. Entry size is the size of the
  projected attributes (ALL: the whole item; KEYS_ONLY: table keys + index keys; INCLUDE: those + the listed
  non-key attributes). The guide's 100 bytes of overhead per index item belong to *storage* ("Storage
  considerations for global secondary indexes"), not to the write cost, so entries add no overhead bytes.
- **Index writes inside a transaction count twice** (``INDEX_WRITE_FACTOR = 2``), like the items: that is
  DynamoDB Local's own model (a 1.5 KB entry reports 2 units from PutItem, 4 from TransactWriteItems). The
  guide does not say either way; it says changes made with transactions "are propagated to global secondary
  indexes ... after the transaction completes successfully" (transaction-apis), and one third-party capture
  against real DynamoDB reports index entries at the single rate (dynoxide,
  tests/transactional_index_consumed_capacity.rs: "the transactional 2x factor applies to the base table arm
  alone"). Until that is settled the higher figure is kept, so the benchmark never understates a transaction;
  ``INDEX_WRITE_FACTOR = 1`` is the other reading.
- **Cancelled transactions** (HTTP 400 ``TransactionCanceledException``): the guide documents no charge for
  them specifically (and no ConsumedCapacity comes back with the error), so they are priced as it documents failed
  conditional writes ("Capacity units consumed by conditional writes", WorkingWithItems: the write still
  consumes write capacity, dependent on the larger of the existing item and the new item, at least 1 unit).
  Every action is priced that way, once (nothing is committed, so no factor 2), and no index is written.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mastra_dynamo.dynamo.codec import item_size

Item = dict[str, Any]
"""An item in DynamoDB's wire JSON (``{"name": {"S": "..."}}``)."""

KB = 1024
TRANSACTION_FACTOR = 2
"""Write units per KB of every item of a successful transaction (prepare + commit)."""
INDEX_WRITE_FACTOR = 2
"""Write units per KB of an index entry written by a successful transaction (see the module docstring)."""
ACTION_KINDS = ("Put", "Update", "Delete", "ConditionCheck")


# ------------------------------------------------------------------ table shapes
@dataclass(frozen=True)
class IndexShape:
    """One secondary index: its key attributes and what it projects."""

    name: str
    keys: tuple[str, ...]
    projection: str = "ALL"
    include: tuple[str, ...] = ()

    def holds(self, item: Item | None) -> bool:
        return item is not None and all(name in item for name in self.keys)

    def entry(self, item: Item, table_keys: Sequence[str]) -> Item:
        """The attributes of ``item`` this index stores."""
        if self.projection == "ALL":
            return item
        names = {*table_keys, *self.keys, *(self.include if self.projection == "INCLUDE" else ())}
        return {name: value for name, value in item.items() if name in names}


@dataclass(frozen=True)
class TableShape:
    """What pricing needs from a DescribeTable: the table's key attributes and its global secondary indexes."""

    keys: tuple[str, ...]
    indexes: tuple[IndexShape, ...] = ()

    @classmethod
    def from_description(cls, table: Mapping[str, Any]) -> TableShape:
        """From the ``Table`` of a DescribeTable response."""
        return cls(keys=_key_names(table["KeySchema"]),
                   indexes=tuple(_index_shape(index) for index in table.get("GlobalSecondaryIndexes") or []))

    def key_of(self, item: Item) -> Item:
        return {name: item[name] for name in self.keys}


def _key_names(schema: Sequence[Mapping[str, str]]) -> tuple[str, ...]:
    return tuple(k["AttributeName"] for k in sorted(schema, key=lambda k: k["KeyType"] != "HASH"))


def _index_shape(index: Mapping[str, Any]) -> IndexShape:
    projection = index.get("Projection") or {}
    return IndexShape(name=index["IndexName"], keys=_key_names(index["KeySchema"]),
                      projection=projection.get("ProjectionType", "ALL"),
                      include=tuple(projection.get("NonKeyAttributes") or ()))


# ------------------------------------------------------------------ actions
@dataclass(frozen=True)
class Action:
    """One entry of ``TransactItems``."""

    kind: str
    table: str
    key: Item
    item: Item | None = None
    """The item a Put writes (from the request); None for the other kinds."""


def parse_actions(transact_items: Sequence[Mapping[str, Any]], tables: Mapping[str, TableShape]) -> list[Action]:
    """The actions of a TransactWriteItems request body's ``TransactItems``."""
    actions = []
    for entry in transact_items:
        kind = next(k for k in ACTION_KINDS if k in entry)
        body = entry[kind]
        table = body["TableName"]
        if kind == "Put":
            actions.append(Action(kind, table, tables[table].key_of(body["Item"]), body["Item"]))
        else:
            actions.append(Action(kind, table, body["Key"]))
    return actions


# ------------------------------------------------------------------ sizes
def sizing_value(value: Mapping[str, Any]) -> dict[str, Any]:
    """A wire-JSON attribute value in the shape ``attribute_size`` sizes: binaries (base64 on the wire) as
    bytes, maps and lists recursed."""
    if "B" in value:
        return {"B": _decoded(value["B"])}
    if "M" in value:
        return {"M": {k: sizing_value(v) for k, v in value["M"].items()}}
    if "L" in value:
        return {"L": [sizing_value(v) for v in value["L"]]}
    if "BS" in value:
        return {"BS": [_decoded(b) for b in value["BS"]]}
    return dict(value)


def _decoded(data: str | bytes) -> bytes:
    return data if isinstance(data, bytes) else base64.b64decode(data)


def sizing_item(item: Item) -> Item:
    return {name: sizing_value(value) for name, value in item.items()}


def size_of(item: Item | None) -> int:
    """DynamoDB's size of a wire-JSON item in bytes (0 for no item)."""
    return item_size(sizing_item(item)) if item else 0


def write_units(size: int) -> int:
    """Standard write units of one item or index entry: 1 per started KB, at least 1."""
    return max(1, math.ceil(size / KB))


# ------------------------------------------------------------------ pricing
@dataclass
class Priced:
    """Capacity of one transaction: ``total`` includes ``indexes`` (per global secondary index)."""

    total: float = 0.0
    indexes: dict[str, float] = field(default_factory=dict)

    def add_index(self, name: str, units: float) -> None:
        if units:
            self.indexes[name] = self.indexes.get(name, 0.0) + units
            self.total += units


def price_transaction(actions: Sequence[Action], before: Sequence[Item | None],
                      after: Sequence[Item | None] | None, tables: Mapping[str, TableShape]) -> Priced:
    """Write units of one TransactWriteItems; ``before[i]`` / ``after[i]`` are the images of ``actions[i]``'s
    item (None: no item). ``after=None`` means the transaction was cancelled (nothing was written)."""
    if after is None:
        return Priced(total=float(sum(_cancelled_units(a, b) for a, b in zip(actions, before, strict=True))))
    priced = Priced()
    for action, old, new in zip(actions, before, after, strict=True):
        priced.total += TRANSACTION_FACTOR * write_units(_table_size(action.kind, old, new))
        shape = tables[action.table]
        for index in shape.indexes:
            priced.add_index(index.name, INDEX_WRITE_FACTOR * index_units(index, shape.keys, old, new))
    return priced


def _table_size(kind: str, before: Item | None, after: Item | None) -> int:
    if kind in ("Put", "Update"):
        return max(size_of(before), size_of(after))
    return size_of(before)  # Delete: the deleted item; ConditionCheck: the item read


def _cancelled_units(action: Action, before: Item | None) -> int:
    """A failed conditional write's units: the larger of the existing item and the item sent (Put), at least 1."""
    return write_units(max(size_of(before), size_of(action.item)))


def index_units(index: IndexShape, table_keys: Sequence[str], before: Item | None, after: Item | None) -> int:
    """Write units one index spends when an item goes from ``before`` to ``after`` (either may be None)."""
    old = index.entry(before, table_keys) if before is not None and index.holds(before) else None
    new = index.entry(after, table_keys) if after is not None and index.holds(after) else None
    if old is None and new is None:
        return 0
    if old is None or new is None:  # put of a new entry, or delete of the old one
        return write_units(size_of(new if old is None else old))
    if any(old[name] != new[name] for name in index.keys):  # key moved: delete + put
        return write_units(size_of(old)) + write_units(size_of(new))
    if old == new:
        return 0
    return write_units(max(size_of(old), size_of(new)))
