"""Run the benchmark suite and write ``bench/results/latest.json`` and ``bench/results/latest.md``.

    make bench                                   # DynamoDB Local in a private netns, everything, default sizes
    BENCH_FULL=1 make bench                      # the full scale targets (100k messages, 100k runs)
    scripts/with-dynamodb-local.sh .venv/bin/python -m bench.run --parts side,cpu

Parts: ``side`` (agent workload: mastra-dynamo vs @mastra/dynamodb through a counting proxy, and requests vs
the documented minimum), ``turns`` (one agent turn's requests and capacity vs the length of its thread, both
clients through the counting proxy), ``cpu`` (client CPU per request vs raw botocore), ``cold`` (cold start),
``scale`` (large thread, delete_thread, many runs), ``chdb`` (spans into chDB, list_traces), ``async`` (the async
API: concurrent calls on one event loop vs sequential awaits and vs ``asyncio.to_thread``, threads, loop lag,
CPU per call, request counts; ``--async-pool`` sets ``max_pool_connections``, default the store's).

The endpoint is ``--endpoint`` or ``$MASTRA_DYNAMO_DDB_LOCAL`` (set by scripts/with-dynamodb-local.sh);
``--endpoint moto`` starts a moto server on 127.0.0.1 instead (placeholder consumed capacity).

Scale sizes (defaults keep ``make bench`` under ~10 minutes on 2 cores; BENCH_FULL=1 selects the targets):
  BENCH_THREAD_SIZES   messages in one thread, measured at each size   default 1000,10000   full 1000,10000,100000
  BENCH_DELETE_MESSAGES messages of the thread delete_thread removes    default 10000        full 10000
  BENCH_RUN_SIZES      workflow runs, measured at each size            default 1000,10000   full 1000,10000,100000
  BENCH_SPANS          spans batched into chDB                         default 1000000      full 1000000
  BENCH_TURN_LENGTHS   messages of a thread before its measured turns  default 20,200,1000  full 20,200,1000
  BENCH_TURNS          measured agent turns at each thread length      default 5            full 5
  BENCH_ASYNC_CALLS    concurrent calls per async phase                default 200          full 200
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.common import ROOT, credentials, machine, versions, write_json

RESULTS = ROOT / "bench" / "results"
PARTS = ("side", "turns", "cpu", "cold", "scale", "chdb", "async")


def _sizes(name: str, default: str, full: str) -> list[int]:
    raw = os.environ.get(name) or (full if os.environ.get("BENCH_FULL") == "1" else default)
    return [int(x) for x in raw.replace("_", "").split(",") if x.strip()]


@contextlib.contextmanager
def _endpoint(arg: str | None) -> Iterator[str]:
    value = arg or os.environ.get("MASTRA_DYNAMO_DDB_LOCAL")
    if value == "moto":
        import logging

        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)

        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        try:
            yield f"http://{host}:{port}"
        finally:
            server.stop()
        return
    if not value:
        raise SystemExit("no endpoint: run under scripts/with-dynamodb-local.sh (make bench) or pass --endpoint")
    yield value


def _chdb(spans: int, repeats: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "chdb.json"
        proc = subprocess.run([sys.executable, "-m", "bench.chdb_scale", "--spans", str(spans), "--repeats",
                               str(repeats), "--out", str(out)], cwd=ROOT, capture_output=True, text=True,
                              timeout=3600)
        if proc.returncode != 0:
            return {"error": proc.stderr[-3000:]}
        result: dict[str, Any] = json.loads(out.read_text())
        return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="mastra-dynamo benchmarks")
    parser.add_argument("--endpoint", help="DynamoDB endpoint URL, or 'moto' (default: $MASTRA_DYNAMO_DDB_LOCAL)")
    parser.add_argument("--parts", default=",".join(PARTS), help="comma-separated subset of " + ",".join(PARTS))
    parser.add_argument("--runs", type=int, default=3, help="repetitions of the side-by-side workload")
    parser.add_argument("--no-peer", action="store_true", help="skip the TypeScript peer")
    parser.add_argument("--async-pool", type=int, default=None,
                        help="max_pool_connections of the async part's stores (default: AsyncDynamoDBStore's)")
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test; numbers mean nothing)")
    parser.add_argument("--out", type=Path, default=RESULTS / "latest.json")
    parser.add_argument("--md", type=Path, default=None, help="markdown tables (default: --out with .md)")
    args = parser.parse_args(argv)
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = set(parts) - set(PARTS)
    if unknown:
        raise SystemExit(f"unknown parts: {sorted(unknown)}")
    credentials()
    from bench import async_api, coldstart, cpu, scale, side_by_side, turns
    from bench.plan import WorkloadSize
    from bench.report import render

    quick = args.quick
    config: dict[str, Any] = {
        "side_runs": 1 if quick else args.runs,
        "workload": "tiny" if quick else "standard",
        "cpu_rounds": 1 if quick else 15, "cpu_round_seconds": 0.01 if quick else 0.1,
        "cold_runs": 1 if quick else 15, "cold_warmup": 0 if quick else 3,
        "thread_sizes": [40] if quick else _sizes("BENCH_THREAD_SIZES", "1000,10000", "1000,10000,100000"),
        "delete_messages": 40 if quick else _sizes("BENCH_DELETE_MESSAGES", "10000", "10000")[0],
        "run_sizes": [30] if quick else _sizes("BENCH_RUN_SIZES", "1000,10000", "1000,10000,100000"),
        "scale_repeats": 1 if quick else 5,
        "spans": 2000 if quick else _sizes("BENCH_SPANS", "1000000", "1000000")[0],
        "chdb_repeats": 2 if quick else 15,
        "turn_lengths": [4, 12] if quick else _sizes("BENCH_TURN_LENGTHS", "20,200,1000", "20,200,1000"),
        "turns": 2 if quick else _sizes("BENCH_TURNS", "5", "5")[0],
        "turn_working_memory_every": 2 if quick else 5,
        "async_calls": 6 if quick else _sizes("BENCH_ASYNC_CALLS", "200", "200")[0],
        "async_rounds": 1 if quick else 3, "async_cpu_calls": 4 if quick else 200,
        "async_cpu_rounds": 1 if quick else 3,
        "async_pool": args.async_pool,
        "full": os.environ.get("BENCH_FULL") == "1",
    }
    started = time.perf_counter()
    results: dict[str, Any] = {
        "started": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python", "-m", "bench.run", *(argv if argv is not None else sys.argv[1:])]),
        "machine": machine(), "versions": versions(), "config": config, "parts": parts,
        "loadavg": {}, "seconds": {},
    }

    def log(message: str) -> None:
        print(message, flush=True)

    with _endpoint(args.endpoint) as endpoint:
        results["endpoint"] = "moto server" if args.endpoint == "moto" else "DynamoDB Local"
        for part in parts:
            log(f"[bench] {part}")
            results["loadavg"][part] = {"before": os.getloadavg()}
            t0 = time.perf_counter()
            if part == "side":
                raw = side_by_side.run(endpoint, size=WorkloadSize.tiny() if quick else None,
                                       runs=config["side_runs"], with_peer=not args.no_peer,
                                       overhead_samples=20 if quick else 300, log=log)
                results["side"] = side_by_side.summarize(raw)
            elif part == "turns":
                raw = turns.run(endpoint, lengths=config["turn_lengths"], turns=config["turns"],
                                working_memory_every=config["turn_working_memory_every"],
                                with_peer=not args.no_peer, log=log)
                results["turns"] = turns.summarize(raw)
            elif part == "cpu":
                results["cpu"] = cpu.run(endpoint, rounds=config["cpu_rounds"],
                                         round_seconds=config["cpu_round_seconds"],
                                         profile_calls=5 if quick else 200, log=log)
            elif part == "cold":
                results["cold"] = coldstart.run(endpoint, runs=config["cold_runs"], warmup=config["cold_warmup"],
                                                log=log)
            elif part == "scale":
                results["scale"] = scale.run(endpoint, thread_sizes=config["thread_sizes"],
                                             delete_messages=config["delete_messages"],
                                             run_sizes=config["run_sizes"], repeats=config["scale_repeats"],
                                             log=log)
            elif part == "chdb":
                log(f"  chdb: {config['spans']:,} spans")
                results["chdb"] = _chdb(config["spans"], config["chdb_repeats"])
            elif part == "async":
                results["async"] = async_api.run(endpoint, calls=config["async_calls"], rounds=config["async_rounds"],
                                                 cpu_calls=config["async_cpu_calls"],
                                                 cpu_rounds=config["async_cpu_rounds"],
                                                 max_pool_connections=config["async_pool"], log=log)
            results["seconds"][part] = time.perf_counter() - t0
            results["loadavg"][part]["after"] = os.getloadavg()
    results["seconds"]["total"] = time.perf_counter() - started
    write_json(args.out, results)
    md = args.md or args.out.with_suffix(".md")
    md.write_text(render(results))
    log(f"[bench] done in {results['seconds']['total']:.0f} s: {args.out} and {md}")


if __name__ == "__main__":
    main()
