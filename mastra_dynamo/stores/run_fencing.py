"""Run fencing (spec 3.12): workflow run ownership and memory run fences, and the check a fenced write carries.

Items: models/run_fencing.py. Every operation is one conditional single-item write (plus a strongly consistent
GetItem to report the current record when the condition fails): racing claimers resolve one at a time, exactly
one wins. Leases are judged on the store's clock (DynamoDB has no server clock); fencing itself relies only on
generations and owners.

A fenced write (:func:`fence_check`) adds a ``ConditionCheck`` of the run's item to the write's transaction:
the write lands only while the fence is the run's current claim, and otherwise raises
:class:`~mastra_dynamo.errors.RunFenceConflictError` having written nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from typing import Any, TypeVar

from pynamodb.constants import ALL_NEW

from mastra_dynamo.dynamo.client import ActiveFence, TransactionCancelled, active_fence
from mastra_dynamo.dynamo.codec import Item
from mastra_dynamo.errors import BackendError, ConflictError, RunFenceConflictError
from mastra_dynamo.fence_scope import notify_conflict, resolve_run_fence
from mastra_dynamo.models import requests
from mastra_dynamo.models.run_fencing import MemoryRunFenceItem, RunOwnerItem
from mastra_dynamo.records.base import coerce, coerce_input
from mastra_dynamo.records.run_fencing import (
    ClaimInput,
    ClaimResult,
    RenewInput,
    RenewResult,
    RunFence,
    RunOwnershipRecord,
    RunRef,
)
from mastra_dynamo.schema import keys
from mastra_dynamo.schema.keys import Key
from mastra_dynamo.stores.base import DynamoDomain, contention_pause
from mastra_dynamo.validate import require_id

T = TypeVar("T")
_TRANSACTION_CONFLICT_RETRIES = 8


def as_fence(fence: RunFence | Mapping[str, Any] | None) -> RunFence | None:
    """A fence given as a record or Mapping (``{runId, generation, ownerId}``), validated; None stays None."""
    if fence is None:
        return None
    value = coerce(RunFence, fence, what="run fence")
    require_id(value.run_id, field="run_id")
    require_id(value.owner_id, field="owner_id")
    return value


_UNFENCED: AbstractContextManager[None] = nullcontext()
"""The context of a write without a fence (stateless: shared)."""


def conflict(fence: RunFence, operation: str) -> RunFenceConflictError:
    """The conflict error of a fenced write (the current run fence scope is told, see fence_scope.py)."""
    return notify_conflict(RunFenceConflictError(
        f"Rejected {operation} for run {fence.run_id}: generation {fence.generation} held by {fence.owner_id} is "
        "no longer the run's current claim; nothing was written",
        details={"run_id": fence.run_id, "generation": fence.generation, "owner_id": fence.owner_id,
                 "operation": operation}))


def _epoch_ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _retry_transaction_conflicts(write: Callable[[], T]) -> T:
    """A single-item write that met a transaction in flight on the item (``TransactionConflictException``):
    sent again with a jittered pause, up to 8 times."""
    for attempt in range(_TRANSACTION_CONFLICT_RETRIES):
        try:
            return write()
        except BackendError as exc:
            if exc.details.get("aws_code") != "TransactionConflictException":
                raise
            contention_pause(attempt)
    return write()


class FenceChecks(DynamoDomain):
    """What the fenced writes of a domain share: the check of a fence and the conflict it raises."""

    FENCE_ITEM: type[RunOwnerItem] | type[MemoryRunFenceItem]

    def _fence_key(self, run_id: str) -> Key:
        return (keys.run_owner_key if self.FENCE_ITEM is RunOwnerItem else keys.memory_run_fence_key)(run_id)

    def fence_check(self, fence: RunFence) -> dict[str, Any]:
        """The ``ConditionCheck`` transaction action of a fenced write."""
        return requests.transact("ConditionCheck", requests.condition_check(
            self.table.table_name, self._fence_key(fence.run_id), self.FENCE_ITEM.holds(fence)))

    def fenced(self, fence: RunFence, operation: str, actions: list[dict[str, Any]]) -> None:
        """Send ``actions`` (transaction actions) with the fence's check first. The fence no longer current:
        RunFenceConflictError; a write's own condition failed: TransactionCancelled as without a fence."""
        for attempt in range(_TRANSACTION_CONFLICT_RETRIES + 1):
            try:
                self.table.transact_write([self.fence_check(fence), *actions])
                return
            except TransactionCancelled as exc:
                if exc.reasons and exc.reasons[0] == "ConditionalCheckFailed":
                    raise conflict(fence, operation) from None
                if "TransactionConflict" in exc.reasons and attempt < _TRANSACTION_CONFLICT_RETRIES:
                    contention_pause(attempt)
                    continue
                raise

    def fencing(self, fence: RunFence | Mapping[str, Any] | None, operation: str) -> AbstractContextManager[None]:
        """Within the block every write of this store carries ``fence`` (or, without one, the ambient fence
        of fence_scope.py) (TableClient's :data:`ACTIVE_FENCE`); a block that wrote nothing checks the fence
        afterwards, as its write would have. No fence: no change (a context that does nothing)."""
        current = as_fence(resolve_run_fence(self, fence))
        return _UNFENCED if current is None else self._fenced(current, operation)

    @contextmanager
    def _fenced(self, current: RunFence, operation: str) -> Iterator[None]:
        active = ActiveFence(check=self.fence_check(current), conflict=lambda: conflict(current, operation))
        with active_fence(active):
            yield
        if active.writes == 0:
            self.check_fence(current, operation)

    def check_fence(self, fence: RunFence, operation: str) -> None:
        """For a fenced call that has nothing to write: raise the conflict its write would have met."""
        raw = self.table.call("GetItem", **requests.get_item(self.table.table_name, self._fence_key(fence.run_id),
                                                             consistent=True)).get("Item")
        if raw is None or not self._is_claim(raw, fence):
            raise conflict(fence, operation)

    def _is_claim(self, raw: Item, fence: RunFence) -> bool:
        values = self.FENCE_ITEM.decode_attributes(raw, ("generation", "owner_id"))
        return bool(values["generation"] == fence.generation and values["owner_id"] == fence.owner_id)


