"""The SCD-2 mutation engine of the datasets domain: one version bump per call, atomic or crash-safe.

Every item mutation (add, batch insert, update, delete, batch delete) and the purge flag are serialised on
the dataset item's revision ``_rev``: the call reads the dataset, plans its changes, and writes them
conditioned on ``_rev`` still being the value read. A concurrent writer makes the condition fail; the call
re-reads and re-plans. Each call bumps ``version`` by exactly one and writes one ``V#`` row.

Small change sets (the common case) are **one transaction**: dataset update, ``V#`` row, the new history
rows, the closes of the previous rows, the current rows ``IC#``, item pointers and external-id records.

Change sets that do not fit one transaction (100 actions / 3.5 MB) use the **staged-version protocol**:

1. *Claim*: the dataset gets a lock ``{lock: token, lockAt, lockState: active, lockVersion: p}`` (p = v+1),
   conditioned on ``_rev``. Every other mutation waits while an active, unexpired lock is present.
2. *Stage*: the new rows (``datasetVersion = p``, tagged ``stage = token``), the closes of previous rows
   (``validTo = p``, ``closedBy = token``), new pointers and external-id records are written in chunked
   transactions, each of which also renews ``lockAt`` on condition that the lock is still ours. Staged data
   is invisible: readers evaluate history at the committed version ``v`` (rows with ``datasetVersion > v``
   are not visible and ``validTo = p > v`` keeps closed rows visible), and current rows ``IC#`` are not
   touched before the commit.
3. *Commit*: one transaction sets ``version = p``, adjusts the counters, removes the lock, sets
   ``projecting = p`` and writes ``V#p``. This is the single point at which the whole batch becomes visible.
4. *Project*: the current rows ``IC#`` of the touched items are rewritten from the version-p rows
   (conditional puts, so a late projector never overwrites a newer current row), then ``projecting`` is
   removed. While ``projecting`` is set, current reads are served from the history at the committed version,
   and the next mutation finishes the projection first.

A failure before the commit rolls back: the lock is revoked first (so no late staging write can land), then
every row tagged with the token is deleted (with the pointers and external-id records of new items) and
every close tagged with it is undone; finally the lock is removed. A crashed claimer leaves its lock behind:
once the lease (``lock_lease_seconds`` of the store's clock, renewed by every staging write) has expired,
the next mutation of the dataset performs that rollback. Until then the visible state is the committed one.

The requests of the engine are request shapes (``shapes.py``) of the models' update actions and conditions
(:data:`BUMP`, :data:`CREATE`, the lock, commit and projection shapes below), built by PynamoDB once and
bound to each call's values.
"""

from __future__ import annotations

import contextlib
import random
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pynamodb.expressions.condition import Condition

from mastra_dynamo.dynamo.bridge import pause
from mastra_dynamo.dynamo.client import MAX_TRANSACT_ITEMS, TransactionCancelled
from mastra_dynamo.dynamo.codec import Item, check_item_size, item_size
from mastra_dynamo.errors import ConflictError, NotFoundError, StorageError
from mastra_dynamo.models import requests
from mastra_dynamo.models.base import TableItem
from mastra_dynamo.models.datasets import (
    EPOCH,
    DatasetModel,
    DatasetVersionModel,
    ItemCurrentModel,
    ItemPayloadModel,
    ItemRowModel,
    expires_of,
    key_of,
)
from mastra_dynamo.models.layout import Stored
from mastra_dynamo.records.base import coerce
from mastra_dynamo.records.datasets import DatasetTenancyFilters
from mastra_dynamo.schema import keys
from mastra_dynamo.schema.keys import Key
from mastra_dynamo.stores.base import DynamoDomain
from mastra_dynamo.stores.datasets.shapes import Slots, get_request, put_shape, query_request, update_shape

MAX_TRANSACTION_BYTES = 3_500_000
MAX_MUTATION_ATTEMPTS = 100
LOCK_ACTIVE = "active"
LOCK_REVOKED = "revoked"
T = TypeVar("T")
D = DatasetModel
R = ItemRowModel


class Retry(Exception):
    """Internal: the state read is stale (lost race, lock, projection); read again."""


