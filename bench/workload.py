"""Replays a workload plan (``bench/plan.py``) through mastra-dynamo, marking each call at the counting proxy.

The wall time of a call is measured around the storage method only; the mark request to the proxy happens
before the timer starts.
"""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlsplit


class Control:
    """Talks to the counting proxy's control endpoints over one keep-alive connection."""

    def __init__(self, proxy_url: str) -> None:
        url = urlsplit(proxy_url)
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 80
        self._conn = http.client.HTTPConnection(self.host, self.port, timeout=60)

    def _get(self, path: str) -> bytes:
        for attempt in (1, 2):
            try:
                self._conn.request("GET", path)
                response = self._conn.getresponse()
                return response.read()
            except (ConnectionError, http.client.HTTPException, OSError):
                self._conn.close()
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def mark(self, label: str) -> None:
        self._get("/__bench/mark?label=" + quote(label))

    def dump(self) -> list[dict[str, Any]]:
        calls: list[dict[str, Any]] = json.loads(self._get("/__bench/dump"))
        return calls

    def close(self) -> None:
        self._conn.close()


def python_calls(store: Any) -> dict[str, Callable[[dict[str, Any]], Any]]:
    """Mastra method name -> a call of the mastra-dynamo method with the plan's (camelCase) arguments."""
    memory = store.get_store("memory")
    workflows = store.get_store("workflows")
    scores = store.get_store("scores")

    def order(a: dict[str, Any]) -> Any:
        return a.get("orderBy")

    return {
        "saveThread": lambda a: memory.save_thread(thread=a["thread"]),
        "getThreadById": lambda a: memory.get_thread_by_id(thread_id=a["threadId"]),
        "saveMessages": lambda a: memory.save_messages(messages=a["messages"]),
        "listMessages": lambda a: memory.list_messages(thread_id=a["threadId"], per_page=a.get("perPage"),
                                                       page=a.get("page", 0), order_by=order(a),
                                                       include=a.get("include")),
        "updateResource": lambda a: memory.update_resource(resource_id=a["resourceId"],
                                                           working_memory=a.get("workingMemory"),
                                                           metadata=a.get("metadata")),
        "listThreads": lambda a: memory.list_threads(filter=a.get("filter"), per_page=a.get("perPage"),
                                                     page=a.get("page", 0), order_by=order(a)),
        "updateMessages": lambda a: memory.update_messages(messages=a["messages"]),
        "deleteMessages": lambda a: memory.delete_messages(a["messageIds"]),
        "deleteThread": lambda a: memory.delete_thread(thread_id=a["threadId"]),
        "persistWorkflowSnapshot": lambda a: workflows.persist_workflow_snapshot(
            workflow_name=a["workflowName"], run_id=a["runId"], snapshot=a["snapshot"],
            resource_id=a.get("resourceId")),
        "loadWorkflowSnapshot": lambda a: workflows.load_workflow_snapshot(workflow_name=a["workflowName"],
                                                                           run_id=a["runId"]),
        "listWorkflowRuns": lambda a: workflows.list_workflow_runs(
            workflow_name=a.get("workflowName"), resource_id=a.get("resourceId"), page=a.get("page"),
            per_page=a.get("perPage"), status=a.get("status")),
        "saveScore": lambda a: scores.save_score(score=a["score"]),
        "listScoresByScorerId": lambda a: scores.list_scores_by_scorer_id(scorer_id=a["scorerId"],
                                                                          pagination=a.get("pagination")),
        "listScoresByRunId": lambda a: scores.list_scores_by_run_id(run_id=a["runId"],
                                                                    pagination=a.get("pagination")),
        "listScoresByEntityId": lambda a: scores.list_scores_by_entity_id(
            entity_id=a["entityId"], entity_type=a["entityType"], pagination=a.get("pagination")),
    }


def summarize_result(op: str, result: Any) -> dict[str, Any]:
    """A few facts about a result, compared between the two clients (same workload, same answers?)."""
    if result is None:
        return {"none": True}
    if op == "listMessages":
        return {"n": len(result.messages), "total": result.total}
    if op == "listThreads":
        return {"n": len(result.threads), "total": result.total}
    if op == "listWorkflowRuns":
        return {"n": len(result.runs), "total": result.total}
    if op.startswith("listScores"):
        return {"n": len(result.scores), "total": result.pagination.total}
    return {}


def run_plan(store: Any, plan: list[dict[str, Any]], control: Control | None) -> list[dict[str, Any]]:
    """Run every call of the plan in order; returns one timing record per call (errors are recorded)."""
    calls = python_calls(store)
    out: list[dict[str, Any]] = []
    for entry in plan:
        fn = calls[entry["op"]]
        if control is not None:
            control.mark(entry["label"])
        error = None
        result: Any = None
        started = time.perf_counter()
        try:
            result = fn(entry["args"])
        except Exception as exc:  # recorded, the run goes on
            error = f"{type(exc).__name__}: {exc}"[:300]
        elapsed = time.perf_counter() - started
        out.append({"label": entry["label"], "ms": elapsed * 1000, "error": error,
                    "result": summarize_result(entry["op"], result) if error is None else {}})
    return out
