"""`mastra-dynamo migrate-from-mastra`: copy a table written by the TypeScript ``@mastra/dynamodb`` into ours.

The TypeScript adapter stores every entity through ElectroDB (spec section 4.3): keys are lower-cased strings
(``$mastra#entity_thread#id_<id>`` / ``$thread_1#id_<id>``), every item carries ``__edb_e__`` (entity name)
and ``__edb_v__`` (model version), and JSON fields are JSON *strings*. The keys lose the case of the ids, so
they are never parsed: the values come from the attributes, which keep them as written.

Entities migrated (the domains 1.0.0 has): ``thread``, ``message``, ``resource``, ``workflow_snapshot``,
``score``. The legacy ``trace`` and ``eval`` entities (no domain reads them) are counted and skipped. Each
record is written through our domains (upserts: a second run converges on the same table), keeping ids and
timestamps; retention comes from ``--ttl``. At the end every source record is looked up in our table and the
counts are compared: exit 1 when anything is missing.

The source table is read with a Scan (admin operation: ``mastra_dynamo.cli.admin``), twice: once to copy,
once to verify.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

from mastra_dynamo.cli.common import (
    EXIT_FAILURE,
    EXIT_USAGE,
    connection_options,
    console,
    escape,
    explain,
    fail,
    handle_storage_errors,
    local_credentials,
    resolve_region,
    table_option,
    where,
)
from mastra_dynamo.dynamo.client import TableClient
from mastra_dynamo.dynamo.codec import Item, decode_native
from mastra_dynamo.errors import StorageError, TableNotFoundError
from mastra_dynamo.schema import keys

if TYPE_CHECKING:
    from mastra_dynamo.store import DynamoDBStore

MIGRATED = ("thread", "message", "resource", "workflow_snapshot", "score")
LEGACY = ("trace", "eval")
ELECTRO_ATTRIBUTES = frozenset({"pk", "sk", "__edb_e__", "__edb_v__", "entity", "ttl", "expiresAt",
                                *(f"gsi{i}{part}" for i in range(1, 8) for part in ("pk", "sk"))})
SCORE_JSON = ("scorer", "extractStepResult", "preprocessStepResult", "analyzeStepResult", "input", "output",
              "additionalContext", "metadata", "requestContext", "entityData")
SCORE_NULLABLE = ("traceId", "resourceId", "threadId", "spanId")
MESSAGE_BATCH = 25


# ---------------------------------------------------------------- ElectroDB items -> Mastra JSON
def _plain(item: Item) -> dict[str, Any]:
    return {name: decode_native(value) for name, value in item.items()}


def electro_json(value: Any) -> Any:
    """The adapter's getter for JSON-string attributes: parse text that looks like a JSON object or array."""
    if isinstance(value, str) and value.startswith(("{", "[")):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _object(value: Any) -> dict[str, Any] | None:
    parsed = electro_json(value)
    return parsed if isinstance(parsed, dict) else None


def thread_record(item: Item) -> dict[str, Any]:
    data = _plain(item)
    record = {"id": data["id"], "resourceId": data["resourceId"], "title": data.get("title"),
              "createdAt": data["createdAt"], "updatedAt": data.get("updatedAt") or data["createdAt"]}
    metadata = _object(data.get("metadata"))
    if metadata is not None:
        record["metadata"] = metadata
    return record


def resource_record(item: Item) -> dict[str, Any]:
    data = _plain(item)
    record: dict[str, Any] = {"id": data["id"], "createdAt": data["createdAt"],
                              "updatedAt": data.get("updatedAt") or data["createdAt"]}
    if isinstance(data.get("workingMemory"), str):
        record["workingMemory"] = data["workingMemory"]
    metadata = _object(data.get("metadata"))
    if metadata is not None:
        record["metadata"] = metadata
    return record