@dataclass
class DatasetState:
    """The dataset item as read at the start of a mutation (alive, unlocked, fully projected)."""

    item: Item
    dataset_id: str
    rev: int
    version: int
    expires_at: int | None
    organization_id: str | None = None
    project_id: str | None = None

    @classmethod
    def of(cls, item: Item) -> DatasetState:
        values = D.decode_attributes(item, ("id", "rev", "version", "organization_id", "project_id"))
        return cls(item=item, dataset_id=values["id"], rev=values["rev"] or 0, version=values["version"] or 0,
                   expires_at=expires_of(item),
                   organization_id=values["organization_id"], project_id=values["project_id"])

    @property
    def created_at(self) -> Stored:
        """``createdAt`` exactly as stored (what the revision condition compares)."""
        return Stored.read(D.created_at, self.item)

    @property
    def next_version(self) -> int:
        return self.version + 1


@dataclass
class ItemChange:
    """Everything one item contributes to a mutation; its actions always stay in one transaction."""

    item_id: str
    row: Item
    """The new history row (version p), serialized."""
    close: Key | None = None
    """The previous open row, to close with ``validTo = p``."""
    pointer: Item | None = None
    """A new item pointer (conditional create)."""
    external: Item | None = None
    """A new external-id record (conditional create)."""
    delta: int = 0
    """Change of the dataset's ``itemCount``."""

    def size(self) -> int:
        total = 2 * item_size(self.row) + 600
        for extra in (self.pointer, self.external):
            if extra is not None:
                total += item_size(extra) + 200
        return total

    def width(self, *, staged: bool) -> int:
        """Actions of this change (the current row is written at projection when staged)."""
        return (1 + (0 if staged else 1) + (self.close is not None) + (self.pointer is not None)
                + (self.external is not None))


@dataclass
class Mutation:
    state: DatasetState
    changes: list[ItemChange] = field(default_factory=list)


def tenancy(filters: DatasetTenancyFilters | Mapping[str, Any] | None) -> DatasetTenancyFilters:
    return coerce(DatasetTenancyFilters, filters or {}, what="filters")


def tenancy_matches(item: Item, filters: DatasetTenancyFilters) -> bool:
    if filters.organization_id is None and filters.project_id is None:
        return True
    values = D.decode_attributes(item, ("organization_id", "project_id"))
    if filters.organization_id is not None and values["organization_id"] != filters.organization_id:
        return False
    return filters.project_id is None or values["project_id"] == filters.project_id


# ---------------------------------------------------------------- request shapes (built once by PynamoDB)
def unchanged(slots: Slots) -> Condition:
    """The dataset is still the one read: same revision, same life (``createdAt``: a delete and re-create
    with the same id could land on the same revision), alive."""
    condition: Condition = ((D.rev == slots("rev", D.rev)) & (D.created_at == slots("created_at", D.created_at))
                            & D.not_expired(slots("now", EPOCH)))
    return condition


def _lock_held(slots: Slots) -> Condition:
    condition: Condition = (D.lock == slots("token", D.lock)) & (D.lock_state == LOCK_ACTIVE)
    return condition


_LOCK_REMOVES = [getattr(D, name).remove() for name in D.LOCK]

BUMP = update_shape(lambda s: ([D.version.set(s("version", D.version)), D.rev.set(s("next_rev", D.rev)),
                                D.item_count.add(s("delta", D.item_count)), D.version_count.add(1)],
                               unchanged(s)))
"""The dataset update of a one-transaction mutation."""
REV_BUMP = update_shape(lambda s: ([D.rev.set(s("next_rev", D.rev))], unchanged(s)))
"""A revision bump of an unchanged dataset (serialises the purge flag with the mutations)."""
PUT = put_shape(lambda s: None)
CREATE = put_shape(lambda s: TableItem.pk.does_not_exist() | ~TableItem.not_expired(s("now", EPOCH)))
"""Put of an item that must be absent or logically expired."""
_CLOSE = update_shape(lambda s: ([R.valid_to.set(s("version", R.valid_to))], R.valid_to.does_not_exist()))
_CLOSE_STAGED = update_shape(lambda s: ([R.valid_to.set(s("version", R.valid_to)),
                                         R.closed_by.set(s("token", R.closed_by))], R.valid_to.does_not_exist()))
_CLAIM = update_shape(lambda s: ([D.lock.set(s("token", D.lock)), D.lock_at.set(s("lock_at", D.lock_at)),
                                  D.lock_state.set(LOCK_ACTIVE), D.lock_version.set(s("version", D.lock_version)),
                                  D.rev.set(s("next_rev", D.rev))], unchanged(s)))
