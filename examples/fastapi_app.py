"""A FastAPI service on the async API: `uvicorn examples.fastapi_app:app` (pip install 'mastra-dynamo[async,chdb]').

Conversation memory on DynamoDB (MASTRA_TABLE, AWS_REGION; AWS_ENDPOINT_URL_DYNAMODB for a local endpoint), the
traces of each request on ClickHouse (CLICKHOUSE_DSN, e.g. https://user:password@host:8443; default: embedded
chDB in a temporary directory).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI

from mastra_dynamo.aio import AsyncDynamoDBStore, AsyncMemoryStore
from mastra_dynamo.composite import AsyncClickHouseObservabilityStore, MastraCompositeStore

dynamodb = AsyncDynamoDBStore(id="api", table_name=os.environ.get("MASTRA_TABLE", "mastra"),
                              region=os.environ.get("AWS_REGION", "eu-west-1"),
                              endpoint_url=os.environ.get("AWS_ENDPOINT_URL_DYNAMODB"), max_pool_connections=64)
traces = AsyncClickHouseObservabilityStore(dsn=os.environ.get("CLICKHOUSE_DSN"),
                                           database=os.environ.get("CLICKHOUSE_DATABASE", "observability"))
storage = MastraCompositeStore(id="api", default=dynamodb, domains={"observability": traces})
memory: AsyncMemoryStore = dynamodb.get_store("memory")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    async with storage:  # both clients opened and checked on the server's event loop, closed when it stops
        yield


app = FastAPI(lifespan=lifespan)


@app.post("/threads/{thread_id}/messages")
async def append(thread_id: str, body: dict[str, Any]) -> dict[str, Any]:
    started = datetime.now(UTC)
    saved = await memory.save_messages(messages=[{**body, "threadId": thread_id}])
    await traces.create_span(span={"traceId": uuid.uuid4().hex, "spanId": "append", "name": "append",
                                   "spanType": "memory_operation", "startedAt": started,
                                   "endedAt": datetime.now(UTC), "threadId": thread_id})
    return saved.model_dump(by_alias=True, mode="json")


@app.get("/threads/{thread_id}/messages")
async def history(thread_id: str, user: str) -> dict[str, Any]:
    page = await memory.list_messages(thread_id=thread_id, resource_id=user, per_page=20,
                                      order_by={"direction": "DESC"})
    return page.model_dump(by_alias=True, mode="json")


@app.get("/threads/{thread_id}/traces")
async def thread_traces(thread_id: str) -> dict[str, Any]:
    page = await traces.list_traces(filters={"threadId": thread_id}, pagination={"page": 0, "perPage": 20})
    return page.model_dump(by_alias=True, mode="json")
