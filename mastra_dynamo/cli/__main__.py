"""``python -m mastra_dynamo.cli``: the ``mastra-dynamo`` command."""

from mastra_dynamo.cli import main

raise SystemExit(main())
