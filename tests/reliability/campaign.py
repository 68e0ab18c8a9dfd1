"""The fault campaign: mixed operations over every domain against a store whose requests fail at random.

Each worker owns its entities (a resource with threads and messages, workflow runs, scores, agents, one
dataset, one experiment), keeps a model of what they must hold, and runs a random mix of writes and
strongly consistent reads that are checked against the model as it goes. Workers share the table, the GSI
partitions, the client and the fault injector.

* Random faults (throttling, 500/503, resets, timeouts before and after the server applied the request,
  partial batches) hit a fraction of all HTTP attempts; botocore and the library must absorb them.
* Sometimes an operation is cut by an *outage* that starts after a random number of its requests: it must
  then raise a typed ``RetryableError`` that names the operation (and, for writes, the keys not written),
  and leave every atomic unit either applied or not (checked at once through a fault-free verifier). The
  worker then retries the same call, as a client would, until it succeeds.
* At the end, the whole table is checked through the verifier: every entity equals the model (nothing lost,
  nothing duplicated) and the structural invariants hold (message <-> pointer, version rows <-> pointers,
  dataset counters and history chains, experiment counters, workflow chunk manifests, no locks left).
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from mastra_dynamo import DynamoDBStore
from mastra_dynamo.errors import ConflictError, RetryableError, StorageError
from mastra_dynamo.models.memory import MessageItem

from .faults import FaultInjector

BASE = datetime(2026, 1, 1, tzinfo=UTC)
OUTAGE_P = 0.03
"""Share of operations cut by an outage (every request after a random number of good ones fails)."""
LARGE_SNAPSHOT_P = 0.02
"""Share of snapshot writes large enough to be chunked (> 300 KB compressed)."""
MAX_ROUNDS = 30
WRITE_OPERATIONS = frozenset({"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"})


class CampaignFailure(AssertionError):
    pass


@dataclass
class Stats:
    ops: Counter[str] = field(default_factory=Counter)
    reads: int = 0
    writes: int = 0
    typed_errors: Counter[str] = field(default_factory=Counter)
    retried_calls: int = 0
    ambiguous: int = 0
    """Calls that failed and whose retry found the first attempt applied (conflict on re-create, CAS lost to
    itself, an extra dataset version)."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def merge(self, other: Stats) -> None:
        with self.lock:
            self.ops.update(other.ops)
            self.reads += other.reads
            self.writes += other.writes
            self.typed_errors.update(other.typed_errors)
            self.retried_calls += other.retried_calls
            self.ambiguous += other.ambiguous


def check_named(exc: RetryableError) -> None:
    """A surfaced retryable error names the operation, and for a write the keys that were not written."""
    operation = exc.details.get("operation")
    if not operation:
        raise CampaignFailure(f"retryable error without an operation: {exc!r}")
    if operation in WRITE_OPERATIONS:
        unprocessed = exc.details.get("unprocessed")
        if not unprocessed or not all(isinstance(k, tuple | list) and len(k) == 2 for k in unprocessed):
            raise CampaignFailure(f"retryable write error does not name its keys: {exc!r}")


