"""`mastra-dynamo demo`: the session on every backend, the built-in endpoint, and traces on chDB."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from mastra_dynamo import DynamoDBStore
from mastra_dynamo.cli import cli
from mastra_dynamo.cli import demo as demo_module
from tests.conftest import DDB_LOCAL_ENV, Backend

from .conftest import run

SECTIONS = ("Conversation with working memory", "Workflow that suspends and resumes", "Scores of the answer",
            "Stored agent with versions", "Dataset of test questions", "Experiment on the dataset")


def requests_of(output: str, domain: str) -> int:
    """The request count of a domain's row in the summary table."""
    for line in output.splitlines():
        cells = [c.strip() for c in re.split(r"[│┃]", line)]
        if len(cells) > 4 and cells[1] == domain:
            return int(cells[4])
    raise AssertionError(f"no summary row for {domain}")


def test_demo_session_on_an_existing_table(runner: CliRunner, backend: Backend, store: DynamoDBStore) -> None:
    result = run(runner, backend, "demo", "--table", store.table_name, "--no-traces")
    assert result.exit_code == 0, result.output
    out = result.output
    for title in SECTIONS:
        assert title in out
    assert "refused (compare-and-set on the status)" in out
    assert "What the session stored and read" in out and "no Scan" in out
    for domain in ("memory", "workflows", "scores", "agents", "datasets", "experiments"):
        assert requests_of(out, domain) > 0
    assert "Scan" not in "".join(line for line in out.splitlines() if "by operation" not in line
                                 and "no Scan" not in line)


def test_demo_starts_its_own_endpoint(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo_module, "_ddb_local_running", lambda: None)  # as if nothing listened on :8000
    result = runner.invoke(cli, ["demo", "--no-traces"], catch_exceptions=False,
                           env={"MASTRA_DYNAMO_DDB_LOCAL": None, "AWS_ENDPOINT_URL_DYNAMODB": None,
                                "COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "built-in: moto server on loopback" in result.output
    assert re.search(r"at http://127\.0\.0\.1:\d+ ", result.output)
    assert "created it from TABLE_SPEC" in result.output


def test_demo_as_make_demo_runs_it_with_traces_on_chdb() -> None:
    """A separate process (chDB hosts one engine path per process): the demo as `make demo` runs it, on DynamoDB
    Local when MASTRA_DYNAMO_DDB_LOCAL is set, else on its own endpoint."""
    env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL_DYNAMODB"}
    env["COLUMNS"] = "200"
    done = subprocess.run([sys.executable, "-m", "mastra_dynamo.demo"], env=env, capture_output=True, text=True,
                          timeout=240, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    if os.environ.get(DDB_LOCAL_ENV):
        assert "DynamoDB Local, from MASTRA_DYNAMO_DDB_LOCAL" in out
    assert "Traces of the session" in out and "ClickHouse (chDB)" in out
    for span_type in ("agent_run", "model_generation", "workflow_run", "tool_call"):
        assert span_type in out
    assert requests_of(out, "observability") > 0
    path = re.search(r"embedded ClickHouse \(chDB\) in (\S+) \(temporary\)", out)
    assert path is not None and not Path(path.group(1)).exists()  # the temporary engine directory is removed