class RunOwnershipOps(FenceChecks):
    """Workflow run ownership (claim, renew, release, get)."""

    FENCE_ITEM = RunOwnerItem

    def supports_run_fencing(self) -> bool:
        return True

    def _claim_record(self, run_id: str, raw: Item | None) -> RunOwnershipRecord | None:
        if raw is None:
            return None
        values = RunOwnerItem.decode_attributes(raw, ("generation", "owner_id", "lease_expires_at"))
        lease = values["lease_expires_at"]
        expires = None if lease is None else datetime.fromtimestamp(lease / 1000, tz=UTC)
        return RunOwnershipRecord(run_id=run_id, generation=int(values["generation"]), owner_id=values["owner_id"],
                                  lease_expires_at=expires, live=expires is not None and expires > self.now())

    def _current(self, run_id: str) -> RunOwnershipRecord | None:
        return self._claim_record(run_id, self._read_claim(run_id))

    def get_run_ownership(self, /, input: RunRef | Mapping[str, Any] | None = None,
                          **fields: Any) -> RunOwnershipRecord | None:
        """The run's claim (``{runId}``), read strongly consistent, or None."""
        run_id = coerce_input(RunRef, input, fields, what="get_run_ownership").run_id
        require_id(run_id, field="run_id")
        return self._claim_record(run_id, self._read_claim(run_id))

    def _read_claim(self, run_id: str) -> Item | None:
        raw: Item | None = self.table.call("GetItem", **requests.get_item(
            self.table.table_name, keys.run_owner_key(run_id), consistent=True)).get("Item")
        return raw

    def claim_run_ownership(self, /, input: ClaimInput | Mapping[str, Any] | None = None,
                            **fields: Any) -> ClaimResult:
        """Claim the run for ``owner_id`` for ``lease_ms``: a run nobody holds (never claimed, released, or whose
        lease expired), or any run with ``force``; ``expected_generation`` makes the claim conditional on the
        generation last seen (0: only a run never claimed). Each claim's generation is larger than every
        earlier one."""
        data = coerce_input(ClaimInput, input, fields, what="claim_run_ownership")
        require_id(data.run_id, field="run_id")
        require_id(data.owner_id, field="owner_id")
        now = _epoch_ms(self.now())
        key = keys.run_owner_key(data.run_id)
        table = self.table.table_name
        if not data.expected_generation:
            item = RunOwnerItem.build(key, {"generation": max(1, now), "owner_id": data.owner_id,
                                            "lease_expires_at": now + data.lease_ms, "updated_at": now})
            try:
                _retry_transaction_conflicts(lambda: self.table.call("PutItem", **requests.put_item(
                    table, item, condition=RunOwnerItem.pk.does_not_exist())))
                return ClaimResult(acquired=True, record=self._claim_record(data.run_id, item.serialize()))
            except ConflictError:
                if data.expected_generation == 0:
                    return ClaimResult(acquired=False, record=self._current(data.run_id))
        condition = RunOwnerItem.pk.exists()
        if data.expected_generation:
            condition &= RunOwnerItem.generation == data.expected_generation
        if not data.force:
            condition &= RunOwnerItem.lease_expires_at.does_not_exist() | (RunOwnerItem.lease_expires_at <= now)
        request = requests.update_key(table, key, [
            RunOwnerItem.owner_id.set(data.owner_id), RunOwnerItem.lease_expires_at.set(now + data.lease_ms),
            RunOwnerItem.updated_at.set(now), RunOwnerItem.generation.add(1)], condition=condition,
            return_values=ALL_NEW)
        try:
            stored = _retry_transaction_conflicts(lambda: self.table.call("UpdateItem", **request))["Attributes"]
        except ConflictError:
            return ClaimResult(acquired=False, record=self._current(data.run_id))
        return ClaimResult(acquired=True, record=self._claim_record(data.run_id, stored))

    def renew_run_ownership(self, /, input: RenewInput | Mapping[str, Any] | None = None,
                            **fields: Any) -> RenewResult:
        """Extend the lease of the current claim (also after it expired, while nobody claimed the run since;
        not after a release)."""
        data = coerce_input(RenewInput, input, fields, what="renew_run_ownership")
        fence = RunFence(run_id=data.run_id, generation=data.generation, owner_id=data.owner_id)
        now = _epoch_ms(self.now())
        request = requests.update_key(self.table.table_name, keys.run_owner_key(data.run_id), [
            RunOwnerItem.lease_expires_at.set(now + data.lease_ms), RunOwnerItem.updated_at.set(now)],
            condition=RunOwnerItem.holds(fence) & RunOwnerItem.lease_expires_at.exists(), return_values=ALL_NEW)
        try:
            stored = _retry_transaction_conflicts(lambda: self.table.call("UpdateItem", **request))["Attributes"]
        except ConflictError:
            return RenewResult(renewed=False, record=self._current(data.run_id))
        return RenewResult(renewed=True, record=self._claim_record(data.run_id, stored))

    def release_run_ownership(self, fence: RunFence | Mapping[str, Any]) -> bool:
        """End the claim's lease (generation and owner stay): True when ``fence`` is the current claim
        (repeatable), else False. The released owner's writes are accepted until the run is claimed again."""
        current = as_fence(fence)
        assert current is not None
        request = requests.update_key(self.table.table_name, keys.run_owner_key(current.run_id), [
            RunOwnerItem.lease_expires_at.remove(), RunOwnerItem.updated_at.set(_epoch_ms(self.now()))],
            condition=RunOwnerItem.holds(current))
        try:
            _retry_transaction_conflicts(lambda: self.table.call("UpdateItem", **request))
        except ConflictError:
            return False
        return True


