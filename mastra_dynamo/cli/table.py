"""`mastra-dynamo table create|check|describe`: the table's layout, against TABLE_SPEC."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import click

from mastra_dynamo import global_table as global_tables
from mastra_dynamo.cli.common import (
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_USAGE,
    connection_options,
    console,
    escape,
    fail,
    handle_storage_errors,
    open_store,
    table_option,
    where,
)
from mastra_dynamo.errors import StorageError, TableNotFoundError
from mastra_dynamo.schema.table import TABLE_SPEC, GsiSpec


@dataclass
class Check:
    """One line of `table check`: what the spec wants, what the table has, and how to fix a difference."""

    name: str
    expected: str
    actual: str
    ok: bool
    fix: str = ""
    severity: str = "error"
    """``error`` (fails the check), ``warning`` or ``info`` (reported only)."""


@dataclass
class Report:
    table: str
    checks: list[Check] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def problems(self) -> list[Check]:
        return [c for c in self.checks if not c.ok and c.severity == "error"]

    @property
    def warnings(self) -> list[Check]:
        return [c for c in self.checks if not c.ok and c.severity == "warning"]


def _keys(schema: list[dict[str, Any]]) -> dict[str, str]:
    return {k["KeyType"]: k["AttributeName"] for k in schema or []}


def _describe(store: Any) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None]:
    """DescribeTable, DescribeTimeToLive and (when the endpoint supports it) DescribeContinuousBackups."""
    table = store.table
    description: dict[str, Any] = table.call("DescribeTable", TableName=store.table_name)["Table"]
    ttl: dict[str, Any] = table.call("DescribeTimeToLive", TableName=store.table_name).get(
        "TimeToLiveDescription", {})
    try:
        backups: dict[str, Any] | None = table.call(
            "DescribeContinuousBackups", TableName=store.table_name).get("ContinuousBackupsDescription", {})
    except TableNotFoundError:
        raise
    except StorageError:
        backups = None  # not supported by this endpoint
    return description, ttl, backups


def _gsi_fix(table: str, gsi: GsiSpec) -> str:
    create = json.dumps([{"Create": {
        "IndexName": gsi.name,
        "KeySchema": [{"AttributeName": gsi.partition_key, "KeyType": "HASH"},
                      {"AttributeName": gsi.sort_key, "KeyType": "RANGE"}],
        "Projection": gsi.projection_request()}}], separators=(",", ":"))
    return (f"aws dynamodb update-table --table-name {table} --attribute-definitions "
            f"AttributeName={gsi.partition_key},AttributeType=S AttributeName={gsi.sort_key},AttributeType=S "
            f"--global-secondary-index-updates '{create}'  (or deploy the CDK stack in infra/)")


def build_report(table_name: str, description: dict[str, Any], ttl: dict[str, Any],
                 backups: dict[str, Any] | None, *, require_pitr: bool) -> Report:
    """Compare a live table with TABLE_SPEC, check by check, each difference with the command that fixes it."""
    spec = TABLE_SPEC
    report = Report(table=table_name)
    checks = report.checks
    recreate = ("the key schema of a table cannot change: create a new table from infra/ (or `mastra-dynamo "
                "table create`) and copy the data with `mastra-dynamo export` / `mastra-dynamo import`")

    status = description.get("TableStatus", "?")
    checks.append(Check("table status", "ACTIVE", status, status == "ACTIVE",
                        "wait until the table is ACTIVE and run the check again", severity="warning"))

    keys = _keys(description.get("KeySchema", []))
    types = {a["AttributeName"]: a["AttributeType"] for a in description.get("AttributeDefinitions", [])}
    expected = f"HASH {spec.partition_key} (S), RANGE {spec.sort_key} (S)"
    actual = ", ".join(f"{kind} {name} ({types.get(name, '?')})" for kind, name in sorted(keys.items()))
    ok = (keys.get("HASH") == spec.partition_key and keys.get("RANGE") == spec.sort_key
          and all(types.get(n, "S") == "S" for n in (spec.partition_key, spec.sort_key)))
    checks.append(Check("key schema", expected, actual or "(none)", ok, recreate))

    older = spec.older_layout(description)
    if older is not None:
        checks.append(Check("layout version", f"schema version {spec.schema_version}",
                            f"schema version {older} (mastra-dynamo 0.1)", False,
                            "export the data with mastra-dynamo 0.1 (`mastra-dynamo export`), create a new table "
                            "with this version and `mastra-dynamo import` the export into it"))
    indexes = {g["IndexName"]: g for g in description.get("GlobalSecondaryIndexes", []) or []}
    for gsi in spec.gsis:
        want = f"HASH {gsi.partition_key} (S), RANGE {gsi.sort_key} (S), projection {gsi.projection}"
        got = indexes.get(gsi.name)
        if got is None:
            checks.append(Check(f"index {gsi.name}", want, "missing", False, _gsi_fix(table_name, gsi)))
            continue
        gkeys = _keys(got.get("KeySchema", []))
        projection = (got.get("Projection") or {}).get("ProjectionType", "?")
        have = (f"HASH {gkeys.get('HASH')} ({types.get(gkeys.get('HASH', ''), '?')}), RANGE {gkeys.get('RANGE')} "
                f"({types.get(gkeys.get('RANGE', ''), '?')}), projection {projection}")
        keys_ok = (gkeys.get("HASH") == gsi.partition_key and gkeys.get("RANGE") == gsi.sort_key
                   and types.get(gsi.partition_key, "S") == "S" and types.get(gsi.sort_key, "S") == "S")
        included = sorted((got.get("Projection") or {}).get("NonKeyAttributes") or [])
        ok = keys_ok and projection == gsi.projection and included == sorted(gsi.non_key_attributes)
        fix = (f"an index's keys and projection cannot change: delete index {gsi.name} (aws dynamodb update-table "
               f"--table-name {table_name} --global-secondary-index-updates "
               f"'[{{\"Delete\":{{\"IndexName\":\"{gsi.name}\"}}}}]'), wait, then create it again: "
               + _gsi_fix(table_name, gsi))
        checks.append(Check(f"index {gsi.name}", want, have, ok, fix))
        index_status = got.get("IndexStatus", "ACTIVE")
        if index_status != "ACTIVE":
            checks.append(Check(f"index {gsi.name} status", "ACTIVE", index_status, False,
                                "wait until the index is ACTIVE (backfilling) and run the check again",
                                severity="warning"))
    wanted = {g.name for g in spec.gsis}
    for name in sorted(set(indexes) - wanted):
        checks.append(Check(f"index {name}", "(not used)", "present", True, severity="info"))

    ttl_status = ttl.get("TimeToLiveStatus") or "DISABLED"
    ttl_attr = ttl.get("AttributeName")
    ok = ttl_status in ("ENABLED", "ENABLING") and ttl_attr == spec.ttl_attribute
    fix = (f"aws dynamodb update-time-to-live --table-name {table_name} --time-to-live-specification "
           f"Enabled=true,AttributeName={spec.ttl_attribute}")
    if ttl_status in ("ENABLED", "ENABLING") and ttl_attr != spec.ttl_attribute:
        fix = (f"disable time to live on {ttl_attr!r} first (Enabled=false), wait one hour (DynamoDB's limit), "
               f"then: {fix}")
    checks.append(Check("time to live", f"ENABLED on {spec.ttl_attribute!r}",
                        f"{ttl_status}" + (f" on {ttl_attr!r}" if ttl_attr else ""), ok, fix))

    pitr_fix = (f"aws dynamodb update-continuous-backups --table-name {table_name} "
                "--point-in-time-recovery-specification PointInTimeRecoveryEnabled=true  (the CDK stack enables it)")
    if backups is None:
        checks.append(Check("point-in-time recovery", "ENABLED", "unknown (endpoint has no "
                            "DescribeContinuousBackups)", not require_pitr, pitr_fix,
                            severity="warning"))
    else:
        pitr = (backups.get("PointInTimeRecoveryDescription") or {}).get("PointInTimeRecoveryStatus") or "DISABLED"
        checks.append(Check("point-in-time recovery", "ENABLED", pitr, pitr == "ENABLED", pitr_fix,
                            severity="error" if require_pitr else "warning"))

    replication = global_tables.parse_description(description)
    checks.append(Check(
        "multi-Region consistency", "single-Region or MREC (eventual)",
        replication.summary(), replication.mode != "strong",
        "MRSC tables reject transactions and TTL, which mastra-dynamo needs (" + global_tables.MRSC_SOURCE
        + "); create an MREC global table (infra/: -c 'mastra:replicaRegions=[...]') and copy the data with "
        "`mastra-dynamo export` / `mastra-dynamo import`"))
    for replica in replication.replicas:
        if replica.status not in (None, "ACTIVE"):
            checks.append(Check(f"replica {replica.region}", "ACTIVE", replica.status, False,
                                "wait until the replica is ACTIVE; INACCESSIBLE_ENCRYPTION_CREDENTIALS means the "
                                "replica's KMS key is disabled or not usable by DynamoDB", severity="warning"))

    # The library's own check is the authority for init(): report anything it finds that the lines above missed.
    covered = bool(report.problems)
    for problem in spec.describe_mismatches(description, ttl):
        if not covered:
            checks.append(Check("layout", "as in TABLE_SPEC", problem, False, recreate))

    billing = (description.get("BillingModeSummary") or {}).get("BillingMode") or (
        "PROVISIONED" if description.get("ProvisionedThroughput", {}).get("ReadCapacityUnits") else "PAY_PER_REQUEST")
    report.info = {
        "billing mode": billing,
        "items (approximate)": description.get("ItemCount", 0),
        "size bytes (approximate)": description.get("TableSizeBytes", 0),
        "deletion protection": description.get("DeletionProtectionEnabled", False),
        "encryption": (description.get("SSEDescription") or {}).get("SSEType", "AWS owned key"),
        "replication": replication.summary(),
        "replica regions": ", ".join(replication.regions) or "-",
        "multi-Region consistency": replication.consistency or "-",
    }
    return report


def _print_report(report: Report, *, as_json: bool) -> None:
    out = console()
    if as_json:
        click.echo(json.dumps({
            "table": report.table,
            "ok": not report.problems,
            "problems": [{"check": c.name, "expected": c.expected, "actual": c.actual, "fix": c.fix}
                         for c in report.problems],
            "warnings": [{"check": c.name, "expected": c.expected, "actual": c.actual, "fix": c.fix}
                         for c in report.warnings],
            "info": report.info,
        }, indent=2, default=str))
        return
    from rich.table import Table

    grid = Table(title=f"Table {report.table!r} against TABLE_SPEC", title_justify="left")
    grid.add_column("check")
    grid.add_column("expected")
    grid.add_column("actual")
    grid.add_column("result")
    labels = {"error": "[red]MISMATCH[/]", "warning": "[yellow]WARNING[/]", "info": "[blue]note[/]"}
    for check in report.checks:
        result = "[green]ok[/]" if check.ok and check.severity != "info" else labels[check.severity]
        grid.add_row(escape(check.name), escape(check.expected), escape(check.actual), result)
    out.print(grid)
    for key, value in report.info.items():
        out.print(f"  {key}: {value}")
    for title, checks in (("Mismatches", report.problems), ("Warnings", report.warnings)):
        if not checks:
            continue
        out.print(f"\n[bold]{title} and how to fix them:[/]")
        for check in checks:
            out.print(f"  - {escape(check.name)}: expected {escape(check.expected)}, found {escape(check.actual)}")
            if check.fix:
                out.print(f"    fix: {escape(check.fix)}", soft_wrap=True)  # one line: copy and paste it
    if report.problems:
        out.print(f"\n[red]{len(report.problems)} mismatch(es): the library's init() would refuse this table "
                  "or it lacks a production safeguard.[/]")
    else:
        out.print("\n[green]The table matches what mastra-dynamo needs.[/]")


@click.group("table", short_help="Create, check or describe the table (TABLE_SPEC).")
def table_group() -> None:
    """Create, check or describe the DynamoDB table (its layout comes from TABLE_SPEC).

    \b
    Exit codes: 0 ok, 1 mismatch or failure, 2 usage error.
    """


@table_group.command("create", short_help="Create the table from TABLE_SPEC (local use).")
@table_option()
@connection_options
@click.option("--allow-aws", is_flag=True,
              help="Allow creating the table in AWS (no --endpoint-url). Production tables should come from the "
                   "CDK stack in infra/ (PITR, encryption, deletion protection).")
@handle_storage_errors
def create_command(table: str, region: str | None, endpoint_url: str | None, allow_aws: bool) -> None:
    """Create the table from TABLE_SPEC (keys, 4 GSIs, TTL) for local use; waits until it is ACTIVE.

    An existing table is left alone and checked instead (exit 1 when it does not match).
    """
    if not endpoint_url and not allow_aws:
        fail(f"refusing to create table {table!r} in AWS without --allow-aws",
             hint="pass --endpoint-url for a local endpoint (DynamoDB Local, moto), deploy the CDK stack in infra/ "
                  "for production, or add --allow-aws to create a bare table anyway",
             exit_code=EXIT_USAGE)
    store = open_store(table, region, endpoint_url, check=False)
    out = console()
    try:
        try:
            store.table.call("DescribeTable", TableName=table)
            exists = True
        except TableNotFoundError:
            exists = False
        if exists:
            out.print(f"{escape(where(table, endpoint_url, region))} already exists: checking it instead.")
            description, ttl, backups = _describe(store)
            report = build_report(table, description, ttl, backups, require_pitr=False)
            _print_report(report, as_json=False)
            raise click.exceptions.Exit(EXIT_FAILURE if report.problems else EXIT_OK)
        with out.status(f"creating {table!r} ..."):
            store.create_table()
        store.init()
        out.print(f"[green]Created[/] {escape(where(table, endpoint_url, region))}: keys "
                  f"{TABLE_SPEC.partition_key}/{TABLE_SPEC.sort_key}, "
                  f"{', '.join(f'{g.name} ({g.projection})' for g in TABLE_SPEC.gsis)}, TTL on "
                  f"{TABLE_SPEC.ttl_attribute!r}, on-demand billing.")
    finally:
        store.close()


@table_group.command("check", short_help="Check a deployed table against TABLE_SPEC; exit 1 on mismatch.")
@table_option()
@connection_options
@click.option("--require-pitr/--no-require-pitr", default=True, show_default=True,
              help="Treat disabled point-in-time recovery as a mismatch (a warning with --no-require-pitr).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (for CI).")
@handle_storage_errors
def check_command(table: str, region: str | None, endpoint_url: str | None, require_pitr: bool,
                  as_json: bool) -> None:
    """Check a deployed table: key schema, GSIs and their projections, TTL status, point-in-time recovery and, for a
    global table, its replicas and multi-Region consistency (MRSC is refused: it rejects transactions and TTL).

    Prints every difference with the command that fixes it. Exit 0 when the table matches, 1 otherwise.
    """
    store = open_store(table, region, endpoint_url, check=False)
    try:
        description, ttl, backups = _describe(store)
    finally:
        store.close()
    report = build_report(table, description, ttl, backups, require_pitr=require_pitr)
    _print_report(report, as_json=as_json)
    raise click.exceptions.Exit(EXIT_FAILURE if report.problems else EXIT_OK)


@table_group.command("describe", short_help="Print the layout and item counts.")
@table_option()
@connection_options
@click.option("--exact", is_flag=True,
              help="Count the items of every entity type with a Scan of the whole table (admin operation: reads "
                   "every item; needs dynamodb:Scan).")
@handle_storage_errors
def describe_command(table: str, region: str | None, endpoint_url: str | None, exact: bool) -> None:
    """Print the table layout (keys, indexes and what each serves, TTL) and its item counts.

    Exit 0 (1 when the table does not exist); use `table check` to gate on the layout.
    """
    from rich.table import Table

    store = open_store(table, region, endpoint_url, check=False)
    out = console()
    try:
        description, ttl, backups = _describe(store)
        counts = None
        if exact:
            from mastra_dynamo.cli.admin import count_by_attribute

            with out.status("counting items (Scan) ...") as status:
                counts = count_by_attribute(
                    store.table, TABLE_SPEC.entity_attribute,
                    progress=lambda n: status.update(f"counting items (Scan): {n:,} so far ..."))
    finally:
        store.close()
    out.print(f"[bold]{escape(where(table, endpoint_url, region))}[/]: status {description.get('TableStatus')}, "
              f"{description.get('ItemCount', 0)} items, {description.get('TableSizeBytes', 0)} bytes "
              "(approximate: DynamoDB refreshes these about every 6 hours)")
    layout = Table(title="Layout (TABLE_SPEC)", title_justify="left")
    for column in ("key / index", "partition key", "sort key", "projection", "serves", "items (approx.)"):
        layout.add_column(column)
    layout.add_row("table", TABLE_SPEC.partition_key, TABLE_SPEC.sort_key, "-", "every entity (item collections)",
                   str(description.get("ItemCount", 0)))
    live = {g["IndexName"]: g for g in description.get("GlobalSecondaryIndexes", []) or []}
    for gsi in TABLE_SPEC.gsis:
        got = live.get(gsi.name)
        layout.add_row(gsi.name, gsi.partition_key, gsi.sort_key, gsi.projection, gsi.purpose,
                       str(got.get("ItemCount", 0)) if got else "[red]missing[/]")
    out.print(layout)
    pitr = "unknown"
    if backups is not None:
        pitr = (backups.get("PointInTimeRecoveryDescription") or {}).get("PointInTimeRecoveryStatus", "DISABLED")
    ttl_on = f" on {ttl['AttributeName']!r}" if ttl.get("AttributeName") else ""
    out.print(f"  time to live: {ttl.get('TimeToLiveStatus', 'DISABLED')}{ttl_on} "
              f"(expected ENABLED on {TABLE_SPEC.ttl_attribute!r}); point-in-time recovery: {pitr}")
    out.print(f"  entity stamp {TABLE_SPEC.entity_attribute!r}, schema version {TABLE_SPEC.schema_version_attribute!r}"
              f" = {TABLE_SPEC.schema_version}, revision {TABLE_SPEC.revision_attribute!r}; key design: "
              "docs/access-patterns.md")
    if counts is not None:
        entities = Table(title="Items per entity type (exact, by Scan)", title_justify="left")
        entities.add_column("entity (_et)")
        entities.add_column("items", justify="right")
        for name, number in sorted(counts.items()):
            entities.add_row(name or "(no entity stamp)", str(number))
        entities.add_row("[bold]total[/]", f"[bold]{sum(counts.values())}[/]")
        out.print(entities)
    problems = TABLE_SPEC.describe_mismatches(description, ttl)
    if problems:
        out.print(f"[yellow]The table does not match TABLE_SPEC ({len(problems)} difference(s)): run "
                  f"`mastra-dynamo table check --table {escape(table)}`.[/]")
