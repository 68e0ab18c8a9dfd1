"""The click commands `mastra-dynamo export` and `mastra-dynamo import`: opening the store, progress, summary."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import click

from mastra_dynamo.cli.common import (
    EXIT_FAILURE,
    EXIT_USAGE,
    connection_options,
    console,
    escape,
    fail,
    handle_storage_errors,
    local_credentials,
    resolve_region,
    table_option,
    where,
)
from mastra_dynamo.cli.transfer.export import export_table
from mastra_dynamo.cli.transfer.format import KINDS, read_manifest
from mastra_dynamo.cli.transfer.importer import import_dir
from mastra_dynamo.errors import StorageError

if TYPE_CHECKING:
    from rich.progress import Progress

    from mastra_dynamo.store import DynamoDBStore


def _progress() -> Progress:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description:<48}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console(stderr=True), transient=False)


def _open(table: str, region: str | None, endpoint_url: str | None, ttl: str | None = None) -> DynamoDBStore:
    from mastra_dynamo.cli.common import explain
    from mastra_dynamo.store import DynamoDBStore

    local_credentials(endpoint_url)
    policy = None
    if ttl:
        try:
            policy = json.loads(ttl)
        except ValueError as exc:
            fail(f"--ttl is not JSON: {exc}", hint='e.g. --ttl \'{"message": {"enabled": true, '
                 '"defaultTtlSeconds": 2592000}}\'', exit_code=EXIT_USAGE)
    try:
        store = DynamoDBStore(id="cli-transfer", table_name=table, region=resolve_region(region, endpoint_url),
                              endpoint_url=endpoint_url, ttl=policy)
        store.init()
    except StorageError as exc:
        raise explain(exc, table=table) from exc
    return store


def _summary(title: str, rows: list[tuple[str, str, int]], requests: Mapping[str, int]) -> None:
    from rich.table import Table

    grid = Table(title=title, title_justify="left")
    grid.add_column("kind")
    grid.add_column("file")
    grid.add_column("records", justify="right")
    for name, file, number in rows:
        grid.add_row(name, file, str(number))
    out = console()
    out.print(grid)
    out.print("DynamoDB requests: " + ", ".join(f"{op} {n}" for op, n in sorted(requests.items())))


@click.command("export", short_help="Export every domain to JSON Lines (Mastra shapes).")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory for the JSON Lines files (created; an unfinished export there is resumed).")
@table_option(help="The table to export.")
@connection_options
@click.option("--restart", is_flag=True,
              help="Ignore the checkpoints of an unfinished export and start over (a finished one is always redone).")
@handle_storage_errors
def export_command(out: Path, table: str, region: str | None, endpoint_url: str | None, restart: bool) -> None:
    """Export every domain of a table to JSON Lines in Mastra's JSON shapes (one file per entity kind).

    An interrupted export resumes from its checkpoints when run again with the same --out.

    \b
    Files: threads, messages, resources, workflow_runs, scores, agents, agent_versions, datasets,
    dataset_items (history rows), dataset_versions, experiments, experiment_results (.jsonl) and
    manifest.json. Streaming (constant memory), resumable (checkpoints in DIR/.checkpoints), admin only:
    scores are read with a Scan of the table.
    """
    store = _open(table, region, endpoint_url)
    try:
        with _progress() as progress:
            counts = export_table(store, out, restart=restart, progress=progress)
        requests = store.request_counts()
    finally:
        store.close()
    _summary(f"Exported {where(table, endpoint_url, region)} to {out}",
             [(k.name, k.file, counts[k.name]) for k in KINDS], requests)


@click.command("import", short_help="Import an export directory (upserts, resumable).")
@click.option("--from", "source", required=True,
              type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="A directory written by `mastra-dynamo export`.")
@table_option(help="The table to import into (it must exist: `mastra-dynamo table create` for local use).")
@connection_options
@click.option("--restart", is_flag=True,
              help="Ignore the checkpoints of an unfinished import and start over (a finished one is always redone).")
@click.option("--ttl", "ttl", help="Retention of the imported records as JSON, like DynamoDBStore(ttl=...), "
              'e.g. \'{"message": {"enabled": true, "defaultTtlSeconds": 2592000}}\'. Default: none.')
@click.option("--checkpoint-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where to keep the import checkpoints (default: DIR/.checkpoints).")
@handle_storage_errors
def import_command(source: Path, table: str, region: str | None, endpoint_url: str | None, restart: bool,
                   ttl: str | None, checkpoint_dir: Path | None) -> None:
    """Import an export directory into a table (upserts: re-running it gives the same table).

    Records keep their ids and timestamps. An interrupted import resumes after the last checkpointed line; a
    finished one runs again from the start.
    """
    manifest = read_manifest(source)
    store = _open(table, region, endpoint_url, ttl)
    try:
        with _progress() as progress:
            applied = import_dir(store, source, restart=restart, checkpoint_dir=checkpoint_dir, progress=progress)
        requests = store.request_counts()
    finally:
        store.close()
    rows = [(k.name, k.file if k.name in manifest["kinds"] else "(not in this export)", applied[k.name])
            for k in KINDS]
    _summary(f"Imported {source} (from table {manifest.get('table')!r}) into {where(table, endpoint_url, region)}",
             rows, requests)
    missing = [k.name for k in KINDS  # an optional kind an older export lacks was not expected
               if applied[k.name] != manifest["kinds"].get(k.name, {}).get("records", 0)]
    if missing:
        console(stderr=True).print(f"[red]record counts differ for {escape(', '.join(missing))}[/]")
        raise click.exceptions.Exit(EXIT_FAILURE)
