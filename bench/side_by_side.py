"""Part 1 and 2: the standard agent workload through mastra-dynamo and through the TypeScript peer, against the
same endpoint, every request counted by the same proxy; then requests per call vs the documented minimum."""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from bench import minimums
from bench.common import (
    BENCH_TOOLS,
    NODE_BIN,
    ROOT,
    capacity,
    create_our_table,
    create_peer_table,
    credentials,
    gsi_capacity,
    median,
    percentile,
    proxy,
    reported_capacity,
)
from bench.plan import WorkloadSize, build_plan, labels_in_order
from bench.workload import Control, run_plan


def _join(plan: list[dict[str, Any]], timings: list[dict[str, Any]], calls: list[dict[str, Any]]
          ) -> list[dict[str, Any]]:
    """One record per call: plan entry + timing + the requests the proxy saw between its mark and the next."""
    if len(timings) != len(plan) or len(calls) != len(plan):
        raise RuntimeError(f"call log mismatch: plan {len(plan)}, timings {len(timings)}, proxy {len(calls)}")
    out = []
    for entry, timing, call in zip(plan, timings, calls, strict=True):
        if not (entry["label"] == timing["label"] == call["label"]):
            raise RuntimeError(f"label mismatch: {entry['label']} / {timing['label']} / {call['label']}")
        out.append({**timing, "ctx": entry["ctx"], "requests": call["requests"]})
    return out


