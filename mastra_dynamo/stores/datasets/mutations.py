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
"""

from __future__ import annotations

import contextlib
import random
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from mastra_dynamo.dynamo.client import MAX_TRANSACT_ITEMS, TransactionCancelled, key_attr
from mastra_dynamo.dynamo.codec import Item, check_item_size, item_size
from mastra_dynamo.dynamo.expressions import Expr
from mastra_dynamo.errors import ConflictError, NotFoundError, StorageError
from mastra_dynamo.records.base import coerce
from mastra_dynamo.records.datasets import DatasetTenancyFilters
from mastra_dynamo.schema import keys
from mastra_dynamo.schema.keys import Key
from mastra_dynamo.stores import listing
from mastra_dynamo.stores.base import DynamoDomain
from mastra_dynamo.stores.datasets import items as it

MAX_TRANSACTION_BYTES = 3_500_000
MAX_MUTATION_ATTEMPTS = 100
LOCK_ACTIVE = "active"
LOCK_REVOKED = "revoked"
T = TypeVar("T")


class Retry(Exception):
    """Internal: the state read is stale (lost race, lock, projection); read again."""


@dataclass
class DatasetState:
    """The dataset item as read at the start of a mutation (alive, unlocked, fully projected)."""

    item: Item
    rev: int
    version: int
    expires_at: int | None

    @property
    def dataset_id(self) -> str:
        return str(self.item["id"]["S"])

    @property
    def next_version(self) -> int:
        return self.version + 1


@dataclass
class ItemChange:
    """Everything one item contributes to a mutation; its actions always stay in one transaction."""

    row: Item
    """The new history row (version p), stamped."""
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
    if filters.organization_id is not None and it.s(item, "organizationId") != filters.organization_id:
        return False
    return filters.project_id is None or it.s(item, "projectId") == filters.project_id


class DatasetMutations(DynamoDomain):
    """Reads of the dataset item and the mutation engine (see the module docstring)."""

    max_transaction_actions = MAX_TRANSACT_ITEMS
    """Actions per transaction (DynamoDB's limit); tests lower it to exercise the staged protocol."""
    lock_lease_seconds = 60.0
    """How long a staged batch's lock is honoured without a renewal before others roll it back."""
    lock_wait_attempts = 40
    """Re-reads (with backoff) while another call holds the dataset's lock, before DATASET_BUSY."""

    def _sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def _backoff(self, attempt: int) -> None:
        self._sleep(random.uniform(0, min(0.25, 0.004 * (2 ** min(attempt, 8)))))

    def _now_ms(self) -> int:
        return int(self.now().timestamp() * 1000)

    # ------------------------------------------------------------------ reads of the dataset
    def read_dataset(self, dataset_id: str, *, consistent: bool = True) -> Item | None:
        return self.alive(self.table.get_item(keys.dataset_key(dataset_id), consistent=consistent))

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
            if "lock" in item:
                if not self._settle_lock(item):
                    self._backoff(attempt + 4)
                continue
            if "projecting" in item:
                self.project(dataset_id, it.n(item, "projecting"), rows=None)
                continue
            state = DatasetState(item=item, rev=it.n(item, self.spec.revision_attribute),
                                 version=it.n(item, "version"), expires_at=it.ttl_of(item, self.spec.ttl_attribute))
            alive = {k: v for k, v in found.items() if self.alive(v) is not None}
            if any(it.n(v, "datasetVersion") > state.version for v in alive.values() if "datasetVersion" in v):
                # BatchGetItem is no snapshot: a row newer than the dataset item read means a mutation
                # committed in between. Plan from a consistent pair instead.
                raise Retry()
            return state, alive
        raise ConflictError(f"dataset {dataset_id!r} is locked by a batch in progress; retry later",
                            code="DATASET_BUSY", details={"dataset_id": dataset_id})

    def _settle_lock(self, item: Item) -> bool:
        """Handle a lock found on the dataset: roll back a revoked or expired one (True: read again), or
        report that a live batch holds it (False: wait)."""
        token = it.s(item, "lock") or ""
        state = it.s(item, "lockState")
        if state == LOCK_REVOKED:
            self.rollback(item["id"]["S"], token, revoke=None)
            return True
        held_since = it.n(item, "lockAt")
        if self._now_ms() - held_since <= int(self.lock_lease_seconds * 1000):
            return False
        self.rollback(item["id"]["S"], token, revoke=held_since)
        return True

    def unchanged(self, expr: Expr, state: DatasetState) -> str:
        """Condition: the dataset is still the one read (same life: ``createdAt``, same revision, alive).
        ``createdAt`` guards against a delete and re-create with the same id landing on the same revision."""
        return (f"{expr.name(self.spec.revision_attribute)} = {expr.n(state.rev)} AND "
                f"{expr.name('createdAt')} = {expr.value(state.item['createdAt'])} AND {self.not_expired(expr)}")

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
            check_item_size(change.row, entity="dataset item", entity_id=change.row["id"]["S"])
        width = 2 + sum(c.width(staged=False) for c in mutation.changes)
        size = sum(c.size() for c in mutation.changes)
        if width <= self.max_transaction_actions and size <= MAX_TRANSACTION_BYTES:
            self._apply_small(mutation)
        else:
            self._apply_staged(mutation)

    def _dataset_bump(self, mutation: Mutation) -> dict[str, Any]:
        expr = Expr()
        state = mutation.state
        rev = expr.name(self.spec.revision_attribute)
        delta = sum(c.delta for c in mutation.changes)
        update = (f"SET {expr.name('version')} = {expr.n(state.next_version)}, {rev} = {expr.n(state.rev + 1)} "
                  f"ADD {expr.name('itemCount')} {expr.n(delta)}, {expr.name('versionCount')} {expr.n(1)}")
        condition = self.unchanged(expr, state)
        return {"Update": expr.apply({"Key": key_attr(keys.dataset_key(state.dataset_id)),
                                      "UpdateExpression": update, "ConditionExpression": condition})}

    def _version_put(self, state: DatasetState) -> dict[str, Any]:
        item = it.version_item(state.dataset_id, state.next_version, str(uuid.uuid4()), keys.ts(self.now()))
        return {"Put": {"Item": self.stamp(item, it.ENTITY_VERSION, expires_at=state.expires_at)}}

    def _close_action(self, key: Key, version: int, token: str | None) -> dict[str, Any]:
        expr = Expr()
        valid_to = expr.name("validTo")
        update = f"SET {valid_to} = {expr.n(version)}"
        if token is not None:
            update += f", {expr.name('closedBy')} = {expr.s(token)}"
        return {"Update": expr.apply({"Key": key_attr(key), "UpdateExpression": update,
                                      "ConditionExpression": f"attribute_not_exists({valid_to})"})}

    def _create_action(self, item: Item) -> dict[str, Any]:
        """Put conditioned on the item being absent or logically expired."""
        expr = Expr()
        condition = f"attribute_not_exists({expr.name('pk')}) OR NOT {self.not_expired(expr)}"
        return {"Put": expr.apply({"Item": item, "ConditionExpression": condition})}

    def _change_actions(self, change: ItemChange, version: int, token: str | None) -> list[dict[str, Any]]:
        row = change.row
        if token is not None:
            row = {**row, "stage": {"S": token}}
            if change.pointer is not None:
                row["stageNew"] = {"BOOL": True}
        actions: list[dict[str, Any]] = [{"Put": {"Item": row}}]
        if change.close is not None:
            actions.append(self._close_action(change.close, version, token))
        if change.pointer is not None:
            actions.append(self._create_action(change.pointer))
        if change.external is not None:
            actions.append(self._create_action(change.external))
        if token is None:
            actions.append({"Put": {"Item": self._current(change.row)}})
        return actions

    def _current(self, row: Item) -> Item:
        current = it.current_item(row)
        current[self.spec.entity_attribute] = {"S": it.ENTITY_CURRENT}
        return current

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
        expr = Expr()
        rev = expr.name(self.spec.revision_attribute)
        update = (f"SET {expr.name('lock')} = {expr.s(token)}, {expr.name('lockAt')} = {expr.n(self._now_ms())}, "
                  f"{expr.name('lockState')} = {expr.s(LOCK_ACTIVE)}, "
                  f"{expr.name('lockVersion')} = {expr.n(state.next_version)}, {rev} = {expr.n(state.rev + 1)}")
        condition = self.unchanged(expr, state)
        try:
            self.table.call("UpdateItem", **expr.apply({
                "TableName": self.table.table_name, "Key": key_attr(keys.dataset_key(state.dataset_id)),
                "UpdateExpression": update, "ConditionExpression": condition}))
        except ConflictError:
            item = self.read_dataset(state.dataset_id)
            if item is not None and it.s(item, "lock") == token:
                return  # a resend of this claim (its answer was lost) failed its own condition: it is ours
            raise Retry() from None

    def _heartbeat(self, dataset_id: str, token: str) -> dict[str, Any]:
        expr = Expr()
        update = f"SET {expr.name('lockAt')} = {expr.n(self._now_ms())}"
        condition = f"{expr.name('lock')} = {expr.s(token)} AND {expr.name('lockState')} = {expr.s(LOCK_ACTIVE)}"
        return {"Update": expr.apply({"Key": key_attr(keys.dataset_key(dataset_id)), "UpdateExpression": update,
                                      "ConditionExpression": condition})}

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
        expr = Expr()
        rev = expr.name(self.spec.revision_attribute)
        delta = sum(c.delta for c in mutation.changes)
        version = state.next_version
        update = (f"SET {expr.name('version')} = {expr.n(version)}, {expr.name('projecting')} = {expr.n(version)}, "
                  f"{rev} = {rev} + {expr.n(1)} "
                  f"ADD {expr.name('itemCount')} {expr.n(delta)}, {expr.name('versionCount')} {expr.n(1)} "
                  f"REMOVE {', '.join(expr.name(a) for a in it.LOCK_ATTRIBUTES)}")
        condition = (f"{expr.name('lock')} = {expr.s(token)} AND {expr.name('lockState')} = {expr.s(LOCK_ACTIVE)} "
                     f"AND {expr.name('version')} = {expr.n(state.version)}")
        bump = {"Update": expr.apply({"Key": key_attr(keys.dataset_key(state.dataset_id)),
                                      "UpdateExpression": update, "ConditionExpression": condition})}
        try:
            self.table.transact_write([bump, self._version_put(state)])
        except TransactionCancelled:
            self._abandon(state.dataset_id, token)
            raise ConflictError(f"batch on dataset {state.dataset_id!r} lost its lock before committing; "
                                "nothing was applied, retry", details={"dataset_id": state.dataset_id}) from None
        except Exception:
            # The outcome is unknown (transport failure): the dataset item tells whether the commit landed.
            item = self.read_dataset(state.dataset_id)
            if item is not None and it.n(item, "version") == version and it.s(item, "lock") is None:
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
        if revoke is not None:
            expr = Expr()
            condition = f"{expr.name('lock')} = {expr.s(token)} AND {expr.name('lockState')} = {expr.s(LOCK_ACTIVE)}"
            if revoke >= 0:
                condition += f" AND {expr.name('lockAt')} = {expr.n(revoke)}"
            try:
                self.table.call("UpdateItem", **expr.apply({
                    "TableName": self.table.table_name, "Key": key_attr(dataset_key),
                    "UpdateExpression": f"SET {expr.name('lockState')} = {expr.s(LOCK_REVOKED)}",
                    "ConditionExpression": condition}))
            except ConflictError:
                return  # committed, renewed or already revoked by someone else: re-read decides
        # No staging write can land any more (each one checks that the lock is active): clean up.
        expr = Expr()
        query = listing.PartitionQuery(None, "pk", "sk", dataset_key.pk, sk_prefix=keys.DATASET_ITEM_ROW_PREFIX,
                                       consistent=True)
        filter_expression = f"{expr.name('stage')} = {expr.s(token)} OR {expr.name('closedBy')} = {expr.s(token)}"
        params = expr.apply(query.params(ascending=True, expr=expr, filter_expression=filter_expression,
                                         limit=None))
        deletes: list[Key] = []
        reopen: list[Item] = []
        for row in self.table.query_items(params):
            if it.s(row, "stage") == token:
                deletes.append(Key(row["pk"]["S"], row["sk"]["S"]))
                if row.get("stageNew", {}).get("BOOL"):
                    deletes.append(keys.dataset_item_ref_key(row["id"]["S"]))
                    external = it.s(row, "externalId")
                    if external is not None:
                        deletes.append(keys.dataset_external_id_key(dataset_id, external))
            else:
                reopen.append(row)
        self.table.batch_write(deletes=deletes)
        self._reopen(reopen, token)
        expr = Expr()
        rev = expr.name(self.spec.revision_attribute)
        with contextlib.suppress(ConflictError):  # another recoverer may have finished first
            self.table.call("UpdateItem", **expr.apply({
                "TableName": self.table.table_name, "Key": key_attr(dataset_key),
                "UpdateExpression": (f"SET {rev} = {rev} + {expr.n(1)} "
                                     f"REMOVE {', '.join(expr.name(a) for a in it.LOCK_ATTRIBUTES)}"),
                "ConditionExpression": f"{expr.name('lock')} = {expr.s(token)}"}))

    def _reopen(self, rows: Iterable[Item], token: str) -> None:
        actions: list[dict[str, Any]] = []
        for row in rows:
            expr = Expr()
            actions.append({"Update": expr.apply({
                "Key": key_attr(Key(row["pk"]["S"], row["sk"]["S"])),
                "UpdateExpression": f"REMOVE {expr.name('validTo')}, {expr.name('closedBy')}",
                "ConditionExpression": f"{expr.name('closedBy')} = {expr.s(token)}"})})
        for start in range(0, len(actions), self.max_transaction_actions):
            chunk = actions[start:start + self.max_transaction_actions]
            try:
                self.table.transact_write(chunk)
            except TransactionCancelled:
                for action in chunk:  # some were reopened by a concurrent recoverer: one by one
                    with contextlib.suppress(ConflictError):
                        self.table.call("UpdateItem", TableName=self.table.table_name, **action["Update"])

    def project(self, dataset_id: str, version: int, *, rows: list[Item] | None) -> None:
        """Rewrite the current rows of the items changed at ``version`` and clear ``projecting``
        (idempotent; any caller may finish a projection that a crashed call left behind)."""
        if rows is None:
            expr = Expr()
            query = listing.PartitionQuery(None, "pk", "sk", keys.dataset_key(dataset_id).pk,
                                           sk_prefix=keys.DATASET_ITEM_ROW_PREFIX, consistent=True)
            flt = f"{expr.name('datasetVersion')} = {expr.n(version)}"
            rows = list(self.table.query_items(expr.apply(query.params(ascending=True, expr=expr,
                                                                       filter_expression=flt, limit=None))))
        actions: list[dict[str, Any]] = []
        sizes: list[int] = []
        for row in rows:
            current = self._current(row)
            expr = Expr()
            dv = expr.name("datasetVersion")
            actions.append({"Put": expr.apply({
                "Item": current,
                "ConditionExpression": f"attribute_not_exists({dv}) OR {dv} <= {expr.n(version)}"})})
            sizes.append(item_size(current) + 200)
        chunk: list[dict[str, Any]] = []
        chunk_size = 0
        for action, size in zip(actions, sizes, strict=True):
            if chunk and (len(chunk) >= self.max_transaction_actions or chunk_size + size > MAX_TRANSACTION_BYTES):
                self._project_chunk(chunk)
                chunk, chunk_size = [], 0
            chunk.append(action)
            chunk_size += size
        self._project_chunk(chunk)
        expr = Expr()
        rev = expr.name(self.spec.revision_attribute)
        with contextlib.suppress(ConflictError):  # another caller may have finished it
            self.table.call("UpdateItem", **expr.apply({
                "TableName": self.table.table_name, "Key": key_attr(keys.dataset_key(dataset_id)),
                "UpdateExpression": f"SET {rev} = {rev} + {expr.n(1)} REMOVE {expr.name('projecting')}",
                "ConditionExpression": f"{expr.name('projecting')} = {expr.n(version)}"}))

    def _project_chunk(self, chunk: list[dict[str, Any]]) -> None:
        if not chunk:
            return
        try:
            self.table.transact_write(chunk)
        except TransactionCancelled:
            for action in chunk:  # a newer current row exists for some item: skip those
                with contextlib.suppress(ConflictError):
                    self.table.call("PutItem", TableName=self.table.table_name, **action["Put"])


def _retryable(exc: TransactionCancelled) -> bool:
    return any(r in ("ConditionalCheckFailed", "TransactionConflict") for r in exc.reasons if r)