class Worker:
    """One client of the campaign with its own entities and model (see the module docstring)."""

    def __init__(self, wid: int, store: DynamoDBStore, verifier: DynamoDBStore, injector: FaultInjector,
                 *, ops: int, seed: int) -> None:
        self.w = f"w{wid}"
        self.rng = random.Random(seed * 1000 + wid)
        self.inj = injector
        self.ops_total = ops
        self.stats = Stats()
        self.mem = store.get_store("memory")
        self.wf = store.get_store("workflows")
        self.sc = store.get_store("scores")
        self.ag = store.get_store("agents")
        self.ds = store.get_store("datasets")
        self.ex = store.get_store("experiments")
        self.v_mem = verifier.get_store("memory")
        self.v_wf = verifier.get_store("workflows")
        self.v_sc = verifier.get_store("scores")
        self.v_ag = verifier.get_store("agents")
        self.v_ds = verifier.get_store("datasets")
        self.v_ex = verifier.get_store("experiments")
        self.tick = 0
        self.seq = 0
        # models
        self.resource = f"r-{self.w}"
        self.threads: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, dict[str, Any]] = {}
        self.working_memory: str | None = None
        self.runs: dict[str, dict[str, Any]] = {}
        self.scores: dict[str, dict[str, Any]] = {}
        self.agents: dict[str, dict[str, Any]] = {}
        self.dataset = f"d-{self.w}"
        self.items: dict[str, dict[str, Any]] = {}  # external id -> {id, input, deleted}
        self.dataset_versions = (0, 0)  # (min, max) of the committed version
        self.experiment = f"e-{self.w}"
        self.results: dict[str, dict[str, Any]] = {}

    # ------------------------------------------------------------------ plumbing
    def now(self) -> datetime:
        self.tick += 1
        return BASE + timedelta(milliseconds=self.tick)

    def new_id(self, kind: str) -> str:
        self.seq += 1
        return f"{kind}-{self.w}-{self.seq}"

    def text(self) -> str:
        return f"{self.w}:{self.rng.getrandbits(48):012x}"

    def call(self, kind: str, fn: Callable[[], Any], *, write: bool,
             atomic: Callable[[], None] | None = None,
             on_retry_conflict: Callable[[ConflictError], Any] | None = None) -> tuple[Any, bool]:
        """Run ``fn`` (maybe cut by an outage); on a typed retryable failure check it, run the atomicity
        check through the verifier, and retry until it succeeds. Returns (result, failed_before)."""
        self.stats.ops[kind] += 1
        if write:
            self.stats.writes += 1
        else:
            self.stats.reads += 1
        failed = False
        for round_ in range(MAX_ROUNDS):
            try:
                if round_ == 0 and self.rng.random() < OUTAGE_P:
                    with self.inj.outage(after=self.rng.randint(0, 5)):
                        return fn(), failed
                return fn(), failed
            except RetryableError as exc:
                check_named(exc)
                self.stats.typed_errors[f"{type(exc).__name__}:{exc.details.get('operation')}"] += 1
                if not failed:
                    self.stats.retried_calls += 1
                failed = True
                if atomic is not None:
                    with self.inj.paused():
                        atomic()
            except ConflictError as exc:
                if failed and on_retry_conflict is not None:
                    self.stats.ambiguous += 1
                    with self.inj.paused():
                        return on_retry_conflict(exc), failed
                raise CampaignFailure(f"{kind}: unexpected conflict (first attempt={not failed}): {exc!r}") from exc
            except StorageError as exc:
                raise CampaignFailure(f"{kind}: unexpected typed error {exc!r}") from exc
        raise CampaignFailure(f"{kind}: still failing after {MAX_ROUNDS} rounds")

    # ------------------------------------------------------------------ setup
    def setup(self) -> None:
        with self.inj.paused():
            self.ds.create_dataset(id=self.dataset, name=f"dataset {self.w}")
            self.ex.create_experiment(id=self.experiment, name=f"experiment {self.w}", dataset_id=self.dataset)
            self.mem.save_resource(resource={"id": self.resource, "workingMemory": None})

    def run(self) -> None:
        self.setup()
        ops: list[tuple[float, Callable[[], None]]] = [
            (3, self.save_thread), (3, self.update_thread), (9, self.save_messages), (1, self.move_message),
            (3, self.update_message), (2, self.delete_messages), (0.4, self.delete_thread),
            (6, self.read_history), (2, self.read_by_id), (2, self.read_thread), (1, self.update_resource),
            (3, self.persist), (4, self.step_result), (2, self.cas_state), (3, self.read_run), (0.4, self.delete_run),
            (4, self.save_score), (2, self.read_score),
            (1.5, self.create_agent), (2, self.update_agent), (2, self.create_version), (2, self.read_agent),
            (0.3, self.delete_agent),
            (4, self.add_item), (2, self.update_item), (1, self.delete_item), (2, self.read_item),
            (3, self.add_result), (1, self.review_result), (1.5, self.read_result),
        ]
        weights = [w for w, _ in ops]
        for _ in range(self.ops_total):
            self.rng.choices(ops, weights=weights)[0][1]()

    def pick(self, pool: dict[str, Any]) -> str | None:
        return self.rng.choice(sorted(pool)) if pool else None

    # ------------------------------------------------------------------ memory
    def save_thread(self) -> None:
        tid = self.pick(self.threads) if self.threads and self.rng.random() < 0.3 else self.new_id("t")
        title = self.text()
        old = self.threads.get(tid)
        metadata = dict(old["metadata"]) if old else {"n": 0}
        record = {"id": tid, "resourceId": self.resource, "title": title, "metadata": metadata}

        def atomic() -> None:
            got = self.v_mem.get_thread_by_id(thread_id=tid)
            if got is None:
                assert old is None, f"thread {tid} lost by a failed re-save"
            else:
                assert got.title in (title, old["title"] if old else None)

        self.call("memory.save_thread", lambda: self.mem.save_thread(thread=record), write=True, atomic=atomic)
        self.threads[tid] = {"title": title, "metadata": metadata}

    def update_thread(self) -> None:
        tid = self.pick(self.threads)
        if tid is None:
            return self.save_thread()
        key, value = f"k{self.rng.randint(0, 5)}", self.rng.randint(0, 1000)
        before = dict(self.threads[tid]["metadata"])
        after = {**before, key: value}

        def atomic() -> None:
            got = self.v_mem.get_thread_by_id(thread_id=tid)
            assert got is not None and got.metadata in (before, after), f"thread {tid} metadata half-applied"

        self.call("memory.update_thread", lambda: self.mem.update_thread(id=tid, metadata={key: value}),
                  write=True, atomic=atomic)
        self.threads[tid]["metadata"] = after

    def save_messages(self) -> None:
        tid = self.pick(self.threads)
        if tid is None:
            return self.save_thread()
        batch = []
        for _ in range(self.rng.randint(1, 4)):
            mid = self.new_id("m")
            batch.append({"id": mid, "threadId": tid, "resourceId": self.resource, "role": "user",
                          "content": self.text(), "createdAt": self.now()})
        ids = [m["id"] for m in batch]

        def atomic() -> None:
            found = self.v_mem.list_messages_by_id(message_ids=ids).messages
            assert len(found) in (0, len(ids)), f"save_messages half-applied: {len(found)} of {len(ids)}"

        self.call("memory.save_messages", lambda: self.mem.save_messages(messages=batch), write=True, atomic=atomic)
        for m in batch:
            self.messages[m["id"]] = {"thread": tid, "text": m["content"], "created": m["createdAt"]}

    def move_message(self) -> None:
        mid = self.pick(self.messages)
        if mid is None or len(self.threads) < 2:
            return self.save_messages()
        old = self.messages[mid]
        target = self.rng.choice([t for t in sorted(self.threads) if t != old["thread"]])
        record = {"id": mid, "threadId": target, "resourceId": self.resource, "role": "user",
                  "content": old["text"], "createdAt": old["created"]}

        def atomic() -> None:
            (found,) = self.v_mem.list_messages_by_id(message_ids=[mid]).messages
            assert found.thread_id in (old["thread"], target)
            copies = [t for t in (old["thread"], target)
                      if any(m.id == mid for m in self.v_mem.list_messages(thread_id=t, per_page=False).messages)]
            assert len(copies) == 1, f"message {mid} in {copies} after a failed move"

        self.call("memory.move_message", lambda: self.mem.save_messages(messages=[record]), write=True,
                  atomic=atomic)
        self.messages[mid] = {**old, "thread": target}

    def update_message(self) -> None:
        mid = self.pick(self.messages)
        if mid is None:
            return self.save_messages()
        before, after = self.messages[mid]["text"], self.text()

        def atomic() -> None:
            (found,) = self.v_mem.list_messages_by_id(message_ids=[mid]).messages
            assert found.content["content"] in (before, after)

        self.call("memory.update_messages",
                  lambda: self.mem.update_messages(messages=[{"id": mid, "content": {"content": after}}]),
                  write=True, atomic=atomic)
        self.messages[mid]["text"] = after

    def delete_messages(self) -> None:
        if not self.messages:
            return self.save_messages()
        ids = self.rng.sample(sorted(self.messages), min(len(self.messages), self.rng.randint(1, 2)))
        self.call("memory.delete_messages", lambda: self.mem.delete_messages(ids), write=True)
        for mid in ids:
            del self.messages[mid]

    def delete_thread(self) -> None:
        tid = self.pick(self.threads)
        if tid is None:
            return
        self.call("memory.delete_thread", lambda: self.mem.delete_thread(thread_id=tid), write=True)
        del self.threads[tid]
        for mid in [m for m, v in self.messages.items() if v["thread"] == tid]:
            del self.messages[mid]

    def read_history(self) -> None:
        tid = self.pick(self.threads)
        if tid is None:
            return
        page, _ = self.call("memory.list_messages",
                            lambda: self.mem.list_messages(thread_id=tid, per_page=False), write=False)
        want = sorted((v["created"], m) for m, v in self.messages.items() if v["thread"] == tid)
        got = [m.id for m in page.messages]
        if got != [m for _, m in want]:
            raise CampaignFailure(f"history of {tid}: {len(got)} messages, model has {len(want)}")
        for m in page.messages:
            if m.content["content"] != self.messages[m.id]["text"]:
                raise CampaignFailure(f"message {m.id} content differs from the model")

    def read_by_id(self) -> None:
        if not self.messages:
            return
        ids = self.rng.sample(sorted(self.messages), min(3, len(self.messages)))
        ids.append(self.new_id("missing"))
        page, _ = self.call("memory.list_messages_by_id",
                            lambda: self.mem.list_messages_by_id(message_ids=ids), write=False)
        if sorted(m.id for m in page.messages) != sorted(ids[:-1]):
            raise CampaignFailure("list_messages_by_id differs from the model")

    def read_thread(self) -> None:
        tid = self.pick(self.threads)
        if tid is None:
            return
        got, _ = self.call("memory.get_thread_by_id", lambda: self.mem.get_thread_by_id(thread_id=tid), write=False)
        if got is None or got.title != self.threads[tid]["title"] or got.metadata != self.threads[tid]["metadata"]:
            raise CampaignFailure(f"thread {tid} differs from the model")

    def update_resource(self) -> None:
        value = self.text()
        self.call("memory.update_resource",
                  lambda: self.mem.update_resource(resource_id=self.resource, working_memory=value), write=True)
        self.working_memory = value

    # ------------------------------------------------------------------ workflows
    def persist(self) -> None:
        run = self.pick(self.runs) if self.runs and self.rng.random() < 0.3 else self.new_id("run")
        snapshot: dict[str, Any] = {"runId": run, "status": "running", "context": {}, "value": self.text()}
        if self.rng.random() < LARGE_SNAPSHOT_P:
            snapshot["blob"] = self.rng.randbytes(360_000).hex()  # incompressible enough to be chunked
        old = self.runs.get(run)

        def atomic() -> None:
            loaded = self.v_wf.load_workflow_snapshot(workflow_name="wf", run_id=run)
            assert loaded in (old, snapshot), f"run {run} is neither the old nor the new snapshot"

        self.call("workflows.persist", lambda: self.wf.persist_workflow_snapshot(
            workflow_name="wf", run_id=run, snapshot=snapshot, resource_id=self.resource), write=True, atomic=atomic)
        self.runs[run] = snapshot

    def step_result(self) -> None:
        run = self.pick(self.runs)
        if run is None:
            return self.persist()
        step, result = f"s{self.rng.randint(0, 6)}", {"status": "success", "output": self.text()}
        old = self.runs[run]
        new = {**old, "context": {**old["context"], step: result}}

        def atomic() -> None:
            loaded = self.v_wf.load_workflow_snapshot(workflow_name="wf", run_id=run)
            assert loaded in (old, new), f"run {run}: step result half-applied"

        self.call("workflows.update_results", lambda: self.wf.update_workflow_results(
            workflow_name="wf", run_id=run, step_id=step, result=result, request_context={}), write=True,
            atomic=atomic)
        self.runs[run] = new

    def cas_state(self) -> None:
        run = self.pick(self.runs)
        if run is None:
            return self.persist()
        old = self.runs[run]
        expected = self.rng.choice(["running", "suspended"])
        target = "suspended" if old["status"] == "running" else "running"
        marker = self.text()
        applies = old["status"] == expected
        new = {**old, "status": target, "result": marker} if applies else old

        def atomic() -> None:
            loaded = self.v_wf.load_workflow_snapshot(workflow_name="wf", run_id=run)
            assert loaded in (old, new), f"run {run}: state change half-applied"

        outcome, failed = self.call("workflows.update_state", lambda: self.wf.update_workflow_state(
            workflow_name="wf", run_id=run, opts={"status": target, "result": marker, "expectedStatus": expected}),
            write=True, atomic=atomic)
        if applies and outcome is None:
            # only a retry may lose the compare-and-set, and only to its own first attempt
            loaded = self.v_wf.load_workflow_snapshot(workflow_name="wf", run_id=run)
            if not failed or loaded != new:
                raise CampaignFailure(f"run {run}: compare-and-set lost without a competitor")
            self.stats.ambiguous += 1
        elif not applies and outcome is not None:
            raise CampaignFailure(f"run {run}: compare-and-set applied with status {old['status']!r}")
        self.runs[run] = new

    def read_run(self) -> None:
        run = self.pick(self.runs)
        if run is None:
            return
        loaded, _ = self.call("workflows.load", lambda: self.wf.load_workflow_snapshot(workflow_name="wf",
                                                                                        run_id=run), write=False)
        if loaded != self.runs[run]:
            raise CampaignFailure(f"run {run} differs from the model")

    def delete_run(self) -> None:
        run = self.pick(self.runs)
        if run is None:
            return
        self.call("workflows.delete", lambda: self.wf.delete_workflow_run_by_id(run_id=run, workflow_name="wf"),
                  write=True)
        del self.runs[run]

    # ------------------------------------------------------------------ scores
    def save_score(self) -> None:
        sid = self.pick(self.scores) if self.scores and self.rng.random() < 0.2 else self.new_id("s")
        value = self.rng.random()
        payload = {"id": sid, "scorerId": f"scorer-{self.w}", "entityId": "agent-1", "runId": f"run-{self.w}",
                   "score": value, "scorer": {"name": "q"}, "source": "TEST", "entity": {"id": "agent-1"},
                   "entityType": "AGENT", "reason": self.text()}
        self.call("scores.save", lambda: self.sc.save_score(score=payload), write=True)
        self.scores[sid] = {"score": value, "reason": payload["reason"]}

    def read_score(self) -> None:
        sid = self.pick(self.scores)
        if sid is None:
            return
        got, _ = self.call("scores.get", lambda: self.sc.get_score_by_id(id=sid), write=False)
        if got is None or got.score != self.scores[sid]["score"] or got.reason != self.scores[sid]["reason"]:
            raise CampaignFailure(f"score {sid} differs from the model")

    # ------------------------------------------------------------------ agents
    def create_agent(self) -> None:
        aid = self.new_id("a")
        instructions = self.text()

        def landed(_: ConflictError) -> None:
            got = self.v_ag.get_by_id_resolved(id=aid)
            assert got is not None and got.model_extra is not None
            assert got.model_extra.get("instructions") == instructions, f"agent {aid}: another create landed"

        def atomic() -> None:
            agent = self.v_ag.get_by_id(id=aid)
            version = self.v_ag.get_latest_version(agent_id=aid)
            assert (agent is None) == (version is None), f"agent {aid} half-created"

        self.call("agents.create", lambda: self.ag.create(agent={
            "id": aid, "authorId": self.w, "metadata": {}, "name": aid, "instructions": instructions}),
            write=True, atomic=atomic, on_retry_conflict=landed)
        self.agents[aid] = {"metadata": {}, "versions": {1}}

    def update_agent(self) -> None:
        aid = self.pick(self.agents)
        if aid is None:
            return self.create_agent()
        key, value = f"k{self.rng.randint(0, 4)}", self.text()
        self.call("agents.update", lambda: self.ag.update(id=aid, metadata={key: value}), write=True)
        self.agents[aid]["metadata"][key] = value

    def create_version(self) -> None:
        aid = self.pick(self.agents)
        if aid is None:
            return self.create_agent()
        number = max(self.agents[aid]["versions"]) + 1
        vid = self.new_id("v")
        marker = self.text()

        def landed(_: ConflictError) -> None:
            got = self.v_ag.get_version(id=vid)
            assert got is not None and got.version_number == number and got.model_extra is not None
            assert got.model_extra.get("instructions") == marker

        self.call("agents.create_version", lambda: self.ag.create_version(version={
            "id": vid, "agentId": aid, "versionNumber": number, "instructions": marker}), write=True,
            on_retry_conflict=landed)
        self.agents[aid]["versions"].add(number)

    def read_agent(self) -> None:
        aid = self.pick(self.agents)
        if aid is None:
            return
        got, _ = self.call("agents.get", lambda: self.ag.get_by_id(id=aid), write=False)
        page, _ = self.call("agents.list_versions", lambda: self.ag.list_versions(agent_id=aid, per_page=False),
                            write=False)
        if got is None or got.metadata != self.agents[aid]["metadata"]:
            raise CampaignFailure(f"agent {aid} differs from the model")
        if {v.version_number for v in page.versions} != self.agents[aid]["versions"]:
            raise CampaignFailure(f"agent {aid}: versions differ from the model")

    def delete_agent(self) -> None:
        aid = self.pick(self.agents)
        if aid is None:
            return
        self.call("agents.delete", lambda: self.ag.delete(id=aid), write=True)
        del self.agents[aid]

    # ------------------------------------------------------------------ datasets
    def _bump(self, failed: bool, applied: bool = True) -> None:
        low, high = self.dataset_versions
        if applied:
            self.dataset_versions = (low + 1, high + 1 + (1 if failed else 0))
        elif failed:
            self.dataset_versions = (low, high + 1)

    def add_item(self) -> None:
        external = self.new_id("x")
        value = {"q": self.text()}
        before = self.dataset_versions

        def atomic() -> None:
            dataset = self.v_ds.get_dataset_by_id(id=self.dataset)
            assert dataset is not None
            found = [i for i in self.v_ds.list_items(dataset_id=self.dataset, pagination={"perPage": False}).items
                     if i.external_id == external]
            assert len(found) <= 1, f"item {external} duplicated"
            assert dataset.version <= before[1] + 1

        item, _ = self.call("datasets.add_item", lambda: self.ds.add_item(
            dataset_id=self.dataset, input=value, external_id=external), write=True, atomic=atomic)
        self.items[external] = {"id": item.id, "input": value, "deleted": False}
        self._bump(False)  # a retry of a landed insert resolves to it through the external id: one version

    def update_item(self) -> None:
        live = [x for x, v in self.items.items() if not v["deleted"]]
        if not live:
            return self.add_item()
        external = self.rng.choice(sorted(live))
        entry = self.items[external]
        value = {"q": self.text()}
        _, failed = self.call("datasets.update_item", lambda: self.ds.update_item(
            id=entry["id"], dataset_id=self.dataset, input=value), write=True)
        entry["input"] = value
        self._bump(failed)

    def delete_item(self) -> None:
        live = [x for x, v in self.items.items() if not v["deleted"]]
        if not live:
            return self.add_item()
        entry = self.items[self.rng.choice(sorted(live))]
        self.call("datasets.delete_item", lambda: self.ds.delete_item(id=entry["id"], dataset_id=self.dataset),
                  write=True)
        entry["deleted"] = True
        self._bump(False)  # a retry of a landed delete is a no-op: exactly one version

    def read_item(self) -> None:
        if not self.items:
            return
        entry = self.items[self.rng.choice(sorted(self.items))]
        got, _ = self.call("datasets.get_item", lambda: self.ds.get_item_by_id(id=entry["id"]), write=False)
        if entry["deleted"]:
            if got is not None:
                raise CampaignFailure(f"deleted item {entry['id']} is visible")
        elif got is None or got.input != entry["input"]:
            raise CampaignFailure(f"item {entry['id']} differs from the model")

    # ------------------------------------------------------------------ experiments
    def add_result(self) -> None:
        live = [v["id"] for v in self.items.values() if not v["deleted"]]
        item_id = self.rng.choice(sorted(live)) if live else f"free-{self.w}"
        rid = self.new_id("res")
        output = self.text()

        def landed(_: ConflictError) -> None:
            got = self.v_ex.get_experiment_result_by_id(id=rid)
            assert got is not None and got.output == output, f"result {rid}: another add landed"

        def atomic() -> None:
            got = self.v_ex.get_experiment_result_by_id(id=rid)
            experiment = self.v_ex.table.get_item(_experiment_key(self.experiment))
            assert experiment is not None
            count = int(experiment.get("resultCount", {"N": "0"})["N"])
            assert count == len(self.results) + (1 if got is not None else 0), "result and counter disagree"

        self.call("experiments.add_result", lambda: self.ex.add_experiment_result(
            id=rid, experiment_id=self.experiment, item_id=item_id, output=output, status="needs-review"),
            write=True, atomic=atomic, on_retry_conflict=landed)
        self.results[rid] = {"output": output, "status": "needs-review"}

    def review_result(self) -> None:
        rid = self.pick(self.results)
        if rid is None:
            return self.add_result()
        status = self.rng.choice(["needs-review", "reviewed", "complete"])
        self.call("experiments.update_result", lambda: self.ex.update_experiment_result(
            id=rid, experiment_id=self.experiment, status=status), write=True)
        self.results[rid]["status"] = status

    def read_result(self) -> None:
        rid = self.pick(self.results)
        if rid is None:
            return
        got, _ = self.call("experiments.get_result", lambda: self.ex.get_experiment_result_by_id(id=rid),
                           write=False)
        if got is None or got.output != self.results[rid]["output"] or got.status != self.results[rid]["status"]:
            raise CampaignFailure(f"result {rid} differs from the model")

    # ------------------------------------------------------------------ final check (fault-free verifier)
    def verify(self) -> None:
        mem, wf, sc, ag, ds, ex = self.v_mem, self.v_wf, self.v_sc, self.v_ag, self.v_ds, self.v_ex
        threads = mem.list_threads(filter={"resourceId": self.resource}, per_page=False).threads
        assert {t.id for t in threads} == set(self.threads), f"{self.w}: threads differ"
        for t in threads:
            assert (t.title, t.metadata) == (self.threads[t.id]["title"], self.threads[t.id]["metadata"])
        for tid in self.threads:
            got = [(m.id, m.content["content"]) for m in mem.list_messages(thread_id=tid, per_page=False).messages]
            want = sorted((v["created"], m, v["text"]) for m, v in self.messages.items() if v["thread"] == tid)
            assert got == [(m, text) for _, m, text in want], f"{self.w}: history of {tid} differs"
        everything = mem.list_messages_by_resource_id(resource_id=self.resource, per_page=False)
        assert sorted(m.id for m in everything.messages) == sorted(self.messages), f"{self.w}: messages differ"
        resource = mem.get_resource_by_id(resource_id=self.resource)
        assert resource is not None and resource.working_memory == self.working_memory
        runs = wf.list_workflow_runs(resource_id=self.resource)
        assert sorted(r.run_id for r in runs.runs) == sorted(self.runs), f"{self.w}: runs differ"
        for run in runs.runs:
            assert run.snapshot == self.runs[run.run_id], f"{self.w}: run {run.run_id} differs"
        scores = sc.list_scores_by_scorer_id(scorer_id=f"scorer-{self.w}", pagination={"perPage": False})
        assert sorted(s.id for s in scores.scores) == sorted(self.scores), f"{self.w}: scores differ"
        for s in scores.scores:
            assert (s.score, s.reason) == (self.scores[s.id]["score"], self.scores[s.id]["reason"])
        agents = ag.list(author_id=self.w, per_page=False).agents
        assert sorted(a.id for a in agents) == sorted(self.agents), f"{self.w}: agents differ"
        for a in agents:
            assert a.metadata == self.agents[a.id]["metadata"]
            numbers = {v.version_number for v in ag.list_versions(agent_id=a.id, per_page=False).versions}
            assert numbers == self.agents[a.id]["versions"], f"{self.w}: versions of {a.id} differ"
        dataset = ds.get_dataset_by_id(id=self.dataset)
        assert dataset is not None
        low, high = self.dataset_versions
        assert low <= dataset.version <= high, f"{self.w}: dataset version {dataset.version} not in [{low}, {high}]"
        listed = ds.list_items(dataset_id=self.dataset, pagination={"perPage": False})
        live = {x: v for x, v in self.items.items() if not v["deleted"]}
        assert sorted(i.external_id or "" for i in listed.items) == sorted(live), f"{self.w}: dataset items differ"
        assert listed.pagination.total == len(live)
        for item in listed.items:
            assert item.input == live[item.external_id or ""]["input"]
        versions = ds.list_dataset_versions(dataset_id=self.dataset, pagination={"perPage": False})
        assert [v.version for v in versions.versions] == list(range(dataset.version, 0, -1))
        results = ex.list_experiment_results(experiment_id=self.experiment, pagination={"perPage": False})
        assert sorted(r.id for r in results.results) == sorted(self.results), f"{self.w}: results differ"
        for r in results.results:
            assert (r.output, r.status) == (self.results[r.id]["output"], self.results[r.id]["status"])


