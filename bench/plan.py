"""The standard agent workload as a deterministic list of storage calls (a "plan").

The plan is plain JSON with Mastra's camelCase names and arguments, so the Python driver
(``bench/workload.py``) and the TypeScript driver (``bench/node/workload.mjs``) replay exactly the same calls
with exactly the same data.

Each entry: ``{"label": "<method>[<variant>]", "op": "<mastra method>", "args": {...}, "ctx": {...}}``.
``ctx`` carries facts the request-minimum formulas need (e.g. how many messages a deleted thread holds).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
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
NEWEST_FIRST = {"field": "createdAt", "direction": "DESC"}

# the calls of one agent turn (labels shared by the standard workload and the turns plan)
GET_THREAD = "getThreadById"
LAST_PAGE = "listMessages[last20]"
SAVE_TURN = "saveMessages[2]"
WORKING_MEMORY = "updateResource[workingMemory]"
TURN_CALLS = (GET_THREAD, LAST_PAGE, SAVE_TURN)
"""Every turn makes these calls; ``WORKING_MEMORY`` only every few turns."""
GROW = "grow:"
"""Label prefix of the turns plan's calls that build a thread up to its length: not measured."""
GROW_BATCH = 40
"""Messages per saveMessages call while a thread grows."""


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


class _Plan:
    """A plan being built: its calls, the clock of its data and the generator of its texts."""

    def __init__(self, seed: int) -> None:
        self.calls: list[dict[str, Any]] = []
        self.rng = random.Random(seed)
        self.clock = BASE_TIME

    def tick(self, ms: int = 1) -> datetime:
        self.clock += timedelta(milliseconds=ms)
        return self.clock

    def add(self, label: str, op: str, args: dict[str, Any], **ctx: Any) -> None:
        self.calls.append({"label": label, "op": op, "args": args, "ctx": ctx})


@dataclass
class _Thread:
    """A thread of the plan, with what the request formulas (``bench/minimums.py``) need to know of it."""

    id: str
    resource: str
    messages: list[str] = field(default_factory=list)
    counted: bool = False
    """Its message counters are stored: by the first total of a thread longer than a page, or by the first
    save after a page that was the whole history."""


def _save_thread(p: _Plan, thread: _Thread, label: str = "saveThread", **ctx: Any) -> None:
    when = p.tick()
    p.add(label, "saveThread", {"thread": {"id": thread.id, "resourceId": thread.resource,
                                           "title": f"Chat {thread.id}", "createdAt": _iso(when),
                                           "updatedAt": _iso(when), "metadata": {"channel": "web"}}}, **ctx)


def _new_messages(p: _Plan, thread: _Thread, count: int) -> list[dict[str, Any]]:
    """The thread's next ``count`` messages, in turn a user's (30 words) and the assistant's answer (120 words)."""
    batch = []
    for _ in range(count):
        index = len(thread.messages)
        role, words = ("user", 30) if index % 2 == 0 else ("assistant", 120)
        mid = f"{thread.id}-m{index:03d}"
        batch.append(_message(p.rng, mid, thread.id, thread.resource, role, p.tick(), words))
        thread.messages.append(mid)
    return batch


def _working_memory(p: _Plan, resource: str, turn: int) -> dict[str, Any]:
    return {"resourceId": resource, "workingMemory": f"# User\n- name: {resource}\n- turn: {turn}\n- likes: "
                                                     + _text(p.rng, 12)}


def _agent_turn(p: _Plan, thread: _Thread, turn: int, *, recall: int, working_memory: bool,
                resource_exists: bool, **ctx: Any) -> None:
    """One agent turn: Mastra's memory recalls the thread and its last ``recall`` messages before the model
    call, then saves the user's message and the answer; every few turns it updates the working memory."""
    p.add(GET_THREAD, "getThreadById", {"threadId": thread.id}, **ctx)
    m = len(thread.messages)
    p.add(LAST_PAGE, "listMessages", {"threadId": thread.id, "perPage": recall, "page": 0, "orderBy": NEWEST_FIRST},
          **ctx, m=m, k=recall, rebuild=m > recall and not thread.counted)
    # counted from here on: a longer history was counted by that total (which stored the counters), a shorter
    # one was seen whole by the page, and the save below stores what it counted
    thread.counted = True
    p.add(SAVE_TURN, "saveMessages", {"messages": _new_messages(p, thread, 2)}, **ctx, n=2)
    if working_memory:
        p.add(WORKING_MEMORY, "updateResource", _working_memory(p, thread.resource, turn), **ctx,
              exists=resource_exists)


