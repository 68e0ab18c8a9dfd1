#!/usr/bin/env python3
"""Build tests/fixtures/layout_v01: a table written by mastra-dynamo 0.1 (layout version 1), as files.

    .venv/bin/python scripts/make_v01_fixture.py            # regenerate tests/fixtures/layout_v01
    .venv/bin/python scripts/make_v01_fixture.py --check    # regenerate into a temporary directory, compare

The 0.1 package is taken from git (``git archive e636fc8~1 mastra_dynamo pyproject.toml``, the commit before
"Layout v2") into a temporary directory, and this script runs again in a child process with that directory
first on PYTHONPATH (the dependencies are the current virtualenv's: 0.1 pinned boto3/botocore 1.40.61,
pynamodb 6.1.0, pydantic 2.14.3, jsonschema 4.26.0, click 8.5.1, rich 15.0.0, the versions of
constraints/lock.txt). The child starts moto's DynamoDB server on 127.0.0.1, creates the table with 0.1's
``DynamoDBStore.create_table()``, writes the data set of :func:`populate` through the 0.1 public API, and writes:

* ``table.json``: the table's key schema, attribute definitions, indexes (DescribeTable) and TTL setting;
* ``items.jsonl``: every item of the table (a Scan), DynamoDB JSON (binary values base64), one per line,
  sorted by key;
* ``export/``: what the 0.1 ``mastra-dynamo export`` command wrote (run as a child process of its own), without
  its checkpoints; the manifest's ``exportedAt`` is set to the data set's fixed clock;
* ``readback.json``: the records as the 0.1 API reads them back (:func:`readback`).

Every id and time is fixed: the store runs on a clock that steps 1 ms per reading from 2025-06-02T09:00:00Z,
and ``uuid.uuid4`` returns a counter, so the files regenerate byte for byte. Two size thresholds of 0.1's
workflows store are lowered for the run (``INLINE_MAX_BYTES``, ``CHUNK_BYTES``: 512 bytes instead of 300 and
350 KiB) so that a snapshot of 18 KB is stored in chunks: the items have the form every chunked 0.1 snapshot
has, at a size that keeps the fixture small.

:func:`readback` uses only calls that 0.1 and the current version both have, with the same arguments: the
test of the move (tests/cli/test_layout_v01_move.py) runs it on the imported table and compares.
"""

from __future__ import annotations

import argparse
import base64
import filecmp
import itertools
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "tests" / "fixtures" / "layout_v01"
COMMIT = "e636fc8~1"
"""The last commit of mastra-dynamo 0.1 (the parent of "Layout v2 (schema version 2)")."""
TABLE = "mastra-v01"
REGION = "us-east-1"
START = datetime(2025, 6, 2, 9, 0, 0, tzinfo=UTC)
EXPORTED_AT = "2025-06-02T12:00:00Z"


