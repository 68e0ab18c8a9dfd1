"""Import hygiene: optional drivers load only when a ClickHouse connection is made."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
{statement}
loaded = sorted(m for m in ("mastra_dynamo.composite", "clickhouse_connect", "chdb", "pandas", "pyarrow")
                if m in sys.modules)
print(",".join(loaded))
"""


def loaded_after(statement: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", CHECK.format(statement=statement)], check=True,
                         capture_output=True, text=True, timeout=60).stdout.strip()
    return set(filter(None, out.split(",")))


def test_importing_the_packages_loads_no_driver() -> None:
    assert loaded_after("import mastra_dynamo") == set()
    assert loaded_after("import mastra_dynamo.composite; "
                        "from mastra_dynamo.composite import ClickHouseObservabilityStore, MastraCompositeStore; "
                        "ClickHouseObservabilityStore(host='127.0.0.1', port=8123)") == {"mastra_dynamo.composite"}
