"""Messages larger than one DynamoDB item (files as data URLs, long texts): stored in content parts without loss,
read back whole by every read, and their parts never outlive the message or the generation that names them."""

from __future__ import annotations

import base64
import os
from typing import Any

import pytest

from mastra_dynamo import DynamoDBStore
from mastra_dynamo.domains import MemoryStorage
from mastra_dynamo.errors import ItemTooLargeError, StorageError
from mastra_dynamo.schema import keys

from .data import at, message_data, save_thread

MB = 1024 * 1024


def _file_message(thread: str, message_id: str, size: int, *, minute: int = 0) -> dict[str, Any]:
    """A message with an incompressible file part of ``size`` bytes (base64 data URL) and a text part."""
    data = base64.b64encode(os.urandom(size * 3 // 4)).decode("ascii")
    file_part = {"type": "file", "mimeType": "image/png", "data": f"data:image/png;base64,{data}"}
    content = {"format": 2, "parts": [{"type": "text", "text": "see the attachment"}, file_part],
               "content": "see the attachment"}
    return message_data(thread, id=message_id, content=content, created_at=at(minutes=minute))


def _parts(store: DynamoDBStore, message_id: str) -> list[str]:
    """The sort keys of the content parts stored for a message (a raw consistent Query, test-only)."""
    paginator = store.table.raw.get_paginator("query")
    pages = paginator.paginate(
        TableName=store.table_name, KeyConditionExpression="pk = :pk", ConsistentRead=True,
        ExpressionAttributeValues={":pk": {"S": keys.message_parts_pk(message_id)}}, ProjectionExpression="sk")
    return [item["sk"]["S"] for page in pages for item in page["Items"]]


def test_a_4_mb_message_round_trips_through_every_read(store: DynamoDBStore, memory: MemoryStorage) -> None:
    save_thread(memory, id="big")
    small = message_data("big", "before", id="m-small", created_at=at(minutes=0))
    big = _file_message("big", "m-big", 4 * MB, minute=1)
    memory.save_messages(messages=[small])
    saved = memory.save_messages(messages=[big]).messages
    assert saved[0].content == big["content"]
    assert len(_parts(store, "m-big")) >= 9  # ~3 MB compressed, 350 KB per part
    history = memory.list_messages(thread_id="big").messages
    assert [m.id for m in history] == ["m-small", "m-big"] and history[1].content == big["content"]
    assert memory.list_messages_by_id(message_ids=["m-big"]).messages[0].content == big["content"]
    window = memory.list_messages(thread_id="big", per_page=1, include=[{"id": "m-big"}]).messages
    assert any(m.id == "m-big" and m.content == big["content"] for m in window)
    by_resource = memory.list_messages_by_resource_id(resource_id=big["resource_id"]).messages
    assert [m.id for m in by_resource] == ["m-small", "m-big"] and by_resource[1].content == big["content"]
    clone = memory.clone_thread(source_thread_id="big", new_thread_id="big-copy")
    copied = memory.list_messages(thread_id="big-copy").messages
    assert [m.content for m in copied] == [small["content"], big["content"]]
    assert len(clone.cloned_messages) == 2


def test_rewrites_keep_one_generation_and_deletes_leave_no_parts(store: DynamoDBStore,
                                                                 memory: MemoryStorage) -> None:
    save_thread(memory, id="rw")
    big = _file_message("rw", "m-rw", 1 * MB)
    memory.save_messages(messages=[big])
    first = _parts(store, "m-rw")
    assert first
    updated = memory.update_messages(messages=[{"id": "m-rw", "content": {"metadata": {"seen": True}}}])
    assert updated[0].content["metadata"] == {"seen": True}
    assert updated[0].content["parts"] == big["content"]["parts"]
    second = _parts(store, "m-rw")
    assert second and {k.split("#")[0] for k in second} != {k.split("#")[0] for k in first}  # one generation
    assert len({k.split("#")[0] for k in second}) == 1
    read = memory.list_messages_by_id(message_ids=["m-rw"]).messages[0]
    assert read.content["metadata"] == {"seen": True} and read.content["parts"] == big["content"]["parts"]
    # saved again small: the parts go
    memory.save_messages(messages=[message_data("rw", "small now", id="m-rw")])
    assert _parts(store, "m-rw") == []
    assert memory.list_messages(thread_id="rw").messages[0].content["content"] == "small now"
    # large again, then deleted
    memory.save_messages(messages=[_file_message("rw", "m-rw", 1 * MB)])
    assert _parts(store, "m-rw")
    memory.delete_messages(["m-rw"])
    assert _parts(store, "m-rw") == []
    assert memory.list_messages(thread_id="rw").total == 0


def test_delete_thread_removes_the_parts(store: DynamoDBStore, memory: MemoryStorage) -> None:
    save_thread(memory, id="gone")
    memory.save_messages(messages=[_file_message("gone", "m-gone", 1 * MB)])
    assert _parts(store, "m-gone")
    memory.delete_thread(thread_id="gone")
    assert _parts(store, "m-gone") == []
    assert memory.list_messages_by_id(message_ids=["m-gone"]).messages == []


def test_long_random_text_is_stored_once_and_whole(memory: MemoryStorage) -> None:
    save_thread(memory, id="text")
    text = base64.b64encode(os.urandom(600 * 1024)).decode("ascii")  # 800 KB that compresses little
    message = message_data("text", text, id="m-text")
    memory.save_messages(messages=[message])
    assert memory.list_messages(thread_id="text").messages[0].content == message["content"]


def test_beyond_the_limit_is_refused_and_nothing_is_written(store: DynamoDBStore, memory: MemoryStorage) -> None:
    save_thread(memory, id="huge")
    with pytest.raises(ItemTooLargeError) as info:
        memory.save_messages(messages=[message_data("huge", "ok", id="m-ok"), _file_message("huge", "m-huge", 24 * MB)])
    assert info.value.details["id"] == "m-huge"
    assert memory.list_messages(thread_id="huge").total == 0
    assert _parts(store, "m-huge") == []


@pytest.mark.sync_internals("patches the domain's sweep_parts")
def test_an_interrupted_write_is_completed_by_running_it_again(store: DynamoDBStore, memory: MemoryStorage,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Parts go first, then the transaction that names them, then the sweep of older generations: cut after
    the parts, nothing is visible and the same call completes it; cut before the sweep, readers already see
    the new content and the next write of the message sweeps what was left."""
    save_thread(memory, id="cut")
    big = _file_message("cut", "m-cut", 1 * MB)
    real_transact = store.table.transact_write

    def lost(actions: Any, **kwargs: Any) -> Any:
        raise StorageError("connection lost after the parts were written")

    monkeypatch.setattr(store.table, "transact_write", lost)
    with pytest.raises(StorageError):
        memory.save_messages(messages=[big])
    assert memory.list_messages(thread_id="cut").total == 0  # the parts alone show nothing
    assert _parts(store, "m-cut")
    monkeypatch.setattr(store.table, "transact_write", real_transact)
    memory.save_messages(messages=[big])  # the same call again: the same parts, one generation
    assert len({k.split("#")[0] for k in _parts(store, "m-cut")}) == 1
    assert memory.list_messages(thread_id="cut").messages[0].content == big["content"]

    def no_sweep(keep: Any) -> None:
        raise StorageError("cut before the sweep")

    bigger = _file_message("cut", "m-cut", 1 * MB)
    monkeypatch.setattr(memory, "sweep_parts", no_sweep)
    with pytest.raises(StorageError):
        memory.save_messages(messages=[bigger])
    monkeypatch.undo()
    assert memory.list_messages(thread_id="cut").messages[0].content == bigger["content"]
    assert len({k.split("#")[0] for k in _parts(store, "m-cut")}) == 2  # the older generation is left over
    memory.update_messages(messages=[{"id": "m-cut", "content": {"metadata": {"n": 1}}}])
    assert len({k.split("#")[0] for k in _parts(store, "m-cut")}) == 1