def _experiment_key(experiment_id: str) -> Any:
    from mastra_dynamo.schema import keys

    return keys.experiment_key(experiment_id)


def structural_check(items: list[dict[str, Any]]) -> dict[str, int]:
    """Invariants of the raw table that hold whatever the workload: returns counts of what was checked."""
    by_key = {(i["pk"]["S"], i["sk"]["S"]): i for i in items}
    et = Counter(i.get("_et", {}).get("S", "?") for i in items)
    # messages <-> pointers
    messages = {str(MessageItem.id_of(i)): i for i in items if i.get("_et", {}).get("S") == "message"}
    pointers = {i["pk"]["S"]: i for i in items if i.get("_et", {}).get("S") == "message_ref"}
    from mastra_dynamo.schema import keys

    for mid, message in messages.items():
        ref = pointers.get(keys.message_ref_key(mid).pk)
        assert ref is not None, f"message {mid} has no pointer"
        assert (keys.thread_pk(ref["threadId"]["S"]), ref["msk"]["S"]) == (message["pk"]["S"], message["sk"]["S"])
    dangling = sorted(set(pointers) - {keys.message_ref_key(mid).pk for mid in messages})
    assert not dangling, f"dangling message pointers: {[(p, pointers[p]) for p in dangling[:3]]}"
    assert len({m["pk"]["S"] + m["sk"]["S"] for m in messages.values()}) == len(messages)
    # agent versions <-> pointers
    versions = [i for i in items if i.get("_et", {}).get("S") == "agent_version"]
    vrefs = [i for i in items if i.get("_et", {}).get("S") == "agent_version_ref"]
    for v in versions:
        ref = by_key.get((keys.agent_version_ref_key(v["id"]["S"]).pk, "AV"))
        assert ref is not None and ref["versionNumber"]["N"] == v["versionNumber"]["N"], "version without pointer"
    assert len(vrefs) == len(versions), "dangling version pointers"
    # datasets
    for d in (i for i in items if i.get("_et", {}).get("S") == "dataset"):
        pk = d["pk"]["S"]
        assert "lock" not in d and "projecting" not in d, f"{pk}: lock or projection left behind"
        rows = [i for (p, _), i in by_key.items() if p == pk]
        current = [r for r in rows if r["sk"]["S"].startswith("IC#")]
        live = [r for r in current if not r["isDeleted"]["BOOL"]]
        vrows = [r for r in rows if r["sk"]["S"].startswith("V#")]
        assert int(d["itemCount"]["N"]) == len(live), f"{pk}: itemCount {d['itemCount']['N']} != {len(live)}"
        assert int(d["versionCount"]["N"]) == len(vrows) == int(d["version"]["N"]), f"{pk}: version counters"
        history = [r for r in rows if r["sk"]["S"].startswith("I#")]
        open_rows = Counter(r["id"]["S"] for r in history if "validTo" not in r)
        assert all(n == 1 for n in open_rows.values()), f"{pk}: an item has several open history rows"
        assert set(open_rows) == {r["id"]["S"] for r in current}, f"{pk}: current rows and history disagree"
        assert not any("stage" in r or "closedBy" in r for r in history), f"{pk}: staged rows left behind"
    # experiments
    for e in (i for i in items if i.get("_et", {}).get("S") == "experiment"):
        pk = e["pk"]["S"]
        results = [i for (p, s), i in by_key.items() if p == pk and s.startswith("ER#")]
        assert int(e.get("resultCount", {"N": "0"})["N"]) == len(results), f"{pk}: resultCount"
        for status, counter in (("needs-review", "needsReview"), ("reviewed", "reviewed"), ("complete", "complete")):
            n = sum(1 for r in results if r.get("status", {}).get("S") == status)
            assert int(e.get(counter, {"N": "0"})["N"]) == n, f"{pk}: {counter} counter"
        for r in results:
            assert (keys.experiment_result_ref_key(r["id"]["S"]).pk, "EI") in by_key, "result without pointer"
    # workflow heads and chunks
    orphans = 0
    heads = [i for i in items if i.get("_et", {}).get("S") == "workflow_run"]
    chunks = [i for i in items if i.get("_et", {}).get("S") == "workflow_chunk"]
    referenced = 0
    for h in heads:
        if "snapGen" in h:
            prefix = f"C#{keys.component(h['workflowName']['S'])}#{h['snapGen']['S']}#"
            live_chunks = [c for c in chunks if c["pk"]["S"] == h["pk"]["S"] and c["sk"]["S"].startswith(prefix)]
            assert len(live_chunks) == int(h["snapChunks"]["N"]), f"{h['pk']['S']}: chunks missing"
            referenced += len(live_chunks)
    orphans = len(chunks) - referenced
    # every head has exactly one index entry that agrees with it on what listings filter and sort on
    entries = {(i["pk"]["S"], i["sk"]["S"][2:]): i for i in items if i.get("_et", {}).get("S") == "workflow_run_index"}
    assert len(entries) == len(heads), "workflow index entries without a head, or heads without one"
    for h in heads:
        entry = entries.get((h["pk"]["S"], h["sk"]["S"][2:]))
        assert entry is not None, f"{h['pk']['S']}: head without index entry"
        for attr in ("workflowName", "runId", "createdAt", "status", "resourceId", "ttl"):
            assert entry.get(attr) == h.get(attr), f"{h['pk']['S']}: index entry disagrees on {attr}"
    return {"items": len(items), "messages": len(messages), "agent_versions": len(versions),
            "datasets": et["dataset"], "experiment_results": et["experiment_result"], "runs": len(heads),
            "chunks": len(chunks), "orphan_chunks": orphans}
