"""The ``mastra-dynamo`` command line (click + rich: ``pip install 'mastra-dynamo[cli]'``).

Commands: ``demo``, ``table create|check|describe``, ``export``, ``import``, ``migrate-from-mastra``; each
module of this package holds one command group, :mod:`mastra_dynamo.cli.app` assembles them. Exit codes: 0 ok,
1 failure or mismatch, 2 usage error.

The storage library does not need click or rich: without the ``cli`` extra, the console script prints one line
saying how to install it (exit code 1) instead of a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mastra_dynamo.cli.app import cli as cli

INSTALL_HINT = "mastra-dynamo: the command line needs the 'cli' extra: pip install 'mastra-dynamo[cli]'"
CLI_REQUIREMENTS = frozenset({"click", "rich", "pygments", "markdown_it", "mdurl"})
"""Top-level modules of the ``cli`` extra (click, rich and rich's own requirements)."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``mastra-dynamo`` script; returns the exit code."""
    try:
        from mastra_dynamo.cli.app import main as app_main
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] not in CLI_REQUIREMENTS:
            raise
        print(INSTALL_HINT, file=sys.stderr)
        return 1
    return app_main(argv)


def __getattr__(name: str) -> Any:
    if name == "cli":  # the click group, imported on first use (needs the cli extra)
        from mastra_dynamo.cli.app import cli

        return cli
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["cli", "main"]
