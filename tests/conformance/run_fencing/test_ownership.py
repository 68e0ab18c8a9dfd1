"""Spec 3.12 workflow run ownership: claims with clock-seeded generations, force, expiry, expected generation,
renew, release, and exactly one winner among concurrent claimers."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from mastra_dynamo import DynamoDBStore
from mastra_dynamo.stores.run_fencing import RunOwnershipOps
from tests.conftest import Backend, FakeClock, make_store, require

LEASE = 30_000


def test_claim_an_unowned_run(owners: RunOwnershipOps, clock: FakeClock) -> None:
    assert owners.get_run_ownership({"runId": "run-1"}) is None
    result = owners.claim_run_ownership({"runId": "run-1", "ownerId": "owner-a", "leaseMs": LEASE})
    assert result.acquired and result.record is not None
    record = result.record
    assert record.owner_id == "owner-a" and record.live and record.run_id == "run-1"
    now_ms = clock.now.timestamp() * 1000
    assert abs(record.generation - now_ms) < 60_000 and record.generation < 2**53
    assert record.lease_expires_at is not None
    assert abs(record.lease_expires_at - (clock.now + timedelta(milliseconds=LEASE))) < timedelta(seconds=1)
    assert owners.get_run_ownership(run_id="run-1") == record


def test_force_takes_over_a_live_run(owners: RunOwnershipOps) -> None:
    first = owners.claim_run_ownership(run_id="r", owner_id="owner-a", lease_ms=LEASE).record
    assert first is not None
    refused = owners.claim_run_ownership(run_id="r", owner_id="owner-b", lease_ms=LEASE)
    assert not refused.acquired and refused.record == first
    forced = owners.claim_run_ownership(run_id="r", owner_id="owner-b", lease_ms=LEASE, force=True)
    assert forced.acquired and forced.record is not None
    assert forced.record.generation == first.generation + 1 and forced.record.owner_id == "owner-b"


def test_an_expired_lease_is_claimable(owners: RunOwnershipOps, clock: FakeClock) -> None:
    first = owners.claim_run_ownership(run_id="r", owner_id="owner-a", lease_ms=200).record
    assert first is not None
    clock.advance(seconds=1)
    current = owners.get_run_ownership(run_id="r")
    assert current is not None and not current.live and current.owner_id == "owner-a"
    second = owners.claim_run_ownership(run_id="r", owner_id="owner-b", lease_ms=LEASE)
    assert second.acquired and second.record is not None and second.record.generation == first.generation + 1


def test_a_stale_expected_generation_is_refused(owners: RunOwnershipOps) -> None:
    first = owners.claim_run_ownership(run_id="r", owner_id="owner-a", lease_ms=LEASE).record
    assert first is not None
    stale = owners.claim_run_ownership(run_id="r", owner_id="owner-b", lease_ms=LEASE, force=True,
                                       expected_generation=0)
    assert not stale.acquired and stale.record is not None and stale.record.owner_id == "owner-a"
    wrong = owners.claim_run_ownership(run_id="r", owner_id="owner-b", lease_ms=LEASE, force=True,
                                       expected_generation=first.generation - 1)
    assert not wrong.acquired
    right = owners.claim_run_ownership(run_id="r", owner_id="owner-b", lease_ms=LEASE, force=True,
                                       expected_generation=first.generation)
    assert right.acquired and right.record is not None and right.record.generation == first.generation + 1


def test_renew_while_current_even_after_expiry(owners: RunOwnershipOps, clock: FakeClock) -> None:
    first = owners.claim_run_ownership(run_id="r", owner_id="owner-a", lease_ms=200).record
    assert first is not None
    clock.advance(seconds=1)
    renewed = owners.renew_run_ownership(run_id="r", generation=first.generation, owner_id="owner-a", lease_ms=LEASE)
    assert renewed.renewed and renewed.record is not None and renewed.record.live
    taken = owners.claim_run_ownership(run_id="r", owner_id="owner-b", lease_ms=LEASE, force=True).record
    stale = owners.renew_run_ownership(run_id="r", generation=first.generation, owner_id="owner-a", lease_ms=LEASE)
    assert not stale.renewed and stale.record == taken


def test_release_keeps_generation_and_owner(owners: RunOwnershipOps) -> None:
    first = owners.claim_run_ownership(run_id="r", owner_id="owner-a", lease_ms=LEASE).record
    assert first is not None
    fence = {"runId": "r", "generation": first.generation, "ownerId": "owner-a"}
    assert not owners.release_run_ownership({**fence, "generation": first.generation + 1})
    assert not owners.release_run_ownership({**fence, "ownerId": "owner-x"})
    assert owners.release_run_ownership(fence)
    record = owners.get_run_ownership(run_id="r")
    assert record is not None and record.generation == first.generation and record.owner_id == "owner-a"
    assert record.lease_expires_at is None and not record.live
    assert owners.release_run_ownership(fence)  # repeatable
    assert not owners.renew_run_ownership(run_id="r", generation=first.generation, owner_id="owner-a",
                                          lease_ms=LEASE).renewed
    next_claim = owners.claim_run_ownership(run_id="r", owner_id="owner-b", lease_ms=LEASE)
    assert next_claim.acquired and next_claim.record is not None
    assert next_claim.record.generation == first.generation + 1
    assert not owners.release_run_ownership(fence)
    assert not owners.release_run_ownership({"runId": "unknown", "generation": 1, "ownerId": "x"})


def _race(backend: Backend, claims: int, claim: object) -> list[bool]:
    first = make_store(backend)
    first.create_table()
    stores: list[DynamoDBStore] = []
    try:
        barrier = threading.Barrier(claims)

        def one(i: int) -> bool:
            store = DynamoDBStore(id=f"c{i}", table_name=first.table_name, region="us-east-1",
                                  endpoint_url=backend.endpoint_url)
            stores.append(store)
            ops = RunOwnershipOps(table=store.table, ttl=store.ttl, clock=store.clock)
            barrier.wait()
            return bool(claim(ops, i))  # type: ignore[operator]

        setup = RunOwnershipOps(table=first.table, ttl=first.ttl, clock=first.clock)
        if claim is _forced:  # every forced claimer saw the seed claim's generation
            seed = setup.claim_run_ownership(run_id="race", owner_id="seed", lease_ms=LEASE).record
            assert seed is not None
            _SEEN[:] = [seed.generation]
        with ThreadPoolExecutor(claims) as pool:
            return list(pool.map(one, range(claims)))
    finally:
        for store in stores:
            store.close()
        first.delete_table()
        first.close()


def _plain(ops: RunOwnershipOps, i: int) -> bool:
    return ops.claim_run_ownership(run_id="race", owner_id=f"owner-{i}", lease_ms=LEASE).acquired


_SEEN: list[int] = []


def _forced(ops: RunOwnershipOps, i: int) -> bool:
    return ops.claim_run_ownership(run_id="race", owner_id=f"owner-{i}", lease_ms=LEASE, force=True,
                                   expected_generation=_SEEN[0]).acquired


def test_exactly_one_of_concurrent_claims_wins(backend: Backend) -> None:
    require(backend, "concurrent_clients")
    assert sum(_race(backend, 8, _plain)) == 1


def test_exactly_one_of_concurrent_forced_claims_on_one_generation_wins(backend: Backend) -> None:
    require(backend, "concurrent_clients")
    wins = _race(backend, 8, _forced)
    assert sum(wins) == 1, wins