def message_record(item: Item) -> dict[str, Any]:
    data = _plain(item)
    content = electro_json(data.get("content"))
    if isinstance(content, list):  # v1 leftovers: an array of parts
        content = {"format": 2, "parts": content}
    record: dict[str, Any] = {"id": data["id"], "threadId": data["threadId"], "role": data["role"],
                              "type": data.get("type") or "text", "createdAt": data["createdAt"],
                              "content": content if isinstance(content, dict | str) else json.dumps(content)}
    if isinstance(data.get("resourceId"), str) and data["resourceId"]:
        record["resourceId"] = data["resourceId"]
    return record


def run_record(item: Item) -> dict[str, Any]:
    data = _plain(item)
    snapshot = data.get("snapshot")
    record: dict[str, Any] = {"workflowName": data["workflow_name"], "runId": data["run_id"],
                              "snapshot": json.loads(snapshot) if isinstance(snapshot, str) else snapshot or {},
                              "createdAt": data["createdAt"], "updatedAt": data.get("updatedAt") or data["createdAt"]}
    if isinstance(data.get("resourceId"), str) and data["resourceId"]:
        record["resourceId"] = data["resourceId"]
    return record


def score_record(item: Item) -> dict[str, Any]:
    """The score as the adapter's parseScoreData returns it (``entityData`` -> ``entity``, "" -> null)."""
    data = {k: v for k, v in _plain(item).items() if k not in ELECTRO_ATTRIBUTES}
    for name in SCORE_JSON:
        if name in data:
            data[name] = electro_json(data[name])
    for name in SCORE_NULLABLE:
        if data.get(name) == "":
            data[name] = None
    data["entity"] = data.pop("entityData", None) or {}
    if not isinstance(data.get("scorer"), dict):
        data["scorer"] = {"id": data.get("scorerId")}
    return {k: v for k, v in data.items() if v is not None}


def target_key(entity: str, item: Item) -> keys.Key:
    """Where the record of a source item lives in our table (for the verification)."""
    data = _plain(item)
    if entity == "thread":
        return keys.thread_key(data["id"])
    if entity == "message":
        return keys.message_ref_key(data["id"])
    if entity == "resource":
        return keys.resource_key(data["id"])
    if entity == "workflow_snapshot":
        return keys.run_key(data["workflow_name"], data["run_id"])
    return keys.score_key(data["id"])


# ---------------------------------------------------------------- migration
@dataclass
class Tally:
    source: dict[str, int] = field(default_factory=lambda: dict.fromkeys((*MIGRATED, *LEGACY), 0))
    migrated: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MIGRATED, 0))
    found: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MIGRATED, 0))
    missing: dict[str, list[str]] = field(default_factory=dict)
    skipped: dict[str, list[str]] = field(default_factory=dict)
    other: int = 0

    @property
    def ok(self) -> bool:
        return all(self.found[e] == self.source[e] for e in MIGRATED) and not any(self.skipped.values())


def source_items(source: TableClient, entities: tuple[str, ...]) -> Iterator[Item]:
    """Items of the ElectroDB entities named (a filtered Scan of the source table: admin)."""
    from mastra_dynamo.cli.admin import scan_items

    names = {"#e": "__edb_e__"}
    values = {f":e{i}": {"S": e} for i, e in enumerate(entities)}
    flt = f"#e IN ({', '.join(values)})"
    yield from scan_items(source, filter_expression=flt, names=names,
                          values=values)  # admin: migration reads the whole source table


