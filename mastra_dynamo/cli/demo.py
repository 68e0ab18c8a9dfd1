"""`mastra-dynamo demo`: the README's main job, with no AWS account and no Docker.

Where the data goes, in this order:

1. ``--endpoint-url``; else ``MASTRA_DYNAMO_DDB_LOCAL`` (set by ``make demo``); else ``AWS_ENDPOINT_URL_DYNAMODB``;
2. ``--table`` without an endpoint: that (existing) table in AWS, with the usual credentials and ``--region``;
3. otherwise DynamoDB Local on 127.0.0.1:8000 when it is running there;
4. otherwise a DynamoDB endpoint started for this run: moto's server on 127.0.0.1 (loopback only, a free
   port, in memory; needs the ``local`` extra).

Traces go to embedded ClickHouse (chDB) in a temporary directory (``--chdb-path`` to keep them).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import tempfile
from pathlib import Path
from typing import Any

import click

from mastra_dynamo.cli.common import console, escape, explain, fail, local_credentials
from mastra_dynamo.errors import StorageError, TableNotFoundError

DEFAULT_TABLE = "mastra-demo"
DDB_LOCAL_DEFAULT = ("127.0.0.1", 8000)


def _ddb_local_running() -> str | None:
    """The endpoint of a DynamoDB Local listening on its default port, if one answers there."""
    host, port = DDB_LOCAL_DEFAULT
    try:
        with socket.create_connection((host, port), timeout=0.25):
            pass
    except OSError:
        return None
    endpoint = f"http://{host}:{port}"
    from botocore.config import Config

    from mastra_dynamo.dynamo.session import new_session

    client = new_session().create_client(
        "dynamodb", region_name="us-east-1", endpoint_url=endpoint, aws_access_key_id="local",
        aws_secret_access_key="local",
        config=Config(connect_timeout=1, read_timeout=2, retries={"max_attempts": 1}))
    try:
        client.list_tables(Limit=1)
    except Exception:
        return None
    finally:
        client.close()
    return endpoint


class Endpoint:
    """Where the demo's DynamoDB requests go, why, and (for the built-in server) how to stop it."""

    def __init__(self, url: str | None, origin: str, server: Any = None) -> None:
        self.url = url
        self.origin = origin
        self.server = server

    @property
    def local(self) -> bool:
        return self.url is not None

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None


def resolve_endpoint(endpoint_url: str | None, table: str | None) -> Endpoint:
    if endpoint_url:
        return Endpoint(endpoint_url, "--endpoint-url")
    for variable, label in (("MASTRA_DYNAMO_DDB_LOCAL", "DynamoDB Local, from MASTRA_DYNAMO_DDB_LOCAL"),
                            ("AWS_ENDPOINT_URL_DYNAMODB", "from AWS_ENDPOINT_URL_DYNAMODB")):
        value = os.environ.get(variable)
        if value:
            return Endpoint(value, label)
    if table:
        return Endpoint(None, "AWS (--table without an endpoint)")
    running = _ddb_local_running()
    if running:
        return Endpoint(running, "DynamoDB Local, found running on its default port")
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        fail("no DynamoDB endpoint: none was given, DynamoDB Local is not running on 127.0.0.1:8000, and the "
             "built-in local endpoint needs moto's server",
             hint="install it with `pip install 'mastra-dynamo[local]'`, run `make demo` (starts DynamoDB Local), "
                  "pass --endpoint-url URL, or --table NAME for an existing table in AWS")
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log line per request
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return Endpoint(f"http://{host}:{port}", "built-in: moto server on loopback, in memory", server)


def _chdb_available() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in ("chdb", "clickhouse_connect"))


@click.command("demo", short_help="Run an agent session in every domain (no AWS needed).")
@click.option("--endpoint-url", help="DynamoDB endpoint to use (default: see above).")
@click.option("--table", help=f"Table name. With an endpoint: created when missing (default {DEFAULT_TABLE!r}). "
              "Without one: an existing table in AWS.")
@click.option("--region", envvar=["AWS_REGION", "AWS_DEFAULT_REGION"], show_envvar=True,
              help="AWS region (default for local endpoints: us-east-1).")
