"""The requests of the workflows store, built from the models of models/workflows.py.

Pure builders: the store (stores/workflows.py) decides which requests a call sends and in what order; this
module only says what each request is. PynamoDB serializes every item, key, condition and update action. The
writes every step of a run sends (the head-only UpdateItem, the head + index entry transaction) and the
chunk Queries are PynamoDB's requests built once per shape and bound to each call's values
(models/workflow_requests.py; items are serialized by the models' layouts, models/layout.py). Each shaped
request has its expressions in a function of a *value provider* (``slot`` for the shape; the unit tests pass
the call's own values and compare the two requests).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from pynamodb.attributes import Attribute
from pynamodb.constants import ALL_OLD
from pynamodb.expressions.condition import BeginsWith, Condition
from pynamodb.expressions.operand import Path, Value
from pynamodb.expressions.update import Action

from mastra_dynamo.dynamo.codec import AttributeValue, Item
from mastra_dynamo.models import requests
from mastra_dynamo.models.base import UNBOUND_TABLE_NAME
from mastra_dynamo.models.layout import Stored, typed
from mastra_dynamo.models.workflow_requests import (
    key_attributes,
    shaped,
    shaped_query,
    slot,
    ttl_value,
)
from mastra_dynamo.models.workflows import (
    PackedSnapshot,
    WorkflowChunkItem,
    WorkflowRunFields,
    WorkflowRunIndexItem,
    WorkflowRunItem,
    run_index_values,
)
from mastra_dynamo.schema import keys
from mastra_dynamo.schema.keys import Key

Run = WorkflowRunItem
Entry = WorkflowRunIndexItem
Chunk = WorkflowChunkItem
ValueOf = Callable[[str], Value]
"""A value provider: the value of the slot of a name (``slot`` in a shape)."""

EXPECTED_REVISION = "expected revision"
"""The slot of the revision a compare-and-set expects (the other slots are named by attribute names)."""
_PK, _LOW, _HIGH = Chunk.pk.attr_name, "sk low", "sk high"
"""The slots of a chunk Query: the partition, the sort-key prefix (or lower bound) and upper bound."""
_MANIFEST = frozenset((Run.snapshot.attr_name, Run.snap_gen.attr_name, Run.snap_chunks.attr_name))
"""The head attributes that hold the snapshot (inline) or name its chunks: each write sets its own."""
_STAMP, _STATUS, _TTL, _RESOURCE, _REV, _WID = (
    Run.gen_stamp.attr_name, Run.status.attr_name, Run.ttl.attr_name, Run.resource_id.attr_name,
    Run.revision.attr_name, Run.write_id.attr_name)


@dataclass(frozen=True)
class HeadBody:
    """What one write puts on a run's head."""

    snapshot: PackedSnapshot
    generation: str | None
    """The chunk generation of a chunked snapshot (None: inline)."""
    chunk_count: int
    stamp: str
    status: str
    updated: datetime
    write_id: str
    expires_at: int | None

    def values(self) -> dict[str, Any]:
        """The head attributes (Python names) this write sets, None for those it removes."""
        inline = self.generation is None
        return {"updated_at": self.updated, "write_id": self.write_id, "gen_stamp": self.stamp,
                "snapshot": self.snapshot if inline else None, "snap_gen": self.generation,
                "snap_chunks": None if inline else self.chunk_count}


@dataclass(frozen=True)
class RunFields:
    """The fields head and index entry share (``WorkflowRunFields``)."""

    workflow_name: str
    run_id: str
    created_at: datetime | AttributeValue
    """A new run's creation time, or the stored ``createdAt`` of the live head (kept as it is)."""
    status: str
    resource_id: str | None
    expires_at: int | None

    def encoded(self) -> Item:
        """The fields serialized (once, for both items)."""
        created = self.created_at
        item = WorkflowRunFields.encode_values({
            "workflow_name": self.workflow_name, "run_id": self.run_id, "status": self.status,
            "resource_id": self.resource_id,
            "created_at": created if isinstance(created, datetime) else Stored(created)})
        if self.expires_at is not None:
            item[_TTL] = ttl_value(self.expires_at)
        return item


def _older(stamp: Value) -> Condition:
    """The head's order stamp is older than ``stamp`` (or it has none)."""
    return cast(Condition, Run.gen_stamp.does_not_exist() | (Run.gen_stamp < stamp))


# ---------------------------------------------------------------------------- head only
def _set(value: ValueOf, attribute: Attribute[Any]) -> Action:
    return Path(attribute).set(value(attribute.attr_name))