def migrate(source: TableClient, store: DynamoDBStore, *, dry_run: bool = False,
            progress: Any = None) -> Tally:
    """Copy every migrated entity of ``source`` into ``store``'s table, then verify."""
    from mastra_dynamo.cli.transfer import score_item

    tally = Tally()
    memory = store.get_store("memory")
    workflows = store.get_store("workflows")
    scores = store.get_store("scores")
    task = progress.add_task("copy messages, runs, scores", total=None) if progress else None
    messages: list[dict[str, Any]] = []

    def flush_messages() -> None:
        if messages and not dry_run:
            memory.save_messages(messages=list(messages))
        tally.migrated["message"] += len(messages)
        messages.clear()

    def skip(entity: str, item: Item, exc: StorageError) -> None:
        ident = str(_plain(item).get("id") or _plain(item).get("run_id") or "?")
        tally.skipped.setdefault(entity, []).append(f"{ident}: {exc.message}")

    # Pass 1: messages (before their threads, so that saving a thread afterwards sets its updatedAt to the
    # source's value), workflow runs and scores.
    for item in source_items(source, ("message", "workflow_snapshot", "score", *LEGACY)):
        entity = item["__edb_e__"]["S"]
        tally.source[entity] += 1
        if progress is not None:
            progress.advance(task)
        if entity in LEGACY:
            continue
        try:
            if entity == "message":
                messages.append(message_record(item))
                if len(messages) >= MESSAGE_BATCH:
                    flush_messages()
                continue
            if entity == "workflow_snapshot":
                run = run_record(item)
                if not dry_run:
                    workflows.persist_workflow_snapshot(
                        workflow_name=run["workflowName"], run_id=run["runId"], snapshot=run["snapshot"],
                        resource_id=run.get("resourceId"), created_at=run["createdAt"], updated_at=run["updatedAt"])
            else:
                record = score_record(item)
                if not dry_run:
                    store.table.batch_write(puts=[score_item(scores, record)])
            tally.migrated[entity] += 1
        except StorageError as exc:
            skip(entity, item, exc)
    try:
        flush_messages()
    except StorageError as exc:
        fail(f"could not save messages: {exc.message}", hint="fix the cause and run the migration again "
             "(it is idempotent)")
    # Pass 2: threads and resources.
    task = progress.add_task("copy threads, resources", total=None) if progress else None
    for item in source_items(source, ("thread", "resource")):
        entity = item["__edb_e__"]["S"]
        tally.source[entity] += 1
        if progress is not None:
            progress.advance(task)
        try:
            if entity == "thread":
                if not dry_run:
                    memory.save_thread(thread=thread_record(item))
            elif not dry_run:
                memory.save_resource(resource=resource_record(item))
            tally.migrated[entity] += 1
        except StorageError as exc:
            skip(entity, item, exc)
    if not dry_run:
        verify(source, store, tally, progress=progress)
    return tally


def verify(source: TableClient, store: DynamoDBStore, tally: Tally, *, progress: Any = None) -> None:
    """Look every source record up in our table (BatchGetItem by 100) and count what is there."""
    memory = store.get_store("memory")
    task = progress.add_task("verify", total=sum(tally.source[e] for e in MIGRATED)) if progress else None
    pending: list[tuple[str, keys.Key, str]] = []

    def check() -> None:
        found = store.table.batch_get([k for _, k, _ in pending])
        for entity, key, ident in pending:
            if memory.alive(found.get((key.pk, key.sk))) is not None:
                tally.found[entity] += 1
            else:
                tally.missing.setdefault(entity, []).append(ident)
        if progress is not None:
            progress.advance(task, len(pending))
        pending.clear()

    for item in source_items(source, MIGRATED):
        entity = item["__edb_e__"]["S"]
        data = _plain(item)
        pending.append((entity, target_key(entity, item), str(data.get("id") or data.get("run_id"))))
        if len(pending) >= 100:
            check()
    check()


def _source_table(table: str, region: str | None, endpoint_url: str | None) -> TableClient:
    from mastra_dynamo.dynamo.session import create_dynamodb_client

    local_credentials(endpoint_url)
    resolved = resolve_region(region, endpoint_url)
    if resolved is None:
        fail("no region for the source table", hint="pass --source-region or --region, or set AWS_REGION",
             exit_code=EXIT_USAGE)
    try:
        client = TableClient(client=create_dynamodb_client(region=resolved, endpoint_url=endpoint_url),
                             table_name=table)
    except StorageError as exc:
        raise explain(exc, table=table) from exc
    try:
        description = client.call("DescribeTable", TableName=table)["Table"]
    except TableNotFoundError as exc:
        raise explain(exc, table=table) from exc
    key_names = {k["AttributeName"] for k in description.get("KeySchema", [])}
    if key_names != {"pk", "sk"}:
        fail(f"source table {table!r} has keys {sorted(key_names)}, not the pk/sk of @mastra/dynamodb",
             hint="pass the table your TypeScript Mastra app uses (DynamoDBStore config.tableName)")
    return client


