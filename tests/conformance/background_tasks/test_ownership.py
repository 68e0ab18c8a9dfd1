"""Execution ownership (spec 3.11.6): owner and lease fences on update_task, and exactly one winner among
concurrent claimers (one conditional write, no read-then-write)."""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from mastra_dynamo import DynamoDBStore
from mastra_dynamo.stores.background_tasks import DynamoBackgroundTasksStore
from tests.conftest import Backend, make_store, require

from .data import at, sample


def test_owner_and_lease_round_trip(bt: DynamoBackgroundTasksStore) -> None:
    task = sample(ownerId="worker-1", leaseExpiresAt=at(5))
    bt.create_task(task)
    got = bt.get_task(task["id"])
    assert got is not None and got.owner_id == "worker-1" and got.lease_expires_at == at(5)
    plain = sample()
    bt.create_task(plain)
    got = bt.get_task(plain["id"])
    assert got is not None and got.owner_id is None and got.lease_expires_at is None


def test_claim_renew_release(bt: DynamoBackgroundTasksStore) -> None:
    task = sample()
    bt.create_task(task)
    tid = task["id"]
    claim = {"status": "running", "ownerId": "w1", "leaseExpiresAt": at(1)}
    assert bt.update_task(tid, claim, {"expectedStatus": "pending", "expectedOwnerId": None,
                                       "expectedLeaseExpiresAt": None})
    # a second claimer finds an owner
    assert not bt.update_task(tid, {"ownerId": "w2"}, {"expectedOwnerId": None})
    # reclaim an expired lease, fenced on the owner and the lease as read back
    current = bt.get_task(tid)
    assert current is not None
    assert not bt.update_task(tid, {"ownerId": "w2", "leaseExpiresAt": at(9)},
                              {"expectedOwnerId": "w1", "expectedLeaseExpiresAt": at(2)})  # another lease value
    assert bt.update_task(tid, {"ownerId": "w2", "leaseExpiresAt": at(9)},
                          {"expectedOwnerId": current.owner_id,
                           "expectedLeaseExpiresAt": current.lease_expires_at})
    # the identical reclaim fails the second time
    assert not bt.update_task(tid, {"ownerId": "w2", "leaseExpiresAt": at(9)},
                              {"expectedOwnerId": "w1", "expectedLeaseExpiresAt": at(1)})
    # renew only by the owner
    assert not bt.update_task(tid, {"leaseExpiresAt": at(20)}, {"expectedOwnerId": "w1"})
    assert bt.update_task(tid, {"leaseExpiresAt": at(20)}, {"expectedOwnerId": "w2"})
    # terminal write fenced on the owner, then an unfenced clear of both
    assert bt.update_task(tid, {"status": "completed", "completedAt": at(21)}, {"expectedOwnerId": "w2"})
    assert bt.update_task(tid, {"ownerId": None, "leaseExpiresAt": None})
    got = bt.get_task(tid)
    assert got is not None and got.owner_id is None and got.lease_expires_at is None
    assert got.status == "completed"


def test_a_running_task_without_owner_is_claimable(bt: DynamoBackgroundTasksStore) -> None:
    task = sample(status="running")
    bt.create_task(task)
    fence = {"expectedOwnerId": None, "expectedLeaseExpiresAt": None}
    assert bt.update_task(task["id"], {"ownerId": "w1", "leaseExpiresAt": at(1)}, fence)
    assert not bt.update_task(task["id"], {"ownerId": "w2", "leaseExpiresAt": at(1)}, fence)


def test_exactly_one_of_many_concurrent_claimers_wins(backend: Backend) -> None:
    require(backend, "concurrent_clients")
    stores: list[DynamoDBStore] = []
    first = make_store(backend)
    first.create_table()
    try:
        tasks = first.get_store("backgroundTasks")
        for round_ in range(3):
            task = sample()
            tasks.create_task(task)
            claimers = 12
            barrier = threading.Barrier(claimers)

            def claim(worker: int, task_id: str = task["id"], barrier: threading.Barrier = barrier) -> bool:
                store = DynamoDBStore(id=f"w{worker}", table_name=first.table_name, region="us-east-1",
                                      endpoint_url=backend.endpoint_url)
                stores.append(store)
                domain = store.get_store("backgroundTasks")
                barrier.wait()
                return domain.update_task(task_id, {"status": "running", "ownerId": f"w{worker}"},
                                          {"expectedStatus": "pending"})

            with ThreadPoolExecutor(claimers) as pool:
                wins = list(pool.map(claim, range(claimers)))
            assert sum(wins) == 1, (round_, wins)
            got = tasks.get_task(task["id"])
            assert got is not None and got.owner_id == f"w{wins.index(True)}"
            assert tasks.get_running_count() == round_ + 1
    finally:
        for store in stores:
            store.close()
        first.delete_table()
        first.close()


def _claim_in_process(endpoint: str, table: str, task_id: str, worker: int, barrier: Any) -> bool:
    store = DynamoDBStore(id=f"p{worker}", table_name=table, region="us-east-1", endpoint_url=endpoint)
    try:
        domain = store.get_store("backgroundTasks")
        barrier.wait()
        return domain.update_task(task_id, {"status": "running", "ownerId": f"p{worker}"},
                                  {"expectedStatus": "pending"})
    finally:
        store.close()


def test_exactly_one_of_several_processes_wins(backend: Backend) -> None:
    require(backend, "concurrent_clients")
    assert backend.endpoint_url is not None
    first = make_store(backend)
    first.create_table()
    try:
        tasks = first.get_store("backgroundTasks")
        task = sample()
        tasks.create_task(task)
        context = multiprocessing.get_context("spawn")
        workers = 4
        with context.Manager() as manager:
            barrier = manager.Barrier(workers)
            with context.Pool(workers) as pool:
                wins = pool.starmap(_claim_in_process, [(backend.endpoint_url, first.table_name, task["id"], w,
                                                         barrier) for w in range(workers)])
        assert sum(wins) == 1, wins
        got = tasks.get_task(task["id"])
        assert got is not None and got.owner_id == f"p{wins.index(True)}" and got.status == "running"
    finally:
        first.delete_table()
        first.close()