def head_update_expressions(value: ValueOf, *, inline: bool, expect: bool, expires: bool,
                            resource: bool) -> tuple[list[Action], Condition]:
    """The actions and condition of a head-only UpdateItem (see :func:`head_update`)."""
    actions = [_set(value, Run.updated_at), _set(value, Run.write_id), _set(value, Run.gen_stamp)]
    if inline:
        actions += [_set(value, Run.snapshot), Run.snap_gen.remove(), Run.snap_chunks.remove()]
    else:
        actions += [_set(value, Run.snap_gen), _set(value, Run.snap_chunks), Run.snapshot.remove()]
    actions.append(Run.revision.set(Run.revision + 1))
    condition: Condition
    if expect:
        condition = (Run.revision == value(EXPECTED_REVISION)) & _older(value(_STAMP))
    else:
        condition = (Run.pk.exists() & Run.gsi1pk.does_not_exist() & (Run.status == value(_STATUS))
                     & ((Run.ttl == value(_TTL)) if expires else Run.ttl.does_not_exist())
                     & _older(value(_STAMP)))
        if resource:
            condition &= Run.resource_id == value(_RESOURCE)
    return actions, condition


def head_update_values(body: HeadBody, *, expected_revision: AttributeValue | None,
                       resource_id: str | None) -> Item:
    """The slot values of a head-only UpdateItem."""
    values = Run.encode_values(body.values())
    if expected_revision is not None:
        values[EXPECTED_REVISION] = expected_revision
        return values
    values[_STATUS] = typed(Run.status, body.status)
    if body.expires_at is not None:
        values[_TTL] = ttl_value(body.expires_at)
    if resource_id is not None:
        values[_RESOURCE] = typed(Run.resource_id, resource_id)
    return values


def head_update(table_name: str, key: Key, body: HeadBody, *, expected_revision: AttributeValue | None,
                resource_id: str | None) -> dict[str, Any]:
    """UpdateItem of the head alone (``ReturnValues`` ALL_OLD, also on a failed condition): the snapshot
    (inline, or the chunk manifest), ``updatedAt``, ``_wid``, ``_gen``, ``_rev + 1``. Conditioned on the head's
    stamp being older, and on ``_rev`` = ``expected_revision`` (a compare-and-set: the stored ``_rev`` as read)
    or, without it, on the index entry staying right: the head exists, is not indexed itself (older layout),
    and has ``body``'s status and expiry (and ``resource_id`` when given)."""
    flags = {"inline": body.generation is None, "expect": expected_revision is not None,
             "expires": body.expires_at is not None, "resource": resource_id is not None}

    def build(k: Key) -> dict[str, Any]:
        actions, condition = head_update_expressions(slot, **flags)
        return requests.update_key(UNBOUND_TABLE_NAME, k, actions, condition=condition, return_values=ALL_OLD,
                                   return_values_on_condition_failure=ALL_OLD)

    shape = shaped(("head update", *flags.values()), build)
    return shape.bind(table_name, key_attributes(key),
                      head_update_values(body, expected_revision=expected_revision, resource_id=resource_id))


def head_after_update(old: Item, body: HeadBody) -> Item | None:
    """What a later write needs of the head a successful head-only UpdateItem left (see stores/recent_heads.py),
    from the head it replaced (ALL_OLD) and ``body``: its revision, order stamp, write id and chunk manifest
    as written, the other attributes as they were (``updatedAt`` included: no write reads it from there), no
    inline snapshot. None for a head without a revision (older layout: read it when needed)."""
    if _REV not in old:
        return None
    revision = Run.decode_attributes(old, ("revision",))["revision"]
    head = {name: value for name, value in old.items() if name not in _MANIFEST}
    head[_STAMP] = typed(Run.gen_stamp, body.stamp)
    head[_WID] = typed(Run.write_id, body.write_id)
    if body.generation is not None:
        head.update(Run.encode_values({"snap_gen": body.generation, "snap_chunks": body.chunk_count}))
    head[_REV] = typed(Run.revision, revision + 1)
    return head


# ---------------------------------------------------------------------------- head and index entry
def head_put_condition(value: ValueOf, *, absent: bool, revised: bool) -> Condition:
    """The condition of the head's Put: no head (``absent``), else the revision read (``revised``; else none)
    and an older stamp."""
    if absent:
        return cast(Condition, Run.pk.does_not_exist())
    condition = (Run.revision == value(EXPECTED_REVISION)) if revised else Run.revision.does_not_exist()
    return cast(Condition, condition & _older(value(_STAMP)))


def head_put_values(body: HeadBody, *, expected_revision: AttributeValue | None) -> Item:
    """The slot values of the head's Put (``expected_revision``: the stored ``_rev`` as read)."""
    values = {_STAMP: typed(Run.gen_stamp, body.stamp)}
    if expected_revision is not None:
        values[EXPECTED_REVISION] = expected_revision
    return values


