"""Workflows domain (spec 3.2) on the table: run snapshots with atomic, compare-and-set updates.

A run lives in its own partition ``W#<runId>``: the head item ``N#<workflowName>`` holds the run's fields
and either the snapshot inline (JSON text, or zlib-compressed JSON when large) or the manifest of a chunked
snapshot (generation id + chunk count). Chunks ``C#<workflowName>#<generation>#<n>`` are written before the
head switches to their generation (the commit point), so a reader never mixes two writes. Generations are
ordered (``t`` + write time in ns + random), and every head write carries its own order stamp (``_gen``: the
generation, or a fresh stamp for an inline snapshot) under the condition that the head's stamp is older: the
head's stamp only grows, so no generation older than a committed stamp can ever be committed. After a commit
the write deletes every chunk of the run and workflow older than its own stamp (one keys-only Query of that
sort-key range), whatever the head it replaced was: orphans of lost answers, crashes and earlier failed
cleanups go with it, and a concurrent writer's newer generation is never touched. Each head write carries a
write id (``_wid``), so a write whose answer was lost can read back whether it was applied.

The head is in no index. A small index entry ``I#<workflowName>`` beside it carries what listings filter and
sort on (status, resource, createdAt, expiry) and the index keys. A write that keeps those fields updates the
head alone (one UpdateItem, conditioned on them); any other write puts head and entry in one transaction, so
the two always agree. Listings read entries from the indexes and BatchGet the heads of a page. Every read-modify-write
(``update_workflow_results``, ``update_workflow_state``) is conditioned on the head's revision ``_rev``; a
concurrent writer makes the write fail, and the call re-reads and re-applies its change, so no step result
is lost and ``expected_status`` is a real compare-and-set.
"""

from __future__ import annotations

import json
import random
import time
import uuid
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mastra_dynamo.clock import Clock
from mastra_dynamo.dynamo.client import TableClient, key_attr
from mastra_dynamo.dynamo.codec import AttributeValue, Item, decode_json, decode_value, dumps_json
from mastra_dynamo.dynamo.expressions import Expr
from mastra_dynamo.errors import ConflictError, ItemTooLargeError, RetryableError, ValidationError
from mastra_dynamo.records.base import PerPage, coerce, json_data
from mastra_dynamo.records.workflows import WorkflowRun, WorkflowRuns, WorkflowStateUpdate
from mastra_dynamo.schema import keys
from mastra_dynamo.schema.keys import Key
from mastra_dynamo.stores import listing
from mastra_dynamo.stores.base import DynamoDomain
from mastra_dynamo.stores.workflow_steps import merge_step_result, pending_snapshot
from mastra_dynamo.ttl import TtlPolicy
from mastra_dynamo.validate import optional_id, require_id, require_mapping

ENTITY_RUN = "workflow_run"
ENTITY_CHUNK = "workflow_chunk"
INLINE_MAX_BYTES = 300 * 1024
CHUNK_BYTES = 350 * 1024
DEFAULT_MAX_SNAPSHOT_BYTES = 32 * 1024 * 1024
MAX_CAS_ATTEMPTS = 200
WRITE_ID = "_wid"
"""Head attribute: a fresh id per write, so a write whose answer was lost can tell whether it was applied."""
GEN_STAMP = "_gen"
"""Head attribute: the order stamp of the write that set it (its chunk generation when chunked)."""
MAX_STALE_ATTEMPTS = 5


ENTITY_RUN_INDEX = "workflow_run_index"


class _Conflict(Exception):
    """The head changed between read and write (internal: triggers a re-read)."""


class _Stale(Exception):
    """The head carries a stamp not older than this write's (a writer whose clock is ahead): the write takes a
    new stamp after ``floor`` and is made again (internal)."""

    def __init__(self, floor: str) -> None:
        super().__init__(floor)
        self.floor = floor


def new_stamp(floor: str | None = None) -> str:
    """A generation / order stamp later than ``floor``: ``t`` + 16 hex digits of ns + 8 random hex digits.
    Fixed width, so text order is time order; older random generations (16 hex digits) sort before all."""
    now = time.time_ns()
    if floor is not None and len(floor) == 25 and floor.startswith("t"):
        now = max(now, int(floor[1:17], 16) + 1)
    return f"t{now:016x}{uuid.uuid4().hex[:8]}"


def _stamp_of(head: Item | None) -> str | None:
    return None if head is None else head.get(GEN_STAMP, {}).get("S")


