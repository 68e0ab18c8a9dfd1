"""Fixtures of the command line tests: a CliRunner and helpers to call a command against a test backend.

The ``store`` / ``backend`` fixtures come from tests/conftest.py: on moto the command runs inside the
fixture's ``mock_aws`` (no endpoint), on DynamoDB Local it gets ``--endpoint-url``.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from typing import Any

import pytest
from click.testing import CliRunner, Result

from mastra_dynamo import DynamoDBStore
from mastra_dynamo.cli import cli
from tests.conftest import Backend


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def connection(backend: Backend) -> list[str]:
    args = ["--region", "us-east-1"]
    if backend.endpoint_url:
        args += ["--endpoint-url", backend.endpoint_url]
    return args


def run(runner: CliRunner, backend: Backend, *args: str, extra: Sequence[str] = ()) -> Result:
    """Invoke ``mastra-dynamo ARGS --region ... [--endpoint-url ...]`` and return the result."""
    return runner.invoke(cli, [*args, *connection(backend), *extra], catch_exceptions=False,
                         env={"AWS_ENDPOINT_URL_DYNAMODB": None, "MASTRA_DYNAMO_DDB_LOCAL": None, "COLUMNS": "200"})


def populate(store: DynamoDBStore, *, run_id: str = "t1") -> None:
    """Fill every domain of ``store``'s table: the demo session plus edge cases the export must carry."""
    from rich.console import Console

    from mastra_dynamo.composite import MastraCompositeStore
    from mastra_dynamo.demo import run_session

    storage = MastraCompositeStore(id="test", default=store)
    run_session(storage, store, Console(file=io.StringIO()), run=run_id, traces=False)
    memory = store.get_store("memory")
    for i in range(10):  # threads spread over the 8 shards of the global listing
        memory.save_thread(thread={"id": f"t-{run_id}-{i}", "resourceId": f"r-{i % 3}", "title": f"T {i}",
                                   "metadata": {"i": i, "nested": {"ok": True}}})
        memory.save_messages(messages=[{"id": f"m-{run_id}-{i}-{j}", "threadId": f"t-{run_id}-{i}",
                                        "resourceId": f"r-{i % 3}", "role": "user" if j % 2 == 0 else "assistant",
                                        "content": f"message {j} of #{i} with odd chars: %#~ ü"} for j in range(2)])
    memory.save_messages(messages=[{"id": f"no-resource-{run_id}", "threadId": f"t-{run_id}-0", "role": "system",
                                    "content": {"format": 2, "parts": [], "metadata": {"k": 1.5}}}])
    memory.save_resource(resource={"id": f"r-{run_id}", "workingMemory": "wm", "metadata": {"plan": "pro"}})
    tasks = store.get_store("backgroundTasks")
    for n, status in enumerate(("pending", "running", "completed")):
        tasks.create_task({"id": f"task-{run_id}-{n}", "status": status, "toolName": "search",
                           "toolCallId": f"call-{run_id}-{n}", "args": {"q": n}, "agentId": "agent-x",
                           "runId": f"run-{run_id}", "threadId": f"t-{run_id}-0",
                           "createdAt": f"2026-01-0{n + 1}T00:00:00Z",
                           **({"result": {"ok": True}, "completedAt": "2026-01-05T00:00:00Z"} if n == 2 else {})})
    om = memory.initialize_observational_memory(thread_id=f"t-{run_id}-0", resource_id="r-0", scope="thread",
                                                config={"observationThreshold": 100})
    memory.update_active_observations(id=om.id, observations="the user likes tea", token_count=5,
                                      last_observed_at="2026-01-02T00:00:00Z")
    memory.update_buffered_observations(id=om.id, chunk={"cycleId": f"cycle-{run_id}", "observations": "later",
                                                         "tokenCount": 2, "messageIds": [f"m-{run_id}-0-1"],
                                                         "messageTokens": 4, "lastObservedAt": "2026-01-03T00:00:00Z"})
    workflows = store.get_store("workflows")
    # 0.6 MB of JSON, 340 KB compressed: stored as a chunked snapshot
    blob = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(9_000)]
    workflows.persist_workflow_snapshot(workflow_name="big", run_id=f"big-{run_id}",
                                        snapshot={"status": "running", "context": {"blob": blob}})
    scores = store.get_store("scores")
    for i in range(5):
        scores.save_score(score={"id": f"s-{run_id}-{i}", "scorerId": f"scorer-{i % 2}", "entityId": "e",
                                 "runId": f"run-{i}", "score": i / 4, "scorer": {"id": "x"}, "source": "TEST",
                                 "entity": {"id": "e"}, "metadata": {"n": i}})
    datasets = store.get_store("datasets")
    dataset = datasets.create_dataset(id=f"ds-{run_id}", name="edge", organization_id="org", tags=["a"])
    items = datasets.batch_insert_items(dataset_id=dataset.id, items=[
        {"input": {"q": i}, "externalId": f"ext-{i}", "source": {"type": "csv"},
         "toolMocks": [{"toolName": "t", "args": {"a": 1}, "output": 2}]} for i in range(4)])
    datasets.delete_item(id=items[0].id, dataset_id=dataset.id)
    datasets.update_item(id=items[1].id, dataset_id=dataset.id, metadata={"edited": True})
    datasets.purge_item(id=items[2].id, dataset_id=dataset.id)
    experiments = store.get_store("experiments")
    experiment = experiments.create_experiment(id=f"ex-{run_id}", dataset_id=dataset.id, dataset_version=1,
                                               organization_id="org")
    for attempt in (0, 0, 1):
        experiments.add_experiment_result(experiment_id=experiment.id, item_id=items[3].id, attempt=attempt,
                                          output={"a": attempt}, status="complete", tags=["x", "y"])
    experiments.upsert_experiment_result(experiment_id=experiment.id, item_id=items[1].id, output="up",
                                         status="needs-review")
    experiments.add_experiment_result(experiment_id=experiment.id, item_id=items[2].id, output="purged item")


def read_lines(path: Any) -> list[str]:
    with open(path, encoding="utf-8") as handle:
        return handle.read().splitlines()
