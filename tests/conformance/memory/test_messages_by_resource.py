"""Spec 3.10.7 list_messages_by_resource_id: every message whose resourceId is the argument, across threads.

Messages are in no index; a resource's messages are found through the link items of the threads that hold them
(models/memory.py ``ResourceLinkItem``). These cases cover every way a message of a resource can come to be in
a thread: saved into a thread of the resource, saved into a thread of another resource, left behind when the
thread changes resource, moved by update_messages, copied by clone_thread.
"""

from __future__ import annotations

from typing import Any

import pytest

from mastra_dynamo import DynamoDBStore
from mastra_dynamo.domains import MemoryStorage
from mastra_dynamo.models.memory import ThreadItem
from mastra_dynamo.schema import keys

from .data import at, message_data, save_thread, texts

RES_A = "by-resource-a"
RES_B = "by-resource-b"


@pytest.fixture
def layout(memory: MemoryStorage) -> None:
    """A owns A1 (a1, a3) and A2 (a2, a5); B owns B1 (b1, and a4 of resource A: a foreign message)."""
    save_thread(memory, id="A1", resource_id=RES_A)
    save_thread(memory, id="A2", resource_id=RES_A)
    save_thread(memory, id="B1", resource_id=RES_B)
    rows = [("a1", "A1", RES_A), ("a2", "A2", RES_A), ("b1", "B1", RES_B), ("a3", "A1", RES_A),
            ("a4", "B1", RES_A), ("a5", "A2", RES_A)]
    for i, (name, thread, resource) in enumerate(rows):  # one call each: the fast path and its links
        memory.save_messages(messages=[message_data(thread, name, id=f"m-{name}", resource_id=resource,
                                                    created_at=at(minutes=i), metadata={"n": i})])


@pytest.mark.usefixtures("layout")
def test_messages_of_a_resource_across_its_threads_and_others(memory: MemoryStorage) -> None:
    page = memory.list_messages_by_resource_id(resource_id=RES_A)
    assert texts(page.messages) == ["a1", "a2", "a3", "a4", "a5"]
    assert (page.total, page.page, page.has_more) == (5, 0, False)
    other = memory.list_messages_by_resource_id(resource_id=RES_B)
    assert texts(other.messages) == ["b1"]
    assert memory.list_messages_by_resource_id(resource_id="nobody").total == 0


@pytest.mark.usefixtures("layout")
def test_order_paging_and_totals(memory: MemoryStorage) -> None:
    newest = memory.list_messages_by_resource_id(resource_id=RES_A, order_by={"field": "createdAt",
                                                                              "direction": "DESC"}, per_page=2)
    assert texts(newest.messages) == ["a5", "a4"]
    assert (newest.total, newest.has_more) == (5, True)
    last = memory.list_messages_by_resource_id(resource_id=RES_A, per_page=2, page=2)
    assert texts(last.messages) == ["a5"]
    assert (last.total, last.has_more) == (5, False)
    everything = memory.list_messages_by_resource_id(resource_id=RES_A, per_page=False)
    assert len(everything.messages) == everything.total == 5


@pytest.mark.usefixtures("layout")
def test_date_range_and_metadata_filters(memory: MemoryStorage) -> None:
    ranged = memory.list_messages_by_resource_id(resource_id=RES_A, filter={"date_range": {
        "start": at(minutes=1), "end": at(minutes=4), "end_exclusive": True}})
    assert texts(ranged.messages) == ["a2", "a3"]
    assert ranged.total == 2
    tagged = memory.list_messages_by_resource_id(resource_id=RES_A, filter={"metadata": {"n": 4}})
    assert texts(tagged.messages) == ["a4"]


@pytest.mark.usefixtures("layout")
def test_include_windows_stay_inside_the_resource(memory: MemoryStorage) -> None:
    page = memory.list_messages_by_resource_id(resource_id=RES_B, include=[
        {"id": "m-a4", "with_previous_messages": 1, "with_next_messages": 1}])
    assert texts(page.messages) == ["b1"]  # a4 is resource A's message, even in B's thread
    page = memory.list_messages_by_resource_id(resource_id=RES_A, per_page=1, include=[
        {"id": "m-a5", "with_previous_messages": 1}])
    assert texts(page.messages) == ["a1", "a2", "a5"]


@pytest.mark.usefixtures("layout")
def test_a_thread_that_changes_resource_keeps_its_messages_listed(memory: MemoryStorage) -> None:
    save_thread(memory, id="A1", resource_id=RES_B)  # upsert: A1 now belongs to B; a1 and a3 stay A's
    memory.save_messages(messages=[message_data("A1", "b2", id="m-b2", resource_id=RES_B, created_at=at(minutes=9))])
    assert texts(memory.list_messages_by_resource_id(resource_id=RES_A).messages) == ["a1", "a2", "a3", "a4", "a5"]
    assert texts(memory.list_messages_by_resource_id(resource_id=RES_B).messages) == ["b1", "b2"]


@pytest.mark.usefixtures("layout")
def test_moved_deleted_and_cloned_messages(memory: MemoryStorage) -> None:
    memory.update_messages(messages=[{"id": "m-b1", "thread_id": "A2", "resource_id": RES_A}])
    assert texts(memory.list_messages_by_resource_id(resource_id=RES_A).messages) == [
        "a1", "a2", "b1", "a3", "a4", "a5"]
    assert memory.list_messages_by_resource_id(resource_id=RES_B).total == 0
    memory.delete_messages(["m-a3"])
    memory.delete_thread(thread_id="B1")
    assert texts(memory.list_messages_by_resource_id(resource_id=RES_A).messages) == ["a1", "a2", "b1", "a5"]
    clone = memory.clone_thread(source_thread_id="A2", new_thread_id="C1", resource_id="by-resource-c")
    cloned = memory.list_messages_by_resource_id(resource_id="by-resource-c")
    assert [m.id for m in cloned.messages] == [m.id for m in clone.cloned_messages]
    assert cloned.total == 3


def _raw(store: DynamoDBStore, key: keys.Key) -> dict[str, Any] | None:
    item: dict[str, Any] | None = store.table.get_item(key, consistent=True)
    return item


def test_a_link_is_written_once_and_goes_with_its_thread(store: DynamoDBStore, memory: MemoryStorage) -> None:
    save_thread(memory, id="L1", resource_id=RES_A)
    for i in range(3):
        memory.save_messages(messages=[message_data("L1", f"x{i}", resource_id=RES_A, created_at=at(minutes=i)),
                                       message_data("L1", f"y{i}", resource_id=RES_B, created_at=at(minutes=i))])
    thread = _raw(store, keys.thread_key("L1"))
    assert thread is not None
    assert set(thread[ThreadItem.linked_resources.attr_name]["SS"]) == {RES_A, RES_B}
    assert _raw(store, keys.resource_link_key("L1", RES_A)) is not None
    assert _raw(store, keys.resource_link_key("L1", RES_B)) is not None
    memory.delete_thread(thread_id="L1")
    assert _raw(store, keys.resource_link_key("L1", RES_A)) is None
    assert _raw(store, keys.resource_link_key("L1", RES_B)) is None
    assert memory.list_messages_by_resource_id(resource_id=RES_B).total == 0
