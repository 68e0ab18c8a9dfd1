"""Empty and inverted date ranges match nothing (real DynamoDB rejects an inverted BETWEEN)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mastra_dynamo.stores.memory import DynamoMemoryStore

T0 = datetime(2026, 4, 1, tzinfo=UTC)


def test_inverted_and_empty_message_ranges(memory: DynamoMemoryStore) -> None:
    memory.save_messages(messages=[
        {"id": f"m{i}", "threadId": "t", "resourceId": "r", "role": "user", "content": str(i),
         "createdAt": T0 + timedelta(seconds=i)} for i in range(3)
    ])
    inverted = memory.list_messages(thread_id="t", filter={"date_range": {"start": T0 + timedelta(seconds=2),
                                                                          "end": T0}})
    assert inverted.messages == [] and inverted.total == 0
    point = T0 + timedelta(seconds=1)
    both_exclusive = memory.list_messages(thread_id="t", filter={"date_range": {
        "start": point, "end": point, "start_exclusive": True, "end_exclusive": True}})
    assert both_exclusive.messages == [] and both_exclusive.total == 0
    inclusive = memory.list_messages(thread_id="t", filter={"date_range": {"start": point, "end": point}})
    assert [m.id for m in inclusive.messages] == ["m1"]
    by_resource = memory.list_messages_by_resource_id(
        resource_id="r", filter={"date_range": {"start": T0 + timedelta(seconds=2), "end": T0}})
    assert by_resource.messages == [] and by_resource.total == 0
