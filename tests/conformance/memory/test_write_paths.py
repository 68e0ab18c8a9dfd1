"""The cheap write paths of the memory domain and their fallbacks.

- ``save_messages`` of new messages into a thread this process has read is ONE TransactWriteItems planned
  without reading; the thread's counters stay exact whatever the hint said (a stale hint only falls back).
- ``update_resource`` without metadata is one UpdateItem (two for a missing resource: the failed update
  returns what it saw instead of a read).
- Listings by ``updatedAt`` follow message activity although no index is keyed on it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from mastra_dynamo import DynamoDBStore
from mastra_dynamo.domains import MemoryStorage
from mastra_dynamo.errors import TableMismatchError
from mastra_dynamo.schema import keys
from mastra_dynamo.schema.table import TABLE_SPEC, TableSpec
from mastra_dynamo.stores.memory import counts
from tests.conformance.memory.data import RESOURCE, at, message_data, new_id, save_thread, seed_messages
from tests.conftest import Backend, make_store

NEWEST = {"field": "createdAt", "direction": "DESC"}


def spent(store: DynamoDBStore, before: dict[str, int]) -> dict[str, int]:
    after = store.request_counts()
    return {op: n - before.get(op, 0) for op, n in after.items() if n - before.get(op, 0)}


def counters_of(store: DynamoDBStore, thread_id: str) -> counts.Counters | None:
    return counts.read(store.table.get_item(keys.thread_key(thread_id)))


def turn(memory: MemoryStorage, thread_id: str, n: int, *, start: int) -> list[str]:
    ids = [new_id("m") for _ in range(n)]
    memory.save_messages(messages=[
        message_data(thread_id, f"turn {start + i}", id=i_d, created_at=at(minutes=start + i))
        for i, i_d in enumerate(ids)])
    return ids


def test_new_messages_into_a_seen_thread_are_one_transaction(store: DynamoDBStore, memory: MemoryStorage) -> None:
    thread = save_thread(memory, id=new_id("t"))
    assert memory.get_thread_by_id(thread_id=thread.id) is not None
    before = dict(store.request_counts())
    turn(memory, thread.id, 2, start=0)
    assert spent(store, before) == {"TransactWriteItems": 1}
    # the counters appear with the first total that needs them; from then on the same path keeps them
    seed_messages(memory, thread.id, 25, start=at(hours=1))
    page = memory.list_messages(thread_id=thread.id, per_page=20, order_by=NEWEST)
    assert page.total == 27
    assert counters_of(store, thread.id) == counts.Counters(27, RESOURCE, 0)
    for k in range(3):
        before = dict(store.request_counts())
        turn(memory, thread.id, 2, start=100 + 2 * k)
        assert spent(store, before) == {"TransactWriteItems": 1}
    assert counters_of(store, thread.id) == counts.Counters(33, RESOURCE, 0)
    page = memory.list_messages(thread_id=thread.id, per_page=20, order_by=NEWEST)
    assert page.total == 33 and len(page.messages) == 20


def test_updated_at_moves_forward_with_each_save(store: DynamoDBStore, memory: MemoryStorage) -> None:
    thread = save_thread(memory, id=new_id("t"))
    first = memory.get_thread_by_id(thread_id=thread.id)
    assert first is not None
    turn(memory, thread.id, 1, start=0)
    second = memory.get_thread_by_id(thread_id=thread.id)
    assert second is not None and second.updated_at > first.updated_at


def test_a_stale_hint_falls_back_and_keeps_counters_exact(backend: Backend, store: DynamoDBStore,
                                                          memory: MemoryStorage) -> None:
    other = DynamoDBStore(id="other", table_name=store.table_name, region=store.region,
                          endpoint_url=store.endpoint_url)
    try:
        other_memory = other.get_store("memory")
        thread = save_thread(memory, id=new_id("t"))
        assert memory.get_thread_by_id(thread_id=thread.id) is not None  # hint: no counters
        seed_messages(other_memory, thread.id, 25)
        assert other_memory.list_messages(thread_id=thread.id, per_page=5, order_by=NEWEST).total == 25
        assert counters_of(store, thread.id) is not None  # built by the other process
        turn(memory, thread.id, 2, start=500)  # planned on the stale hint: cancelled, then planned with reads
        assert counters_of(store, thread.id) == counts.Counters(27, RESOURCE, 0)
        # the other process's hint is stale too (it saw 25): its fast path still adds, never overwrites
        turn(other_memory, thread.id, 2, start=600)
        assert counters_of(store, thread.id) == counts.Counters(29, RESOURCE, 0)
        everything = memory.list_messages(thread_id=thread.id, per_page=False).messages
        assert len(everything) == 29
    finally:
        other.close()


def test_resaving_a_message_elsewhere_moves_it(store: DynamoDBStore, memory: MemoryStorage) -> None:
    thread = save_thread(memory, id=new_id("t"))
    memory.get_thread_by_id(thread_id=thread.id)
    (mid,) = turn(memory, thread.id, 1, start=0)
    memory.save_messages(messages=[message_data(thread.id, "moved in time", id=mid, created_at=at(days=2))])
    everything = memory.list_messages(thread_id=thread.id, per_page=False).messages
    assert [m.id for m in everything] == [mid]
    assert everything[0].created_at == at(days=2)
    assert memory.list_messages(thread_id=thread.id, per_page=1, order_by=NEWEST).total == 1


def test_messages_for_a_deleted_thread_take_the_general_path(store: DynamoDBStore, memory: MemoryStorage) -> None:
    thread = save_thread(memory, id=new_id("t"))
    memory.get_thread_by_id(thread_id=thread.id)
    memory.delete_thread(thread_id=thread.id)
    (mid,) = turn(memory, thread.id, 1, start=0)  # the hint says the thread exists: the condition says not
    assert memory.get_thread_by_id(thread_id=thread.id) is None
    assert [m.id for m in memory.list_messages_by_id(message_ids=[mid]).messages] == [mid]


def test_working_memory_update_is_one_request(store: DynamoDBStore, memory: MemoryStorage) -> None:
    before = dict(store.request_counts())
    created = memory.update_resource(resource_id="r-wm", working_memory="# first")
    # missing: the failed update says so (it returns no item), and the resource is put
    assert spent(store, before) == {"UpdateItem": 1, "PutItem": 1}
    assert created.working_memory == "# first" and created.metadata == {}
    before = dict(store.request_counts())
    updated = memory.update_resource(resource_id="r-wm", working_memory="# second")
    assert spent(store, before) == {"UpdateItem": 1}
    assert updated.working_memory == "# second" and updated.created_at == created.created_at
    assert updated.updated_at > created.updated_at
    stored = memory.get_resource_by_id(resource_id="r-wm")
    assert stored is not None and stored.working_memory == "# second"
    with_meta = memory.update_resource(resource_id="r-wm", metadata={"a": 1})
    assert with_meta.working_memory == "# second" and with_meta.metadata == {"a": 1}


def test_listing_by_updated_at_follows_message_activity(store: DynamoDBStore, memory: MemoryStorage) -> None:
    resource = new_id("r")
    ids = [save_thread(memory, id=new_id("t"), resource_id=resource,
                       created_at=at(minutes=i), updated_at=at(minutes=i)).id for i in range(4)]
    memory.save_messages(messages=[message_data(ids[1], "later", resource_id=resource,
                                                created_at=at(days=1))])
    page = memory.list_threads(filter={"resourceId": resource}, per_page=2,
                               order_by={"field": "updatedAt", "direction": "DESC"})
    assert [t.id for t in page.threads] == [ids[1], ids[3]] and page.total == 4 and page.has_more
    oldest = memory.list_threads(filter={"resourceId": resource}, per_page=2, page=1,
                                 order_by={"field": "updatedAt", "direction": "ASC"})
    assert [t.id for t in oldest.threads] == [ids[3], ids[1]]
    by_created = memory.list_threads(filter={"resourceId": resource}, per_page=3,
                                     order_by={"field": "createdAt", "direction": "DESC"})
    assert [t.id for t in by_created.threads] == [ids[3], ids[2], ids[1]] and by_created.total == 4
    assert by_created.threads[2].updated_at > at(hours=12)  # listed records are current, not index copies


@pytest.mark.parametrize("older_indexes", [4])
def test_a_table_of_the_older_layout_is_refused_with_how_to_move(backend: Backend, older_indexes: int) -> None:
    older = TableSpec(gsis=TABLE_SPEC.gsis[:older_indexes], schema_version=1)
    store = make_store(backend)
    client = store.table.raw
    client.create_table(**older.create_table_request(store.table_name))
    client.update_time_to_live(TableName=store.table_name,
                               TimeToLiveSpecification={"Enabled": True, "AttributeName": older.ttl_attribute})
    try:
        with pytest.raises(TableMismatchError) as raised:
            store.init()
        assert raised.value.code == "TABLE_LAYOUT_OUTDATED"
        assert "export" in str(raised.value) and "import" in str(raised.value)
        assert raised.value.details["schema_version"] == 1
    finally:
        client.delete_table(TableName=store.table_name)
        store.close()


def test_thread_updated_at_far_in_the_future_still_moves(store: DynamoDBStore, memory: MemoryStorage) -> None:
    future = at(days=3650)
    thread = save_thread(memory, id=new_id("t"), updated_at=future)
    memory.get_thread_by_id(thread_id=thread.id)
    turn(memory, thread.id, 1, start=0)  # the cheap path needs updatedAt < now: planned instead
    saved = memory.get_thread_by_id(thread_id=thread.id)
    assert saved is not None and saved.updated_at == future + timedelta(milliseconds=1)


def test_update_messages_reads_messages_and_their_thread_together(store: DynamoDBStore,
                                                                  memory: MemoryStorage) -> None:
    thread = save_thread(memory, id=new_id("t"))
    saved = seed_messages(memory, thread.id, 3)
    ids = [m["id"] for m in saved[:2]]
    before = dict(store.request_counts())
    updated = memory.update_messages(messages=[{"id": i, "content": {"metadata": {"edited": True}}} for i in ids])
    # pointers, then the messages with their thread, then one transaction
    assert spent(store, before) == {"BatchGetItem": 2, "TransactWriteItems": 1}
    assert [m.id for m in updated] == ids and all(m.content["metadata"] == {"edited": True} for m in updated)
    other = save_thread(memory, id=new_id("t"))
    before = dict(store.request_counts())
    memory.update_messages(messages=[{"id": ids[0], "thread_id": other.id}])
    assert spent(store, before) == {"BatchGetItem": 3, "TransactWriteItems": 1}  # + the thread it moves to
    assert [m.id for m in memory.list_messages(thread_id=other.id).messages] == [ids[0]]
    assert memory.list_messages(thread_id=thread.id).total == 2


def test_delete_messages_of_a_thread_this_process_knows_reads_only_the_pointers(store: DynamoDBStore,
                                                                                memory: MemoryStorage) -> None:
    thread = save_thread(memory, id=new_id("t"))
    ids = [m["id"] for m in seed_messages(memory, thread.id, 4)]
    assert memory.list_messages(thread_id=thread.id, per_page=2).total == 4  # counters stored
    before = dict(store.request_counts())
    memory.delete_messages(ids[:2])
    assert spent(store, before) == {"BatchGetItem": 1, "TransactWriteItems": 1}
    assert counters_of(store, thread.id) == counts.Counters(2, RESOURCE, 0)
    assert [m.id for m in memory.list_messages(thread_id=thread.id).messages] == ids[2:]
    stored = store.table.get_item(keys.thread_key(thread.id))
    assert stored is not None and memory.get_thread_by_id(thread_id=thread.id).updated_at > thread.updated_at


def test_a_stale_hint_only_costs_a_retry_that_reads_the_thread(backend: Backend, store: DynamoDBStore,
                                                               memory: MemoryStorage) -> None:
    thread = save_thread(memory, id=new_id("t"))
    ids = [m["id"] for m in seed_messages(memory, thread.id, 4)]
    assert memory.list_messages(thread_id=thread.id, per_page=2).total == 4
    other = DynamoDBStore(id="other-process", table_name=store.table_name, region="us-east-1",
                          endpoint_url=backend.endpoint_url)
    # another process adds a message: the counters move on, but a delete only adds -1 to them
    other.get_store("memory").save_messages(messages=[message_data(thread.id, "elsewhere", created_at=at(hours=1))])
    memory.delete_messages([ids[0]])
    assert counters_of(store, thread.id) == counts.Counters(4, RESOURCE, 0)
    # another process drops the counters: the planned transaction is cancelled, the retry reads the thread
    counts.freeze(other.get_store("memory"), thread.id)
    before = dict(store.request_counts())
    memory.delete_messages([ids[1]])
    assert spent(store, before) == {"BatchGetItem": 3, "TransactWriteItems": 2}
    assert counters_of(store, thread.id) is None
    assert memory.list_messages(thread_id=thread.id, per_page=2).total == 3
