"""The standard agent workload as a deterministic list of storage calls (a "plan").

The plan is plain JSON with Mastra's camelCase names and arguments, so the Python driver
(``bench/workload.py``) and the TypeScript driver (``bench/node/workload.mjs``) replay exactly the same calls
with exactly the same data.

Each entry: ``{"label": "<method>[<variant>]", "op": "<mastra method>", "args": {...}, "ctx": {...}}``.
``ctx`` carries facts the request-minimum formulas need (e.g. how many messages a deleted thread holds).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class WorkloadSize:
    threads: int = 20
    turns: int = 25
    resources: int = 5
    recall: int = 20
    working_memory_every: int = 5
    runs: int = 25
    persists_per_run: int = 10
    workflows: int = 5
    scores: int = 200
    scorers: int = 4
    score_runs: int = 20
    entities: int = 10
    deleted_threads: int = 10

    @classmethod
    def tiny(cls) -> WorkloadSize:
        return cls(threads=2, turns=6, resources=1, runs=2, persists_per_run=3, workflows=1, scores=12,
                   scorers=2, score_runs=3, entities=2, deleted_threads=1)


BASE_TIME = datetime(2026, 1, 5, 9, 0, 0, tzinfo=UTC)
WORDS = ["agent", "memory", "thread", "message", "tool", "call", "result", "weather", "storage", "table", "index",
         "query", "page", "window", "recall", "working", "user", "assistant", "answer", "question", "context",
         "token", "model", "stream", "step", "snapshot", "score"]


def _iso(when: datetime) -> str:
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def _message(rng: random.Random, mid: str, thread: str, resource: str, role: str, when: datetime,
             words: int) -> dict[str, Any]:
    text = _text(rng, words)
    return {"id": mid, "threadId": thread, "resourceId": resource, "role": role, "type": "text",
            "createdAt": _iso(when), "content": {"format": 2, "parts": [{"type": "text", "text": text}],
                                                 "content": text}}


def _snapshot(run_id: str, step: int, status: str, rng: random.Random) -> dict[str, Any]:
    context = {f"step{i}": {"status": "success", "output": {"text": _text(rng, 20), "n": i},
                            "startedAt": 1767600000000 + i, "endedAt": 1767600000500 + i}
               for i in range(step)}
    return {"runId": run_id, "status": status, "value": {}, "context": {"input": {"q": "hello"}, **context},
            "activePaths": [step], "activeStepsPath": {}, "serializedStepGraph": [
                {"type": "step", "step": {"id": f"step{i}"}} for i in range(10)],
            "suspendedPaths": {}, "resumeLabels": {}, "waitingPaths": {}, "timestamp": 1767600000000 + step,
            "requestContext": {"userId": "u1"}}


def build_plan(size: WorkloadSize | None = None, *, seed: int = 7) -> list[dict[str, Any]]:
    size = size or WorkloadSize()
    rng = random.Random(seed)
    plan: list[dict[str, Any]] = []
    clock = BASE_TIME

    def tick(ms: int = 1) -> datetime:
        nonlocal clock
        clock += timedelta(milliseconds=ms)
        return clock

    def add(label: str, op: str, args: dict[str, Any], **ctx: Any) -> None:
        plan.append({"label": label, "op": op, "args": args, "ctx": ctx})

    # ------------------------------------------------------------------ memory: conversations
    threads = [f"thread-{i:03d}" for i in range(size.threads)]
    resource_of = {t: f"user-{i % size.resources:02d}" for i, t in enumerate(threads)}
    messages: dict[str, list[str]] = {t: [] for t in threads}
    resources_seen: set[str] = set()
    counted: set[str] = set()
    for t in threads:
        when = tick()
        add("saveThread", "saveThread", {"thread": {"id": t, "resourceId": resource_of[t], "title": f"Chat {t}",
                                                    "createdAt": _iso(when), "updatedAt": _iso(when),
                                                    "metadata": {"channel": "web"}}})
    for turn in range(size.turns):
        for t in threads:
            r = resource_of[t]
            # recall before the model call (Mastra's memory processor): the thread and its last messages
            add("getThreadById", "getThreadById", {"threadId": t})
            add("listMessages[last20]", "listMessages",
                {"threadId": t, "perPage": size.recall, "page": 0,
                 "orderBy": {"field": "createdAt", "direction": "DESC"}}, m=len(messages[t]), k=size.recall,
                rebuild=len(messages[t]) > size.recall and t not in counted)
            if len(messages[t]) > size.recall:
                counted.add(t)  # the first total of a longer thread stores the thread's message counters
            user_id, asst_id = f"{t}-m{2 * turn:03d}", f"{t}-m{2 * turn + 1:03d}"
            batch = [_message(rng, user_id, t, r, "user", tick(), 30),
                     _message(rng, asst_id, t, r, "assistant", tick(), 120)]
            add("saveMessages[2]", "saveMessages", {"messages": batch}, n=2)
            messages[t] += [user_id, asst_id]
            if (turn + 1) % size.working_memory_every == 0:
                add("updateResource[workingMemory]", "updateResource",
                    {"resourceId": r, "workingMemory": f"# User\n- name: {r}\n- turn: {turn}\n- likes: "
                                                       + _text(rng, 12)}, exists=r in resources_seen)
                resources_seen.add(r)

    # ------------------------------------------------------------------ memory: listings, windows, edits
    for r in sorted(set(resource_of.values())):
        add("listThreads[byResource]", "listThreads",
            {"filter": {"resourceId": r}, "perPage": 10, "page": 0,
             "orderBy": {"field": "updatedAt", "direction": "DESC"}},
            t=sum(1 for t in threads if resource_of[t] == r), k=10)
    for t in threads:
        ids = messages[t]
        targets = [ids[len(ids) // 4], ids[len(ids) // 2]]
        add("listMessages[last20+include2]", "listMessages",
            {"threadId": t, "perPage": size.recall, "page": 0,
             "orderBy": {"field": "createdAt", "direction": "DESC"},
             "include": [{"id": i, "withPreviousMessages": 2, "withNextMessages": 2} for i in targets]},
            m=len(ids), k=size.recall, includes=len(targets))
    for t in threads:
        ids = messages[t]
        add("updateMessages[2]", "updateMessages",
            {"messages": [{"id": i, "content": {"metadata": {"reviewed": True}}} for i in ids[-2:]]}, n=2)
    for t in threads:
        ids = messages[t]
        add("deleteMessages[2]", "deleteMessages", {"messageIds": ids[:2]}, n=2)
        messages[t] = ids[2:]
    for t in threads[:size.deleted_threads]:
        add("deleteThread", "deleteThread", {"threadId": t}, m=len(messages[t]))

    # ------------------------------------------------------------------ workflows
    workflows = [f"workflow-{i}" for i in range(size.workflows)]
    for i in range(size.runs):
        wf = workflows[i % len(workflows)]
        run_id = f"run-{i:04d}"
        for step in range(size.persists_per_run):
            last = step == size.persists_per_run - 1
            snapshot = _snapshot(run_id, step, "success" if last else "running", rng)
            add("persistWorkflowSnapshot", "persistWorkflowSnapshot",
                {"workflowName": wf, "runId": run_id, "resourceId": f"user-{i % size.resources:02d}",
                 "snapshot": snapshot}, indexed_change=step == 0 or last)
            add("loadWorkflowSnapshot", "loadWorkflowSnapshot", {"workflowName": wf, "runId": run_id})
    for wf in workflows:
        add("listWorkflowRuns[byWorkflow,page]", "listWorkflowRuns", {"workflowName": wf, "page": 0, "perPage": 10},
            runs=sum(1 for i in range(size.runs) if workflows[i % len(workflows)] == wf), k=10)
    add("listWorkflowRuns[all,page]", "listWorkflowRuns", {"page": 0, "perPage": 10}, runs=size.runs, k=10)
    add("listWorkflowRuns[byResource]", "listWorkflowRuns", {"resourceId": "user-00"},
        runs=sum(1 for i in range(size.runs) if i % size.resources == 0))

    # ------------------------------------------------------------------ scores
    scorers = [f"scorer-{i}" for i in range(size.scorers)]
    for i in range(size.scores):
        scorer = scorers[i % len(scorers)]
        entity = f"agent-{i % size.entities}"
        add("saveScore", "saveScore", {"score": {
            "scorerId": scorer, "entityId": entity, "entityType": "AGENT", "runId": f"score-run-{i % size.score_runs}",
            "score": round(rng.random(), 3), "reason": _text(rng, 15), "source": "LIVE",
            "scorer": {"id": scorer, "name": scorer, "description": "bench scorer"},
            "entity": {"id": entity, "name": entity}, "input": {"question": _text(rng, 10)},
            "output": {"text": _text(rng, 40)}, "traceId": f"trace-{i}", "spanId": f"span-{i}"}})
    def matching(fn: Any) -> int:
        return sum(1 for i in range(size.scores) if fn(i))

    for n, scorer in enumerate(scorers):
        add("listScoresByScorerId[page]", "listScoresByScorerId",
            {"scorerId": scorer, "pagination": {"page": 0, "perPage": 20}},
            count=matching(lambda i, n=n: i % len(scorers) == n), k=20)
    for run in range(min(size.score_runs, 10)):
        add("listScoresByRunId[page]", "listScoresByRunId",
            {"runId": f"score-run-{run}", "pagination": {"page": 0, "perPage": 20}},
            count=matching(lambda i, run=run: i % size.score_runs == run), k=20)
    for e in range(size.entities):
        add("listScoresByEntityId[page]", "listScoresByEntityId",
            {"entityId": f"agent-{e}", "entityType": "AGENT", "pagination": {"page": 0, "perPage": 20}},
            count=matching(lambda i, e=e: i % size.entities == e), k=20)
    return plan


def labels_in_order(plan: list[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(entry["label"] for entry in plan))
