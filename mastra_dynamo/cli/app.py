"""The click application of the ``mastra-dynamo`` command (imported by :func:`mastra_dynamo.cli.main`).

Commands: ``demo``, ``table create|check|describe``, ``export``, ``import``, ``migrate-from-mastra``; each
module of this package holds one command group. Exit codes: 0 ok, 1 failure or mismatch, 2 usage error.
"""

from __future__ import annotations

from collections.abc import Sequence

import click

from mastra_dynamo import __version__
from mastra_dynamo.cli.demo import demo_command
from mastra_dynamo.cli.migrate import migrate_command
from mastra_dynamo.cli.table import table_group
from mastra_dynamo.cli.transfer import export_command, import_command

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 110}


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, prog_name="mastra-dynamo")
def cli() -> None:
    """mastra-dynamo: Mastra's storage domains on one DynamoDB table, observability in ClickHouse.

    \b
    Connection options of every command: --table, --region (or AWS_REGION), --endpoint-url (or
    AWS_ENDPOINT_URL_DYNAMODB) for a local endpoint; AWS credentials come from the usual places.
    Exit codes: 0 ok, 1 failure or mismatch (CI can gate on it), 2 usage error.
    """


cli.add_command(demo_command)
cli.add_command(table_group)
cli.add_command(export_command)
cli.add_command(import_command)
cli.add_command(migrate_command)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``mastra-dynamo`` script; returns the exit code."""
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="mastra-dynamo", standalone_mode=True)
    except SystemExit as exc:
        code = exc.code
        if code is None:
            return 0
        return code if isinstance(code, int) else 1
    return 0


__all__ = ["cli", "main"]