@dataclass(frozen=True)
class _HeadBody:
    """What one write puts on a run's head."""

    inline: AttributeValue | None
    generation: str | None
    chunk_count: int
    stamp: str
    status: str
    updated: str
    write_id: str
    expires_at: int | None


def run_index_keys(workflow_name: str, run_id: str, created: str, resource_id: str | None, status: str) -> Item:
    """The index keys of a run's index entry (created: the fixed-width createdAt text)."""
    cwf, crun = keys.component(workflow_name), keys.component(run_id)
    shard8 = keys.shard_of(run_id, keys.GLOBAL_SHARDS)
    item: Item = {
        "gsi1pk": {"S": keys.runs_by_workflow_pk(workflow_name)},
        "gsi1sk": {"S": f"{created}#{crun}"},
        "gsi3pk": {"S": keys.runs_global_pk(shard8)},
        "gsi3sk": {"S": f"{created}#{crun}#{cwf}"},
        "gsi4pk": {"S": keys.runs_by_status_pk(status, shard8)},
        "gsi4sk": {"S": f"{created}#{crun}#{cwf}"},
    }
    if resource_id is not None:
        item["gsi2pk"] = {"S": keys.runs_by_resource_pk(resource_id)}
        item["gsi2sk"] = {"S": f"{created}#{crun}#{cwf}"}
    return item