def _by_index(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Mean capacity units per call spent on each GSI (transactions: priced, see bench/pricing.py)."""
    totals: Counter[str] = Counter()
    for r in rows:
        for q in r["requests"]:
            for name, cu in (q.get("gsi") or {}).items():
                totals[name] += cu
    return {name: totals[name] / len(rows) for name in sorted(totals)}


def aggregate(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per label: calls, requests per call (mean, min, max, by type), capacity per call, wall median/p99."""
    by_label: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        by_label[record["label"]].append(record)
    out: dict[str, dict[str, Any]] = {}
    for label, rows in by_label.items():
        counts = [len(r["requests"]) for r in rows]
        types: Counter[str] = Counter()
        for r in rows:
            types.update(q["op"] for q in r["requests"])
        out[label] = {
            "calls": len(rows),
            "errors": sum(1 for r in rows if r["error"]),
            "first_error": next((r["error"] for r in rows if r["error"]), None),
            "req_mean": sum(counts) / len(rows),
            "req_min": min(counts),
            "req_max": max(counts),
            "types": {op: n / len(rows) for op, n in sorted(types.items())},
            "request_errors": sum(1 for r in rows for q in r["requests"] if q.get("error")),
            "cu_mean": capacity(q for r in rows for q in r["requests"]) / len(rows),
            "cu_reported_mean": reported_capacity(q for r in rows for q in r["requests"]) / len(rows),
            "gsi_cu_mean": gsi_capacity(q for r in rows for q in r["requests"]) / len(rows),
            "cu_by_type": {op: capacity(q for r in rows for q in r["requests"] if q["op"] == op) / len(rows)
                           for op in sorted(types)},
            "cu_by_index": _by_index(rows),
            "bytes_mean": sum(q["req_bytes"] + q["resp_bytes"] for r in rows for q in r["requests"]) / len(rows),
            "ms_median": median([r["ms"] for r in rows]),
            "ms_p99": percentile([r["ms"] for r in rows], 99),
            "results": Counter(json.dumps(r["result"], sort_keys=True) for r in rows).most_common(3),
        }
    return out


def requests_vs_minimum(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Measured requests per call vs the documented formula and the documented minimum, per label."""
    by_label: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        by_label[record["label"]].append(record)
    out: dict[str, dict[str, Any]] = {}
    for label, rows in by_label.items():
        measured = documented = minimum = 0
        mismatches = 0
        reasons: Counter[str] = Counter()
        above = 0
        for r in rows:
            evaluated = minimums.evaluate(label, r["ctx"])
            if evaluated is None:
                continue
            doc, low, reason = evaluated
            n = len(r["requests"])
            measured += n
            documented += doc
            minimum += low
            mismatches += n != doc
            if n > low:
                above += 1
                reasons[reason or "(not documented)"] += 1
        calls = len(rows)
        out[label] = {"calls": calls, "measured": measured / calls, "documented": documented / calls,
                      "minimum": minimum / calls, "calls_above_min": above, "calls_not_as_documented": mismatches,
                      "reasons": [r for r, _ in reasons.most_common()]}
    return out


def run_python(endpoint: str, proxy_url: str, plan: list[dict[str, Any]]) -> dict[str, Any]:
    from mastra_dynamo import DynamoDBStore

    table = f"bench-py-{uuid.uuid4().hex[:8]}"
    create_our_table(endpoint, table)
    store = DynamoDBStore(id="bench", table_name=table, region="us-east-1", endpoint_url=proxy_url)
    control = Control(proxy_url)
    control.dump()
    control.mark("init")
    store.init()
    init_calls = control.dump()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    timings = run_plan(store, plan, control)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    calls = control.dump()
    control.close()
    own_counts = store.request_counts()
    store.close()
    records = _join(plan, timings, calls)
    proxied = Counter(q["op"] for r in records for q in r["requests"])
    for q in init_calls[0]["requests"] if init_calls else []:
        proxied[q["op"]] += 1
    return {"records": records, "wall_s": wall, "cpu_s": cpu, "table": table,
            "store_counts_match_proxy": dict(proxied) == own_counts, "store_counts": own_counts,
            "proxy_counts": dict(proxied)}


def peer_unavailable_reason() -> str | None:
    if not NODE_BIN.exists():
        return (f"Node 22 is not installed at {NODE_BIN.relative_to(ROOT)} (run `make bench-tools`; it needs the "
                "npm registry)")
    if not (BENCH_TOOLS / "node_modules" / "@mastra" / "dynamodb" / "package.json").exists():
        return "@mastra/dynamodb is not installed under .tools/bench (run `make bench-tools`)"
    return None


def run_peer(endpoint: str, proxy_url: str, plan: list[dict[str, Any]]) -> dict[str, Any]:
    table = f"bench-ts-{uuid.uuid4().hex[:8]}"
    create_peer_table(endpoint, table)
    control = Control(proxy_url)
    control.dump()
    with tempfile.TemporaryDirectory() as tmp:
        plan_path, out_path = Path(tmp) / "plan.json", Path(tmp) / "out.json"
        plan_path.write_text(json.dumps(plan))
        started = time.perf_counter()
        proc = subprocess.run([str(NODE_BIN), str(ROOT / "bench" / "node" / "workload.mjs"), "--modules",
                               str(BENCH_TOOLS), "--endpoint", proxy_url, "--table", table, "--plan", str(plan_path),
                               "--out", str(out_path)], capture_output=True, text=True, timeout=1800)
        wall = time.perf_counter() - started
        if proc.returncode != 0 or not out_path.exists():
            control.close()
            raise RuntimeError(f"node workload failed ({proc.returncode}): {proc.stderr[-2000:]}")
        result = json.loads(out_path.read_text())
    calls = control.dump()
    control.close()
    records = _join(plan, result["timings"], calls)
    return {"records": records, "wall_s": result["total_ms"] / 1000, "process_wall_s": wall,
            "cpu_s": (result["cpu_user_ms"] + result["cpu_system_ms"]) / 1000, "versions": result["versions"],
            "table": table}


def proxy_overhead(endpoint: str, proxy_url: str, n: int = 300) -> dict[str, float]:
    """Median wall ms of a raw GetItem straight to the endpoint and through the proxy: same client settings,
    calls interleaved after a warm-up of both paths (DynamoDB Local's JIT speeds up over the first requests)."""
    from bench.common import raw_client

    table = f"bench-ovh-{uuid.uuid4().hex[:8]}"
    create_our_table(endpoint, table)
    clients = {"direct": raw_client(endpoint), "proxy": raw_client(proxy_url)}
    key = {"pk": {"S": "T#x"}, "sk": {"S": "T"}}
    times: dict[str, list[float]] = {name: [] for name in clients}
    for i in range(2 * n):
        for name, client in clients.items():
            started = time.perf_counter()
            client.get_item(TableName=table, Key=key)
            if i >= n:
                times[name].append((time.perf_counter() - started) * 1000)
    out = {name: median(values) for name, values in times.items()}
    out["overhead"] = out["proxy"] - out["direct"]
    return out


def run_clients(endpoint: str, proxy_url: str, plan: list[dict[str, Any]], *, runs: int = 1,
                with_peer: bool = True, name: str = "side-by-side", log: Any = print) -> dict[str, Any]:
    """``plan`` through both clients, ``runs`` times each, every run on a fresh table, through the proxy at
    ``proxy_url``: ``{"python": [run, ...], "peer": [run, ...], "peer_error": why the peer is missing}``."""
    out: dict[str, Any] = {"python": [], "peer": []}
    peer_reason = peer_unavailable_reason() if with_peer else "skipped (--no-peer)"
    Control(proxy_url).dump()
    for i in range(runs):
        # alternate which client goes first, so a drift of the machine's load does not favour one side
        order = ("python", "peer") if i % 2 == 0 else ("peer", "python")
        for who in order:
            if who == "python":
                log(f"  {name} run {i + 1}/{runs}: mastra-dynamo ({len(plan)} calls)")
                out["python"].append(run_python(endpoint, proxy_url, plan))
            elif peer_reason is None:
                log(f"  {name} run {i + 1}/{runs}: @mastra/dynamodb")
                try:
                    out["peer"].append(run_peer(endpoint, proxy_url, plan))
                except (RuntimeError, subprocess.SubprocessError, OSError) as exc:
                    peer_reason = f"the Node workload failed: {exc}"
    out["peer_error"] = peer_reason
    return out


def run(endpoint: str, *, size: WorkloadSize | None = None, runs: int = 1, with_peer: bool = True,
        overhead_samples: int = 300, log: Any = print) -> dict[str, Any]:
    """``runs`` repetitions per client, each on a fresh table; requests per call come from the first run
    (they are deterministic), times from every run."""
    credentials()
    plan = build_plan(size)
    out: dict[str, Any] = {"plan_calls": len(plan), "labels": labels_in_order(plan), "runs": runs}
    with proxy(endpoint) as proxy_url:
        out["proxy_overhead_ms"] = proxy_overhead(endpoint, proxy_url, overhead_samples)
        out.update(run_clients(endpoint, proxy_url, plan, runs=runs, with_peer=with_peer, log=log))
    return out


def results_agree(ours: list[dict[str, Any]], peer: list[dict[str, Any]], labels: list[str]) -> dict[str, bool]:
    """Per label: both clients' calls returned the same result summaries (page sizes, totals)."""
    def results(records: list[dict[str, Any]], label: str) -> Counter[str]:
        return Counter(json.dumps(r["result"], sort_keys=True) for r in records if r["label"] == label)

    return {label: results(ours, label) == results(peer, label) for label in labels}


def summarize(raw: dict[str, Any]) -> dict[str, Any]:
    """Aggregates of every run; per label the median over runs of each run's median / p99."""
    def side(runs: list[dict[str, Any]]) -> dict[str, Any] | None:
        if not runs:
            return None
        per_run = [aggregate(r["records"]) for r in runs]
        first = per_run[0]
        labels = list(first)
        merged: dict[str, Any] = {}
        for label in labels:
            row = dict(first[label])
            medians = [p[label]["ms_median"] for p in per_run if label in p]
            p99s = [p[label]["ms_p99"] for p in per_run if label in p]
            row["ms_median"] = median(medians)
            row["ms_median_runs"] = medians
            row["ms_p99"] = median(p99s)
            row["req_varies_between_runs"] = any(p[label]["req_mean"] != first[label]["req_mean"] for p in per_run)
            merged[label] = row
        totals = {
            "requests": sum(len(r["requests"]) for r in runs[0]["records"]),
            "cu": capacity(q for r in runs[0]["records"] for q in r["requests"]),
            "cu_reported": reported_capacity(q for r in runs[0]["records"] for q in r["requests"]),
            "gsi_cu": gsi_capacity(q for r in runs[0]["records"] for q in r["requests"]),
            "wall_s": [r["wall_s"] for r in runs],
            "cpu_s": [r["cpu_s"] for r in runs],
        }
        return {"labels": merged, "totals": totals}

    agree = (results_agree(raw["python"][0]["records"], raw["peer"][0]["records"], raw["labels"])
             if raw["python"] and raw["peer"] else {})
    return {
        "python": side(raw["python"]),
        "peer": side(raw["peer"]),
        "results_agree": agree,
        "minimum": requests_vs_minimum(raw["python"][0]["records"]) if raw["python"] else {},
        "store_counts_match_proxy": all(r["store_counts_match_proxy"] for r in raw["python"]),
        "peer_versions": raw["peer"][0]["versions"] if raw["peer"] else None,
        "peer_error": raw["peer_error"],
        "labels": raw["labels"],
        "plan_calls": raw["plan_calls"],
        "runs": raw["runs"],
        "proxy_overhead_ms": raw.get("proxy_overhead_ms"),
    }
