"""Run fencing records (spec 3.12): the fence a write carries, a run's ownership record, claim/renew inputs
and results."""

from __future__ import annotations

from pydantic import Field

from mastra_dynamo.records.base import Record, UtcDatetime


class RunFence(Record):
    """``RunFence``: the claim a write is made under."""

    run_id: str
    generation: int
    owner_id: str


class RunOwnershipRecord(Record):
    """``RunOwnershipRecord``. ``lease_expires_at`` is None once released; ``live``: an owner holds an unexpired
    lease on the store's clock."""

    run_id: str
    generation: int
    owner_id: str
    lease_expires_at: UtcDatetime | None
    live: bool


class RunRef(Record):
    run_id: str


class ClaimInput(Record):
    run_id: str
    owner_id: str
    lease_ms: int = Field(gt=0)
    force: bool = False
    expected_generation: int | None = Field(default=None, ge=0)


class ClaimResult(Record):
    acquired: bool
    record: RunOwnershipRecord | None


class RenewInput(Record):
    run_id: str
    generation: int
    owner_id: str
    lease_ms: int = Field(gt=0)


class RenewResult(Record):
    renewed: bool
    record: RunOwnershipRecord | None
