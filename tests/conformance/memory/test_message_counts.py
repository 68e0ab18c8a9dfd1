"""The message counters on the thread item: exact totals for one thread's history in one request.

Every check compares ``list_messages(...).total`` with the number of messages a complete listing returns,
and the raw counters on the thread item with the truth, after every kind of message write.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest

from mastra_dynamo import DynamoDBStore
from mastra_dynamo.domains import MemoryStorage
from mastra_dynamo.schema import keys
from mastra_dynamo.stores.memory import counts
from tests.conformance.memory.data import (
    OTHER_RESOURCE,
    RESOURCE,
    at,
    message_data,
    new_id,
    save_thread,
    seed_messages,
    texts,
)

LAST = {"per_page": 3, "page": 0, "order_by": {"field": "createdAt", "direction": "DESC"}}


def message(thread_id: str, text: str, resource_id: str | None, **kwargs: Any) -> dict[str, Any]:
    """A message input; ``resource_id`` None leaves the field out (a message without a resource)."""
    data = message_data(thread_id, text, resource_id=resource_id, **kwargs)
    if resource_id is None:
        del data["resource_id"]
    return data


def thread_item(store: DynamoDBStore, thread_id: str) -> dict[str, Any] | None:
    return store.table.get_item(keys.thread_key(thread_id))


def truth(memory: MemoryStorage, thread_id: str, resource_id: str | None) -> int:
    return len(memory.list_messages(thread_id=thread_id, resource_id=resource_id, per_page=False).messages)


def assert_counters_exact(store: DynamoDBStore, memory: MemoryStorage, thread_id: str) -> None:
    item = thread_item(store, thread_id)
    counters = counts.read(item)
    if counters is None:
        return
    everything = memory.list_messages(thread_id=thread_id, per_page=False).messages
    assert counters.total == len(everything)
    assert counters.foreign == sum(1 for m in everything if (m.resource_id or "") != counters.ref)


def requests(store: DynamoDBStore) -> dict[str, int]:
    return dict(store.request_counts())


def spent(store: DynamoDBStore, before: dict[str, int]) -> dict[str, int]:
    after = store.request_counts()
    return {op: n - before.get(op, 0) for op, n in after.items() if n - before.get(op, 0)}


def test_newest_page_with_total_is_one_query_once_counted(store: DynamoDBStore, memory: MemoryStorage) -> None:
    thread = save_thread(memory, id=new_id("t"))
    seed_messages(memory, thread.id, 30)
    first = memory.list_messages(thread_id=thread.id, per_page=20, page=0,
                                 order_by={"field": "createdAt", "direction": "DESC"})
    assert first.total == 30 and first.has_more and len(first.messages) == 20
    assert counts.read(thread_item(store, thread.id)) == counts.Counters(30, RESOURCE, 0)
    before = requests(store)
    again = memory.list_messages(thread_id=thread.id, per_page=20, page=0,
                                 order_by={"field": "createdAt", "direction": "DESC"})
    assert spent(store, before) == {"Query": 1}
    assert again.total == 30 and [m.id for m in again.messages] == [m.id for m in first.messages]
    seed_messages(memory, thread.id, 2, start=at(hours=1), label="Later")
    before = requests(store)
    page = memory.list_messages(thread_id=thread.id, per_page=20, page=1,
                                order_by={"field": "createdAt", "direction": "DESC"})
    assert spent(store, before) == {"Query": 1}
    assert page.total == 32 and len(page.messages) == 12 and not page.has_more


def test_oldest_first_page_reads_the_thread_item_with_getitem(store: DynamoDBStore, memory: MemoryStorage) -> None:
    thread = save_thread(memory, id=new_id("t"))
    seed_messages(memory, thread.id, 12)
    memory.list_messages(thread_id=thread.id, per_page=5)  # builds the counters
    before = requests(store)
    page = memory.list_messages(thread_id=thread.id, per_page=5, page=1)
    assert spent(store, before) == {"Query": 1, "GetItem": 1}
    assert page.total == 12 and page.has_more and texts(page.messages) == [
        f"Message {i}" for i in range(6, 11)]


def test_last_page_and_exact_page_need_no_total(store: DynamoDBStore, memory: MemoryStorage) -> None:
    thread = save_thread(memory, id=new_id("t"))
    seed_messages(memory, thread.id, 20)
    before = requests(store)
    page = memory.list_messages(thread_id=thread.id, per_page=20, page=0,
                                order_by={"field": "createdAt", "direction": "DESC"})
    assert spent(store, before) == {"Query": 1}
    assert page.total == 20 and not page.has_more
    before = requests(store)
    page = memory.list_messages(thread_id=thread.id, per_page=8, page=2)
    assert spent(store, before) == {"Query": 1}
    assert page.total == 20 and len(page.messages) == 4 and not page.has_more


def test_include_total_false_is_one_request(store: DynamoDBStore, memory: MemoryStorage) -> None:
    thread = save_thread(memory, id=new_id("t"))
    seed_messages(memory, thread.id, 25)
    for direction in ("ASC", "DESC"):
        before = requests(store)
        page = memory.list_messages(thread_id=thread.id, per_page=10, page=1, include_total=False,
                                    order_by={"field": "createdAt", "direction": direction})
        assert spent(store, before) == {"Query": 1}
        assert len(page.messages) == 10 and page.has_more and page.total >= 21


def test_page_past_the_end_reports_the_real_total(memory: MemoryStorage) -> None:
    thread = save_thread(memory, id=new_id("t"))
    seed_messages(memory, thread.id, 7)
    for include_total in (True, False):
        page = memory.list_messages(thread_id=thread.id, per_page=5, page=4, include_total=include_total,
                                    order_by={"field": "createdAt", "direction": "DESC"})
        assert page.messages == [] and page.total == 7 and not page.has_more


def test_resource_split_answers_filtered_totals(store: DynamoDBStore, memory: MemoryStorage) -> None:
    thread = save_thread(memory, id=new_id("t"))
    seed_messages(memory, thread.id, 6)
    seed_messages(memory, thread.id, 2, start=at(hours=1), resource_id=OTHER_RESOURCE, label="Other")
    memory.save_messages(messages=[message(thread.id, "none", None, created_at=at(hours=2))])
    memory.list_messages(thread_id=thread.id, **LAST)  # builds the counters
    assert counts.read(thread_item(store, thread.id)) == counts.Counters(9, RESOURCE, 3)
    for resource_id, expected in ((None, 9), (RESOURCE, 6), (OTHER_RESOURCE, 2), ("nobody", 0)):
        page = memory.list_messages(thread_id=thread.id, resource_id=resource_id, **LAST)
        assert page.total == expected, resource_id
        assert all(resource_id is None or m.resource_id == resource_id for m in page.messages)
        assert len(page.messages) == min(3, expected)


def test_messages_with_a_ttl_keep_no_counters(store_factory: Any) -> None:
    store = store_factory(ttl={"message": {"enabled": True, "defaultTtlSeconds": 3600}})
    memory = store.get_store("memory")
    thread = save_thread(memory, id=new_id("t"))
    seed_messages(memory, thread.id, 8)
    assert memory.list_messages(thread_id=thread.id, **LAST).total == 8
    assert counts.read(thread_item(store, thread.id)) is None  # expiry would not decrement a counter


def test_counters_removed_when_a_ttl_message_arrives(store_factory: Any, backend: Any) -> None:
    plain = store_factory()
    memory = plain.get_store("memory")
    thread = save_thread(memory, id=new_id("t"))
    seed_messages(memory, thread.id, 5)
    memory.list_messages(thread_id=thread.id, **LAST)
    assert counts.read(thread_item(plain, thread.id)) is not None
    expiring = DynamoDBStore(id="expiring", table_name=plain.table_name, region="us-east-1",
                             endpoint_url=backend.endpoint_url,
                             ttl={"message": {"enabled": True, "defaultTtlSeconds": 3600}})
    try:
        expiring.init()
        expiring.get_store("memory").save_messages(
            messages=[message_data(thread.id, "expires", created_at=at(hours=3))])
    finally:
        expiring.close()
    assert counts.read(thread_item(plain, thread.id)) is None
    assert memory.list_messages(thread_id=thread.id, **LAST).total == 6
    assert counts.read(thread_item(plain, thread.id)) is None  # not rebuilt while a message can expire


def test_pointer_without_resource_invalidates_instead_of_guessing(store: DynamoDBStore,
                                                                   memory: MemoryStorage) -> None:
    thread = save_thread(memory, id=new_id("t"))
    inputs = seed_messages(memory, thread.id, 4)
    memory.list_messages(thread_id=thread.id, **LAST)
    assert counts.read(thread_item(store, thread.id)) is not None
    ref_key = keys.message_ref_key(inputs[0]["id"])  # a pointer as written before pointers carried `mr`
    store.table.call("UpdateItem", TableName=store.table_name,
                     Key={"pk": {"S": ref_key.pk}, "sk": {"S": ref_key.sk}}, UpdateExpression="REMOVE mr")
    memory.delete_messages([inputs[0]["id"]])
    assert counts.read(thread_item(store, thread.id)) is None
    assert memory.list_messages(thread_id=thread.id, **{**LAST, "per_page": 2}).total == 3  # rebuilds
    assert counts.read(thread_item(store, thread.id)) == counts.Counters(3, RESOURCE, 0)


@pytest.mark.sync_internals("calls counts.freeze on the domain")
def test_delete_thread_freezes_counters_before_the_cascade(store: DynamoDBStore, memory: MemoryStorage) -> None:
    thread = save_thread(memory, id=new_id("t"))
    seed_messages(memory, thread.id, 4)
    memory.list_messages(thread_id=thread.id, **LAST)
    counts.freeze(memory, thread.id)  # what delete_thread does first; a crash right after leaves this state
    item = thread_item(store, thread.id)
    assert item is not None and counts.read(item) is None and counts.FROZEN in item
    assert memory.list_messages(thread_id=thread.id, **LAST).total == 4
    assert counts.read(thread_item(store, thread.id)) is None  # never rebuilt for a frozen thread
    memory.delete_thread(thread_id=thread.id)
    assert thread_item(store, thread.id) is None
    assert memory.list_messages(thread_id=thread.id, **LAST).total == 0


def test_clone_starts_with_exact_counters(store: DynamoDBStore, memory: MemoryStorage) -> None:
    source = save_thread(memory, id=new_id("t"))
    seed_messages(memory, source.id, 5)
    result = memory.clone_thread(source_thread_id=source.id, resource_id=OTHER_RESOURCE)
    assert counts.read(thread_item(store, result.thread.id)) == counts.Counters(5, OTHER_RESOURCE, 0)
    before = requests(store)
    page = memory.list_messages(thread_id=result.thread.id, **LAST)
    assert spent(store, before) == {"Query": 1}
    assert page.total == 5


@pytest.mark.sync_internals("calls counts.rebuild on the domain")
def test_rebuild_loses_to_a_concurrent_write(store: DynamoDBStore, memory: MemoryStorage) -> None:
    thread = save_thread(memory, id=new_id("t"))
    seed_messages(memory, thread.id, 3)
    stale = thread_item(store, thread.id)  # read before the write below, as a slow reader would have
    seed_messages(memory, thread.id, 2, start=at(hours=1), label="New")
    counts.rebuild(memory, thread.id, stale, None)  # its revision no longer matches: nothing written
    assert counts.read(thread_item(store, thread.id)) is None
    assert memory.list_messages(thread_id=thread.id, **LAST).total == 5


def test_a_read_of_the_whole_history_lets_the_next_save_store_the_counters(store: DynamoDBStore,
                                                                          memory: MemoryStorage) -> None:
    """A newest-first page that is the whole history is an exact count: no request is added to count it,
    and the next message transaction of this process stores the counters (an agent's first turns)."""
    thread = save_thread(memory, id=new_id("t"))
    seed_messages(memory, thread.id, 3, resource_id=OTHER_RESOURCE)
    seed_messages(memory, thread.id, 1, start=at(hours=1), label="Mine")
    before = requests(store)
    whole = memory.list_messages(thread_id=thread.id, **{**LAST, "per_page": 10})  # nothing after the page
    assert whole.total == 4 and not whole.has_more
    assert spent(store, before) == {"Query": 1}
    assert counts.read(thread_item(store, thread.id)) is None
    before = requests(store)
    seed_messages(memory, thread.id, 2, start=at(hours=2), label="Turn")
    assert spent(store, before) == {"TransactWriteItems": 1}
    assert counts.read(thread_item(store, thread.id)) == counts.Counters(6, RESOURCE, 3)
    before = requests(store)
    assert memory.list_messages(thread_id=thread.id, **LAST).total == 6  # more than a page: the counters
    assert spent(store, before) == {"Query": 1}
    assert memory.list_messages(thread_id=thread.id, resource_id=RESOURCE, **LAST).total == 3
    assert_counters_exact(store, memory, thread.id)


def test_counters_of_a_read_are_not_stored_after_another_write(backend: Any, store: DynamoDBStore,
                                                                memory: MemoryStorage) -> None:
    """Another process writes between the read and this process's next save: the counters that read found
    are stale, and the save's condition on the thread's revision keeps them out."""
    thread = save_thread(memory, id=new_id("t"))
    seed_messages(memory, thread.id, 2)
    assert memory.list_messages(thread_id=thread.id, **LAST).total == 2
    other = DynamoDBStore(id="other-process", table_name=store.table_name, region="us-east-1",
                          endpoint_url=backend.endpoint_url)
    other.get_store("memory").save_messages(messages=[message_data(thread.id, "elsewhere", created_at=at(hours=1))])
    seed_messages(memory, thread.id, 2, start=at(hours=2), label="Turn")
    assert memory.list_messages(thread_id=thread.id, **LAST).total == 5
    assert_counters_exact(store, memory, thread.id)
    assert counts.read(thread_item(store, thread.id)) == counts.Counters(5, RESOURCE, 0)  # rebuilt by that total


def test_messages_into_an_absent_thread_are_counted_after_creation(store: DynamoDBStore,
                                                                   memory: MemoryStorage) -> None:
    thread_id = new_id("t")
    seed_messages(memory, thread_id, 3)  # no thread item yet
    assert memory.list_messages(thread_id=thread_id, **LAST).total == 3
    save_thread(memory, id=thread_id)
    assert memory.list_messages(thread_id=thread_id, **LAST).total == 3
    seed_messages(memory, thread_id, 2, start=at(hours=1), label="More")
    assert memory.list_messages(thread_id=thread_id, **LAST).total == 5
    assert_counters_exact(store, memory, thread_id)


@pytest.mark.parametrize("seed", [1, 2])
def test_random_writes_keep_totals_exact(store: DynamoDBStore, memory: MemoryStorage, seed: int) -> None:
    rng = random.Random(seed)
    threads = [save_thread(memory, id=new_id("t")).id for _ in range(3)]
    resources: list[str | None] = [RESOURCE, OTHER_RESOURCE, None]
    known: list[str] = []
    clock = at(days=1)
    for step in range(30):
        clock += timedelta(seconds=1)
        op = rng.choice(["save", "save", "resave", "move", "update", "delete", "clone", "list"])
        if op == "save" or not known:
            batch = [message(rng.choice(threads), f"m{step}.{i}", rng.choice(resources),
                                  created_at=clock + timedelta(milliseconds=i)) for i in range(rng.randint(1, 4))]
            memory.save_messages(messages=batch)
            known += [m["id"] for m in batch]
        elif op == "resave":
            message_id = rng.choice(known)
            memory.save_messages(messages=[message(rng.choice(threads), "again", rng.choice(resources),
                                                   id=message_id, created_at=clock)])
        elif op == "move":
            memory.update_messages(messages=[{"id": rng.choice(known), "thread_id": rng.choice(threads)}])
        elif op == "update":
            memory.update_messages(messages=[{"id": rng.choice(known),
                                              "resource_id": rng.choice([RESOURCE, OTHER_RESOURCE])}])
        elif op == "delete":
            victims = rng.sample(known, min(len(known), rng.randint(1, 3)))
            memory.delete_messages(victims)
            known = [k for k in known if k not in victims]
        elif op == "clone":
            threads.append(memory.clone_thread(source_thread_id=rng.choice(threads)).thread.id)
        for thread_id in threads:
            for resource_id in (None, RESOURCE, OTHER_RESOURCE):
                page = memory.list_messages(thread_id=thread_id, resource_id=resource_id, **LAST)
                assert page.total == truth(memory, thread_id, resource_id), (step, op, thread_id, resource_id)
            assert_counters_exact(store, memory, thread_id)
    assert any(counts.read(thread_item(store, t)) is not None for t in threads)


def test_concurrent_writers_and_readers_keep_counters_exact(backend: Any, store: DynamoDBStore,
                                                            memory: MemoryStorage) -> None:
    """Writers save, re-save and delete messages of one thread while readers ask for totals (which rebuild
    the counters when they are missing): afterwards the counters equal the history."""
    from concurrent.futures import ThreadPoolExecutor

    from tests.conftest import require

    require(backend, "concurrent_clients")
    thread = save_thread(memory, id=new_id("t"))
    seed_messages(memory, thread.id, 5)

    def writer(w: int) -> None:
        rng = random.Random(w)
        mine: list[str] = []
        for i in range(12):
            if mine and rng.random() < 0.3:
                memory.delete_messages([mine.pop(rng.randrange(len(mine)))])
            else:
                data = message(thread.id, f"w{w}.{i}", rng.choice([RESOURCE, OTHER_RESOURCE, None]),
                               created_at=at(hours=w, seconds=i))
                memory.save_messages(messages=[data])
                mine.append(data["id"])

    def reader(r: int) -> None:
        for _ in range(10):
            page = memory.list_messages(thread_id=thread.id, resource_id=[None, RESOURCE][r % 2], **LAST)
            assert page.total >= len(page.messages)

    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(writer, w) for w in range(5)] + [pool.submit(reader, r) for r in range(3)]
        for future in futures:
            future.result()
    memory.list_messages(thread_id=thread.id, **{**LAST, "per_page": 1})  # rebuilds if the last write removed them
    assert counts.read(thread_item(store, thread.id)) is not None
    assert_counters_exact(store, memory, thread.id)
    for resource_id in (None, RESOURCE, OTHER_RESOURCE):
        assert memory.list_messages(thread_id=thread.id, resource_id=resource_id, **LAST).total == truth(
            memory, thread.id, resource_id)


