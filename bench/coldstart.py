"""Part 4: cold start. A fresh interpreter per run, from process start to the first GetItem answered:
``import mastra_dynamo`` + store + ``get_thread_by_id`` vs ``import boto3`` + client + raw ``get_item``.

Each variant is a small script run as ``python <script>`` (the same thing ``python -c`` does, without shell
quoting). Whole-process wall time comes from hyperfine when it is installed (Debian package ``hyperfine``),
else from timing the subprocess here; the child also reports its own breakdown (imports, client creation,
first request) measured with ``time.perf_counter`` from its first line.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench.common import ROOT, create_our_table, credentials, raw_client, spread

PRELUDE = "import time\n_t0 = time.perf_counter()\n"
RAW_GET = """
_t1 = time.perf_counter()
client = boto3.client("dynamodb", endpoint_url=ENDPOINT, region_name="us-east-1")
_t2 = time.perf_counter()
client.get_item(TableName=TABLE, Key={"pk": {"S": "T#cold"}, "sk": {"S": "T"}}, ConsistentRead=True)
_t3 = time.perf_counter()
"""
VARIANTS: dict[str, str] = {
    "python -c pass (interpreter only)": PRELUDE + "import json\nprint(json.dumps({}))\n",
    "import boto3 + client + raw GetItem": PRELUDE + "import boto3\n" + RAW_GET,
    "… the same + import pydantic, pynamodb (the library's required dependencies)":
        PRELUDE + "import boto3\nimport pydantic\nimport pynamodb.models\n" + RAW_GET,
    "import mastra_dynamo + store + get_thread_by_id": PRELUDE + """
from mastra_dynamo import DynamoDBStore
_t1 = time.perf_counter()
store = DynamoDBStore(id="cold", table_name=TABLE, region="us-east-1", endpoint_url=ENDPOINT, disable_init=True)
memory = store.get_store("memory")
_t2 = time.perf_counter()
memory.get_thread_by_id(thread_id="cold")
_t3 = time.perf_counter()
""",
    "… the same + init() (DescribeTable, DescribeTimeToLive)": PRELUDE + """
from mastra_dynamo import DynamoDBStore
_t1 = time.perf_counter()
store = DynamoDBStore(id="cold", table_name=TABLE, region="us-east-1", endpoint_url=ENDPOINT)
memory = store.get_store("memory")
store.init()
_t2 = time.perf_counter()
memory.get_thread_by_id(thread_id="cold")
_t3 = time.perf_counter()
""",
}
BASELINE = "import boto3 + client + raw GetItem"
FLOOR = "… the same + import pydantic, pynamodb (the library's required dependencies)"
OURS = "import mastra_dynamo + store + get_thread_by_id"
REPORT = """
import json
print(json.dumps({"import_ms": (_t1 - _t0) * 1000, "client_ms": (_t2 - _t1) * 1000,
                  "first_request_ms": (_t3 - _t2) * 1000, "total_ms": (_t3 - _t0) * 1000}))
"""


def _script(body: str, endpoint: str, table: str) -> str:
    header = f"ENDPOINT = {endpoint!r}\nTABLE = {table!r}\n"
    return header + body + (REPORT if "_t3" in body else "")


def _hyperfine(scripts: dict[str, Path], runs: int, warmup: int) -> dict[str, Any] | None:
    exe = shutil.which("hyperfine")
    if exe is None:
        return None
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in scripts.items():
            export = Path(tmp) / "h.json"
            proc = subprocess.run([exe, "--shell=none", "--warmup", str(warmup), "--runs", str(runs),
                                   "--style", "none", "--export-json", str(export), f"{sys.executable} {path}"],
                                  capture_output=True, text=True, timeout=600)
            if proc.returncode != 0:
                return None
            result = json.loads(export.read_text())["results"][0]
            out[name] = spread([t * 1000 for t in result["times"]])
    version = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.strip()
    return {"tool": version, "process_ms": out}


def run(endpoint: str, *, runs: int = 20, warmup: int = 3, log: Any = print) -> dict[str, Any]:
    credentials()
    table = f"bench-cold-{uuid.uuid4().hex[:8]}"
    create_our_table(endpoint, table)
    raw_client(endpoint).put_item(TableName=table, Item={"pk": {"S": "T#cold"}, "sk": {"S": "T"},
                                                         "id": {"S": "cold"}, "resourceId": {"S": "u"},
                                                         "createdAt": {"S": "2026-01-01T00:00:00.000000Z"},
                                                         "updatedAt": {"S": "2026-01-01T00:00:00.000000Z"},
                                                         "_et": {"S": "thread"}, "_sv": {"N": "1"}})
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        # Every variant reads compiled bytecode, as an installed package does: the warm-up runs write it
        # under one cache prefix (the source checkout itself is never compiled in place).
        env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONPYCACHEPREFIX": str(Path(tmp) / "pycache")}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        scripts = {}
        for i, (name, body) in enumerate(VARIANTS.items()):
            path = Path(tmp) / f"cold_{i}.py"
            path.write_text(_script(body, endpoint, table))
            scripts[name] = path
        for name, path in scripts.items():
            log(f"  cold start: {name}")
            process_ms: list[float] = []
            inner: dict[str, list[float]] = {}
            for i in range(warmup + runs):
                started = time.perf_counter()
                proc = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, env=env,
                                      cwd=tmp, timeout=120)
                elapsed = (time.perf_counter() - started) * 1000
                if proc.returncode != 0:
                    raise RuntimeError(f"cold start script failed: {proc.stderr[-2000:]}")
                if i < warmup:
                    continue
                process_ms.append(elapsed)
                for key, value in json.loads(proc.stdout.strip().splitlines()[-1]).items():
                    inner.setdefault(key, []).append(value)
            results[name] = {"process_ms": spread(process_ms),
                             "inner_ms": {k: spread(v) for k, v in inner.items()}}
        hyperfine = _hyperfine(scripts, runs, warmup)
    return {"runs": runs, "warmup": warmup, "variants": results, "hyperfine": hyperfine, "baseline": BASELINE,
            "floor": FLOOR, "ours": OURS,
            "python": sys.executable}
