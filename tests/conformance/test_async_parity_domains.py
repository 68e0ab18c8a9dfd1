"""The async facade serves the background tasks, observational memory and run fencing methods with the same
results as the sync API."""

from __future__ import annotations

import asyncio

from mastra_dynamo import DynamoDBStore
from mastra_dynamo.aio import AsyncDynamoDBStore


def test_async_background_tasks_observational_memory_and_fencing(http_store: DynamoDBStore) -> None:
    store = http_store
    async def scenario() -> None:
        astore = AsyncDynamoDBStore(store)
        tasks = astore.get_store("backgroundTasks")
        await tasks.create_task({"id": "t1", "status": "pending", "toolName": "x", "toolCallId": "c1",
                                 "agentId": "a", "runId": "r"})
        wins = [await tasks.update_task("t1", {"status": "running"}, {"expectedStatus": "pending"})
                for _ in range(3)]
        assert sum(wins) == 1 and await tasks.get_running_count() == 1
        memory = astore.get_store("memory")
        assert memory.supports_observational_memory
        record = await memory.initialize_observational_memory(resource_id="u", scope="resource", config={})
        got = await memory.get_observational_memory(None, "u")
        assert got is not None and got.id == record.id
        workflows = astore.get_store("workflows")
        claim = await workflows.claim_run_ownership(run_id="run", owner_id="o", lease_ms=1000)
        assert claim.acquired and await memory.raise_run_fence({"runId": "run", "generation": 1, "ownerId": "o"})
        await astore.close()

    asyncio.run(scenario())
    assert store.get_store("backgroundTasks").get_task("t1").status == "running"  # type: ignore[union-attr]
