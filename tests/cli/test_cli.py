"""The command line as a whole: help that explains each command, version, usage errors (exit 2)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from mastra_dynamo import __version__
from mastra_dynamo.cli import cli, main

COMMANDS = (["demo"], ["table"], ["table", "create"], ["table", "check"], ["table", "describe"], ["export"],
            ["import"], ["migrate-from-mastra"])


def test_help_lists_and_explains_every_command(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in ("demo", "table", "export", "import", "migrate-from-mastra"):
        assert name in result.output
    assert "Exit codes" in result.output


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help(runner: CliRunner, command: list[str]) -> None:
    result = runner.invoke(cli, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.output and len(result.output.splitlines()) > 5


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output


@pytest.mark.parametrize("args", [["export"], ["table", "check"], ["import", "--table", "t"], ["nope"],
                                  ["migrate-from-mastra", "--table", "t"]])
def test_usage_errors_exit_2(runner: CliRunner, args: list[str]) -> None:
    result = runner.invoke(cli, args, env={"MASTRA_DYNAMO_TABLE": None})
    assert result.exit_code == 2, result.output


def test_main_returns_the_exit_code() -> None:
    assert main(["--version"]) == 0
    assert main(["table", "check"]) == 2


def test_console_entry_point_runs() -> None:
    done = subprocess.run([sys.executable, "-m", "mastra_dynamo.cli", "--help"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and "migrate-from-mastra" in done.stdout