# ---------------------------------------------------------------- deterministic clock and ids
class StepClock:
    """A clock that moves 1 ms forward on every reading."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now


def counting_uuid4() -> Any:
    """A replacement of ``uuid.uuid4``: version-4 shaped ids from a counter."""
    numbers = itertools.count(1)

    def uuid4() -> uuid.UUID:
        n = next(numbers)
        return uuid.UUID(f"{n:08x}-0000-4000-8000-{n:012x}")

    return uuid4


def at(minutes: float) -> str:
    """A fixed time of the data set: ``minutes`` after START, ISO text."""
    return (START + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def long_text(label: str, lines: int) -> str:
    """Deterministic text of ``lines`` numbered lines (about 70 bytes each; zlib makes 1-2 KB of 300 lines)."""
    cities = ("Lisbon", "Porto", "Sintra", "Cascais", "Evora", "Coimbra", "Faro", "Braga")
    return "\n".join(f"{label} {n:04d}: from {cities[n % 8]} to {cities[(n + 1) % 8]}, by train, "
                      "back the same day" for n in range(lines))


# ---------------------------------------------------------------- the data set (0.1 public API)
def populate(store: Any) -> None:
    """Write the data set: every domain 0.1 has (memory, workflows, scores, agents, datasets, experiments)."""
    memory = store.get_store("memory")
    memory.save_thread(thread={"id": "thread-1", "resourceId": "user-ada", "title": "Trip planning",
                               "metadata": {"channel": "web", "nested": {"tags": ["a", "b"], "n": 1.5}},
                               "createdAt": at(0), "updatedAt": at(0)})
    memory.save_thread(thread={"id": "thread-2", "resourceId": "user-ada", "title": "Packing list",
                               "createdAt": at(1), "updatedAt": at(1)})
    memory.save_thread(thread={"id": "thread-3", "resourceId": "user-bob", "createdAt": at(2), "updatedAt": at(2)})
    memory.save_messages(messages=[
        {"id": "m-1", "threadId": "thread-1", "resourceId": "user-ada", "role": "user",
         "content": "I want to visit Lisbon in May. What should I pack? %#~ ü", "createdAt": at(3)},
        {"id": "m-2", "threadId": "thread-1", "resourceId": "user-ada", "role": "assistant", "createdAt": at(4),
         "content": {"format": 2, "content": "Light layers and a rain jacket.",
                     "parts": [{"type": "text", "text": "Light layers and a rain jacket."}],
                     "metadata": {"model": "gpt-4o-mini", "tokens": 12}}},
        {"id": "m-3", "threadId": "thread-1", "resourceId": "user-ada", "role": "assistant", "type": "tool-call",
         "createdAt": at(5), "content": {"format": 2, "parts": [
             {"type": "tool-invocation", "toolInvocation": {"state": "result", "toolCallId": "call-1",
                                                            "toolName": "weather", "args": {"city": "Lisbon"},
                                                            "result": {"tempC": 22}}}]}},
        {"id": "m-4", "threadId": "thread-1", "resourceId": "user-ada", "role": "system", "createdAt": at(6),
         "content": {"format": 2, "parts": [], "metadata": {"k": 1.5}}},
    ])
    memory.save_messages(messages=[
        {"id": "m-5", "threadId": "thread-2", "resourceId": "user-ada", "role": "user", "createdAt": at(7),
         "content": {"format": 2, "parts": [{"type": "text", "text": long_text("leg", 280)}]}},  # 18 KB: compressed
        {"id": "m-6", "threadId": "thread-2", "resourceId": "user-ada", "role": "assistant", "createdAt": at(8),
         "content": "Noted."},
        {"id": "m-7", "threadId": "thread-3", "role": "user", "createdAt": at(9), "content": "No resource id."},
        {"id": "m-8", "threadId": "thread-3", "resourceId": "user-bob", "role": "tool", "createdAt": at(10),
         "content": {"format": 2, "parts": [{"type": "text", "text": "tool output"}]}},
    ])
    memory.update_messages(messages=[{"id": "m-6", "content": {"metadata": {"edited": True}}}])
    memory.update_thread(id="thread-2", title="Packing list (final)", metadata={"pinned": True})
    memory.save_resource(resource={"id": "user-bob", "workingMemory": "# Bob\n- vegetarian",
                                   "metadata": {"plan": "pro"}, "createdAt": at(11), "updatedAt": at(11)})
    memory.update_resource(resource_id="user-ada", working_memory="# Ada\n- Trip: Lisbon, May")
    memory.update_resource(resource_id="user-ada", working_memory="# Ada\n- Trip: Lisbon, May\n- Likes: palaces",
                           metadata={"locale": "en-GB"})

    workflows = store.get_store("workflows")
    workflows.persist_workflow_snapshot(
        workflow_name="tripPlanner", run_id="run-1", resource_id="user-ada",
        snapshot={"runId": "run-1", "status": "running", "value": {}, "context": {"input": {"city": "Lisbon"}},
                  "activePaths": [], "serializedStepGraph": [], "suspendedPaths": {}, "waitingPaths": {},
                  "timestamp": 1748854800000})
    workflows.update_workflow_results(workflow_name="tripPlanner", run_id="run-1", step_id="research",
                                      result={"status": "success", "output": {"sights": ["Belém", "Alfama"]}})
    workflows.update_workflow_state(workflow_name="tripPlanner", run_id="run-1",
                                    opts={"status": "suspended", "suspendedPaths": {"approve": [1]},
                                          "expectedStatus": "running"})
    workflows.persist_workflow_snapshot(
        workflow_name="tripPlanner", run_id="run-2", created_at=at(20), updated_at=at(21),
        snapshot={"runId": "run-2", "status": "success", "result": {"days": 3}, "context": {}})
    workflows.persist_workflow_snapshot(  # 18 KB of JSON: chunked (see the lowered thresholds)
        workflow_name="importer", run_id="run-big", resource_id="user-bob",
        snapshot={"runId": "run-big", "status": "running", "context": {"log": long_text("row", 280)}})

    scores = store.get_store("scores")
    cases: tuple[tuple[str, str | None, dict[str, Any]], ...] = (
        ("relevancy", "AGENT", {"traceId": "trace-1", "spanId": "span-1"}),
        ("relevancy", "AGENT", {"reason": "partly", "metadata": {"n": 2}}),
        ("toxicity", None, {"organizationId": "org-1", "projectId": "proj-1"}),
        ("toxicity", "WORKFLOW", {"output": {"text": "ok"}, "additionalContext": {"k": [1, 2]}}))
    for n, (scorer, entity_type, extra) in enumerate(cases):
        score: dict[str, Any] = {"id": f"score-{n}", "scorerId": scorer, "entityId": "trip-agent",
                                 "runId": f"run-{n % 2 + 1}", "score": n / 4, "scorer": {"id": scorer},
                                 "source": "LIVE" if n % 2 == 0 else "TEST", "entity": {"id": "trip-agent"}, **extra}
        if entity_type is not None:
            score["entityType"] = entity_type
        scores.save_score(score=score)

    agents = store.get_store("agents")
    agents.create(agent={"id": "trip-agent", "name": "Trip agent", "authorId": "team-travel",
                         "instructions": "Help users plan trips.", "metadata": {"team": "travel"},
                         "model": {"provider": "openai", "name": "gpt-4o-mini"}})
    v2 = agents.create_version(version={
        "agentId": "trip-agent", "versionNumber": 2, "name": "Trip agent",
        "instructions": "Help users plan trips. Suggest day trips.", "model": {"provider": "openai",
                                                                              "name": "gpt-4o-mini"},
        "changedFields": ["instructions"], "changeMessage": "Suggest day trips"})
    agents.create_version(version={
        "agentId": "trip-agent", "versionNumber": 3, "name": "Trip agent", "instructions": "Draft.",
        "model": {"provider": "openai", "name": "gpt-4o"}, "changedFields": ["instructions", "model"]})
    agents.update(id="trip-agent", active_version_id=v2.id, status="published")
    agents.create(agent={"id": "helper-agent", "name": "Helper", "instructions": "Answer briefly.",
                         "model": {"provider": "anthropic", "name": "claude"}})

    datasets = store.get_store("datasets")
    dataset = datasets.create_dataset(id="ds-trips", name="Trip questions", description="test questions",
                                      target_type="agent", target_ids=["trip-agent"], tags=["travel"],
                                      organization_id="org-1", metadata={"owner": "ada"},
                                      input_schema={"type": "object", "required": ["question"]})
    items = datasets.batch_insert_items(dataset_id=dataset.id, items=[
        {"input": {"question": "What should I pack?"}, "groundTruth": "layers", "externalId": "q-1",
         "source": {"type": "csv"}, "metadata": {"row": 1}},
        {"input": {"question": "Day trips?"}, "groundTruth": "Sintra",
         "toolMocks": [{"toolName": "weather", "args": {"city": "Sintra"}, "output": {"tempC": 20}}]},
        {"input": {"question": "Best time for Porto?"}, "groundTruth": "spring", "externalId": "q-3"},
        {"input": {"question": "Secret?"}, "groundTruth": "to be purged"},
    ])
    datasets.update_item(id=items[1].id, dataset_id=dataset.id, ground_truth="Sintra, Cascais")
    datasets.delete_item(id=items[2].id, dataset_id=dataset.id)
    datasets.add_item(dataset_id=dataset.id, input={"question": "Rainy day?"}, ground_truth="museums")
    datasets.purge_item(id=items[3].id, dataset_id=dataset.id)
    datasets.create_dataset(id="ds-empty", name="Empty")
    stored = datasets.get_dataset_by_id(id=dataset.id)

    experiments = store.get_store("experiments")
    experiment = experiments.create_experiment(
        id="exp-1", name="Trip agent v2", dataset_id=dataset.id, dataset_version=stored.version,
        target_type="agent", target_id="trip-agent", total_items=3, scorer_ids=["relevancy"],
        organization_id="org-1", metadata={"run": 1})
    experiments.update_experiment(id=experiment.id, status="running", started_at=at(30))
    first = experiments.add_experiment_result(
        experiment_id=experiment.id, item_id=items[0].id, item_dataset_version=stored.version,
        input={"question": "What should I pack?"}, output={"text": "Layers."}, ground_truth="layers",
        started_at=at(31), completed_at=at(32), status="needs-review", trace_id="trace-1", tags=["x"])
    for attempt in (0, 1):
        experiments.add_experiment_result(
            experiment_id=experiment.id, item_id=items[1].id, attempt=attempt, output={"text": f"try {attempt}"},
            started_at=at(33 + attempt), completed_at=at(33.5 + attempt), retry_count=attempt,
            error={"message": "timeout"} if attempt == 0 else None, status="needs-review" if attempt else None)
    experiments.upsert_experiment_result(experiment_id=experiment.id, item_id=items[1].id, attempt=1,
                                         output={"text": "try 1, again"}, started_at=at(35), completed_at=at(36),
                                         status="needs-review")
    experiments.add_experiment_result(experiment_id=experiment.id, item_id=items[3].id, output="purged item",
                                      started_at=at(37), completed_at=at(38))
    experiments.update_experiment_result(id=first.id, experiment_id=experiment.id, status="reviewed",
                                         comment="Good answer", tags=["x", "good"])
    experiments.update_experiment(id=experiment.id, status="completed", succeeded_count=2, failed_count=1,
                                  completed_at=at(40))
    experiments.create_experiment(id="exp-2", name="No dataset", total_items=0)


# ---------------------------------------------------------------- reading back (0.1 and current API)
def readback(store: Any) -> dict[str, Any]:
    """Every record of the data set as the public API reads it (Mastra's JSON shapes), with the totals the
    listings report. Only calls and arguments that 0.1 and the current version share."""

    def rec(record: Any) -> Any:
        return None if record is None else record.to_mastra()

    out: dict[str, Any] = {}
    memory = store.get_store("memory")
    threads = memory.list_threads(per_page=False, order_by={"field": "createdAt", "direction": "ASC"})
    resources = sorted({t.resource_id for t in threads.threads} | {"user-bob"})
    out["memory"] = {
        "threads": {"total": threads.total, "listed": [rec(t) for t in threads.threads],
                    "by_id": {t.id: rec(memory.get_thread_by_id(thread_id=t.id)) for t in threads.threads}},
        "threads_of_resource": {
            r: [t.id for t in memory.list_threads(per_page=False, filter={"resourceId": r}).threads]
            for r in resources},
        "messages": {},
        "messages_of_resource": {},
        "resources": {r: rec(memory.get_resource_by_id(resource_id=r)) for r in resources},
    }
    for thread in threads.threads:
        page = memory.list_messages(thread_id=thread.id, per_page=False)
        out["memory"]["messages"][thread.id] = {"total": page.total, "messages": [rec(m) for m in page.messages]}
    for r in resources:
        page = memory.list_messages_by_resource_id(resource_id=r, per_page=False)
        out["memory"]["messages_of_resource"][r] = {"total": page.total, "ids": [m.id for m in page.messages]}
    ids = [m["id"] for t in out["memory"]["messages"].values() for m in t["messages"]]
    out["memory"]["messages_by_id"] = sorted(m.id for m in memory.list_messages_by_id(message_ids=ids).messages)

    workflows = store.get_store("workflows")
    runs = workflows.list_workflow_runs()
    by_id: dict[str, Any] = {}
    for run in runs.runs:
        full = workflows.get_workflow_run_by_id(run_id=run.run_id, workflow_name=run.workflow_name)
        loaded = workflows.load_workflow_snapshot(workflow_name=run.workflow_name, run_id=run.run_id)
        by_id[f"{run.workflow_name}/{run.run_id}"] = {
            "run": rec(full), "listed_equals_by_id": rec(run) == rec(full),
            "loaded_equals_snapshot": loaded == (full.snapshot if full is not None else None)}
    out["workflows"] = {
        "total": runs.total, "listed": [f"{r.workflow_name}/{r.run_id}" for r in runs.runs], "by_id": by_id,
        "of_workflow": {name: [r.run_id for r in workflows.list_workflow_runs(workflow_name=name).runs]
                        for name in ("tripPlanner", "importer")},
        "of_resource": {r: [x.run_id for x in workflows.list_workflow_runs(resource_id=r).runs] for r in resources},
        "by_status": {s: [x.run_id for x in workflows.list_workflow_runs(status=s).runs]
                      for s in ("running", "suspended", "success")},
    }

    scores = store.get_store("scores")
    score_ids = [f"score-{n}" for n in range(4)]

    def listed(page: Any) -> dict[str, Any]:
        return {"total": page.pagination.total, "ids": [s.id for s in page.scores]}

    out["scores"] = {
        "by_id": {i: rec(scores.get_score_by_id(id=i)) for i in score_ids},
        "of_scorer": {s: listed(scores.list_scores_by_scorer_id(scorer_id=s)) for s in ("relevancy", "toxicity")},
        "of_run": {r: listed(scores.list_scores_by_run_id(run_id=r)) for r in ("run-1", "run-2")},
        "of_entity": {t: listed(scores.list_scores_by_entity_id(entity_id="trip-agent", entity_type=t))
                      for t in ("AGENT", "WORKFLOW")},
        "of_span": listed(scores.list_scores_by_span(trace_id="trace-1", span_id="span-1")),
    }

    agents = store.get_store("agents")
    page = agents.list(per_page=False)
    out["agents"] = {"total": page.total, "listed": [rec(a) for a in page.agents], "by_id": {}}
    for agent in page.agents:
        versions = agents.list_versions(agent_id=agent.id, per_page=False)
        out["agents"]["by_id"][agent.id] = {
            "agent": rec(agents.get_by_id(id=agent.id)),
            "resolved": rec(agents.get_by_id_resolved(id=agent.id)),
            "versions": {"total": versions.total, "records": [rec(v) for v in versions.versions]},
            "count_versions": agents.count_versions(agent_id=agent.id),
            "latest": (agents.get_latest_version(agent_id=agent.id) or versions.versions[0]).id,
            "by_version_id": [v.id for v in versions.versions if agents.get_version(id=v.id) == v],
        }

    datasets = store.get_store("datasets")
    listing = datasets.list_datasets(pagination={"page": 0, "perPage": False})
    out["datasets"] = {"total": listing.pagination.total, "listed": [rec(d) for d in listing.datasets], "by_id": {}}
    for dataset in listing.datasets:
        current = datasets.list_items(dataset_id=dataset.id, pagination={"page": 0, "perPage": False})
        versions = datasets.list_dataset_versions(dataset_id=dataset.id, pagination={"page": 0, "perPage": False})
        entry: dict[str, Any] = {
            "dataset": rec(datasets.get_dataset_by_id(id=dataset.id)),
            "items": {"total": current.pagination.total, "records": [rec(i) for i in current.items]},
            "versions": {"total": versions.pagination.total, "records": [rec(v) for v in versions.versions]},
            "items_at_version": {}, "history": {}, "item_by_id": {},
        }
        for version in versions.versions:
            at_version = datasets.get_items_by_version(dataset_id=dataset.id, version=version.version)
            entry["items_at_version"][str(version.version)] = [i.id for i in at_version]
        item_ids = sorted({i for v in entry["items_at_version"].values() for i in v})
        for item_id in item_ids:
            entry["history"][item_id] = [rec(row) for row in datasets.get_item_history(item_id)]
            entry["item_by_id"][item_id] = rec(datasets.get_item_by_id(id=item_id))
        out["datasets"]["by_id"][dataset.id] = entry

    experiments = store.get_store("experiments")
    listing = experiments.list_experiments(pagination={"page": 0, "perPage": False})
    out["experiments"] = {"total": listing.pagination.total, "listed": [rec(e) for e in listing.experiments],
                          "by_id": {}}
    for experiment in listing.experiments:
        results = experiments.list_experiment_results(experiment_id=experiment.id,
                                                      pagination={"page": 0, "perPage": False})
        out["experiments"]["by_id"][experiment.id] = {
            "experiment": rec(experiments.get_experiment_by_id(id=experiment.id)),
            "results": {"total": results.pagination.total, "records": [rec(r) for r in results.results]},
            "result_by_id": [r.id for r in results.results
                             if experiments.get_experiment_result_by_id(id=r.id) == r],
        }
    out["experiments"]["review_summary"] = sorted(
        (r.model_dump(mode="json") for r in experiments.get_review_summary()), key=lambda r: r["experiment_id"])
    return out


# ---------------------------------------------------------------- dumps
def json_value(value: Mapping[str, Any]) -> dict[str, Any]:
    """One attribute value (boto3 low-level shape) as DynamoDB JSON: binary as base64, sets sorted."""
    (kind, data), = value.items()
    if kind == "B":
        return {"B": base64.b64encode(bytes(data)).decode("ascii")}
    if kind == "BS":
        return {"BS": sorted(base64.b64encode(bytes(b)).decode("ascii") for b in data)}
    if kind in ("SS", "NS"):
        return {kind: sorted(data)}
    if kind == "L":
        return {"L": [json_value(v) for v in data]}
    if kind == "M":
        return {"M": {k: json_value(v) for k, v in data.items()}}
    return {kind: data}


def scan(client: Any, table: str) -> Iterator[dict[str, Any]]:
    request: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = client.scan(**request)
        yield from page["Items"]
        if "LastEvaluatedKey" not in page:
            return
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def table_layout(client: Any, table: str) -> dict[str, Any]:
    """What DescribeTable and DescribeTimeToLive say about the layout (no sizes, times or ARNs)."""
    description = client.describe_table(TableName=table)["Table"]
    ttl = client.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    return {
        "KeySchema": description["KeySchema"],
        "AttributeDefinitions": sorted(description["AttributeDefinitions"], key=lambda a: a["AttributeName"]),
        "GlobalSecondaryIndexes": sorted(({"IndexName": g["IndexName"], "KeySchema": g["KeySchema"],
                                           "Projection": g["Projection"]}
                                          for g in description.get("GlobalSecondaryIndexes", [])),
                                         key=lambda g: g["IndexName"]),
        "TimeToLive": {"AttributeName": ttl.get("AttributeName"), "Enabled": ttl.get("TimeToLiveStatus") in
                       ("ENABLED", "ENABLING")},
    }


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n", "utf-8")


# ---------------------------------------------------------------- the child: runs on the 0.1 package
def write_fixture(out: Path) -> None:
    import boto3
    from moto.server import ThreadedMotoServer

    import mastra_dynamo
    from mastra_dynamo.schema.table import TABLE_SPEC
    from mastra_dynamo.store import DynamoDBStore
    from mastra_dynamo.stores import workflows as workflows_module

    here = Path(os.environ["MASTRA_V01_DIR"]).resolve()
    if not Path(mastra_dynamo.__file__).resolve().is_relative_to(here) or TABLE_SPEC.schema_version != 1:
        raise SystemExit(f"expected mastra-dynamo 0.1 from {here}, got {mastra_dynamo.__file__}")
    uuid.uuid4 = counting_uuid4()  # fixed ids (see the module docstring)
    workflows_module.INLINE_MAX_BYTES = 512
    workflows_module.CHUNK_BYTES = 512
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the server's request log

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        store = DynamoDBStore(id="v01-fixture", table_name=TABLE, region=REGION, endpoint_url=endpoint,
                              clock=StepClock(START))
        store.create_table()
        store.init()
        populate(store)

        client = boto3.client("dynamodb", region_name=REGION, endpoint_url=endpoint)
        write_json(out / "table.json", table_layout(client, TABLE))
        items = sorted((json_value({"M": item})["M"] for item in scan(client, TABLE)),
                       key=lambda i: (i["pk"]["S"], i["sk"]["S"]))
        with open(out / "items.jsonl", "w", encoding="utf-8") as handle:
            for item in items:
                handle.write(json.dumps(item, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n")

        subprocess.run([sys.executable, "-m", "mastra_dynamo.cli", "export", "--out", str(out / "export"),
                        "--table", TABLE, "--endpoint-url", endpoint, "--region", REGION],
                       check=True, env=os.environ.copy(), cwd=here, stdout=subprocess.DEVNULL)
        shutil.rmtree(out / "export" / ".checkpoints")
        manifest_path = out / "export" / "manifest.json"
        manifest = json.loads(manifest_path.read_text("utf-8"))
        manifest["exportedAt"] = EXPORTED_AT
        manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", "utf-8")

        write_json(out / "readback.json", readback(store))
        store.close()
    finally:
        server.stop()


# ---------------------------------------------------------------- the parent
def generate(out: Path, commit: str) -> None:
    """Archive ``commit``'s package and run :func:`write_fixture` on it in a child process."""
    with tempfile.TemporaryDirectory(prefix="mastra-v01-") as tmp:
        package = Path(tmp) / "src"
        package.mkdir()
        archive = subprocess.run(["git", "-C", str(REPO), "archive", commit, "mastra_dynamo", "pyproject.toml"],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(package)], input=archive, check=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MASTRA_DYNAMO_"))}
        env.update(PYTHONPATH=str(package), MASTRA_V01_DIR=str(package), AWS_ACCESS_KEY_ID="local",
                   AWS_SECRET_ACCESS_KEY="local", AWS_DEFAULT_REGION=REGION, PYTHONHASHSEED="0")
        if out.exists():
            shutil.rmtree(out)
        out.mkdir(parents=True)
        subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", str(out)], check=True, env=env,
                       cwd=package)
    (out / "README.md").write_text(README, "utf-8")