_HEARTBEAT = update_shape(lambda s: ([D.lock_at.set(s("lock_at", D.lock_at))], _lock_held(s)))
_COMMIT = update_shape(lambda s: (
    [D.version.set(s("version", D.version)), D.projecting.set(s("version", D.projecting)), D.rev.set(D.rev + 1),
     D.item_count.add(s("delta", D.item_count)), D.version_count.add(1), *_LOCK_REMOVES],
    _lock_held(s) & (D.version == s("read_version", D.version))))
_REVOKE = update_shape(lambda s: ([D.lock_state.set(LOCK_REVOKED)], _lock_held(s)))
_REVOKE_EXPIRED = update_shape(lambda s: ([D.lock_state.set(LOCK_REVOKED)],
                                          _lock_held(s) & (D.lock_at == s("lock_at", D.lock_at))))
_REOPEN = update_shape(lambda s: ([R.valid_to.remove(), R.closed_by.remove()],
                                  R.closed_by == s("token", R.closed_by)))
_RELEASE = update_shape(lambda s: ([D.rev.set(D.rev + 1), *_LOCK_REMOVES], D.lock == s("token", D.lock)))
_PROJECT = put_shape(lambda s: R.dataset_version.does_not_exist()
                     | (R.dataset_version <= s("version", R.dataset_version)))
_PROJECTED = update_shape(lambda s: ([D.rev.set(D.rev + 1), D.projecting.remove()],
                                     D.projecting == s("version", D.projecting)))