@click.command("migrate-from-mastra", short_help="Copy a TypeScript @mastra/dynamodb table into ours.")
@click.option("--source-table", required=True, help="The table written by the TypeScript @mastra/dynamodb.")
@table_option(help="Our table to write into (it must exist: `mastra-dynamo table create` for local use).")
@connection_options
@click.option("--source-region", help="Region of the source table (default: --region).")
@click.option("--source-endpoint-url", help="Endpoint of the source table (default: --endpoint-url).")
@click.option("--ttl", "ttl", help="Retention of the migrated records as JSON, like DynamoDBStore(ttl=...).")
@click.option("--dry-run", is_flag=True, help="Read and count the source only; write nothing.")
@handle_storage_errors
def migrate_command(source_table: str, table: str, region: str | None, endpoint_url: str | None,
                    source_region: str | None, source_endpoint_url: str | None, ttl: str | None,
                    dry_run: bool) -> None:
    """Copy a table written by TypeScript @mastra/dynamodb (ElectroDB layout) into a mastra-dynamo table.

    \b
    Migrates threads, messages, resources, workflow snapshots and scores, keeping ids and timestamps;
    verifies at the end that every source record is in the target (exit 1 otherwise). Safe to re-run.
    Reads the source with a Scan: an admin operation.
    """
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from mastra_dynamo.cli.transfer import _open

    source = _source_table(source_table, source_region or region, source_endpoint_url or endpoint_url)
    store = _open(table, region, endpoint_url, ttl)
    err = console(stderr=True)
    try:
        with Progress(SpinnerColumn(), TextColumn("{task.description:<32}"), TextColumn("{task.completed} items"),
                      TimeElapsedColumn(), console=err) as progress:
            tally = migrate(source, store, dry_run=dry_run, progress=progress)
        requests = store.request_counts()
    finally:
        store.close()
    _report(tally, source_table, table, endpoint_url, region, dry_run=dry_run, requests=requests)
    if not dry_run and not tally.ok:
        raise click.exceptions.Exit(EXIT_FAILURE)


def _report(tally: Tally, source_table: str, table: str, endpoint_url: str | None, region: str | None, *,
            dry_run: bool, requests: Mapping[str, int]) -> None:
    from rich.table import Table

    out = console()
    grid = Table(title=f"{'Dry run: ' if dry_run else ''}{source_table!r} (@mastra/dynamodb) -> "
                       f"{where(table, endpoint_url, region)}", title_justify="left")
    for column in ("entity", "in source", "migrated", "in target", "result"):
        grid.add_column(column, justify="right" if column != "entity" else "left")
    for entity in MIGRATED:
        src, done, found = tally.source[entity], tally.migrated[entity], tally.found[entity]
        result = "-" if dry_run else ("[green]ok[/]" if found == src and not tally.skipped.get(entity)
                                      else "[red]MISSING[/]")
        grid.add_row(entity, str(src), str(done), "-" if dry_run else str(found), result)
    for entity in LEGACY:
        if tally.source[entity]:
            grid.add_row(entity, str(tally.source[entity]), "0", "-", "skipped (legacy, unused by Mastra)")
    out.print(grid)
    for entity, problems in {**tally.skipped, **tally.missing}.items():
        for problem in problems[:10]:
            out.print(f"  [red]{escape(entity)}[/] {escape(problem)}")
    if not dry_run:
        out.print("DynamoDB requests on the target: " + ", ".join(f"{op} {n}" for op, n in sorted(requests.items())))
        if tally.ok:
            out.print("[green]Verified: every source record is in the target table.[/]")
        else:
            out.print("[red]Verification failed: see the MISSING lines above; fix the cause and run the migration "
                      "again (it is idempotent).[/]")
