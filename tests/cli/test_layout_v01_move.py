"""Moving a table written by mastra-dynamo 0.1 (layout version 1) to this version.

tests/fixtures/layout_v01 is what the 0.1 code wrote (``scripts/make_v01_fixture.py``: the 0.1 package from git
wrote a data set in every domain it has on moto's DynamoDB server): the table's layout and raw items, what the
0.1 ``mastra-dynamo export`` wrote, and the records as the 0.1 API read them back.

* A table with the 0.1 layout and items is refused by ``init()``, ``table check`` and ``import`` (code
  TABLE_LAYOUT_OUTDATED, naming export and import as the way to move), and nothing is written to it.
* The 0.1 export imports into a new table. Every record read through the current API equals what 0.1 read,
  except the differences listed in DIFFERENCES (each with its reason); every total and count equals 0.1's; and
  exporting the new table gives the 0.1 files again, byte for byte.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from click.testing import CliRunner

from mastra_dynamo import DynamoDBStore
from mastra_dynamo.cli import transfer
from mastra_dynamo.errors import TableMismatchError
from tests.conftest import Backend

from .conftest import run

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "layout_v01"
MISSING = object()
"""A field the record does not have (as opposed to a field whose value is null)."""


@dataclass(frozen=True)
class Difference:
    """A documented difference between what 0.1 read and what the current version reads after the move."""

    path: str
    """Regular expression over the path of the value in the read-back document (``/`` between keys)."""
    old: object
    new: object
    reason: str


DIFFERENCES = (
    Difference(
        r"datasets/by_id/[^/]+/(items/records\[\d+\]|item_by_id/[^/]+)/toolMocks\[\d+\]/matchArgs", MISSING, None,
        "0.1 exports a dataset item's history rows with every field of their tool mocks spelled out (null when "
        "unset), and import stores the item's payload as exported: the current item then holds matchArgs as "
        "null and to_mastra() shows it. Same value (an unset matchArgs is None); null instead of absent. The "
        "history rows themselves read the same in both versions."),
    Difference(
        r"datasets/by_id/[^/]+/(items/records\[\d+\]|item_by_id/[^/]+)/source/referenceId", MISSING, None,
        "as for matchArgs: the exported history rows spell out the item source's referenceId as null."),
)


def fixture_script() -> ModuleType:
    """scripts/make_v01_fixture.py, for its ``readback`` (the calls whose answers 0.1 recorded) and dumps."""
    spec = importlib.util.spec_from_file_location("make_v01_fixture", REPO / "scripts" / "make_v01_fixture.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SCRIPT = fixture_script()


def client(backend: Backend) -> Any:
    return boto3.client("dynamodb", region_name="us-east-1", endpoint_url=backend.endpoint_url)


def fixture_items() -> list[dict[str, Any]]:
    """The raw items of the 0.1 table (DynamoDB JSON, binary values base64), in key order."""
    with open(FIXTURE / "items.jsonl", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def attribute(value: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB JSON value as boto3 sends it (binary values as bytes)."""
    (kind, data), = value.items()
    if kind == "B":
        return {"B": base64.b64decode(data)}
    if kind == "BS":
        return {"BS": [base64.b64decode(b) for b in data]}
    if kind == "L":
        return {"L": [attribute(v) for v in data]}
    if kind == "M":
        return {"M": {k: attribute(v) for k, v in data.items()}}
    return {kind: data}


def stored_items(backend: Backend, table: str) -> list[dict[str, Any]]:
    """Every item of ``table`` as the fixture spells items, in key order."""
    items = (SCRIPT.json_value({"M": item})["M"] for item in SCRIPT.scan(client(backend), table))
    return sorted(items, key=lambda i: (i["pk"]["S"], i["sk"]["S"]))


