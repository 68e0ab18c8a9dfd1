"""End to end: memory, workflows and scores on DynamoDB (moto and DynamoDB Local) and observability on chDB,
behind one composite."""

from __future__ import annotations

import uuid

from mastra_dynamo import DynamoDBStore
from mastra_dynamo.composite import ClickHouseObservabilityStore, MastraCompositeStore, TraceStatus

from .conftest import run_sql
from .spans_data import at, span


def test_agent_turn_recorded_in_memory_and_traced(store: DynamoDBStore, chdb_path: str) -> None:
    database = f"e2e_{uuid.uuid4().hex[:12]}"
    observability = ClickHouseObservabilityStore(path=chdb_path, database=database, retention_days=30)
    storage = MastraCompositeStore(id="app", default=store, domains={"observability": observability})
    try:
        storage.init()
        memory = storage.get_store("memory")
        traces = storage.get_store("observability")
        assert traces is observability

        # One agent turn: the conversation goes to DynamoDB, its trace to ClickHouse.
        memory.save_thread(thread={"id": "thread-1", "resourceId": "user-1", "title": "Support"})
        traces.batch_create_spans(records=[
            span("trace-1", "agent", entityType="agent", entityId="support", threadId="thread-1",
                 resourceId="user-1", input={"text": "Where is my order?"}),
            span("trace-1", "llm", parent="agent", start=0.1, spanType="model_generation"),
        ])
        memory.save_messages(messages=[
            {"id": "m1", "threadId": "thread-1", "resourceId": "user-1", "role": "user",
             "content": "Where is my order?", "createdAt": at(seconds=0)},
            {"id": "m2", "threadId": "thread-1", "resourceId": "user-1", "role": "assistant",
             "content": "It ships tomorrow.", "createdAt": at(seconds=1)},
        ])
        traces.batch_update_spans(records=[
            {"traceId": "trace-1", "spanId": "llm", "updates": {"endedAt": at(seconds=0.9), "output": "ok"}},
            {"traceId": "trace-1", "spanId": "agent",
             "updates": {"endedAt": at(seconds=1), "output": {"text": "It ships tomorrow."}}},
        ])

        page = traces.list_traces(filters={"threadId": "thread-1"})
        assert page.pagination.total == 1
        assert page.spans[0].status is TraceStatus.SUCCESS and page.spans[0].resource_id == "user-1"
        full = traces.get_trace(trace_id="trace-1")
        assert full is not None and [s.span_id for s in full.spans] == ["agent", "llm"]

        history = memory.list_messages(thread_id="thread-1")
        assert [m.id for m in history.messages] == ["m1", "m2"]

        # The turn's workflow suspends and resumes; the answer gets a score tied to the trace.
        workflows = storage.get_store("workflows")
        scores = storage.get_store("scores")
        assert workflows is store.get_store("workflows") and scores is store.get_store("scores")
        workflows.persist_workflow_snapshot(workflow_name="order-lookup", run_id="run-1", resource_id="user-1",
                                            snapshot={"runId": "run-1", "status": "suspended", "context": {}})
        resumed = workflows.update_workflow_state(workflow_name="order-lookup", run_id="run-1",
                                                  opts={"status": "running", "expectedStatus": "suspended"})
        assert resumed is not None and resumed["status"] == "running"
        workflows.update_workflow_results(workflow_name="order-lookup", run_id="run-1", step_id="lookup",
                                          result={"status": "success", "output": {"eta": "tomorrow"}},
                                          request_context={})
        assert workflows.list_workflow_runs(resource_id="user-1").total == 1
        scores.save_score(score={"scorerId": "helpfulness", "entityId": "support", "entityType": "AGENT",
                                 "runId": "run-1", "traceId": "trace-1", "spanId": "agent", "score": 0.9,
                                 "scorer": {"name": "helpfulness"}, "source": "LIVE", "entity": {"id": "support"}})
        by_span = scores.list_scores_by_span(trace_id="trace-1", span_id="agent")
        assert by_span.pagination.total == 1 and by_span.scores[0].score == 0.9

        # Storage stays separate: DynamoDB has no observability; ClickHouse has no threads.
        assert store.get_store("observability") is None
        assert "thread-1" not in run_sql(chdb_path, f"SELECT DISTINCT threadId FROM `{database}`.mastra_ai_spans "
                                                    "WHERE threadId != 'thread-1'")

        storage.init()  # cached: no second schema pass
        traces.batch_delete_traces(trace_ids=["trace-1"])
        assert traces.get_trace(trace_id="trace-1") is None
        assert memory.get_thread_by_id(thread_id="thread-1") is not None
    finally:
        storage.close()
        run_sql(chdb_path, f"DROP DATABASE IF EXISTS `{database}`")