@pytest.mark.parametrize("count", [19, 20, 21, 45])
def test_a_newest_page_reads_no_message_past_it_once_the_counters_are_seen(backend: Any, count: int) -> None:
    """A process that last saw the thread with stored counters (``get_thread_by_id`` of an agent turn) reads
    the thread item and the page, not one message more: the counters tell whether more follow."""
    from tests.conftest import fresh_store

    newest = {"field": "createdAt", "direction": "DESC"}
    with fresh_store(backend, api="sync") as store:
        memory = store.get_store("memory")
        thread = save_thread(memory, id=new_id("t"))
        seed_messages(memory, thread.id, count)
        memory.list_messages(thread_id=thread.id, per_page=1, order_by=newest)  # a total: stores the counters
        memory.get_thread_by_id(thread_id=thread.id)
        limits: list[int] = []

        def record(params: dict[str, Any], **_: Any) -> None:
            limits.append(params.get("Limit", 0))

        store.table.raw.meta.events.register("provide-client-params.dynamodb.Query", record, unique_id="limits")
        for per_page, page in ((20, 0), (20, 1), (10, 1), (10, 4)):
            limits.clear()
            before = requests(store)
            result = memory.list_messages(thread_id=thread.id, per_page=per_page, page=page, order_by=newest)
            assert spent(store, before) == {"Query": 1}
            assert limits == [per_page * (page + 1) + 1]  # the thread item and the messages up to the page's end
            expected = list(reversed(range(1, count + 1)))[per_page * page:per_page * (page + 1)]
            assert texts(result.messages) == [f"Message {i}" for i in expected]
            assert result.total == count
            assert result.has_more == (count > per_page * (page + 1))


def test_a_stale_counter_hint_still_gives_the_exact_total(store: DynamoDBStore, memory: MemoryStorage) -> None:
    """The process saw stored counters, then they went (a cascade froze them here): the page that reads no
    message past its end cannot tell whether more follow, and counts."""
    newest = {"field": "createdAt", "direction": "DESC"}
    for count in (20, 25):
        thread = save_thread(memory, id=new_id("t"))
        seed_messages(memory, thread.id, count)
        memory.list_messages(thread_id=thread.id, per_page=1, order_by=newest)
        memory.get_thread_by_id(thread_id=thread.id)
        assert counts.read(thread_item(store, thread.id)) is not None
        store.table.call("UpdateItem", TableName=store.table_name,
                         Key={"pk": {"S": keys.thread_pk(thread.id)}, "sk": {"S": keys.thread_key(thread.id).sk}},
                         UpdateExpression="REMOVE #c", ExpressionAttributeNames={"#c": counts.COUNT})
        page = memory.list_messages(thread_id=thread.id, per_page=20, order_by=newest)
        assert len(page.messages) == 20 and page.total == count and page.has_more == (count > 20)