def build_plan(size: WorkloadSize | None = None, *, seed: int = 7) -> list[dict[str, Any]]:
    size = size or WorkloadSize()
    p = _Plan(seed)
    rng, add, plan = p.rng, p.add, p.calls

    # ------------------------------------------------------------------ memory: conversations
    threads = [_Thread(f"thread-{i:03d}", f"user-{i % size.resources:02d}") for i in range(size.threads)]
    resources_seen: set[str] = set()
    for t in threads:
        _save_thread(p, t)
    for turn in range(size.turns):
        for t in threads:
            working_memory = (turn + 1) % size.working_memory_every == 0
            _agent_turn(p, t, turn, recall=size.recall, working_memory=working_memory,
                        resource_exists=t.resource in resources_seen)
            if working_memory:
                resources_seen.add(t.resource)

    # ------------------------------------------------------------------ memory: listings, windows, edits
    for r in sorted({t.resource for t in threads}):
        add("listThreads[byResource]", "listThreads",
            {"filter": {"resourceId": r}, "perPage": 10, "page": 0,
             "orderBy": {"field": "updatedAt", "direction": "DESC"}},
            t=sum(1 for t in threads if t.resource == r), k=10)
    for t in threads:
        ids = t.messages
        targets = [ids[len(ids) // 4], ids[len(ids) // 2]]
        add("listMessages[last20+include2]", "listMessages",
            {"threadId": t.id, "perPage": size.recall, "page": 0, "orderBy": NEWEST_FIRST,
             "include": [{"id": i, "withPreviousMessages": 2, "withNextMessages": 2} for i in targets]},
            m=len(ids), k=size.recall, includes=len(targets))
    for t in threads:
        add("updateMessages[2]", "updateMessages",
            {"messages": [{"id": i, "content": {"metadata": {"reviewed": True}}} for i in t.messages[-2:]]}, n=2)
    for t in threads:
        add("deleteMessages[2]", "deleteMessages", {"messageIds": t.messages[:2]}, n=2)
        t.messages = t.messages[2:]
    for t in threads[:size.deleted_threads]:
        add("deleteThread", "deleteThread", {"threadId": t.id}, m=len(t.messages))

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
                 "snapshot": snapshot})
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


def build_turns_plan(lengths: Sequence[int], turns: int = 5, *, recall: int = 20, working_memory_every: int = 5,
                     seed: int = 7) -> list[dict[str, Any]]:
    """One agent turn's cost vs the length of its thread: for each length L, a thread grown to L messages
    (calls labelled ``grow:…``, ctx ``measured`` False), then ``turns`` agent turns on it (ctx ``measured``
    True). Every call's ctx carries ``length``: L."""
    p = _Plan(seed)
    for length in lengths:
        thread = _Thread(f"turns-{length}", f"turns-user-{length}")
        _grow(p, thread, length)
        for turn in range(turns):
            _agent_turn(p, thread, turn, recall=recall, working_memory=(turn + 1) % working_memory_every == 0,
                        resource_exists=True, length=length, measured=True)
    return p.calls


def _grow(p: _Plan, thread: _Thread, length: int) -> None:
    """Create the thread and its resource's working memory, save ``length`` messages in batches, then read one
    total (ours stores the thread's message counters on the first total it needs), so that every measured turn
    finds the thread as a long conversation leaves it."""
    ctx = {"length": length, "measured": False}
    _save_thread(p, thread, GROW + "saveThread", **ctx)
    p.add(GROW + WORKING_MEMORY, "updateResource", _working_memory(p, thread.resource, 0), **ctx)
    while len(thread.messages) < length:
        batch = _new_messages(p, thread, min(GROW_BATCH, length - len(thread.messages)))
        p.add(GROW + "saveMessages", "saveMessages", {"messages": batch}, **ctx, n=len(batch))
    if length > 1:
        p.add(GROW + "listMessages[total]", "listMessages",
              {"threadId": thread.id, "perPage": 1, "page": 0, "orderBy": NEWEST_FIRST}, **ctx)
        thread.counted = True


def labels_in_order(plan: list[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(entry["label"] for entry in plan))