@click.option("--traces/--no-traces", default=True, show_default=True,
              help="Store the session's traces in embedded ClickHouse (chDB; needs the chdb extra).")
@click.option("--chdb-path", type=click.Path(file_okay=False, path_type=Path),
              help="chDB directory for the traces (default: a temporary directory, removed at the end).")
def demo_command(endpoint_url: str | None, table: str | None, region: str | None, traces: bool,
                 chdb_path: Path | None) -> None:
    """Run a realistic agent session through a MastraCompositeStore and print what it stored and read.

    \b
    A conversation with working memory, a workflow that suspends and resumes, scores, a stored agent with
    versions, a dataset and an experiment (DynamoDB, one table), and the traces of it all (ClickHouse,
    embedded chDB). The summary counts the DynamoDB requests of every domain.

    \b
    DynamoDB endpoint, first match: --endpoint-url; MASTRA_DYNAMO_DDB_LOCAL; AWS_ENDPOINT_URL_DYNAMODB;
    --table alone (a table in AWS); DynamoDB Local on 127.0.0.1:8000; else a moto server started on
    127.0.0.1 for the run (`pip install 'mastra-dynamo[local]'`). No AWS account or Docker needed.
    """
    from mastra_dynamo.composite import MastraCompositeStore
    from mastra_dynamo.demo import print_summary, run_session
    from mastra_dynamo.store import DynamoDBStore

    out = console()
    endpoint = resolve_endpoint(endpoint_url, table)
    table_name = table or DEFAULT_TABLE
    local_credentials(endpoint.url)
    resolved_region = region or ("us-east-1" if endpoint.local else None)
    temp_dir: str | None = None
    storage: Any = None
    store: DynamoDBStore | None = None
    try:
        try:
            store = DynamoDBStore(id="demo", table_name=table_name, region=resolved_region, endpoint_url=endpoint.url,
                                  ttl={"message": {"enabled": True, "defaultTtlSeconds": 86400}})
        except StorageError as exc:
            raise explain(exc, table=table_name) from exc
        out.print("[bold]mastra-dynamo demo[/]: an agent session in every storage domain")
        out.print(f"  DynamoDB:      table {table_name!r} at "
                  f"{escape(endpoint.url or 'AWS region ' + str(store.region))} ({escape(endpoint.origin)})")
        if endpoint.server is not None:
            out.print("  [yellow]Note:[/] no DynamoDB endpoint was given and DynamoDB Local is not running on "
                      "127.0.0.1:8000,\n        so the demo started its own for this run; `make demo` uses Amazon's "
                      "DynamoDB Local.")
        try:
            store.init()
        except TableNotFoundError as exc:
            if not endpoint.local:
                raise explain(exc, table=table_name) from exc
            out.print(f"  table {table_name!r} not found on the local endpoint: created it from TABLE_SPEC")
            store.create_table()
        observability = None
        if traces and not _chdb_available():
            out.print("  [yellow]Traces skipped:[/] embedded ClickHouse needs "
                      + escape("`pip install 'mastra-dynamo[chdb]'`"))
        elif traces:
            from mastra_dynamo.composite import ClickHouseObservabilityStore

            if chdb_path is None:
                temp_dir = tempfile.mkdtemp(prefix="mastra-demo-chdb-")
            path = str(chdb_path or temp_dir)
            observability = ClickHouseObservabilityStore(path=path, database="mastra_demo")
            out.print(f"  Observability: embedded ClickHouse (chDB) in {escape(path)}"
                      + (" (temporary)" if temp_dir else ""))
        storage = MastraCompositeStore(id="demo", default=store,
                                       domains={"observability": observability} if observability else None)
        out.print("  Storage:       MastraCompositeStore: memory, workflows, scores, agents, datasets, experiments "
                  "-> DynamoDBStore")
        if observability:
            out.print("                 observability -> ClickHouseObservabilityStore")
        try:
            summary = run_session(storage, store, out, traces=observability is not None)
        except StorageError as exc:
            raise explain(exc, table=table_name) from exc
        out.print()
        print_summary(summary, out)
    finally:
        if storage is not None:
            storage.close()
        elif store is not None:
            store.close()
        endpoint.stop()
        if temp_dir is not None:
            shutil.rmtree(temp_dir, ignore_errors=True)
