"""What every command shares: connection options, the store factory, output and exit codes.

Exit codes (for CI): 0 success, 1 a failure or a mismatch that the command reports, 2 a usage error (click's
own code for bad options, and ours for unusable input such as a directory that holds no export).
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn, ParamSpec, TypeVar

import click

from mastra_dynamo.errors import (
    ConfigurationError,
    RetryableError,
    StorageError,
    TableMismatchError,
    TableNotFoundError,
)

if TYPE_CHECKING:
    from rich.console import Console

    from mastra_dynamo.store import DynamoDBStore

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2

P = ParamSpec("P")
R = TypeVar("R")
FC = TypeVar("FC", bound=Callable[..., Any])


class CliError(click.ClickException):
    """A failure the user can act on: a message, an optional hint (what to do), an exit code."""

    exit_code = EXIT_FAILURE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint

    def show(self, file: Any = None) -> None:
        err = console(stderr=True)
        err.print(f"[bold red]Error:[/] {escape(self.message)}")
        if self.hint:
            err.print(f"[yellow]What to do:[/] {escape(self.hint)}")


class CliUsageError(CliError):
    """Unusable input (exit code 2, like click's own usage errors)."""

    exit_code = EXIT_USAGE


def escape(text: str) -> str:
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def console(*, stderr: bool = False) -> Console:
    """A rich console on the current stdout/stderr (created per call so test runners can capture it)."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    interactive = hasattr(stream, "isatty") and stream.isatty()
    width = None if os.environ.get("COLUMNS") or interactive else 120  # pipes and CI logs: 120 columns
    return Console(stderr=stderr, width=width, highlight=False, soft_wrap=False)


def fail(message: str, *, hint: str | None = None, exit_code: int = EXIT_FAILURE) -> NoReturn:
    raise (CliUsageError if exit_code == EXIT_USAGE else CliError)(message, hint=hint)


def explain(exc: StorageError, *, table: str | None) -> CliError:
    """The StorageError as a CliError with a hint that says what to do (a CliUsageError, exit 2, when the
    command line or the AWS configuration is unusable)."""
    name = table or "<table>"
    hint: str | None = None
    if isinstance(exc, TableNotFoundError):
        hint = (f"create it for local use with `mastra-dynamo table create --table {name} --endpoint-url URL`, "
                "or deploy the CDK stack in infra/ for AWS; check --region and --endpoint-url")
    elif isinstance(exc, TableMismatchError):
        hint = f"run `mastra-dynamo table check --table {name}` for the full diff and how to fix it"
    elif isinstance(exc, ConfigurationError) and exc.code == "MISSING_REGION":
        return CliUsageError(exc.message, hint="pass --region or --profile, or set AWS_REGION")
    elif isinstance(exc, ConfigurationError) and exc.code == "INVALID_ENDPOINT":
        return CliUsageError(exc.message, hint="pass a URL with its scheme, e.g. --endpoint-url http://127.0.0.1:8000")
    elif isinstance(exc, ConfigurationError) and exc.code == "INVALID_AWS_CONFIG":
        return CliUsageError(exc.message, hint="check --profile / AWS_PROFILE and the shared AWS config files")
    elif isinstance(exc, ConfigurationError) and exc.code == "ACCESS_DENIED":
        hint = "check the AWS credentials in use (AWS_PROFILE, AWS_ACCESS_KEY_ID) and their IAM grants"
    elif isinstance(exc, ConfigurationError) and "credentials" in exc.message:
        hint = "configure AWS credentials (AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), or pass " \
               "--endpoint-url for a local endpoint"
    elif isinstance(exc, RetryableError):
        hint = "check --endpoint-url / --region and that the endpoint is running, then run the command again"
    return CliError(exc.message, hint=hint)


def handle_storage_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn StorageErrors raised by a command into CliErrors (exit 1) with a hint."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except StorageError as exc:
            table = kwargs.get("table")
            raise explain(exc, table=table if isinstance(table, str) else None) from exc

    return wrapper


# ---------------------------------------------------------------- connection options
def table_option(*, required: bool = True, help: str = "Name of the DynamoDB table.") -> Callable[[FC], FC]:
    return click.option("--table", "table", required=required, envvar="MASTRA_DYNAMO_TABLE", show_envvar=True,
                        help=help)


def _use_profile(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """--profile: the named AWS profile (credentials, region, retry settings), as ``AWS_PROFILE`` would."""
    if value:
        os.environ["AWS_PROFILE"] = value


def connection_options(fn: FC) -> FC:
    """--region, --endpoint-url and --profile (from the environment when not given)."""
    fn = click.option(
        "--profile", envvar="AWS_PROFILE", show_envvar=True, expose_value=False, is_eager=True,
        callback=_use_profile, help="AWS profile of the shared config/credentials files to use.",
    )(fn)
    fn = click.option(
        "--endpoint-url", "endpoint_url", envvar="AWS_ENDPOINT_URL_DYNAMODB", show_envvar=True,
        help="A local DynamoDB endpoint (DynamoDB Local, moto server) instead of AWS, e.g. http://127.0.0.1:8000.",
    )(fn)
    fn = click.option(
        "--region", "region", envvar=["AWS_REGION", "AWS_DEFAULT_REGION"], show_envvar=True,
        help="AWS region of the table (default for local endpoints: us-east-1).",
    )(fn)
    return fn


def local_credentials(endpoint_url: str | None) -> None:
    """Local endpoints accept any credentials: provide dummy ones when none are configured."""
    if endpoint_url and not (os.environ.get("AWS_ACCESS_KEY_ID") or os.environ.get("AWS_PROFILE")):
        os.environ["AWS_ACCESS_KEY_ID"] = "local"
        os.environ["AWS_SECRET_ACCESS_KEY"] = "local"


def resolve_region(region: str | None, endpoint_url: str | None) -> str | None:
    if region:
        return region
    return "us-east-1" if endpoint_url else None


def open_store(table: str, region: str | None, endpoint_url: str | None, *, store_id: str = "cli",
               check: bool = True) -> DynamoDBStore:
    """A DynamoDBStore on ``table``; with ``check`` the table is checked (init) first."""
    from mastra_dynamo.store import DynamoDBStore

    local_credentials(endpoint_url)
    try:
        store = DynamoDBStore(id=store_id, table_name=table, region=resolve_region(region, endpoint_url),
                              endpoint_url=endpoint_url)
    except StorageError as exc:
        raise explain(exc, table=table) from exc
    if check:
        try:
            store.init()
        except StorageError as exc:
            store.close()
            raise explain(exc, table=table) from exc
    return store


def where(table: str, endpoint_url: str | None, region: str | None) -> str:
    """Human-readable location of a table."""
    if endpoint_url:
        return f"table {table!r} at {endpoint_url}"
    return f"table {table!r} in AWS region {region or os.environ.get('AWS_REGION') or '(default)'}"
