"""Retention: items past their TTL are invisible on every read path, even before DynamoDB deletes them."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest

from mastra_dynamo import DynamoDBStore, NotFoundError
from mastra_dynamo.schema import TABLE_SPEC
from tests.conftest import Backend, FakeClock, StoreFactory, make_store

DAY = 86400


@pytest.fixture
def ttl_store(store_factory: StoreFactory) -> DynamoDBStore:
    return store_factory(ttl={
        "thread": {"enabled": True, "defaultTtlSeconds": DAY},
        "message": {"enabled": True, "defaultTtlSeconds": DAY},
        "resource": {"enabled": True, "defaultTtlSeconds": DAY},
    })


def _seed(store: DynamoDBStore, clock: FakeClock) -> None:
    memory = store.get_store("memory")
    memory.save_thread(thread={"id": "t", "resourceId": "r", "title": "old", "createdAt": clock.now,
                               "updatedAt": clock.now})
    memory.save_messages(messages=[
        {"id": f"m{i}", "threadId": "t", "resourceId": "r", "role": "user", "content": f"{i}",
         "createdAt": clock.now + timedelta(seconds=i)} for i in range(3)
    ])
    memory.save_resource(resource={"id": "r", "workingMemory": "wm"})


def test_ttl_attribute_is_written_from_the_entity_retention(ttl_store: DynamoDBStore, clock: FakeClock) -> None:
    _seed(ttl_store, clock)
    item = ttl_store.table.raw.get_item(TableName=ttl_store.table_name,
                                        Key={"pk": {"S": "T#t"}, "sk": {"S": "T"}})["Item"]
    assert int(item["ttl"]["N"]) == int(clock.now.timestamp()) + DAY


def test_expired_items_are_invisible_on_every_read_path(ttl_store: DynamoDBStore, clock: FakeClock) -> None:
    _seed(ttl_store, clock)
    memory = ttl_store.get_store("memory")
    clock.advance(seconds=DAY + 1)
    assert memory.get_thread_by_id(thread_id="t") is None
    assert memory.list_threads().total == 0
    assert memory.list_threads(filter={"resourceId": "r"}).threads == []
    page = memory.list_messages(thread_id="t", include=[{"id": "m1", "withPreviousMessages": 1}])
    assert page.messages == [] and page.total == 0
    assert memory.list_messages_by_id(message_ids=["m0", "m1"]).messages == []
    assert memory.get_resource_by_id(resource_id="r") is None


def test_expired_thread_is_not_resurrected_by_update(ttl_store: DynamoDBStore, clock: FakeClock) -> None:
    _seed(ttl_store, clock)
    memory = ttl_store.get_store("memory")
    clock.advance(seconds=DAY + 1)
    with pytest.raises(NotFoundError):
        memory.update_thread(id="t", title="new")
    # saving again starts a new life: write-once createdAt restarts because the old thread is gone
    saved = memory.save_thread(thread={"id": "t", "resourceId": "r", "createdAt": clock.now,
                                       "updatedAt": clock.now})
    assert saved.created_at == clock.now and "title" not in saved.model_fields_set
    # messages saved again are not confused with the expired ones
    memory.save_messages(messages=[{"id": "m1", "threadId": "t", "role": "user", "content": "again",
                                    "createdAt": clock.now}])
    assert [m.id for m in memory.list_messages(thread_id="t").messages] == ["m1"]


def test_update_resource_recreates_an_expired_resource(ttl_store: DynamoDBStore, clock: FakeClock) -> None:
    _seed(ttl_store, clock)
    memory = ttl_store.get_store("memory")
    clock.advance(seconds=DAY + 1)
    fresh = memory.update_resource(resource_id="r", metadata={"a": 1})
    assert fresh.working_memory is None and fresh.metadata == {"a": 1}


@contextmanager
def private_dynamodb_local() -> Iterator[str]:
    """A DynamoDB Local of this test alone, on a free loopback port of the test run's private network
    namespace: its TTL sweeper sees no other test's tables. DynamoDB Local's sweep stops at an expired item
    that lacks the keys of one of its table's indexes (real DynamoDB deletes such items), and the suite's
    shared server holds many of those."""
    jar_dir = os.environ.get("DDB_JAR_DIR")
    if not jar_dir:
        pytest.fail("DDB_JAR_DIR is not set: run under scripts/with-dynamodb-local.sh")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        ["java", "-Xmx256m", "-Djava.library.path=./DynamoDBLocal_lib", "-jar", "DynamoDBLocal.jar", "-inMemory",
         "-port", str(port), "-disableTelemetry"], cwd=jar_dir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            with socket.socket() as conn:
                if conn.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the private DynamoDB Local did not start")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.slow
def test_dynamodb_local_really_deletes_expired_items(backend: Backend) -> None:
    """The ``ttl`` value a retention writes makes DynamoDB delete the item. DynamoDB Local only deletes an
    expired item that carries the keys of every index of its table, so the value the store wrote is checked
    on a probe item that carries them all, on a server of this test alone."""
    if not backend.supports("real_ttl_expiry"):
        pytest.skip(f"{backend.name} never deletes expired items (capability real_ttl_expiry)")
    past = FakeClock()
    past.advance(days=-2)
    with private_dynamodb_local() as endpoint:
        s = make_store(Backend(backend.name, endpoint, backend.capabilities), clock=past,
                       ttl={"thread": {"enabled": True, "defaultTtlSeconds": 60}})
        s.create_table()
        s.get_store("memory").save_thread(thread={"id": "gone", "resourceId": "r"})
        thread_key = {"pk": {"S": "T#gone"}, "sk": {"S": "T"}}
        written = s.table.raw.get_item(TableName=s.table_name, Key=thread_key)
        s.table.raw.delete_item(TableName=s.table_name, Key=thread_key)
        probe = {"pk": {"S": "probe"}, "sk": {"S": "probe"}, "ttl": written["Item"]["ttl"]}
        for name in TABLE_SPEC.key_attributes[2:]:
            probe[name] = {"S": "probe"}
        s.table.raw.put_item(TableName=s.table_name, Item=probe)
        key = {"pk": {"S": "probe"}, "sk": {"S": "probe"}}
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if "Item" not in s.table.raw.get_item(TableName=s.table_name, Key=key):
                break
            time.sleep(2)
        assert "Item" not in s.table.raw.get_item(TableName=s.table_name, Key=key)
        s.close()