@pytest.fixture
def v01_table(backend: Backend) -> Iterator[str]:
    """A table with the fixture's 0.1 layout (keys, gsi1..gsi4, TTL) holding the fixture's raw items."""
    layout = json.loads((FIXTURE / "table.json").read_text("utf-8"))
    name = f"v01-{uuid.uuid4().hex[:10]}"
    ddb = client(backend)
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", KeySchema=layout["KeySchema"],
                     AttributeDefinitions=layout["AttributeDefinitions"],
                     GlobalSecondaryIndexes=layout["GlobalSecondaryIndexes"])
    try:
        ddb.get_waiter("table_exists").wait(TableName=name)
        if layout["TimeToLive"]["Enabled"]:
            ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={
                "Enabled": True, "AttributeName": layout["TimeToLive"]["AttributeName"]})
        items = fixture_items()
        for start in range(0, len(items), 25):
            ddb.batch_write_item(RequestItems={name: [{"PutRequest": {"Item": attribute({"M": i})["M"]}}
                                                      for i in items[start:start + 25]]})
        yield name
    finally:
        ddb.delete_table(TableName=name)


def flat(text: str) -> str:
    return " ".join(text.split())


def test_the_fixture_holds_every_domain_of_0_1() -> None:
    layout = json.loads((FIXTURE / "table.json").read_text("utf-8"))
    assert [g["IndexName"] for g in layout["GlobalSecondaryIndexes"]] == ["gsi1", "gsi2", "gsi3", "gsi4"]
    items = fixture_items()
    assert {i["_sv"]["N"] for i in items} == {"1"}
    entities = {i["_et"]["S"] for i in items}
    assert {"thread", "message", "resource", "workflow_run", "workflow_chunk", "score", "agent", "agent_version",
            "dataset", "experiment", "experiment_result"} <= entities, entities
    message = next(i for i in items if i["_et"]["S"] == "message" and i["sk"]["S"].endswith("#m-5"))
    assert "B" in message["content"]  # the large message is stored compressed
    manifest = json.loads((FIXTURE / "export" / "manifest.json").read_text("utf-8"))
    assert set(manifest["kinds"]) == {k.name for k in transfer.KINDS if not k.optional}
    assert all(kind["records"] > 0 for kind in manifest["kinds"].values()), manifest["kinds"]


def test_a_0_1_table_is_refused_with_the_way_to_move_and_left_alone(runner: CliRunner, backend: Backend,
                                                                   v01_table: str, tmp_path: Path) -> None:
    assert stored_items(backend, v01_table) == fixture_items()
    store = DynamoDBStore(id="v01", table_name=v01_table, region="us-east-1", endpoint_url=backend.endpoint_url)
    try:
        with pytest.raises(TableMismatchError) as raised:
            store.init()
    finally:
        store.close()
    assert raised.value.code == "TABLE_LAYOUT_OUTDATED"
    assert raised.value.details["schema_version"] == 1 and raised.value.details["expected_schema_version"] == 2
    assert "mastra-dynamo export" in str(raised.value) and "mastra-dynamo import" in str(raised.value)

    result = run(runner, backend, "table", "check", "--table", v01_table, extra=["--no-require-pitr"])
    assert result.exit_code == 1, result.output
    out = flat(result.output)
    assert "layout version" in out and "schema version 1 (mastra-dynamo 0.1)" in out
    assert "mastra-dynamo export" in out and "mastra-dynamo import" in out
    result = run(runner, backend, "table", "check", "--table", v01_table, extra=["--no-require-pitr", "--json"])
    assert result.exit_code == 1
    assert "layout version" in {p["check"] for p in json.loads(result.stdout)["problems"]}

    # Importing into it (or exporting it with this version) stops at the same check: nothing is written.
    export = tmp_path / "export"
    shutil.copytree(FIXTURE / "export", export)
    result = run(runner, backend, "import", "--from", str(export), "--table", v01_table)
    assert result.exit_code == 1
    assert "mastra-dynamo export" in flat(result.output) and "table check" in flat(result.output)
    result = run(runner, backend, "export", "--out", str(tmp_path / "out"), "--table", v01_table)
    assert result.exit_code == 1 and "schema version 1" in flat(result.output)
    assert stored_items(backend, v01_table) == fixture_items()