class DatasetMutations(DynamoDomain):
    """Reads of the dataset item and the mutation engine (see the module docstring)."""

    max_transaction_actions = MAX_TRANSACT_ITEMS
    """Actions per transaction (DynamoDB's limit); tests lower it to exercise the staged protocol."""
    lock_lease_seconds = 60.0
    """How long a staged batch's lock is honoured without a renewal before others roll it back."""
    lock_wait_attempts = 40
    """Re-reads (with backoff) while another call holds the dataset's lock, before DATASET_BUSY."""

    def _sleep(self, seconds: float) -> None:
        pause(seconds)

    def _backoff(self, attempt: int) -> None:
        self._sleep(random.uniform(0, min(0.25, 0.004 * (2 ** min(attempt, 8)))))

    def _now_ms(self) -> int:
        return int(self.now().timestamp() * 1000)

    # ------------------------------------------------------------------ reads of the dataset
    def read_dataset(self, dataset_id: str, *, consistent: bool = True) -> Item | None:
        request = get_request(self.table.table_name, keys.dataset_key(dataset_id), consistent=consistent)
        return self.alive(self.table.call("GetItem", **request).get("Item"))

    def _ready(self, dataset_id: str, filters: DatasetTenancyFilters, extra: Sequence[Key] = ()
               ) -> tuple[DatasetState, dict[tuple[str, str], Item]]:
        """Read the dataset (and ``extra`` keys in the same request) in a state a mutation can start from:
        no lock held and no projection pending (finishing or rolling back whatever a crashed call left).
        Raises NotFoundError for a missing, expired or out-of-scope dataset."""
        dataset_key = keys.dataset_key(dataset_id)
        for attempt in range(self.lock_wait_attempts):
            found = self.table.batch_get([dataset_key, *extra])
            item = self.alive(found.pop((dataset_key.pk, dataset_key.sk), None))
            if item is None or not tenancy_matches(item, filters):
                raise NotFoundError(f"Dataset not found: {dataset_id}", code="DATASET_NOT_FOUND",
                                    details={"dataset_id": dataset_id})
            if D.lock.attr_name in item:
                if not self._settle_lock(item):
                    self._backoff(attempt + 4)
                continue
            projecting = D.decode_attributes(item, ("projecting",))["projecting"]
            if projecting is not None:
                self.project(dataset_id, projecting, rows=None)
                continue
            state = DatasetState.of(item)
            alive = {k: v for k, v in found.items() if self.alive(v) is not None}
            if any((ItemPayloadModel.decode_attributes(v, ("dataset_version",))["dataset_version"] or 0)
                   > state.version for v in alive.values() if ItemPayloadModel.dataset_version.attr_name in v):
                # BatchGetItem is no snapshot: a row newer than the dataset item read means a mutation
                # committed in between. Plan from a consistent pair instead.
                raise Retry()
            return state, alive
        raise ConflictError(f"dataset {dataset_id!r} is locked by a batch in progress; retry later",
                            code="DATASET_BUSY", details={"dataset_id": dataset_id})

    def _settle_lock(self, item: Item) -> bool:
        """Handle a lock found on the dataset: roll back a revoked or expired one (True: read again), or
        report that a live batch holds it (False: wait)."""
        values = D.decode_attributes(item, ("id", "lock", "lock_state", "lock_at"))
        token = values["lock"] or ""
        if values["lock_state"] == LOCK_REVOKED:
            self.rollback(values["id"], token, revoke=None)
            return True
        held_since = int(values["lock_at"] or 0)
        if self._now_ms() - held_since <= int(self.lock_lease_seconds * 1000):
            return False
        self.rollback(values["id"], token, revoke=held_since)
        return True

    def unchanged_values(self, state: DatasetState) -> dict[str, Any]:
        """The slot values of :func:`unchanged` for ``state``."""
        return {"rev": state.rev, "created_at": state.created_at, "now": self.ttl.now_epoch()}

    # ------------------------------------------------------------------ the engine
    def mutate(self, dataset_id: str, filters: DatasetTenancyFilters, extra: Callable[[], Sequence[Key]],
               plan: Callable[[DatasetState, dict[tuple[str, str], Item]], tuple[T, Mutation | None]],
               *, what: str) -> T:
        """Read, plan, write; re-read and re-plan after a lost race. ``plan`` returns the call's result and
        the changes to apply (None or no changes: nothing to write, no version bump)."""
        for attempt in range(MAX_MUTATION_ATTEMPTS):
            try:
                state, found = self._ready(dataset_id, filters, extra())
                result, mutation = plan(state, found)
                if mutation is None:
                    return result
                self.apply(mutation)
                return result
            except Retry:
                self._backoff(attempt)
        raise ConflictError(f"{what}: too much contention on dataset {dataset_id!r}; retry",
                            details={"dataset_id": dataset_id, "operation": what})

    def apply(self, mutation: Mutation) -> None:
        """Write a planned mutation: one transaction when it fits, else the staged-version protocol."""
        for change in mutation.changes:
            check_item_size(change.row, entity="dataset item", entity_id=change.item_id)
        width = 2 + sum(c.width(staged=False) for c in mutation.changes)
        size = sum(c.size() for c in mutation.changes)
        if width <= self.max_transaction_actions and size <= MAX_TRANSACTION_BYTES:
            self._apply_small(mutation)
        else:
            self._apply_staged(mutation)

    def _dataset_bump(self, mutation: Mutation) -> dict[str, Any]:
        state = mutation.state
        return requests.transact("Update", BUMP.bind(
            self.table.table_name, keys.dataset_key(state.dataset_id), version=state.next_version,
            next_rev=state.rev + 1, delta=sum(c.delta for c in mutation.changes), **self.unchanged_values(state)))

    def _version_put(self, state: DatasetState) -> dict[str, Any]:
        item = DatasetVersionModel.encode_item(DatasetVersionModel.values(
            state.dataset_id, state.next_version, str(uuid.uuid4()), self.now(), expires_at=state.expires_at))
        return requests.transact("Put", PUT.bind(self.table.table_name, item=item))

    def _close_action(self, key: Key, version: int, token: str | None) -> dict[str, Any]:
        if token is None:
            return requests.transact("Update", _CLOSE.bind(self.table.table_name, key, version=version))
        return requests.transact("Update", _CLOSE_STAGED.bind(self.table.table_name, key, version=version,
                                                              token=token))

    def _create_action(self, item: Item, now: int) -> dict[str, Any]:
        """Put conditioned on the item being absent or logically expired."""
        return requests.transact("Put", CREATE.bind(self.table.table_name, item=item, now=now))

    def _change_actions(self, change: ItemChange, version: int, token: str | None) -> list[dict[str, Any]]:
        row = change.row
        table = self.table.table_name
        if token is not None:
            tags = {"stage": token, "stage_new": True if change.pointer is not None else None}
            row = {**row, **R.encode_values(tags)}
        actions: list[dict[str, Any]] = [requests.transact("Put", PUT.bind(table, item=row))]
        if change.close is not None:
            actions.append(self._close_action(change.close, version, token))
        now = self.ttl.now_epoch() if change.pointer is not None or change.external is not None else None
        if change.pointer is not None and now is not None:
            actions.append(self._create_action(change.pointer, now))
        if change.external is not None and now is not None:
            actions.append(self._create_action(change.external, now))
        if token is None:
            actions.append(requests.transact("Put", PUT.bind(table, item=ItemCurrentModel.from_row(change.row))))
        return actions

    def _apply_small(self, mutation: Mutation) -> None:
        state = mutation.state
        actions = [self._dataset_bump(mutation), self._version_put(state)]
        for change in mutation.changes:
            actions.extend(self._change_actions(change, state.next_version, None))
        try:
            self.table.transact_write(actions)
        except TransactionCancelled as exc:
            if not _retryable(exc):
                raise
            raise Retry() from None

    # ------------------------------------------------------------------ staged protocol
    def _apply_staged(self, mutation: Mutation) -> None:
        state = mutation.state
        token = uuid.uuid4().hex
        version = state.next_version
        self._claim(state, token)
        try:
            self._stage(mutation, token)
        except TransactionCancelled as exc:
            self._abandon(state.dataset_id, token)
            if _retryable(exc):
                raise Retry() from None  # a concurrent writer (or a revoked lock): plan again
            raise
        except Exception:
            self._abandon(state.dataset_id, token)
            raise
        self._commit(mutation, token)
        # Committed: the batch is visible. A failed projection only leaves ``projecting`` set: reads are
        # then served from the history, and the next mutation of the dataset finishes the projection.
        with contextlib.suppress(StorageError):
            self.project(state.dataset_id, version, rows=[c.row for c in mutation.changes])

    def _claim(self, state: DatasetState, token: str) -> None:
        request = _CLAIM.bind(self.table.table_name, keys.dataset_key(state.dataset_id), token=token,
                              lock_at=self._now_ms(), version=state.next_version, next_rev=state.rev + 1,
                              **self.unchanged_values(state))
        try:
            self.table.call("UpdateItem", **request)
        except ConflictError:
            item = self.read_dataset(state.dataset_id)
            if item is not None and D.decode_attributes(item, ("lock",))["lock"] == token:
                return  # a resend of this claim (its answer was lost) failed its own condition: it is ours
            raise Retry() from None

    def _heartbeat(self, dataset_id: str, token: str) -> dict[str, Any]:
        return requests.transact("Update", _HEARTBEAT.bind(self.table.table_name, keys.dataset_key(dataset_id),
                                                           lock_at=self._now_ms(), token=token))

    def _stage(self, mutation: Mutation, token: str) -> None:
        state = mutation.state
        limit = self.max_transaction_actions - 1
        chunk: list[dict[str, Any]] = []
        chunk_size = 0

        def flush() -> None:
            nonlocal chunk, chunk_size
            if chunk:
                self.table.transact_write([self._heartbeat(state.dataset_id, token), *chunk])
            chunk, chunk_size = [], 0

        for change in mutation.changes:
            actions = self._change_actions(change, state.next_version, token)
            size = change.size()
            if chunk and (len(chunk) + len(actions) > limit or chunk_size + size > MAX_TRANSACTION_BYTES):
                flush()
            chunk.extend(actions)
            chunk_size += size
        flush()

    def _commit(self, mutation: Mutation, token: str) -> None:
        state = mutation.state
        version = state.next_version
        bump = requests.transact("Update", _COMMIT.bind(
            self.table.table_name, keys.dataset_key(state.dataset_id), version=version,
            delta=sum(c.delta for c in mutation.changes), token=token, read_version=state.version))
        try:
            self.table.transact_write([bump, self._version_put(state)])
        except TransactionCancelled:
            self._abandon(state.dataset_id, token)
            raise ConflictError(f"batch on dataset {state.dataset_id!r} lost its lock before committing; "
                                "nothing was applied, retry", details={"dataset_id": state.dataset_id}) from None
        except Exception:
            # The outcome is unknown (transport failure): the dataset item tells whether the commit landed.
            item = self.read_dataset(state.dataset_id)
            if item is not None:
                values = D.decode_attributes(item, ("version", "lock"))
                if values["version"] == version and values["lock"] is None:
                    return
            self._abandon(state.dataset_id, token)
            raise

    def _abandon(self, dataset_id: str, token: str) -> None:
        """Best-effort rollback by the claimer itself; a failure leaves it to the lease expiry."""
        with contextlib.suppress(StorageError):
            self.rollback(dataset_id, token, revoke=-1)

    def rollback(self, dataset_id: str, token: str, *, revoke: int | None) -> None:
        """Undo every staged write of ``token`` and release its lock.

        ``revoke``: -1 = the claimer revokes its own active lock; a number = a recoverer revokes a lock whose
        ``lockAt`` it read as that value (still expired); None = the lock is already revoked."""
        dataset_key = keys.dataset_key(dataset_id)
        table = self.table.table_name
        if revoke is not None:
            request = (_REVOKE.bind(table, dataset_key, token=token) if revoke < 0 else
                       _REVOKE_EXPIRED.bind(table, dataset_key, token=token, lock_at=revoke))
            try:
                self.table.call("UpdateItem", **request)
            except ConflictError:
                return  # committed, renewed or already revoked by someone else: re-read decides
        # No staging write can land any more (each one checks that the lock is active): clean up.
        params = query_request(dataset_key.pk, sk_prefix=keys.DATASET_ITEM_ROW_PREFIX, consistent=True,
                               filter=(R.stage == token) | (R.closed_by == token))
        deletes: list[Key] = []
        reopen: list[Item] = []
        for row in self.table.query_items(params):
            values = R.decode_attributes(row, ("id", "stage", "stage_new", "external_id"))
            if values["stage"] == token:
                deletes.append(key_of(row))
                if values["stage_new"]:
                    deletes.append(keys.dataset_item_ref_key(values["id"]))
                    if values["external_id"] is not None:
                        deletes.append(keys.dataset_external_id_key(dataset_id, values["external_id"]))
            else:
                reopen.append(row)
        self.table.batch_write(deletes=deletes)
        self._reopen(reopen, token)
        with contextlib.suppress(ConflictError):  # another recoverer may have finished first
            self.table.call("UpdateItem", **_RELEASE.bind(table, dataset_key, token=token))

    def _reopen(self, rows: Iterable[Item], token: str) -> None:
        table = self.table.table_name
        updates = [_REOPEN.bind(table, key_of(row), token=token) for row in rows]
        for start in range(0, len(updates), self.max_transaction_actions):
            chunk = updates[start:start + self.max_transaction_actions]
            try:
                self.table.transact_write([requests.transact("Update", u) for u in chunk])
            except TransactionCancelled:
                for update in chunk:  # some were reopened by a concurrent recoverer: one by one
                    with contextlib.suppress(ConflictError):
                        self.table.call("UpdateItem", **update)

    def project(self, dataset_id: str, version: int, *, rows: list[Item] | None) -> None:
        """Rewrite the current rows of the items changed at ``version`` and clear ``projecting``
        (idempotent; any caller may finish a projection that a crashed call left behind)."""
        table = self.table.table_name
        if rows is None:
            params = query_request(keys.dataset_key(dataset_id).pk, sk_prefix=keys.DATASET_ITEM_ROW_PREFIX,
                                   consistent=True, filter=R.dataset_version == version)
            rows = list(self.table.query_items(params))
        puts: list[dict[str, Any]] = []
        sizes: list[int] = []
        for row in rows:
            current = ItemCurrentModel.from_row(row)
            puts.append(_PROJECT.bind(table, item=current, version=version))
            sizes.append(item_size(current) + 200)
        chunk: list[dict[str, Any]] = []
        chunk_size = 0
        for put, size in zip(puts, sizes, strict=True):
            if chunk and (len(chunk) >= self.max_transaction_actions or chunk_size + size > MAX_TRANSACTION_BYTES):
                self._project_chunk(chunk)
                chunk, chunk_size = [], 0
            chunk.append(put)
            chunk_size += size
        self._project_chunk(chunk)
        with contextlib.suppress(ConflictError):  # another caller may have finished it
            self.table.call("UpdateItem", **_PROJECTED.bind(table, keys.dataset_key(dataset_id), version=version))

    def _project_chunk(self, chunk: list[dict[str, Any]]) -> None:
        if not chunk:
            return
        try:
            self.table.transact_write([requests.transact("Put", put) for put in chunk])
        except TransactionCancelled:
            for put in chunk:  # a newer current row exists for some item: skip those
                with contextlib.suppress(ConflictError):
                    self.table.call("PutItem", **put)


def _retryable(exc: TransactionCancelled) -> bool:
    return any(r in ("ConditionalCheckFailed", "TransactionConflict") for r in exc.reasons if r)
