"""Observation texts of any length are stored without loss (parts beyond what one item holds), and the
parts of a replaced text are removed."""

from __future__ import annotations

import base64
import os
from datetime import UTC, datetime

from mastra_dynamo import DynamoDBStore
from mastra_dynamo.schema import keys
from mastra_dynamo.stores.memory.observational import ObservationalMemoryOps

from .test_observational_memory import chunk


def _collection_size(store: DynamoDBStore, resource_id: str) -> int:
    response = store.table.raw.query(TableName=store.table_name, KeyConditionExpression="pk = :pk",
                                     ExpressionAttributeValues={":pk": {"S": keys.om_pk(f"resource:{resource_id}")}},
                                     Select="COUNT", ConsistentRead=True)
    return int(response["Count"])


def test_a_text_of_megabytes_round_trips(clocked_store: DynamoDBStore, om: ObservationalMemoryOps) -> None:
    record = om.initialize_observational_memory(resource_id="big", scope="resource", config={})
    big = base64.b64encode(os.urandom(1_200_000)).decode()  # ~1.6 MB, incompressible: several parts
    now = datetime.now(UTC)
    om.update_active_observations(id=record.id, observations=big, token_count=5, last_observed_at=now)
    got = om.get_observational_memory(None, "big")
    assert got is not None and got.active_observations == big and got.observation_token_count == 5
    parts_and_record = _collection_size(clocked_store, "big")
    assert parts_and_record > 2

    om.update_buffered_observations(id=record.id, chunk=chunk(10))
    result = om.swap_buffered_to_active(id=record.id, activation_ratio=1, message_tokens_threshold=100,
                                        current_pending_tokens=10)
    assert result.chunks_activated == 1
    got = om.get_observational_memory(None, "big")
    assert got is not None and got.active_observations.startswith(big + "\n\n--- message boundary (")
    assert got.active_observations.endswith(str(result.observations))
    assert _collection_size(clocked_store, "big") == parts_and_record  # old parts replaced, not kept

    reflected = om.create_reflection_generation(current_record=got, reflection=big + big, token_count=1)
    assert om.get_observational_memory(None, "big") == reflected
    history = om.get_observational_memory_history(None, "big")
    assert [r.active_observations for r in history] == [big + big, got.active_observations]

    om.update_active_observations(id=record.id, observations="small again", token_count=1, last_observed_at=now)
    first = om.get_observational_memory_history(None, "big")[1]
    assert first.active_observations == "small again"
    om.clear_observational_memory(None, "big")
    assert _collection_size(clocked_store, "big") == 0
