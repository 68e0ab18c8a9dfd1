"""Input at the edges of what the store accepts: a typed error or a sane result, never a raw exception, and
nothing already stored is lost."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mastra_dynamo import DynamoDBStore
from mastra_dynamo.errors import ConfigurationError, ValidationError
from mastra_dynamo.records.memory import Message, Resource, Thread

LAST_INSTANT = "9999-12-31T23:59:59.999999Z"


def test_times_at_the_end_of_the_calendar_are_refused_and_late_ones_keep_working(store: DynamoDBStore) -> None:
    memory = store.get_store("memory")
    for field in ("createdAt", "updatedAt"):
        with pytest.raises(ValidationError):
            memory.save_thread(thread={"id": "t-end", "resourceId": "r", field: LAST_INSTANT})
        with pytest.raises(ValidationError):
            memory.save_resource(resource={"id": "r-end", field: LAST_INSTANT})
    assert memory.get_thread_by_id(thread_id="t-end") is None
    late = "9998-12-31T23:00:00.000000Z"
    memory.save_thread(thread={"id": "t-late", "resourceId": "r", "createdAt": "2026-01-01T00:00:00Z",
                               "updatedAt": late})
    memory.save_messages(messages=[{"id": "m1", "threadId": "t-late", "resourceId": "r", "role": "user",
                                    "content": "hello"}])
    memory.update_messages(messages=[{"id": "m1", "content": {"metadata": {"k": 1}}}])
    memory.update_thread(id="t-late", title="still works", metadata={})
    thread = memory.get_thread_by_id(thread_id="t-late")
    assert thread is not None and thread.title == "still works"
    assert thread.updated_at > datetime(9998, 12, 31, 23, 0, tzinfo=UTC)
    assert [m.id for m in memory.list_messages(thread_id="t-late").messages] == ["m1"]
    memory.save_resource(resource={"id": "r-late", "updatedAt": late})
    memory.update_resource(resource_id="r-late", working_memory="wm")
    resource = memory.get_resource_by_id(resource_id="r-late")
    assert resource is not None and resource.working_memory == "wm"


def test_unknown_retention_keys_are_rejected() -> None:
    with pytest.raises(ConfigurationError) as info:
        DynamoDBStore(id="s", table_name="table", region="us-east-1", ttl={"message": {"defaultTtl": 60}})
    assert info.value.code == "INVALID_TTL_CONFIG" and "defaultTtl" in info.value.message
    with pytest.raises(ConfigurationError):
        DynamoDBStore(id="s", table_name="table", region="us-east-1", ttl={"message": 60})  # type: ignore[dict-item]


def test_a_per_page_of_the_wrong_type_says_so(store: DynamoDBStore) -> None:
    memory = store.get_store("memory")
    with pytest.raises(ValidationError) as info:
        memory.list_threads(per_page="10")
    assert info.value.code == "INVALID_PAGINATION" and "integer" in info.value.message


def test_records_show_the_values_the_store_assigned() -> None:
    message = Message(id="m", role="user", content="hi")
    shown = message.to_mastra()
    assert shown["createdAt"] and shown["type"] == "text" and "threadId" not in shown
    assert {"createdAt", "updatedAt"} <= set(Thread(id="t", resource_id="r").to_mastra())
    assert {"createdAt", "updatedAt"} <= set(Resource(id="r").to_mastra())
