"""A short agent session on a local DynamoDB endpoint: store a conversation and read it back.

Run with ``make demo`` (starts DynamoDB Local on loopback in a private network namespace), or point it at
any endpoint with ``AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8000 python -m mastra_dynamo.demo``.
"""

from __future__ import annotations

import os
import sys
import uuid
from datetime import UTC, datetime, timedelta

from mastra_dynamo import DynamoDBStore, StorageError, TableNotFoundError


def _endpoint() -> str | None:
    return os.environ.get("MASTRA_DYNAMO_DDB_LOCAL") or os.environ.get("AWS_ENDPOINT_URL_DYNAMODB")


def main() -> int:
    endpoint = _endpoint()
    if endpoint:
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    table = os.environ.get("MASTRA_DYNAMO_TABLE", "mastra-demo")
    store = DynamoDBStore(id="demo", table_name=table, region=os.environ.get("AWS_REGION", "us-east-1"),
                          endpoint_url=endpoint, ttl={"message": {"enabled": True, "defaultTtlSeconds": 86400}})
    print(f"DynamoDB endpoint: {endpoint or 'AWS (default credentials)'}; table: {table}")
    try:
        try:
            store.init()
        except TableNotFoundError:
            if not endpoint:
                raise
            print("table not found on the local endpoint: creating it from TABLE_SPEC")
            store.create_table()
            store.init()
        memory = store.get_store("memory")
        resource_id = "user-ada"
        thread_id = f"thread-{uuid.uuid4().hex[:8]}"
        memory.save_thread(thread={"id": thread_id, "resourceId": resource_id, "title": "Trip planning",
                                   "metadata": {"channel": "web"}})
        start = datetime.now(UTC)
        turns = [
            ("user", "I want to visit Lisbon in May. What should I pack?"),
            ("assistant", "Light layers, a rain jacket and comfortable walking shoes."),
            ("user", "Any day trips you recommend?"),
            ("assistant", "Sintra for the palaces, and Cascais for the coast."),
        ]
        messages = [
            {"id": f"{thread_id}-m{i}", "threadId": thread_id, "resourceId": resource_id, "role": role,
             "createdAt": start + timedelta(milliseconds=i), "content": text}
            for i, (role, text) in enumerate(turns)
        ]
        memory.save_messages(messages=messages)
        memory.update_resource(resource_id=resource_id,
                               working_memory="# Ada\n- Trip: Lisbon, May\n- Interests: palaces, coast")

        thread = memory.get_thread_by_id(thread_id=thread_id, resource_id=resource_id)
        history = memory.list_messages(thread_id=thread_id, per_page=False)
        last_two = memory.list_messages(thread_id=thread_id, per_page=2, order_by={"direction": "DESC"})
        resource = memory.get_resource_by_id(resource_id=resource_id)
        threads = memory.list_threads(filter={"resourceId": resource_id}, per_page=10)

        assert thread is not None and resource is not None
        print(f"\nthread {thread.id!r} ({thread.title}), updated {thread.updated_at.isoformat()}")
        for message in history.messages:
            print(f"  [{message.role:9}] {message.content.get('content')}")
        print(f"newest two (DESC): {[m.id for m in last_two.messages]}, total={last_two.total}, "
              f"has_more={last_two.has_more}")
        print(f"working memory of {resource.id}:\n  " + (resource.working_memory or "").replace("\n", "\n  "))
        print(f"threads of {resource_id}: {threads.total}")
        memory.delete_thread(thread_id=thread_id)
        gone = memory.list_messages(thread_id=thread_id).total
        print(f"deleted the thread; messages left: {gone}")
        print("\nDynamoDB requests by operation:")
        for op, n in sorted(store.request_counts().items()):
            print(f"  {op:20} {n}")
        return 0
    except StorageError as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()


if __name__ == "__main__":
    raise SystemExit(main())