class DynamoWorkflowsStore(DynamoDomain):
    """Run snapshots. ``max_snapshot_bytes`` caps the serialized JSON of one snapshot (ItemTooLargeError)."""

    def __init__(self, *, table: TableClient, ttl: TtlPolicy, clock: Clock,
                 max_snapshot_bytes: int = DEFAULT_MAX_SNAPSHOT_BYTES,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(table=table, ttl=ttl, clock=clock)
        self.max_snapshot_bytes = max_snapshot_bytes
        self._sleep = sleep

    def _pause(self, attempt: int) -> None:
        """Jittered exponential pause before re-reading a head after a lost race."""
        self._sleep(random.uniform(0, min(0.2, 0.002 * (2 ** min(attempt, 7)))))

    def supports_concurrent_updates(self) -> bool:
        return True

    # ------------------------------------------------------------------ encoding
    def _encode(self, snapshot: Any, *, workflow_name: str, run_id: str) -> tuple[AttributeValue | None, list[bytes]]:
        """(inline attribute, chunks): exactly one of them is used."""
        text = dumps_json(snapshot, field="snapshot")
        raw = text.encode("utf-8")
        if len(raw) > self.max_snapshot_bytes:
            raise ItemTooLargeError(
                f"snapshot of run {run_id!r} is {len(raw)} bytes; the configured cap is {self.max_snapshot_bytes}",
                details={"workflow_name": workflow_name, "run_id": run_id, "size": len(raw),
                         "limit": self.max_snapshot_bytes},
            )
        if len(raw) <= 16 * 1024:
            return {"S": text}, []
        packed = zlib.compress(raw, 6)
        if len(packed) <= INLINE_MAX_BYTES:
            return ({"B": packed} if len(packed) < len(raw) else {"S": text}), []
        return None, [packed[i:i + CHUNK_BYTES] for i in range(0, len(packed), CHUNK_BYTES)]

    def _decode_head(self, head: Item, workflow_name: str, run_id: str) -> Any:
        if "snapshot" in head:
            return decode_json(head["snapshot"])
        generation = head.get("snapGen", {}).get("S")
        count = int(head.get("snapChunks", {}).get("N", "0"))
        if generation is None:
            return None
        prefix = keys.run_chunk_prefix(workflow_name, generation)
        query = listing.PartitionQuery(None, "pk", "sk", keys.run_pk(run_id), sk_prefix=prefix, consistent=True)
        parts = listing.collect(self.table, [query], ascending=True, filter_builder=lambda e: None, offset=0,
                                limit=None)
        if len(parts) != count:
            raise _Conflict()  # the generation was replaced while reading: read the head again
        data = b"".join(bytes(p["data"]["B"]) for p in parts)
        return json.loads(zlib.decompress(data).decode("utf-8"))

    def _read(self, workflow_name: str, run_id: str) -> tuple[Item, Any] | None:
        for _ in range(5):
            head = self.alive(self.table.get_item(keys.run_key(workflow_name, run_id)))
            if head is None:
                return None
            try:
                return head, self._decode_head(head, workflow_name, run_id)
            except _Conflict:
                continue
        raise ConflictError(f"run {run_id!r} is being rewritten too often to read", details={"run_id": run_id})

    def _run_record(self, head: Item, snapshot: Any) -> WorkflowRun:
        data: dict[str, Any] = {
            "workflow_name": head["workflowName"]["S"],
            "run_id": head["runId"]["S"],
            "snapshot": snapshot if snapshot is not None else {},
            "created_at": decode_value(head["createdAt"], "datetime"),
            "updated_at": decode_value(head["updatedAt"], "datetime"),
        }
        if "resourceId" in head and "S" in head["resourceId"]:
            data["resource_id"] = head["resourceId"]["S"]
        return WorkflowRun.model_validate(data)

    # ------------------------------------------------------------------ writing
    def _write(self, *, workflow_name: str, run_id: str, snapshot: Any, resource_id: str | None,
               created_at: datetime | None, updated_at: datetime | None, expect: Item | None,
               upsert: bool) -> None:
        """Write the head (and chunks). ``upsert``: insert or update (expired heads are replaced);
        otherwise the head must still carry the revision of ``expect`` (None = must not exist)."""
        inline, chunks = self._encode(snapshot, workflow_name=workflow_name, run_id=run_id)
        floor = _stamp_of(expect)
        for _ in range(MAX_STALE_ATTEMPTS):
            try:
                self._write_once(workflow_name=workflow_name, run_id=run_id, snapshot=snapshot, inline=inline,
                                 chunks=chunks, stamp=new_stamp(floor), resource_id=resource_id,
                                 created_at=created_at, updated_at=updated_at, expect=expect, upsert=upsert)
                return
            except _Stale as stale:
                floor = stale.floor
        raise ConflictError(f"run {run_id!r}: the head keeps a newer stamp; retry", details={"run_id": run_id})

    def _write_once(self, *, workflow_name: str, run_id: str, snapshot: Any, inline: AttributeValue | None,
                    chunks: list[bytes], stamp: str, resource_id: str | None, created_at: datetime | None,
                    updated_at: datetime | None, expect: Item | None, upsert: bool) -> None:
        generation = stamp if chunks else None
        write_id = uuid.uuid4().hex
        expires_at = self.ttl.expires_at("workflow_snapshot")
        if generation is not None:
            self._put_chunks(workflow_name, run_id, generation, chunks, expires_at)
        old: Item | None
        try:
            old = self._store_head(workflow_name=workflow_name, run_id=run_id, inline=inline, stamp=stamp,
                                   generation=generation, chunk_count=len(chunks), resource_id=resource_id,
                                   created_at=created_at, updated_at=updated_at, expect=expect,
                                   upsert=upsert, expires_at=expires_at,
                                   status=snapshot.get("status") if isinstance(snapshot, dict) else None,
                                   write_id=write_id)
        except RetryableError:
            # Outcome unknown (e.g. the response was lost): the head tells whether this write landed. If that
            # cannot be read either, keep the new chunks (the head may name them) and report the error.
            if not self._landed(workflow_name, run_id, write_id):
                if generation is not None:
                    self._delete_generations(workflow_name, run_id, only=generation)
                raise
            old = None  # committed; what it replaced is unknown
        except BaseException:
            if generation is not None:
                self._delete_generations(workflow_name, run_id, only=generation)
            raise
        # Committed. The cleanup does not depend on what the head update answered: it deletes every chunk
        # older than this write's stamp (none can be committed any more; the live generation is this one or
        # newer). An inline write over a known inline head skips it (nothing to replace).
        if generation is not None or old is None or "snapGen" in old:
            self._delete_older_than(workflow_name, run_id, stamp)

    def _delete_older_than(self, workflow_name: str, run_id: str, stamp: str) -> None:
        """Delete the run's chunks of every generation older than ``stamp``: ``sk BETWEEN C#<wf># AND
        C#<wf>#<stamp>`` (the chunks of ``stamp`` itself sort after the upper bound)."""
        prefix = keys.run_chunk_prefix(workflow_name)
        self._delete_chunks(listing.PartitionQuery(None, "pk", "sk", keys.run_pk(run_id),
                                                   sk_between=(prefix, prefix + stamp), consistent=True))

    def _landed(self, workflow_name: str, run_id: str, write_id: str) -> bool:
        """Whether the head carries ``write_id``: the head update of that write was applied."""
        head = self.table.get_item(keys.run_key(workflow_name, run_id))
        return head is not None and head.get(WRITE_ID, {}).get("S") == write_id

    def _put_chunks(self, workflow_name: str, run_id: str, generation: str, chunks: list[bytes],
                    expires_at: int | None) -> None:
        items = []
        for index, chunk in enumerate(chunks):
            key = keys.run_chunk_key(workflow_name, run_id, generation, index)
            item: Item = {"pk": {"S": key.pk}, "sk": {"S": key.sk}, "data": {"B": chunk}}
            items.append(self.stamp(item, ENTITY_CHUNK, expires_at=expires_at))
        self.table.batch_write(puts=items)

    def _delete_generations(self, workflow_name: str, run_id: str, *, only: str | None = None) -> None:
        """Delete the run's chunks of ``only`` (a generation), or of every generation."""
        prefix = keys.run_chunk_prefix(workflow_name, only)
        self._delete_chunks(listing.PartitionQuery(None, "pk", "sk", keys.run_pk(run_id), sk_prefix=prefix,
                                                   consistent=True))

    def _delete_chunks(self, query: listing.PartitionQuery) -> None:
        """One keys-only Query of chunk keys, then BatchWriteItem deletes of what it found."""
        expr = Expr()
        params = expr.apply({**query.params(ascending=True, expr=expr, filter_expression=None, limit=None),
                             "ProjectionExpression": f"{expr.name('pk')}, {expr.name('sk')}"})
        doomed = [Key(i["pk"]["S"], i["sk"]["S"]) for i in self.table.query_items(params)]
        if doomed:
            self.table.batch_write(deletes=doomed)

    def _store_head(self, *, workflow_name: str, run_id: str, inline: AttributeValue | None, stamp: str,
                    generation: str | None, chunk_count: int, resource_id: str | None,
                    created_at: datetime | None, updated_at: datetime | None, expect: Item | None, upsert: bool,
                    expires_at: int | None, status: Any, write_id: str) -> Item | None:
        """Write the head (and, when an indexed field changes, its index entry). Returns the head it replaced
        (None: unknown, the write was found applied after a lost answer).

        A write that keeps the indexed fields (status, resource, expiry) is one UpdateItem of the unindexed head.
        Otherwise head and index entry are put together by one transaction conditioned on the head that was
        read (``expect`` for compare-and-set writes; a fresh read for upserts). With retention on, every write
        sets a new expiry (now + retention, like every other entity), so every write is the transaction."""
        body = _HeadBody(inline=inline, generation=generation, chunk_count=chunk_count, stamp=stamp,
                         status=status if isinstance(status, str) and status else "unknown",
                         updated=keys.ts(updated_at or self.now()), write_id=write_id, expires_at=expires_at)
        if upsert:
            if body.expires_at is None:  # with retention, every write moves the expiry: no single-item form
                try:
                    return self._update_head_only(workflow_name, run_id, body, resource_id=resource_id,
                                                  expect=None)
                except ConflictError:
                    pass  # first write, an indexed field changes, or an older layout: the two-item write below
            for attempt in range(MAX_CAS_ATTEMPTS):
                current = self.table.get_item(keys.run_key(workflow_name, run_id))
                if current is not None and current.get(WRITE_ID, {}).get("S") == write_id:
                    return None  # an earlier attempt of this write was applied (its answer was lost)
                current_stamp = _stamp_of(current)
                if current_stamp is not None and current_stamp >= stamp:
                    raise _Stale(current_stamp)
                try:
                    self._put_head_and_index(workflow_name, run_id, body, resource_id=resource_id,
                                             created_at=created_at, current=current)
                    return current or {}
                except ConflictError:
                    if self._landed(workflow_name, run_id, write_id):
                        return None
                    self._pause(attempt)
            raise ConflictError(f"run {run_id!r}: too much contention; retry", details={"run_id": run_id})
        try:
            if expect is not None and self._index_unchanged(expect, body):
                return self._update_head_only(workflow_name, run_id, body, resource_id=None, expect=expect)
            self._put_head_and_index(workflow_name, run_id, body, resource_id=None, created_at=created_at,
                                     current=expect)
            return expect or {}
        except ConflictError:
            if self._landed(workflow_name, run_id, write_id):
                # A retry of this very request (its first attempt was applied, the answer was lost)
                # failed the revision check: the write is in.
                return None
            raise _Conflict() from None

    def _index_unchanged(self, head: Item, body: _HeadBody) -> bool:
        """The head's index entry stays right if ``body`` is written over ``head`` (resource kept)."""
        ttl = head.get(self.spec.ttl_attribute, {}).get("N")
        return ("gsi1pk" not in head and head.get("status", {}).get("S") == body.status
                and ttl == (str(body.expires_at) if body.expires_at is not None else None))

    def _update_head_only(self, workflow_name: str, run_id: str, body: _HeadBody, *, resource_id: str | None,
                          expect: Item | None) -> Item:
        """One UpdateItem of the head, conditioned on its index entry staying right (ConflictError if not)."""
        expr = Expr()
        sets = [f"{expr.name('updatedAt')} = {expr.s(body.updated)}",
                f"{expr.name(WRITE_ID)} = {expr.s(body.write_id)}",
                f"{expr.name(GEN_STAMP)} = {expr.s(body.stamp)}"]
        removes: list[str] = []
        if body.inline is not None:
            sets.append(f"{expr.name('snapshot')} = {expr.value(body.inline)}")
            removes += [expr.name("snapGen"), expr.name("snapChunks")]
        else:
            assert body.generation is not None
            sets += [f"{expr.name('snapGen')} = {expr.s(body.generation)}",
                     f"{expr.name('snapChunks')} = {expr.n(body.chunk_count)}"]
            removes.append(expr.name("snapshot"))
        rev = expr.name(self.spec.revision_attribute)
        sets.append(f"{rev} = {rev} + {expr.n(1)}")
        gen = expr.name(GEN_STAMP)
        older = f"(attribute_not_exists({gen}) OR {gen} < {expr.s(body.stamp)})"
        if expect is not None:
            condition = f"{rev} = {expr.value(expect[self.spec.revision_attribute])} AND {older}"
        else:
            ttl = expr.name(self.spec.ttl_attribute)
            conditions = [f"attribute_exists({expr.name('pk')})", f"attribute_not_exists({expr.name('gsi1pk')})",
                          f"{expr.name('status')} = {expr.s(body.status)}",
                          f"{ttl} = {expr.n(body.expires_at)}" if body.expires_at is not None
                          else f"attribute_not_exists({ttl})", older]
            if resource_id is not None:
                conditions.append(f"{expr.name('resourceId')} = {expr.s(resource_id)}")
            condition = " AND ".join(conditions)
        result = self.table.call("UpdateItem", **expr.apply({
            "TableName": self.table.table_name,
            "Key": key_attr(keys.run_key(workflow_name, run_id)),
            "UpdateExpression": "SET " + ", ".join(sets) + " REMOVE " + ", ".join(removes),
            "ConditionExpression": condition,
            "ReturnValues": "ALL_OLD",
        }))
        old: Item = result.get("Attributes", {})
        return old

    def _put_head_and_index(self, workflow_name: str, run_id: str, body: _HeadBody, *, resource_id: str | None,
                            created_at: datetime | None, current: Item | None) -> None:
        """Put the whole head and its index entry in one transaction, conditioned on ``current`` (the head as
        read, None = absent). An expired ``current`` is replaced by a new life (createdAt restarts)."""
        live = self.alive(current)
        created = live["createdAt"]["S"] if live is not None else keys.ts(created_at or self.now())
        if resource_id is None and live is not None and "S" in live.get("resourceId", {}):
            resource_id = live["resourceId"]["S"]
        shared: Item = {"workflowName": {"S": workflow_name}, "runId": {"S": run_id}, "createdAt": {"S": created},
                        "status": {"S": body.status}}
        if resource_id is not None:
            shared["resourceId"] = {"S": resource_id}
        if body.expires_at is not None:
            shared[self.spec.ttl_attribute] = {"N": str(body.expires_at)}
        key = keys.run_key(workflow_name, run_id)
        head: Item = {"pk": {"S": key.pk}, "sk": {"S": key.sk}, **shared, "updatedAt": {"S": body.updated},
                      WRITE_ID: {"S": body.write_id}, GEN_STAMP: {"S": body.stamp}}
        if body.inline is not None:
            head["snapshot"] = body.inline
        else:
            assert body.generation is not None
            head["snapGen"] = {"S": body.generation}
            head["snapChunks"] = {"N": str(body.chunk_count)}
        rev_attr = self.spec.revision_attribute
        old_rev = current.get(rev_attr) if current is not None else None
        head[rev_attr] = {"N": str(int(old_rev["N"]) + 1 if old_rev is not None else 1)}
        self.stamp(head, ENTITY_RUN)
        index_key = keys.run_index_key(workflow_name, run_id)
        index: Item = {"pk": {"S": index_key.pk}, "sk": {"S": index_key.sk}, **shared,
                       **run_index_keys(workflow_name, run_id, created, resource_id, body.status)}
        self.stamp(index, ENTITY_RUN_INDEX)
        expr = Expr()
        if current is None:
            condition = f"attribute_not_exists({expr.name('pk')})"
        elif old_rev is not None:
            condition = f"{expr.name(rev_attr)} = {expr.value(old_rev)}"
        else:
            condition = f"attribute_not_exists({expr.name(rev_attr)})"
        if current is not None:
            gen = expr.name(GEN_STAMP)
            condition += f" AND (attribute_not_exists({gen}) OR {gen} < {expr.s(body.stamp)})"
        self.table.transact_write([{"Put": expr.apply({"Item": head, "ConditionExpression": condition})},
                                   {"Put": {"Item": index}}])

    def _drop_expired_head(self, workflow_name: str, run_id: str) -> None:
        """Delete the head only if it is logically expired (nothing happens to a live or missing head)."""
        try:
            self.table.call("DeleteItem", TableName=self.table.table_name,
                            Key=key_attr(keys.run_key(workflow_name, run_id)), **_expired_condition(self))
        except ConflictError:
            return

    # ------------------------------------------------------------------ public API
    def persist_workflow_snapshot(self, *, workflow_name: str, run_id: str, snapshot: Mapping[str, Any] | str,
                                  resource_id: str | None = None, created_at: datetime | None = None,
                                  updated_at: datetime | None = None) -> None:
        """Upsert a run's snapshot. ``created_at`` is write-once; ``resource_id`` is kept when not given.

        Raises: ValidationError (bad ids, non-JSON snapshot), ItemTooLargeError (over the configured cap)."""
        require_id(workflow_name, field="workflow_name")
        require_id(run_id, field="run_id")
        optional_id(resource_id, field="resource_id")
        if snapshot is not None and not isinstance(snapshot, Mapping | str):
            raise ValidationError("snapshot must be an object or a string", code="INVALID_SNAPSHOT",
                                  details={"run_id": run_id})
        from mastra_dynamo.clock import parse_datetime

        self._write(workflow_name=workflow_name, run_id=run_id,
                    snapshot=dict(snapshot) if isinstance(snapshot, Mapping) else snapshot,
                    resource_id=resource_id,
                    created_at=parse_datetime(created_at) if created_at is not None else None,
                    updated_at=parse_datetime(updated_at) if updated_at is not None else None,
                    expect=None, upsert=True)

    def load_workflow_snapshot(self, *, workflow_name: str, run_id: str) -> Any:
        """The snapshot (a fresh copy), or None when the run does not exist."""
        require_id(workflow_name, field="workflow_name")
        require_id(run_id, field="run_id")
        found = self._read(workflow_name, run_id)
        return None if found is None else found[1]

    def get_workflow_run_by_id(self, *, run_id: str, workflow_name: str | None = None) -> WorkflowRun | None:
        """The run; without ``workflow_name`` the newest run with that id: one strongly consistent Query of the
        run's heads, which carry the snapshot (a chunked one adds the Query of its chunks)."""
        require_id(run_id, field="run_id")
        if workflow_name is not None:
            require_id(workflow_name, field="workflow_name")
            found = self._read(workflow_name, run_id)
            return None if found is None else self._run_record(*found)
        query = listing.PartitionQuery(None, "pk", "sk", keys.run_pk(run_id), sk_prefix=keys.RUN_HEAD_PREFIX,
                                       consistent=True)
        heads = listing.collect(self.table, [query], ascending=True, filter_builder=self.not_expired, offset=0,
                                limit=None)
        if not heads:
            return None
        return self._run_of_head(max(heads, key=lambda h: (h["createdAt"]["S"], h["workflowName"]["S"])))

    def delete_workflow_run_by_id(self, *, run_id: str, workflow_name: str) -> None:
        """Delete the run's head and index entry (one transaction), then its chunks (idempotent)."""
        require_id(run_id, field="run_id")
        require_id(workflow_name, field="workflow_name")
        self.table.transact_write([{"Delete": {"Key": key_attr(keys.run_key(workflow_name, run_id))}},
                                   {"Delete": {"Key": key_attr(keys.run_index_key(workflow_name, run_id))}}])
        self._delete_generations(workflow_name, run_id)

    def list_workflow_runs(
        self,
        *,
        workflow_name: str | None = None,
        from_date: datetime | str | None = None,
        to_date: datetime | str | None = None,
        per_page: PerPage | None = None,
        page: int | None = None,
        resource_id: str | None = None,
        thread_id: str | None = None,
        status: str | None = None,
    ) -> WorkflowRuns:
        """Runs newest first. Paginated only when both ``page`` and ``per_page`` are given; ``total`` counts
        every match. ``thread_id`` is accepted for compatibility and ignored (best effort upstream)."""
        from mastra_dynamo.clock import parse_datetime
        from mastra_dynamo.pagination import paginate

        if page is not None and (isinstance(page, bool) or not isinstance(page, int) or page < 0):
            raise ValidationError("page must be >= 0", code="INVALID_PAGINATION")
        paged = page is not None and per_page is not None
        pagination = paginate(page if paged else 0, per_page if paged else False, default=None)
        optional_id(workflow_name, field="workflow_name")
        optional_id(resource_id, field="resource_id")
        optional_id(status, field="status")
        start = parse_datetime(from_date) if from_date is not None else None
        end = parse_datetime(to_date) if to_date is not None else None
        between = (keys.ts(start) if start else "0", keys.ts(end) + "$" if end else "~")
        if workflow_name is not None:
            queries = [listing.PartitionQuery("gsi1", "gsi1pk", "gsi1sk", keys.runs_by_workflow_pk(workflow_name),
                                              sk_between=between)]
        elif resource_id is not None:
            queries = [listing.PartitionQuery("gsi2", "gsi2pk", "gsi2sk", keys.runs_by_resource_pk(resource_id),
                                              sk_between=between)]
        elif status is not None:
            queries = [listing.PartitionQuery("gsi4", "gsi4pk", "gsi4sk", keys.runs_by_status_pk(status, s),
                                              sk_between=between) for s in keys.all_shards(keys.GLOBAL_SHARDS)]
        else:
            queries = [listing.PartitionQuery("gsi3", "gsi3pk", "gsi3sk", keys.runs_global_pk(s),
                                              sk_between=between) for s in keys.all_shards(keys.GLOBAL_SHARDS)]

        def flt(expr: Expr) -> str:
            clauses = [self.not_expired(expr)]
            for attr, value in (("workflowName", workflow_name), ("resourceId", resource_id), ("status", status)):
                if value is not None:
                    clauses.append(f"{expr.name(attr)} = {expr.s(value)}")
            return " AND ".join(clauses)

        items, total = listing.page_with_total(self.table, queries, ascending=False, filter_builder=flt,
                                               offset=pagination.offset, limit=pagination.limit)
        return WorkflowRuns(runs=self.runs_of(items), total=total or 0)

    def runs_of(self, entries: list[Item]) -> list[WorkflowRun]:
        """The runs named by index entries, in their order: the heads with one strongly consistent
        BatchGetItem per 100 (heads of the older layout are index entries themselves). A run deleted or
        expired since its entry was read is left out."""
        wanted = [keys.run_key(e["workflowName"]["S"], e["runId"]["S"]) for e in entries
                  if e.get(self.spec.entity_attribute, {}).get("S") == ENTITY_RUN_INDEX]
        fetched = self.table.batch_get(wanted) if wanted else {}
        runs = []
        for entry in entries:
            head: Item | None = entry
            if entry.get(self.spec.entity_attribute, {}).get("S") == ENTITY_RUN_INDEX:
                key = keys.run_key(entry["workflowName"]["S"], entry["runId"]["S"])
                head = self.alive(fetched.get((key.pk, key.sk)))
            run = None if head is None else self._run_of_head(head)
            if run is not None:
                runs.append(run)
        return runs

    def _run_of_head(self, head: Item) -> WorkflowRun | None:
        """The run of a head already read (by a Query or a BatchGetItem): no second read of the head unless
        its chunked snapshot was rewritten since (then the head is read again; None when the run is gone)."""
        workflow_name, run_id = head["workflowName"]["S"], head["runId"]["S"]
        try:
            return self._run_record(head, self._decode_head(head, workflow_name, run_id))
        except _Conflict:
            found = self._read(workflow_name, run_id)
            return None if found is None else self._run_record(*found)

    def update_workflow_results(self, *, workflow_name: str, run_id: str, step_id: str, result: Any,
                                request_context: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Atomically merge one step result into ``snapshot.context`` (and ``request_context`` into the
        snapshot's requestContext). A missing run gets a pending snapshot first. Returns the new context."""
        require_id(workflow_name, field="workflow_name")
        require_id(run_id, field="run_id")
        require_id(step_id, field="step_id")
        dumps_json(result, field="result")
        if request_context is not None:
            dumps_json(require_mapping(request_context, field="request_context"), field="request_context")

        def change(snapshot: dict[str, Any]) -> dict[str, Any] | None:
            context = snapshot.setdefault("context", {})
            context[step_id] = merge_step_result(context.get(step_id), result)
            if request_context:
                merged = dict(snapshot.get("requestContext") or {})
                merged.update(request_context)
                snapshot["requestContext"] = merged
            return snapshot

        snapshot = self._compare_and_set(workflow_name, run_id, change, create_missing=True)
        assert snapshot is not None
        context: dict[str, Any] = snapshot.get("context", {})
        return context

    def update_workflow_state(self, *, workflow_name: str, run_id: str,
                              opts: WorkflowStateUpdate | Mapping[str, Any]) -> dict[str, Any] | None:
        """Shallow-merge ``opts`` into the snapshot, atomically. With ``expected_status`` (a status or a list),
        the update applies only if the stored status is one of them (compare-and-set); otherwise, and when
        the run is missing, returns None and writes nothing. ``expected_status`` is never stored."""
        require_id(workflow_name, field="workflow_name")
        require_id(run_id, field="run_id")
        update = coerce(WorkflowStateUpdate, opts, what="opts")
        fields = json_data(update, what="opts", by_alias=True, exclude_unset=True)
        expected = fields.pop("expectedStatus", None)
        allowed = None if expected is None else ({expected} if isinstance(expected, str) else set(expected))

        def change(snapshot: dict[str, Any]) -> dict[str, Any] | None:
            if allowed is not None and snapshot.get("status") not in allowed:
                return None
            snapshot.update(fields)
            return snapshot

        return self._compare_and_set(workflow_name, run_id, change, create_missing=False)

    def _compare_and_set(self, workflow_name: str, run_id: str,
                         change: Callable[[dict[str, Any]], dict[str, Any] | None],
                         *, create_missing: bool) -> dict[str, Any] | None:
        for attempt in range(MAX_CAS_ATTEMPTS):
            found = self._read(workflow_name, run_id)
            if found is None:
                if not create_missing:
                    return None
                self._drop_expired_head(workflow_name, run_id)  # a logically expired run starts afresh
                head: Item | None = None
                snapshot: Any = pending_snapshot(run_id, self.now())
            else:
                head, snapshot = found
                if isinstance(snapshot, str):
                    try:
                        snapshot = json.loads(snapshot)
                    except ValueError:
                        raise ValidationError(f"run {run_id!r} holds a non-object snapshot",
                                              code="INVALID_SNAPSHOT") from None
                if not isinstance(snapshot, dict):
                    raise ValidationError(f"run {run_id!r} holds a non-object snapshot", code="INVALID_SNAPSHOT")
            new = change(snapshot)
            if new is None:
                return None
            try:
                self._write(workflow_name=workflow_name, run_id=run_id, snapshot=new, resource_id=None,
                            created_at=None, updated_at=None, expect=head, upsert=False)
                return new
            except _Conflict:
                self._pause(attempt)
        raise ConflictError(f"run {run_id!r}: too much contention; retry", details={"run_id": run_id})

    def dangerously_clear_all(self) -> None:
        """Delete every workflow item of this table. Admin only: reads the whole table with a Scan."""
        from mastra_dynamo.admin import scan_entities  # admin: not a request path

        self.table.batch_write(deletes=list(scan_entities(self.table, (ENTITY_RUN, ENTITY_RUN_INDEX, ENTITY_CHUNK))))


def _expired_condition(domain: DynamoDomain) -> dict[str, Any]:
    expr = Expr()
    t = expr.name(domain.spec.ttl_attribute)
    return expr.apply({"ConditionExpression": f"{t} <= {expr.n(domain.ttl.now_epoch())}"})


__all__ = ["DynamoWorkflowsStore", "merge_step_result", "pending_snapshot"]
