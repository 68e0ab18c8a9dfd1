"""The demo session: one agent's day in every storage domain, through a MastraCompositeStore.

``mastra-dynamo demo`` (``make demo``) picks the DynamoDB endpoint and the chDB directory, then calls
:func:`run_session`: a conversation with working memory, a workflow that suspends and resumes, scores, a
stored agent with versions, a dataset and an experiment, and the traces of it all. Every section stores
records and reads them back; the summary counts the DynamoDB requests of each domain (snapshots of
``DynamoDBStore.request_counts()`` around its section) and the ClickHouse requests of the traces.

``python -m mastra_dynamo.demo`` is kept as an alias of ``mastra-dynamo demo``.

rich (the ``cli`` extra) is optional here: it is imported only when a session prints, and without it the output
is plain text (:class:`PlainOutput`).
"""

from __future__ import annotations

import importlib.util
import re
import sys
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, Protocol, TextIO

if TYPE_CHECKING:
    from mastra_dynamo.store import DynamoDBStore


class Output(Protocol):
    """Where a session prints: a ``rich.console.Console`` or a :class:`PlainOutput`."""

    def print(self, *objects: Any, highlight: bool | None = None) -> None: ...

    def rule(self, title: str = "", *, align: Literal["left", "center", "right"] = "center") -> None: ...


_MARKUP = re.compile(r"\[/?(?:bold|dim|cyan|green|magenta|yellow|red)?\]")


