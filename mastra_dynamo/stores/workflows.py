"""Workflows domain (spec 3.2) on the table: run snapshots with atomic, compare-and-set updates.

A run lives in its own partition ``W#<runId>``: the head item ``N#<workflowName>`` holds the run's fields
and either the snapshot inline (JSON text, or zlib-compressed JSON from 512 bytes on) or the manifest of a
chunked snapshot (generation id + chunk count). Chunks ``C#<workflowName>#<generation>#<n>`` are written
before the head switches to their generation (the commit point), so a reader never mixes two writes. Generations are
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

The three items are PynamoDB models (models/workflows.py: ``WorkflowRunItem``, ``WorkflowRunIndexItem``,
``WorkflowChunkItem``, where their attributes are described); the requests are built from them
(stores/workflow_writes.py, models/requests.py) and sent through ``self.table`` (TableClient).
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any, Literal

from pynamodb.expressions.condition import Condition

from mastra_dynamo.clock import Clock
from mastra_dynamo.dynamo.bridge import pause
from mastra_dynamo.dynamo.client import TableClient, failed_condition_item, uuid4_hex
from mastra_dynamo.dynamo.codec import AttributeValue, Item, dumps_json
from mastra_dynamo.errors import (
    ConflictError,
    ItemTooLargeError,
    RetryableError,
    ValidationError,
)
from mastra_dynamo.fence_scope import ambient_fence
from mastra_dynamo.models import requests
from mastra_dynamo.models.workflow_requests import shaped_filter, slot, ttl_value
from mastra_dynamo.models.workflows import (
    CHUNK_BYTES,
    ENTITY_CHUNK,
    ENTITY_RUN,
    ENTITY_RUN_INDEX,
    INLINE_MAX_BYTES,
    PackedSnapshot,
    WorkflowChunkItem,
    WorkflowRunIndexItem,
    WorkflowRunItem,
    entity_of,
    key_of,
    run_index_keys,
)
from mastra_dynamo.records.base import PerPage, coerce, json_data
from mastra_dynamo.records.run_fencing import RunFence
from mastra_dynamo.records.workflows import WorkflowRun, WorkflowRuns, WorkflowStateUpdate
from mastra_dynamo.schema import keys
from mastra_dynamo.stores import listing, workflow_writes
from mastra_dynamo.stores.recent_heads import RecentHeads
from mastra_dynamo.stores.run_fencing import RunOwnershipOps, as_fence
from mastra_dynamo.stores.workflow_steps import merge_step_result, pending_snapshot
from mastra_dynamo.stores.workflow_writes import HeadBody, RunFields
from mastra_dynamo.ttl import TtlPolicy
from mastra_dynamo.validate import optional_id, require_id, require_mapping

DEFAULT_MAX_SNAPSHOT_BYTES = 32 * 1024 * 1024
MAX_CAS_ATTEMPTS = 200
MAX_STALE_ATTEMPTS = 5

Run = WorkflowRunItem
Entry = WorkflowRunIndexItem
_PK, _SK, _TTL = Run.pk.attr_name, Run.sk.attr_name, Run.ttl.attr_name
_SNAPSHOT, _SNAP_GEN, _REV, _CREATED, _LEGACY_INDEXED = (Run.snapshot.attr_name, Run.snap_gen.attr_name,
                                                         Run.revision.attr_name, Run.created_at.attr_name,
                                                         Run.gsi1pk.attr_name)
"""Stored names of head attributes whose presence (or stored value) the store looks at."""
_RECORD = ("workflow_name", "run_id", "created_at", "updated_at", "resource_id")
"""The head attributes a run record is made of."""


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
    return f"t{now:016x}{os.urandom(4).hex()}"


def _head_value(head: Item, name: str) -> Any:
    """One attribute (Python name) of a stored head, decoded by the model (None when absent)."""
    return Run.decode_attributes(head, (name,))[name]


def _stamp_of(head: Item | None) -> str | None:
    return None if head is None else _head_value(head, "gen_stamp")


def _chunked(head: Item) -> bool:
    """Whether a stored head names a chunk generation (its snapshot is chunked)."""
    return _SNAP_GEN in head


_FENCE: ContextVar[tuple[RunFence, str] | None] = ContextVar("mastra_dynamo_workflow_fence", default=None)
"""The fence of the public write in progress (and its operation name), seen by the low-level writes."""


class DynamoWorkflowsStore(RunOwnershipOps):
    """Run snapshots. ``max_snapshot_bytes`` caps the serialized JSON of one snapshot (ItemTooLargeError)."""

    def __init__(self, *, table: TableClient, ttl: TtlPolicy, clock: Clock,
                 max_snapshot_bytes: int = DEFAULT_MAX_SNAPSHOT_BYTES, consistent_reads: bool = False,
                 sleep: Callable[[float], None] = pause) -> None:
        super().__init__(table=table, ttl=ttl, clock=clock, consistent_reads=consistent_reads)
        self.max_snapshot_bytes = max_snapshot_bytes
        self._sleep = sleep
        self._heads = RecentHeads(frozenset((_SNAPSHOT,)))
        """What this store last read or wrote of each run's head: a hint for the next write's first request."""

    def _pause(self, attempt: int) -> None:
        """Jittered exponential pause before re-reading a head after a lost race."""
        self._sleep(random.uniform(0, min(0.2, 0.002 * (2 ** min(attempt, 7)))))

    def supports_concurrent_updates(self) -> bool:
        return True

    # ------------------------------------------------------------------ encoding
    def _encode(self, snapshot: Any, *, workflow_name: str, run_id: str) -> PackedSnapshot:
        """The snapshot encoded once: inline in the head, or cut into chunks (``PackedSnapshot.inline``)."""
        text = dumps_json(snapshot, field="snapshot")
        raw = text.encode("utf-8")
        if len(raw) > self.max_snapshot_bytes:
            raise ItemTooLargeError(
                f"snapshot of run {run_id!r} is {len(raw)} bytes; the configured cap is {self.max_snapshot_bytes}",
                details={"workflow_name": workflow_name, "run_id": run_id, "size": len(raw),
                         "limit": self.max_snapshot_bytes},
            )
        return PackedSnapshot.of(text, raw)

    def _decode_head(self, head: Item, workflow_name: str, run_id: str) -> Any:
        if _SNAPSHOT in head:
            return _head_value(head, "snapshot")
        manifest = Run.decode_attributes(head, ("snap_gen", "snap_chunks"))
        generation = manifest["snap_gen"]
        if generation is None:
            return None
        prefix = keys.run_chunk_prefix(workflow_name, generation)
        query = listing.PartitionQuery(None, _PK, _SK, keys.run_pk(run_id), sk_prefix=prefix, consistent=True)
        parts = listing.collect(self.table, [query], ascending=True, filter_builder=lambda e: None, offset=0,
                                limit=None)
        if len(parts) != int(manifest["snap_chunks"] or 0):
            raise _Conflict()  # the generation was replaced while reading: read the head again
        return WorkflowChunkItem.snapshot_of(parts)

    def _get_head(self, workflow_name: str, run_id: str) -> Item | None:
        """The stored head (strongly consistent GetItem), expired or not."""
        request = requests.get_item(self.table.table_name, keys.run_key(workflow_name, run_id), consistent=True)
        head: Item | None = self.table.call("GetItem", **request).get("Item")
        self._heads.remember((workflow_name, run_id), head)
        return head

    def _read(self, workflow_name: str, run_id: str) -> tuple[Item, Any] | None:
        for _ in range(5):
            head = self.alive(self._get_head(workflow_name, run_id))
            if head is None:
                return None
            try:
                return head, self._decode_head(head, workflow_name, run_id)
            except _Conflict:
                continue
        raise ConflictError(f"run {run_id!r} is being rewritten too often to read", details={"run_id": run_id})

    @staticmethod
    def _run_record(head: Item, snapshot: Any) -> WorkflowRun:
        fields = Run.decode_attributes(head, _RECORD)
        data: dict[str, Any] = {
            "workflow_name": fields["workflow_name"],
            "run_id": fields["run_id"],
            "snapshot": snapshot if snapshot is not None else {},
            "created_at": fields["created_at"],
            "updated_at": fields["updated_at"],
        }
        if fields["resource_id"] is not None:
            data["resource_id"] = fields["resource_id"]
        return WorkflowRun.model_validate(data)

    # ------------------------------------------------------------------ writing
    def _write(self, *, workflow_name: str, run_id: str, snapshot: Any, resource_id: str | None,
               created_at: datetime | None, updated_at: datetime | None, expect: Item | None,
               upsert: bool) -> None:
        """Write the head (and chunks). ``upsert``: insert or update (expired heads are replaced);
        otherwise the head must still carry the revision of ``expect`` (None = must not exist)."""
        packed = self._encode(snapshot, workflow_name=workflow_name, run_id=run_id)
        chunks = [] if packed.inline else packed.chunks()
        floor = _stamp_of(expect)
        for _ in range(MAX_STALE_ATTEMPTS):
            try:
                self._write_once(workflow_name=workflow_name, run_id=run_id, snapshot=snapshot, packed=packed,
                                 chunks=chunks, stamp=new_stamp(floor), resource_id=resource_id,
                                 created_at=created_at, updated_at=updated_at, expect=expect, upsert=upsert)
                return
            except _Stale as stale:
                floor = stale.floor
        raise ConflictError(f"run {run_id!r}: the head keeps a newer stamp; retry", details={"run_id": run_id})

    def _write_once(self, *, workflow_name: str, run_id: str, snapshot: Any, packed: PackedSnapshot,
                    chunks: list[bytes], stamp: str, resource_id: str | None, created_at: datetime | None,
                    updated_at: datetime | None, expect: Item | None, upsert: bool) -> None:
        generation = stamp if chunks else None
        write_id = uuid4_hex()
        expires_at = self.ttl.expires_at("workflow_snapshot")
        if generation is not None:
            self._put_chunks(workflow_name, run_id, generation, chunks, expires_at)
        status = snapshot.get("status") if isinstance(snapshot, dict) else None
        body = HeadBody(snapshot=packed, generation=generation, chunk_count=len(chunks), stamp=stamp,
                        status=status if isinstance(status, str) and status else "unknown",
                        updated=updated_at or self.now(), write_id=write_id, expires_at=expires_at)
        old: Item | None
        try:
            old = self._store_head(workflow_name=workflow_name, run_id=run_id, body=body, resource_id=resource_id,
                                   created_at=created_at, expect=expect, upsert=upsert)
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
        if generation is not None or old is None or _chunked(old):
            self._delete_older_than(workflow_name, run_id, stamp)

    def _delete_older_than(self, workflow_name: str, run_id: str, stamp: str) -> None:
        """Delete the run's chunks of every generation older than ``stamp``: ``sk BETWEEN C#<wf># AND
        C#<wf>#<stamp>`` (the chunks of ``stamp`` itself sort after the upper bound)."""
        self._delete_chunks(workflow_writes.chunks_older_than(workflow_name, run_id, stamp))

    def _landed(self, workflow_name: str, run_id: str, write_id: str, seen: Item | None = None) -> bool:
        """Whether the head carries ``write_id``: the head update of that write was applied (``seen``: the
        head as a failed condition returned it; else it is read)."""
        head = seen or self._get_head(workflow_name, run_id)
        return head is not None and _head_value(head, "write_id") == write_id

    def _put_chunks(self, workflow_name: str, run_id: str, generation: str, chunks: list[bytes],
                    expires_at: int | None) -> None:
        self.table.batch_write(puts=workflow_writes.chunk_items(workflow_name, run_id, generation, chunks,
                                                                expires_at))

    def _delete_generations(self, workflow_name: str, run_id: str, *, only: str | None = None) -> None:
        """Delete the run's chunks of ``only`` (a generation), or of every generation."""
        self._delete_chunks(workflow_writes.chunks_of(workflow_name, run_id, only))

    def _delete_chunks(self, query: dict[str, Any]) -> None:
        """One keys-only Query of chunk keys, then BatchWriteItem deletes of what it found."""
        doomed = [key_of(i) for i in self.table.query_items(query)]
        if doomed:
            self.table.batch_write(deletes=doomed)

    def _store_head(self, *, workflow_name: str, run_id: str, body: HeadBody, resource_id: str | None,
                    created_at: datetime | None, expect: Item | None, upsert: bool) -> Item | None:
        """Write the head (and, when an indexed field changes, its index entry). Returns the head it replaced
        (None: unknown, the write was found applied after a lost answer).

        A write that keeps the indexed fields (status, resource, expiry) is one UpdateItem of the unindexed head.
        Otherwise head and index entry are put together by one transaction conditioned on the head as known
        (``expect`` for compare-and-set writes; for upserts, the head this store last read or wrote, else
        absent). With retention on, every write sets a new expiry (now + retention, like every other entity),
        so every write is the transaction."""
        if upsert:
            return self._upsert_head(workflow_name, run_id, body, resource_id=resource_id, created_at=created_at)
        try:
            if expect is not None and self._index_unchanged(expect, body):
                return self._update_head_only(workflow_name, run_id, body, resource_id=None, expect=expect)
            self._put_head_and_index(workflow_name, run_id, body, resource_id=None, created_at=created_at,
                                     current=expect)
            return expect or {}
        except ConflictError as exc:
            if self._landed(workflow_name, run_id, body.write_id, failed_condition_item(exc)):
                # A retry of this very request (its first attempt was applied, the answer was lost)
                # failed the revision check: the write is in.
                return None
            raise _Conflict() from None

    def _upsert_head(self, workflow_name: str, run_id: str, body: HeadBody, *, resource_id: str | None,
                     created_at: datetime | None) -> Item | None:
        """The upsert form of :meth:`_store_head`, starting from the head this store last knew
        (``self._heads``): the head-only UpdateItem when the index entry stays right, else the transaction
        conditioned on that head (a run never seen: on its absence). A condition that fails returns the head
        it saw, and the write goes on from it; a head is read only when an answer did not carry it."""
        current = self._heads.get((workflow_name, run_id))
        for attempt in range(MAX_CAS_ATTEMPTS):
            seen: Item | None
            if current is not None:
                if _head_value(current, "write_id") == body.write_id:
                    return None  # an earlier attempt of this write was applied (its answer was lost)
                current_stamp = _stamp_of(current)
                if current_stamp is not None and current_stamp >= body.stamp:
                    raise _Stale(current_stamp)
            try:
                if (current is not None and body.expires_at is None and self._index_unchanged(current, body)
                        and resource_id in (None, _head_value(current, "resource_id"))):
                    return self._update_head_only(workflow_name, run_id, body, resource_id=resource_id,
                                                  expect=None)
                self._put_head_and_index(workflow_name, run_id, body, resource_id=resource_id,
                                         created_at=created_at, current=current)
                return current or {}
            except ConflictError as exc:
                seen = failed_condition_item(exc)
            if seen is None:  # a concurrent transaction, or an answer without the head: read it
                self._pause(attempt)
                seen = self._get_head(workflow_name, run_id)
            current = seen
        raise ConflictError(f"run {run_id!r}: too much contention; retry", details={"run_id": run_id})

    @staticmethod
    def _index_unchanged(head: Item, body: HeadBody) -> bool:
        """The head's index entry stays right if ``body`` is written over ``head`` (resource kept)."""
        if _LEGACY_INDEXED in head:  # a head of the older layout: indexed itself
            return False
        expires = None if body.expires_at is None else ttl_value(body.expires_at)
        return _head_value(head, "status") == body.status and head.get(_TTL) == expires

    # ------------------------------------------------------------------ fencing
    @contextmanager
    def _fenced_call(self, fence: RunFence | Mapping[str, Any] | None, operation: str, run_id: str) -> Iterator[None]:
        """Within the block, every head write carries ``fence`` (an explicit fence of another run is refused)
        or, without one, the ambient fence of fence_scope.py for this run (a parent run's fence may cover it)."""
        current = as_fence(fence if fence is not None else ambient_fence(self, run_id))
        if fence is not None and current is not None and current.run_id != run_id:
            raise ValidationError(f"{operation}: the fence is for run {current.run_id!r}, not {run_id!r}",
                                  code="INVALID_FENCE", details={"run_id": run_id})
        token = _FENCE.set(None if current is None else (current, operation))
        try:
            yield
        finally:
            _FENCE.reset(token)

    def _send_one(self, kind: Literal["Update", "Delete"], request: dict[str, Any]) -> Item | None:
        """One UpdateItem/DeleteItem; under a fence, a transaction with the fence's check (its previous
        values then unknown: None)."""
        current = _FENCE.get()
        if current is None:
            old: Item = self.table.call(f"{kind}Item", **request).get("Attributes", {})
            return old
        self.fenced(current[0], current[1], [requests.transact(kind, request)])
        return None

    def _send_transaction(self, actions: list[dict[str, Any]]) -> None:
        current = _FENCE.get()
        if current is None:
            self.table.transact_write(actions)
        else:
            self.fenced(current[0], current[1], actions)

    def _update_head_only(self, workflow_name: str, run_id: str, body: HeadBody, *, resource_id: str | None,
                          expect: Item | None) -> Item | None:
        """One UpdateItem of the head, conditioned on its index entry staying right (ConflictError if not)."""
        expected_revision = None
        if expect is not None:
            expected_revision = expect[_REV]  # heads of the current layout always have one
        request = workflow_writes.head_update(self.table.table_name, keys.run_key(workflow_name, run_id), body,
                                              expected_revision=expected_revision, resource_id=resource_id)
        old = self._send_one("Update", request)
        after = None if old is None else workflow_writes.head_after_update(old, body)
        self._heads.remember((workflow_name, run_id), after)
        return old

    def _put_head_and_index(self, workflow_name: str, run_id: str, body: HeadBody, *, resource_id: str | None,
                            created_at: datetime | None, current: Item | None) -> None:
        """Put the whole head and its index entry in one transaction, conditioned on ``current`` (the head as
        read, None = absent). An expired ``current`` is replaced by a new life (createdAt restarts)."""
        live = self.alive(current)
        created: datetime | AttributeValue
        if live is not None:
            created = live[_CREATED]  # kept as stored
            if resource_id is None:
                resource_id = _head_value(live, "resource_id")
        else:
            created = created_at or self.now()
        fields = RunFields(workflow_name=workflow_name, run_id=run_id, created_at=created, status=body.status,
                           resource_id=resource_id, expires_at=body.expires_at)
        actions, head = workflow_writes.head_and_entry_puts(self.table.table_name, fields, body, current=current)
        self._send_transaction(actions)
        self._heads.remember((workflow_name, run_id), head)

    def _drop_expired_head(self, workflow_name: str, run_id: str) -> None:
        """Delete the head only if it is logically expired (nothing happens to a live or missing head)."""
        try:
            self.table.call("DeleteItem", **workflow_writes.expired_head_delete(
                self.table.table_name, keys.run_key(workflow_name, run_id), self.ttl.now_epoch()))
        except ConflictError:
            return

    def _now(self) -> Item:
        """The slot values of an expiry filter: ``now`` (epoch seconds), taken when each Query is built."""
        return {_TTL: ttl_value(self.ttl.now_epoch())}

    def _alive_filter(self) -> listing.FilterBuilder:
        """Listing filter: the item has not expired."""
        return shaped_filter("alive", lambda: Run.not_expired(slot(_TTL))).builder(self._now)

    # ------------------------------------------------------------------ public API
    def persist_workflow_snapshot(self, *, workflow_name: str, run_id: str, snapshot: Mapping[str, Any] | str,
                                  resource_id: str | None = None, created_at: datetime | None = None,
                                  updated_at: datetime | None = None,
                                  fence: RunFence | Mapping[str, Any] | None = None) -> None:
        """Upsert a run's snapshot. ``created_at`` is write-once; ``resource_id`` is kept when not given.
        With ``fence``, the write lands only while the fence is the run's current claim.

        Raises: ValidationError (bad ids, non-JSON snapshot), ItemTooLargeError (over the configured cap),
        RunFenceConflictError (a stale fence; nothing written)."""
        require_id(workflow_name, field="workflow_name")
        require_id(run_id, field="run_id")
        optional_id(resource_id, field="resource_id")
        if snapshot is not None and not isinstance(snapshot, Mapping | str):
            raise ValidationError("snapshot must be an object or a string", code="INVALID_SNAPSHOT",
                                  details={"run_id": run_id})
        from mastra_dynamo.clock import parse_datetime

        with self._fenced_call(fence, "persistWorkflowSnapshot", run_id):
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
        query = listing.PartitionQuery(None, _PK, _SK, keys.run_pk(run_id), sk_prefix=keys.RUN_HEAD_PREFIX,
                                       consistent=True)
        heads = listing.collect(self.table, [query], ascending=True, filter_builder=self._alive_filter(), offset=0,
                                limit=None)
        if not heads:
            return None
        if len(heads) > 1:  # the same run id in several workflows: the newest run
            heads.sort(key=lambda h: tuple(Run.decode_attributes(h, ("created_at", "workflow_name")).values()))
        return self._run_of_head(heads[-1])

    def delete_workflow_run_by_id(self, *, run_id: str, workflow_name: str,
                                  fence: RunFence | Mapping[str, Any] | None = None) -> None:
        """Delete the run's head and index entry (one transaction, with the fence's check when fenced), then
        its chunks (idempotent)."""
        require_id(run_id, field="run_id")
        require_id(workflow_name, field="workflow_name")
        with self._fenced_call(fence, "deleteWorkflowRunById", run_id):
            self._send_transaction(workflow_writes.run_deletes(self.table.table_name, workflow_name, run_id))
        self._heads.forget((workflow_name, run_id))
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
        shards = keys.all_shards(keys.GLOBAL_SHARDS)
        if workflow_name is not None:
            queries = [listing.PartitionQuery(*requests.index_keys(Entry.gsi1),
                                              keys.runs_by_workflow_pk(workflow_name), sk_between=between)]
        elif resource_id is not None:
            queries = [listing.PartitionQuery(*requests.index_keys(Entry.gsi2),
                                              keys.runs_by_resource_pk(resource_id), sk_between=between)]
        elif status is not None:
            queries = [listing.PartitionQuery(*requests.index_keys(Entry.gsi4), keys.runs_by_status_pk(status, s),
                                              sk_between=between) for s in shards]
        else:
            queries = [listing.PartitionQuery(*requests.index_keys(Entry.gsi3), keys.runs_global_pk(s),
                                              sk_between=between) for s in shards]
        # not expired, and the fields given; entries and heads of the older layout (indexed themselves) have
        # the same attribute names
        equal = {"workflow_name": workflow_name, "resource_id": resource_id, "status": status}
        given = tuple(name for name, value in equal.items() if value is not None)
        fixed = Entry.encode_values(equal)

        def condition() -> Condition:
            cond: Condition = Entry.not_expired(slot(_TTL))
            for name in given:
                attr = Entry.get_attributes()[name]
                cond &= attr == slot(attr.attr_name)
            return cond

        flt = shaped_filter(("runs", given), condition).builder(lambda: {**fixed, **self._now()})
        items, total = listing.page_with_total(self.table, queries, ascending=False, filter_builder=flt,
                                               offset=pagination.offset, limit=pagination.limit)
        return WorkflowRuns(runs=self.runs_of(items), total=total or 0)

    def runs_of(self, entries: list[Item], *, consistent: bool | None = None) -> list[WorkflowRun]:
        """The runs named by index entries, in their order: the heads with one BatchGetItem per 100 (heads of
        the older layout are index entries themselves). The heads are read like the records of every listing:
        eventually consistent (the entries are, being index entries), strongly with ``consistent_reads`` (or
        ``consistent=True``: an export). A run deleted or expired since its entry was read is left out; a head
        older than its chunks (a generation replaced since) is read again, strongly (:meth:`_run_of_head`)."""
        heads = [None if entity_of(e) != ENTITY_RUN_INDEX else
                 keys.run_key(*Entry.decode_attributes(e, ("workflow_name", "run_id")).values()) for e in entries]
        wanted = [key for key in heads if key is not None]
        strong = self.consistent_reads if consistent is None else consistent
        fetched = self.table.batch_get(wanted, consistent=strong) if wanted else {}
        runs = []
        for entry, key in zip(entries, heads, strict=True):
            head: Item | None = entry
            if key is not None:
                head = self.alive(fetched.get((key.pk, key.sk)))
            run = None if head is None else self._run_of_head(head)
            if run is not None:
                runs.append(run)
        return runs

    def _run_of_head(self, head: Item) -> WorkflowRun | None:
        """The run of a head already read (by a Query or a BatchGetItem): no second read of the head unless
        its chunked snapshot was rewritten since (then the head is read again; None when the run is gone)."""
        workflow_name, run_id = Run.decode_attributes(head, ("workflow_name", "run_id")).values()
        try:
            return self._run_record(head, self._decode_head(head, workflow_name, run_id))
        except _Conflict:
            found = self._read(workflow_name, run_id)
            return None if found is None else self._run_record(*found)

    def update_workflow_results(self, *, workflow_name: str, run_id: str, step_id: str, result: Any,
                                request_context: Mapping[str, Any] | None = None,
                                fence: RunFence | Mapping[str, Any] | None = None) -> dict[str, Any]:
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

        with self._fenced_call(fence, "updateWorkflowResults", run_id):
            snapshot = self._compare_and_set(workflow_name, run_id, change, create_missing=True)
        assert snapshot is not None
        context: dict[str, Any] = snapshot.get("context", {})
        return context

    def update_workflow_state(self, *, workflow_name: str, run_id: str,
                              opts: WorkflowStateUpdate | Mapping[str, Any],
                              fence: RunFence | Mapping[str, Any] | None = None) -> dict[str, Any] | None:
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

        with self._fenced_call(fence, "updateWorkflowState", run_id):
            updated = self._compare_and_set(workflow_name, run_id, change, create_missing=False)
            current = _FENCE.get()
            if updated is None and current is not None:  # nothing to write: refused as the write would be
                self.check_fence(*current)
        return updated

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

        self.table.batch_write(deletes=list(scan_entities(self.table, (ENTITY_RUN, ENTITY_RUN_INDEX, ENTITY_CHUNK,
                                                                       "workflow_run_owner"))))


__all__ = ["CHUNK_BYTES", "INLINE_MAX_BYTES", "DynamoWorkflowsStore", "merge_step_result", "pending_snapshot",
           "run_index_keys"]