def differences(old: Any, new: Any, path: str = "") -> Iterator[tuple[str, object, object]]:
    """(path, 0.1 value, current value) of every leaf where the two read-back documents differ."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            yield from differences(old.get(key, MISSING), new.get(key, MISSING), f"{path}/{key}" if path else key)
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for n, (a, b) in enumerate(zip(old, new, strict=True)):
            yield from differences(a, b, f"{path}[{n}]")
    elif old is MISSING or new is MISSING or type(old) is not type(new) or old != new:
        yield path, old, new


def documented(path: str, old: object, new: object) -> Difference | None:
    for difference in DIFFERENCES:
        if re.fullmatch(difference.path, path) and old is difference.old and new == difference.new:
            return difference
    return None


def totals(document: Any, path: str = "") -> dict[str, int]:
    """Every count in a read-back document: listing totals, version counts, review counters."""
    found: dict[str, int] = {}
    if isinstance(document, dict):
        for key, value in document.items():
            where = f"{path}/{key}" if path else key
            if key in ("total", "count_versions", "needs_review", "reviewed", "complete") and isinstance(value, int):
                found[where] = value
            else:
                found.update(totals(value, where))
    elif isinstance(document, list):
        for n, value in enumerate(document):
            found.update(totals(value, f"{path}[{n}]"))
    return found


def test_the_0_1_export_imports_with_every_record(runner: CliRunner, backend: Backend, store: DynamoDBStore,
                                                  tmp_path: Path) -> None:
    export = tmp_path / "export"  # a copy: import keeps its checkpoints in the export directory
    shutil.copytree(FIXTURE / "export", export)
    manifest = json.loads((export / "manifest.json").read_text("utf-8"))
    result = run(runner, backend, "import", "--from", str(export), "--table", store.table_name)
    assert result.exit_code == 0, result.output
    assert "(not in this export)" in result.output  # the kinds added after 0.1

    expected = json.loads((FIXTURE / "readback.json").read_text("utf-8"))
    got = json.loads(json.dumps(SCRIPT.readback(store)))  # through JSON, as the fixture was written
    assert totals(got) == totals(expected)  # 31 counts: listing totals, version counts, review counters
    unexplained = [(p, o, n) for p, o, n in differences(expected, got) if documented(p, o, n) is None]
    assert unexplained == []
    seen = {documented(p, o, n) for p, o, n in differences(expected, got)}
    assert seen == set(DIFFERENCES)  # each documented difference still occurs (else drop it from the list)

    # Every record the 0.1 API read is in the new table: per kind, the number of records 0.1 exported.
    memory = expected["memory"]
    assert sum(t["total"] for t in memory["messages"].values()) == manifest["kinds"]["messages"]["records"]
    assert memory["threads"]["total"] == manifest["kinds"]["threads"]["records"]
    assert expected["workflows"]["total"] == manifest["kinds"]["workflow_runs"]["records"]
    assert len(expected["scores"]["by_id"]) == manifest["kinds"]["scores"]["records"]
    assert sum(a["count_versions"] for a in expected["agents"]["by_id"].values()) == \
        manifest["kinds"]["agent_versions"]["records"]
    assert sum(len(h) for d in expected["datasets"]["by_id"].values() for h in d["history"].values()) == \
        manifest["kinds"]["dataset_items"]["records"]
    assert sum(r["results"]["total"] for r in expected["experiments"]["by_id"].values()) == \
        manifest["kinds"]["experiment_results"]["records"]

    # Exported again by this version, the new table gives the files 0.1 wrote, and empty files for the kinds
    # 0.1 did not have. Scores are exported in the order of a Scan, which depends on the endpoint (0.1 wrote
    # the fixture on moto): their lines are compared as a set.
    again = tmp_path / "again"
    result = run(runner, backend, "export", "--out", str(again), "--table", store.table_name)
    assert result.exit_code == 0, result.output
    for kind in transfer.KINDS:
        new, old = (again / kind.file).read_bytes(), (export / kind.file).read_bytes() if not kind.optional else b""
        if kind.name == "scores":
            new, old = b"".join(sorted(new.splitlines(True))), b"".join(sorted(old.splitlines(True)))
        assert new == old, kind.name