class MemoryFenceOps(FenceChecks):
    """Memory run fences (raise, retire)."""

    FENCE_ITEM = MemoryRunFenceItem

    def supports_run_fencing(self) -> bool:
        return True

    def raise_run_fence(self, fence: RunFence | Mapping[str, Any]) -> bool:
        """Make ``fence`` the run's current fence: True when it is newer than the stored one, or is the stored
        one (raising again un-retires it); False for an older generation or the same generation under another
        owner."""
        current = as_fence(fence)
        assert current is not None
        item = MemoryRunFenceItem
        request = requests.update_key(self.table.table_name, keys.memory_run_fence_key(current.run_id), [
            item.item_type.set(item), item.schema_version.set(self.spec.schema_version),
            item.generation.set(current.generation), item.owner_id.set(current.owner_id),
            item.retired_at.remove()],
            condition=item.generation.does_not_exist() | (item.generation < current.generation) | item.holds(current))
        try:
            _retry_transaction_conflicts(lambda: self.table.call("UpdateItem", **request))
        except ConflictError:
            raw = self.table.call("GetItem", **requests.get_item(
                self.table.table_name, keys.memory_run_fence_key(current.run_id), consistent=True)).get("Item")
            return raw is not None and self._is_claim(raw, current)
        return True

    def retire_run_fence(self, fence: RunFence | Mapping[str, Any]) -> bool:
        """Mark the current fence retired (its execution settled): True when ``fence`` is current (repeatable),
        else False. A retired fence still accepts writes while it is current."""
        current = as_fence(fence)
        assert current is not None
        request = requests.update_key(self.table.table_name, keys.memory_run_fence_key(current.run_id), [
            MemoryRunFenceItem.retired_at.set(_epoch_ms(self.now()))], condition=MemoryRunFenceItem.holds(current))
        try:
            _retry_transaction_conflicts(lambda: self.table.call("UpdateItem", **request))
        except ConflictError:
            return False
        return True


__all__ = ["FenceChecks", "MemoryFenceOps", "RunOwnershipOps", "as_fence", "conflict"]