class PlainOutput:
    """Plain-text :class:`Output` (no rich): console markup such as ``[bold]...[/]`` is removed."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def print(self, *objects: Any, highlight: bool | None = None) -> None:
        text = " ".join(_MARKUP.sub("", str(o)) for o in objects)
        print(text, file=self.stream or sys.stdout)

    def rule(self, title: str = "", *, align: Literal["left", "center", "right"] = "center") -> None:
        self.print(f"-- {title} --" if title else "--")


def rich_available() -> bool:
    return importlib.util.find_spec("rich") is not None


def default_output() -> Output:
    """A rich console when rich is installed (the ``cli`` extra), else plain text on stdout."""
    if rich_available():
        from rich.console import Console

        console: Output = Console(highlight=False)
        return console
    return PlainOutput()


KEYED_OPERATIONS = frozenset({"GetItem", "BatchGetItem", "Query", "PutItem", "UpdateItem", "DeleteItem",
                              "BatchWriteItem", "TransactWriteItems", "DescribeTable", "DescribeTimeToLive"})
"""Requests that address items by key or index (anything else in a domain's section is reported)."""


@dataclass
class Section:
    domain: str
    title: str
    stored: list[str] = field(default_factory=list)
    read: list[str] = field(default_factory=list)
    requests: dict[str, int] = field(default_factory=dict)
    backend: str = "DynamoDB"


@dataclass
class Summary:
    sections: list[Section] = field(default_factory=list)
    setup_requests: dict[str, int] = field(default_factory=dict)

    def total(self) -> int:
        return sum(sum(s.requests.values()) for s in self.sections if s.backend == "DynamoDB") + sum(
            self.setup_requests.values())


def _diff(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {op: n - before.get(op, 0) for op, n in sorted(after.items()) if n - before.get(op, 0)}


class _CountingClickHouse:
    """Counts the requests an observability store sends to ClickHouse (wraps its client's three calls)."""

    def __init__(self, store: Any) -> None:
        self.counts: Counter[str] = Counter()
        client = getattr(store, "client", None)
        if client is None:
            return
        for name in ("command", "query", "insert"):
            original = getattr(client, name)
            setattr(client, name, self._wrap(name, original))

    def _wrap(self, name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            self.counts[name.capitalize()] += 1
            return original(*args, **kwargs)

        return call


class Session:
    def __init__(self, storage: Any, store: DynamoDBStore, out: Output, *, run: str) -> None:
        self.storage = storage
        self.store = store
        self.out = out
        self.run = run
        self.summary = Summary()
        self.clock = datetime.now(UTC).replace(microsecond=0)
        self.trace_id = f"trace-{run}"
        self.agent_id = f"trip-agent-{run}"
        self.spans: list[dict[str, Any]] = []

    # ------------------------------------------------------------ plumbing
    def tick(self, **delta: float) -> datetime:
        self.clock += timedelta(**delta) if delta else timedelta(milliseconds=250)
        return self.clock

    @contextmanager
    def section(self, domain: str, title: str) -> Iterator[Section]:
        section = Section(domain, title)
        self.out.rule(f"[bold]{title}[/]  [dim]({domain})[/]", align="left")
        before = self.store.request_counts()
        yield section
        section.requests = _diff(self.store.request_counts(), before)
        self.summary.sections.append(section)

    def say(self, text: str) -> None:
        self.out.print(f"  {text}", highlight=False)

    def span(self, span_id: str, name: str, span_type: str, parent: str | None, seconds: float, **extra: Any) -> None:
        start = self.tick()
        self.spans.append({"traceId": self.trace_id, "spanId": span_id, "parentSpanId": parent, "name": name,
                           "spanType": span_type, "startedAt": start, "endedAt": start + timedelta(seconds=seconds),
                           "entityType": "agent", "entityId": self.agent_id, "entityName": "Trip agent", **extra})

    # ------------------------------------------------------------ sections
    def memory(self) -> None:
        memory = self.storage.get_store("memory")
        resource_id, thread_id = f"user-ada-{self.run}", f"thread-{self.run}"
        with self.section("memory", "Conversation with working memory") as sec:
            memory.save_thread(thread={"id": thread_id, "resourceId": resource_id, "title": "Trip planning",
                                       "metadata": {"channel": "web"}, "createdAt": self.tick()})
            turns = [
                ("user", "I want to visit Lisbon in May. What should I pack?",
                 "# Ada\n- Trip: Lisbon, May"),
                ("assistant", "Light layers, a rain jacket and comfortable walking shoes.", None),
                ("user", "Any day trips? I love palaces.",
                 "# Ada\n- Trip: Lisbon, May\n- Likes: palaces"),
                ("assistant", "Sintra for the palaces (Pena, Regaleira), and Cascais for the coast.", None),
            ]
            for index, (role, text, working_memory) in enumerate(turns):
                memory.save_messages(messages=[{"id": f"{thread_id}-m{index}", "threadId": thread_id,
                                                "resourceId": resource_id, "role": role, "content": text,
                                                "createdAt": self.tick()}])
                if working_memory:  # the agent updates working memory after each user turn
                    memory.update_resource(resource_id=resource_id, working_memory=working_memory)
            sec.stored += [f"1 thread, {len(turns)} messages", "working memory updated twice"]
            thread = memory.get_thread_by_id(thread_id=thread_id)
            history = memory.list_messages(thread_id=thread_id, per_page=False)
            recent = memory.list_messages(thread_id=thread_id, per_page=2, order_by={"direction": "DESC"})
            resource = memory.get_resource_by_id(resource_id=resource_id)
            threads = memory.list_threads(filter={"resourceId": resource_id}, per_page=10)
            sec.read += [f"history ({len(history.messages)} messages)", "the last 2 messages (newest first, "
                         f"total {recent.total})", "working memory", f"threads of the user ({threads.total})"]
            assert thread is not None and resource is not None
            self.say(f"thread [cyan]{thread.id}[/] \"{thread.title}\" of {resource_id}")
            for message in history.messages:
                self.say(f"  [{'green' if message.role == 'user' else 'magenta'}]{message.role:>9}[/] "
                         f"{message.content.get('content')}")
            self.say("working memory:  " + (resource.working_memory or "").replace("\n", " | "))
            self.say(f"last two (DESC): {[m.id.rsplit('-', 1)[-1] for m in recent.messages]}, "
                     f"has_more={recent.has_more}")
        self.span(f"agent-{self.run}", "trip-agent run", "agent_run", None, 4.2,
                  input={"message": turns[2][1]}, output={"text": turns[3][1]}, threadId=thread_id,
                  resourceId=resource_id)
        self.span(f"llm-{self.run}", "gpt-4o-mini", "model_generation", f"agent-{self.run}", 1.9,
                  attributes={"model": "gpt-4o-mini", "usage": {"inputTokens": 412, "outputTokens": 38}})

    def background_work(self) -> None:
        tasks = self.storage.get_store("backgroundTasks")
        memory = self.storage.get_store("memory")
        thread_id, resource_id = f"thread-{self.run}", f"user-ada-{self.run}"
        with self.section("backgroundTasks", "Background tool call, claimed once") as sec:
            task_id = f"task-{self.run}"
            tasks.create_task({"id": task_id, "status": "pending", "toolName": "searchHotels",
                               "toolCallId": f"call-{self.run}", "args": {"city": "Lisbon"},
                               "agentId": self.agent_id, "runId": f"agent-run-{self.run}", "threadId": thread_id,
                               "resourceId": resource_id, "createdAt": self.tick()})
            claims = [tasks.update_task(task_id, {"status": "running", "ownerId": worker,
                                                  "startedAt": self.tick()}, {"expectedStatus": "pending"})
                      for worker in ("worker-1", "worker-2")]
            running = tasks.get_running_count_by_agent(self.agent_id)
            tasks.update_task(task_id, {"status": "completed", "result": {"hotels": 3}, "completedAt": self.tick()},
                              {"expectedOwnerId": "worker-1"})
            done = tasks.get_task(task_id)
            assert done is not None
            sec.stored += ["1 task, claimed by one of two workers, completed"]
            sec.read += ["running tasks of the agent", "the task"]
            self.say(f"claims by worker-1, worker-2: {claims}; running while claimed: {running}; "
                     f"now {done.status} with {done.result}")
        with self.section("memory", "Observational memory of the conversation") as sec:
            record = memory.initialize_observational_memory(thread_id=thread_id, resource_id=resource_id,
                                                            scope="thread", config={"observationThreshold": 30000})
            memory.update_buffered_observations(id=record.id, chunk={
                "cycleId": f"cycle-{self.run}", "observations": "- Ada plans a May trip to Lisbon; likes palaces",
                "tokenCount": 12, "messageIds": [f"{thread_id}-m0", f"{thread_id}-m2"], "messageTokens": 40,
                "lastObservedAt": self.tick()})
            swapped = memory.swap_buffered_to_active(id=record.id, activation_ratio=1, message_tokens_threshold=40,
                                                     current_pending_tokens=40)
            current = memory.get_observational_memory(thread_id, resource_id)
            assert current is not None
            sec.stored += ["a generation-0 record, one buffered chunk activated"]
            sec.read += ["the newest generation with its buffered chunks"]
            self.say(f"activated {swapped.chunks_activated} chunk(s): {current.active_observations!r}")

    def workflows(self) -> None:
        workflows = self.storage.get_store("workflows")
        name, run_id = "tripPlanner", f"run-{self.run}"
        with self.section("workflows", "Workflow that suspends and resumes") as sec:
            workflows.persist_workflow_snapshot(
                workflow_name=name, run_id=run_id, resource_id=f"user-ada-{self.run}",
                snapshot={"runId": run_id, "status": "running", "value": {}, "context": {"input": {"city": "Lisbon"}},
                          "activePaths": [], "serializedStepGraph": [], "suspendedPaths": {}, "waitingPaths": {},
                          "timestamp": int(self.tick().timestamp() * 1000)})
            workflows.update_workflow_results(workflow_name=name, run_id=run_id, step_id="research", result={
                "status": "success", "output": {"sights": ["Belém", "Alfama", "Sintra"]}})
            workflows.update_workflow_state(workflow_name=name, run_id=run_id, opts={
                "status": "suspended", "suspendedPaths": {"approve": [1]}, "expectedStatus": "running"})
            suspended = workflows.load_workflow_snapshot(workflow_name=name, run_id=run_id)
            self.say(f"run [cyan]{run_id}[/]: research done, step 'approve' [yellow]suspended[/] "
                     f"(stored status: {suspended['status']}) waiting for the user's approval")
            resumed = workflows.update_workflow_state(workflow_name=name, run_id=run_id, opts={
                "status": "running", "suspendedPaths": {}, "expectedStatus": "suspended"})
            duplicate = workflows.update_workflow_state(workflow_name=name, run_id=run_id, opts={
                "status": "running", "expectedStatus": "suspended"})
            self.say(f"resume: {'applied' if resumed else 'refused'}; a second resume of the same run: "
                     f"{'applied' if duplicate else 'refused (compare-and-set on the status)'}")
            workflows.update_workflow_results(workflow_name=name, run_id=run_id, step_id="approve", result={
                "status": "success", "output": {"approved": True, "days": 3}})
            workflows.update_workflow_state(workflow_name=name, run_id=run_id, opts={
                "status": "success", "result": {"itinerary": ["Alfama", "Sintra", "Cascais"]},
                "expectedStatus": "running"})
            sec.stored += ["1 run: running -> suspended -> running -> success", "2 step results"]
            run = workflows.get_workflow_run_by_id(run_id=run_id, workflow_name=name)
            runs = workflows.list_workflow_runs(workflow_name=name, per_page=10, page=0)
            assert run is not None
            snapshot = run.snapshot if isinstance(run.snapshot, dict) else {}
            self.say(f"final status [green]{snapshot.get('status')}[/], steps: {sorted(snapshot.get('context', {}))}"
                     f", result {snapshot.get('result')}")
            sec.read += ["the suspended snapshot", "the run by id", f"runs of {name} ({runs.total})"]
        self.span(f"wf-{self.run}", "tripPlanner run", "workflow_run", f"agent-{self.run}", 1.1,
                  attributes={"runId": run_id, "status": "success"})

    def scores(self) -> None:
        scores = self.storage.get_store("scores")
        with self.section("scores", "Scores of the answer") as sec:
            for scorer, value, reason in (("answer-relevancy", 0.92, "Both suggestions answer the question."),
                                          ("toxicity", 0.0, "No toxic content.")):
                scores.save_score(score={
                    "scorerId": scorer, "entityId": self.agent_id, "entityType": "AGENT", "runId": f"run-{self.run}",
                    "score": value, "reason": reason, "scorer": {"id": scorer, "name": scorer.title()},
                    "source": "LIVE", "entity": {"id": self.agent_id}, "output": {"text": "Sintra and Cascais"},
                    "traceId": self.trace_id, "spanId": f"agent-{self.run}"})
            sec.stored.append("2 scores (answer-relevancy, toxicity)")
            by_run = scores.list_scores_by_run_id(run_id=f"run-{self.run}")
            by_span = scores.list_scores_by_span(trace_id=self.trace_id, span_id=f"agent-{self.run}")
            for score in by_run.scores:
                self.say(f"{score.scorer_id:>17}: [bold]{score.score}[/]  {score.reason}")
            sec.read += [f"scores of the run ({by_run.pagination.total})",
                         f"scores of the agent span ({by_span.pagination.total})"]

    def agents(self) -> None:
        agents = self.storage.get_store("agents")
        with self.section("agents", "Stored agent with versions") as sec:
            agents.create(agent={"id": self.agent_id, "name": "Trip agent", "authorId": "team-travel",
                                 "instructions": "Help users plan trips.", "model": {"provider": "openai",
                                                                                     "name": "gpt-4o-mini"}})
            v2 = agents.create_version(version={
                "agentId": self.agent_id, "versionNumber": 2, "name": "Trip agent",
                "instructions": "Help users plan trips. Suggest day trips and what to pack.",
                "model": {"provider": "openai", "name": "gpt-4o-mini"}, "changedFields": ["instructions"],
                "changeMessage": "Suggest day trips"})
            agents.update(id=self.agent_id, active_version_id=v2.id, status="published")
            sec.stored += ["1 agent", "2 versions (v1 on create, v2)", "v2 activated, published"]
            resolved = agents.get_by_id_resolved(id=self.agent_id)
            versions = agents.list_versions(agent_id=self.agent_id)
            assert resolved is not None
            extra = resolved.model_extra or {}
            self.say(f"agent [cyan]{resolved.id}[/] status {resolved.status}, active version "
                     f"v{2 if resolved.resolved_version_id == v2.id else '?'}: \"{extra.get('instructions')}\"")
            self.say("versions: " + ", ".join(f"v{v.version_number} ({v.change_message})" for v in versions.versions))
            sec.read += ["the agent resolved with its active version", f"its versions ({versions.total})"]

    def datasets(self) -> tuple[str, list[Any], int]:
        datasets = self.storage.get_store("datasets")
        with self.section("datasets", "Dataset of test questions") as sec:
            dataset = datasets.create_dataset(
                id=f"trip-questions-{self.run}", name="Trip questions", target_type="agent",
                target_ids=[self.agent_id], input_schema={"type": "object", "required": ["question"]})
            items = datasets.batch_insert_items(dataset_id=dataset.id, items=[
                {"input": {"question": "What should I pack for Lisbon in May?"}, "groundTruth": "layers, rain jacket"},
                {"input": {"question": "Day trips from Lisbon?"}, "groundTruth": "Sintra, Cascais"},
                {"input": {"question": "Best time to visit Porto?"}, "groundTruth": "spring"},
            ])
            datasets.update_item(id=items[1].id, dataset_id=dataset.id, ground_truth="Sintra, Cascais, Évora")
            sec.stored += ["1 dataset, 3 items in one version", "1 item updated (new version, history kept)"]
            current = datasets.list_items(dataset_id=dataset.id)
            versions = datasets.list_dataset_versions(dataset_id=dataset.id)
            history = datasets.get_item_history(items[1].id)
            stored = datasets.get_dataset_by_id(id=dataset.id)
            assert stored is not None
            self.say(f"dataset [cyan]{dataset.id}[/] at version {stored.version}: "
                     f"{current.pagination.total} items, versions {[v.version for v in versions.versions]}")
            self.say("history of one item: " + ", ".join(
                f"v{row.dataset_version} -> {row.ground_truth!r}" for row in history))
            sec.read += ["current items", "dataset versions", "one item's history (SCD-2 rows)"]
            return dataset.id, items, stored.version

    def experiments(self, dataset_id: str, items: list[Any], version: int) -> None:
        experiments = self.storage.get_store("experiments")
        with self.section("experiments", "Experiment on the dataset") as sec:
            experiment = experiments.create_experiment(
                id=f"exp-{self.run}", name="Trip agent v2", dataset_id=dataset_id, dataset_version=version,
                target_type="agent", target_id=self.agent_id, total_items=len(items),
                scorer_ids=["answer-relevancy"])
            experiments.update_experiment(id=experiment.id, status="running", started_at=self.tick())
            results = []
            for index, item in enumerate(items):
                start = self.tick(seconds=1)
                results.append(experiments.add_experiment_result(
                    experiment_id=experiment.id, item_id=item.id, item_dataset_version=version, input=item.input,
                    output={"text": ["Layers and a rain jacket.", "Sintra and Cascais.", "Spring."][index]},
                    ground_truth=item.ground_truth, started_at=start, completed_at=start + timedelta(seconds=2),
                    status="needs-review", trace_id=self.trace_id))
            experiments.update_experiment_result(id=results[0].id, experiment_id=experiment.id, status="reviewed",
                                                 comment="Good answer")
            experiments.update_experiment(id=experiment.id, status="completed", succeeded_count=len(items),
                                          completed_at=self.tick())
            sec.stored += [f"1 experiment, {len(results)} results", "1 result reviewed"]
            stored = experiments.get_experiment_by_id(id=experiment.id)
            page = experiments.list_experiment_results(experiment_id=experiment.id)
            review = [r for r in experiments.get_review_summary() if r.experiment_id == experiment.id]
            assert stored is not None
            self.say(f"experiment [cyan]{stored.id}[/] {stored.status}: {stored.succeeded_count}/{stored.total_items} "
                     f"succeeded; results: {page.pagination.total}")
            if review:
                self.say(f"review: {review[0].needs_review} need review, {review[0].reviewed} reviewed")
            sec.read += ["the experiment", f"its results ({page.pagination.total})", "the review summary"]

    def traces(self) -> None:
        observability = self.storage.get_store("observability")
        if observability is None:
            return
        counter = _CountingClickHouse(observability)
        section = Section("observability", "Traces of the session", backend="ClickHouse (chDB)")
        self.out.rule(f"[bold]{section.title}[/]  [dim](observability)[/]", align="left")
        running = {**self.spans[0], "endedAt": None}
        observability.batch_create_spans(records=[running, *self.spans[1:]])
        self.span(f"tool-{self.run}", "weather", "tool_call", f"agent-{self.run}", 0.3,
                  input={"city": "Lisbon"}, output={"tempC": 22})
        observability.batch_create_spans(records=self.spans[-1:])
        observability.update_span(trace_id=self.trace_id, span_id=f"agent-{self.run}",
                                  updates={"endedAt": self.spans[0]["endedAt"]})
        section.stored += [f"{len(self.spans)} spans (agent run, model, workflow, tool)", "the root span ended"]
        trace = observability.get_trace(trace_id=self.trace_id)
        page = observability.list_traces(filters={"entityId": self.agent_id}, pagination={"page": 0, "perPage": 10})
        assert trace is not None
        for span in trace.spans:
            label = span.span_type if span.parent_span_id is None else f"└ {span.span_type}"
            took = (span.ended_at - span.started_at).total_seconds() if span.ended_at else None
            self.say(f"{label:<19} {span.name:<16} {f'{took:.1f} s' if took is not None else 'running'}")
        status = page.spans[0].status.value if page.spans else "-"
        self.say(f"traces of the agent: {page.pagination.total}, status {status}")
        section.read += ["the trace (all spans)", "traces of the agent (list_traces)"]
        section.requests = dict(sorted(counter.counts.items()))
        self.summary.sections.append(section)


def run_session(storage: Any, store: DynamoDBStore, out: Output | None = None, *, run: str | None = None,
                traces: bool = True) -> Summary:
    """Run the demo session on ``storage`` (a MastraCompositeStore whose default is ``store``); ``out`` defaults
    to :func:`default_output`."""
    session = Session(storage, store, out or default_output(), run=run or uuid.uuid4().hex[:6])
    before = store.request_counts()
    storage.init()
    session.summary.setup_requests = _diff(store.request_counts(), before)
    session.memory()
    session.background_work()
    session.workflows()
    session.scores()
    session.agents()
    dataset_id, items, version = session.datasets()
    session.experiments(dataset_id, items, version)
    if traces:
        session.traces()
    return session.summary


def _summary_rows(summary: Summary) -> list[tuple[str, str, str, str, str]]:
    rows = []
    if summary.setup_requests:
        rows.append(("(init)", "-", "table layout checked", str(sum(summary.setup_requests.values())),
                     ", ".join(f"{op} {n}" for op, n in summary.setup_requests.items())))
    for section in summary.sections:
        ops = ", ".join(f"{op} {n}" for op, n in section.requests.items())
        label = section.domain if section.backend == "DynamoDB" else f"{section.domain}\n[dim]{section.backend}[/]"
        rows.append((label, "\n".join(section.stored), "\n".join(section.read),
                     str(sum(section.requests.values())), ops))
    return rows


def print_summary(summary: Summary, out: Output | None = None) -> None:
    """The table of what the session stored and read (a rich table, or plain lines without rich)."""
    out = out or default_output()
    other = sorted({op for s in summary.sections if s.backend == "DynamoDB" for op in s.requests} - KEYED_OPERATIONS)
    total = (f"DynamoDB requests in total: [bold]{summary.total()}[/]; "
             + ("no Scan: every read is a GetItem, BatchGetItem or Query on a key or index." if not other
                else f"[red]also {', '.join(other)}[/]."))
    if isinstance(out, PlainOutput) or not rich_available():
        out.print("What the session stored and read")
        for label, stored, read, requests, ops in _summary_rows(summary):
            out.print(f"- {label.replace(chr(10), ' ')}: {requests} requests ({ops or '-'})")
            out.print(f"    stored: {stored.replace(chr(10), '; ')}")
            out.print(f"    read back: {read.replace(chr(10), '; ')}")
        out.print(total)
        return
    from rich.table import Table

    table = Table(title="What the session stored and read", title_justify="left", show_lines=True)
    table.add_column("domain")
    table.add_column("stored")
    table.add_column("read back")
    table.add_column("requests", justify="right")
    table.add_column("by operation")
    for row in _summary_rows(summary):
        table.add_row(*row)
    out.print(table)
    out.print(total)


def main() -> int:
    """``python -m mastra_dynamo.demo``: the same as ``mastra-dynamo demo``."""
    from mastra_dynamo.cli import main as cli_main

    return cli_main(["demo"])


if __name__ == "__main__":
    raise SystemExit(main())