def head_and_entry_puts(table_name: str, fields: RunFields, body: HeadBody, *,
                        current: Item | None) -> tuple[list[dict[str, Any]], Item]:
    """The two Put actions of the transaction that writes the whole head and its index entry, and the head
    it puts. The head's Put is conditioned on the head as it was read (``current``): absent, else the same
    ``_rev`` (or none) and an older stamp; the head's ``_rev`` becomes the one read + 1 (or 1). A failed
    condition returns the head it saw (ALL_OLD)."""
    head_key = keys.run_key(fields.workflow_name, fields.run_id)
    entry_key = keys.run_index_key(fields.workflow_name, fields.run_id)
    shared = fields.encoded()
    stored_revision = None if current is None else current.get(_REV)
    revision = 1
    if current is not None and stored_revision is not None:
        revision = Run.decode_attributes(current, ("revision",))["revision"] + 1
    head = Run.encode_item({"pk": head_key.pk, "sk": head_key.sk, **body.values(), "revision": revision},
                             encoded=shared)
    created = Entry.created_at.get_value(shared[Entry.created_at.attr_name])
    entry = Entry.encode_item({"pk": entry_key.pk, "sk": entry_key.sk, **run_index_values(
        fields.workflow_name, fields.run_id, created, fields.resource_id, fields.status)}, encoded=shared)
    flags = {"absent": current is None, "revised": stored_revision is not None}

    def build_head(k: Key) -> dict[str, Any]:
        return requests.put_item(UNBOUND_TABLE_NAME, Run(k.pk, k.sk), serialized=key_attributes(k),
                                 condition=head_put_condition(slot, **flags),
                                 return_values_on_condition_failure=ALL_OLD)

    def build_entry(k: Key) -> dict[str, Any]:
        return requests.put_item(UNBOUND_TABLE_NAME, Entry(k.pk, k.sk), serialized=key_attributes(k))

    head_shape = shaped(("head put", *flags.values()), build_head)
    entry_shape = shaped("entry put", build_entry)
    return [requests.transact("Put", head_shape.bind(table_name, head, head_put_values(
                body, expected_revision=stored_revision))),
            requests.transact("Put", entry_shape.bind(table_name, entry, {}))], head


def run_deletes(table_name: str, workflow_name: str, run_id: str) -> list[dict[str, Any]]:
    """The Delete actions of the transaction that removes a run's head and index entry."""
    return [requests.transact("Delete", requests.delete_item(table_name, keys.run_key(workflow_name, run_id))),
            requests.transact("Delete", requests.delete_item(table_name, keys.run_index_key(workflow_name, run_id)))]


def expired_head_delete(table_name: str, key: Key, now_epoch: int) -> dict[str, Any]:
    """DeleteItem of a head only while it is logically expired (``ttl <= now``)."""
    return requests.delete_item(table_name, key, condition=Run.ttl <= Value(ttl_value(now_epoch)))


# ---------------------------------------------------------------------------- chunks
def chunk_items(workflow_name: str, run_id: str, generation: str, chunks: list[bytes],
                expires_at: int | None) -> list[Item]:
    """The chunk items of one generation of a snapshot."""
    items = []
    for index, chunk in enumerate(chunks):
        key = keys.run_chunk_key(workflow_name, run_id, generation, index)
        encoded = None if expires_at is None else {_TTL: ttl_value(expires_at)}
        items.append(Chunk.encode_item({"pk": key.pk, "sk": key.sk, "data": chunk}, encoded=encoded))
    return items


def _chunks_between() -> Condition:
    return cast(Condition, (Chunk.pk == slot(_PK)) & Chunk.sk.between(slot(_LOW), slot(_HIGH)))


def _chunks_by_prefix() -> Condition:
    prefix = BeginsWith(Path(Chunk.sk), slot(_LOW))  # type: ignore[no-untyped-call]
    return cast(Condition, (Chunk.pk == slot(_PK)) & prefix)


def chunks_older_than(workflow_name: str, run_id: str, stamp: str) -> dict[str, Any]:
    """Keys-only consistent Query of the run's chunks of every generation older than ``stamp``:
    ``sk BETWEEN C#<wf># AND C#<wf>#<stamp>`` (the chunks of ``stamp`` itself sort after the upper bound)."""
    prefix = keys.run_chunk_prefix(workflow_name)
    shape = shaped_query("chunks between", _chunks_between, consistent=True)
    return shape.bind(None, None, {_PK: typed(Chunk.pk, keys.run_pk(run_id)), _LOW: typed(Chunk.sk, prefix),
                                   _HIGH: typed(Chunk.sk, prefix + stamp)})


def chunks_of(workflow_name: str, run_id: str, generation: str | None) -> dict[str, Any]:
    """Keys-only consistent Query of the run's chunks of ``generation`` (None: of every generation)."""
    shape = shaped_query("chunks by prefix", _chunks_by_prefix, consistent=True)
    return shape.bind(None, None, {_PK: typed(Chunk.pk, keys.run_pk(run_id)),
                                   _LOW: typed(Chunk.sk, keys.run_chunk_prefix(workflow_name, generation))})