README = """\
# A table written by mastra-dynamo 0.1 (layout version 1)

Generated by `scripts/make_v01_fixture.py` (do not edit; run it again, `--check` compares): the 0.1 package
(git `e636fc8~1`) wrote a data set in every domain it has on moto's DynamoDB server.

- `table.json`: key schema, attribute definitions, the four indexes `gsi1`..`gsi4` (projection ALL) and TTL.
- `items.jsonl`: every item, DynamoDB JSON (binary values base64), sorted by key.
- `export/`: the 0.1 `mastra-dynamo export` of the table (checkpoints removed, `exportedAt` fixed).
- `readback.json`: the records as the 0.1 API reads them back (`readback()` in the script).

Used by `tests/cli/test_layout_v01_move.py`.
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="fixture directory (default: %(default)s)")
    parser.add_argument("--commit", default=COMMIT, help="the 0.1 commit (default: %(default)s)")
    parser.add_argument("--check", action="store_true",
                        help="regenerate into a temporary directory and compare with --out byte for byte")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        write_fixture(args.child)
        return 0
    if not args.check:
        generate(args.out, args.commit)
        print(f"wrote {args.out}")
        return 0
    with tempfile.TemporaryDirectory(prefix="mastra-v01-check-") as tmp:
        fresh = Path(tmp) / "layout_v01"
        generate(fresh, args.commit)
        comparison = filecmp.dircmp(fresh, args.out)
        different = _differences(comparison)
    if different:
        print("differs from a fresh run: " + ", ".join(different))
        return 1
    print(f"{args.out} is what the 0.1 code writes")
    return 0


def _differences(comparison: filecmp.dircmp[str], prefix: str = "") -> list[str]:
    names = [prefix + n for n in (*comparison.left_only, *comparison.right_only, *comparison.funny_files)]
    _, mismatch, errors = filecmp.cmpfiles(comparison.left, comparison.right, comparison.common_files, shallow=False)
    names += [prefix + n for n in (*mismatch, *errors)]
    for name, sub in comparison.subdirs.items():
        names += _differences(sub, f"{prefix}{name}/")
    return names


if __name__ == "__main__":
    raise SystemExit(main())
