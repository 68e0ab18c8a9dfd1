"""Markdown tables from a results file (``python -m bench.report bench/results/latest.json``)."""
# ruff: noqa: RUF001  (typographic dashes and signs belong in the rendered tables)

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

from bench.common import fmt


def _ratio(a: float, b: float) -> str:
    if not b or math.isnan(a) or math.isnan(b):
        return "–"
    return f"{a / b:.2f}×"


def _types(types: dict[str, float]) -> str:
    short = {"BatchGetItem": "BG", "BatchWriteItem": "BW", "TransactWriteItems": "TW", "GetItem": "G",
             "PutItem": "P", "UpdateItem": "U", "DeleteItem": "D", "Query": "Q", "Scan": "Scan"}
    def count(n: float) -> str:
        return f"{n:g}" if n < 100 else f"{n:,.0f}"

    return " ".join(f"{count(n)}{short.get(op, op)}" for op, n in types.items())


def _spread(s: dict[str, float], digits: int = 1) -> str:
    if not s or s.get("n", 0) == 0:
        return "–"
    if s["n"] == 1:
        return fmt(s["median"], digits)
    return f"{fmt(s['median'], digits)} ({fmt(s['min'], digits)}–{fmt(s['max'], digits)})"


def header(r: dict[str, Any]) -> list[str]:
    m, v, c = r["machine"], r["versions"], r["config"]
    peer = (r.get("side") or {}).get("peer_versions") or (r.get("turns") or {}).get("peer_versions") or {}
    lines = [
        f"Run {r['started']} · `{r['command']}` · {r['seconds']['total']:.0f} s · endpoint: {r.get('endpoint')}",
        "",
        f"- Machine: {m['nproc']} cores ({m['cpu']}), {m['mem_gib']} GiB, Linux {m['kernel']}, Python {m['python']}.",
        f"- Versions: mastra-dynamo {v['mastra-dynamo']}, boto3 {v['boto3']}, botocore {v['botocore']}, pydantic "
        f"{v['pydantic']}, chdb {v['chdb']}, clickhouse-connect {v['clickhouse-connect']}, DynamoDB Local "
        f"{v['DynamoDB Local']} ({v['java']})"
        + (f"; peer: @mastra/dynamodb {peer.get('@mastra/dynamodb')}, @mastra/core {peer.get('@mastra/core')}, "
           f"@aws-sdk/client-dynamodb {peer.get('@aws-sdk/client-dynamodb')}, electrodb {peer.get('electrodb')}, "
           f"Node {peer.get('node')}" if peer else "") + ".",
        "- Load average (1 min) before/after each part: " + ", ".join(
            f"{part} {la['before'][0]:.1f}/{la.get('after', [math.nan])[0]:.1f}" for part, la in r["loadavg"].items())
        + ".",
        f"- Sizes: side-by-side runs {c['side_runs']} ({c['workload']} workload); cpu {c['cpu_rounds']} rounds of "
        f"{c['cpu_round_seconds']} s per variant (interleaved); cold start {c['cold_runs']} runs after "
        f"{c['cold_warmup']} warm-up; "
        f"thread sizes {c['thread_sizes']}, delete_thread {c['delete_messages']:,} messages, runs {c['run_sizes']}, "
        f"{c['scale_repeats']} repeats per scale call; chDB {c['spans']:,} spans, {c['chdb_repeats']} repeats per "
        f"query{' (BENCH_FULL=1)' if c.get('full') else ''}"
        + (f"; agent turns: {c['turns']} per thread of {c['turn_lengths']} messages" if "turns" in c else "")
        + (f"; async: {c['async_calls']} calls per phase × {c['async_rounds']} rounds, CPU {c['async_cpu_calls']} "
           f"calls × {c['async_cpu_rounds']} rounds" if "async_calls" in c else "") + ".",
    ]
    return lines


def _reported_row(ours: dict[str, Any], peer: dict[str, Any] | None) -> tuple[str, str, str, str]:
    """Whole-workload capacity as DynamoDB Local reports it, and its difference from the priced figure."""
    def cell(totals: dict[str, Any]) -> str:
        reported, priced = totals.get("cu_reported", math.nan), totals["cu"]
        if math.isnan(reported):
            return "–"
        if reported == priced:
            return fmt(reported, 0)
        return f"{fmt(reported, 0)} ({'−' if reported < priced else '+'}{fmt(abs(reported - priced), 0)})"

    ratio = _ratio(ours.get("cu_reported", math.nan), peer.get("cu_reported", math.nan)) if peer else "–"
    return ("Capacity units as DynamoDB Local reports them (difference)", cell(ours),
            cell(peer) if peer else "–", ratio)


def side_tables(s: dict[str, Any]) -> list[str]:
    ours, peer = s["python"], s.get("peer")
    out = ["### 1. Standard agent workload, side by side", ""]
    if peer is None:
        out += [f"The TypeScript peer was not measured: {s.get('peer_error')}", ""]
    out += [
        "Per call: requests (by type), consumed capacity units (DynamoDB Local, `ReturnConsumedCapacity: INDEXES`"
        " added by the proxy; GSI share in brackets), wall time median and p99 (median over runs of each run's "
        "value). `=` in the last column: both stores returned the same page sizes and totals."
        + (" Every TransactWriteItems is priced from its items' before- and after-images as DynamoDB bills it "
           "(docs/performance.md, \"How transactions are priced\"), because DynamoDB Local under-reports "
           "transactions." if "cu_reported" in ours["totals"] else ""),
        "",
        "| Operation | Calls | Req/call ours | Req/call peer | Types ours | Types peer | CU/call ours (GSI) | "
        "CU/call peer (GSI) | ms median ours | ms median peer | ms p99 ours | ms p99 peer | = |",
        "|---|---:|---:|---:|---|---|---:|---:|---:|---:|---:|---:|:-:|",
    ]
    agree = s.get("results_agree", {})
    for label in s["labels"]:
        o = ours["labels"][label]
        p = peer["labels"].get(label) if peer else None
        out.append("| " + " | ".join([
            f"`{label}`", str(o["calls"]), fmt(o["req_mean"]), fmt(p["req_mean"]) if p else "–",
            _types(o["types"]), _types(p["types"]) if p else "–",
            f"{fmt(o['cu_mean'], 1)} ({fmt(o.get('gsi_cu_mean', math.nan), 1)})",
            f"{fmt(p['cu_mean'], 1)} ({fmt(p.get('gsi_cu_mean', math.nan), 1)})" if p else "–",
            fmt(o["ms_median"], 1), fmt(p["ms_median"], 1) if p else "–",
            fmt(o["ms_p99"], 1), fmt(p["ms_p99"], 1) if p else "–",
            ("yes" if agree.get(label) else "**no**") if label in agree else "–",
        ]) + " |")
    to = ours["totals"]
    rows = [
        ("Requests, whole workload", fmt(to["requests"], 0), fmt(peer["totals"]["requests"], 0) if peer else "–",
         _ratio(to["requests"], peer["totals"]["requests"]) if peer else "–"),
        ("Capacity units, whole workload", fmt(to["cu"], 0), fmt(peer["totals"]["cu"], 0) if peer else "–",
         _ratio(to["cu"], peer["totals"]["cu"]) if peer else "–"),
        ("… of which GSI", fmt(to.get("gsi_cu", math.nan), 0),
         fmt(peer["totals"].get("gsi_cu", math.nan), 0) if peer else "–", "–"),
    ]
    if "cu_reported" in to:  # results of runs before transactions were priced have only the reported figure
        rows.append(_reported_row(to, peer["totals"] if peer else None))
    from bench.common import median, spread

    wall_o, wall_p = spread(to["wall_s"]), spread(peer["totals"]["wall_s"]) if peer else None
    cpu_o, cpu_p = spread(to["cpu_s"]), spread(peer["totals"]["cpu_s"]) if peer else None
    rows.append(("Wall time, whole workload (s)", _spread(wall_o), _spread(wall_p) if wall_p else "–",
                 _ratio(median(to["wall_s"]), median(peer["totals"]["wall_s"])) if peer else "–"))
    rows.append(("Client process CPU, whole workload (s)", _spread(cpu_o), _spread(cpu_p) if cpu_p else "–",
                 _ratio(median(to["cpu_s"]), median(peer["totals"]["cpu_s"])) if peer else "–"))
    out += ["", "| Whole workload | ours | peer | ours / peer |", "|---|---:|---:|---:|"]
    out += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    out += ["", "Capacity per call by index, for calls of at least 2 CU (base table = total − GSIs):", "",
            "| Operation | ours: table / GSIs | peer: table / GSIs |", "|---|---|---|"]

    def where(row: dict[str, Any] | None) -> str:
        if row is None:
            return "–"
        gsis = row.get("cu_by_index", {})
        table = row["cu_mean"] - sum(gsis.values())
        return f"table {fmt(table, 1)}" + "".join(f", {k} {fmt(v, 1)}" for k, v in gsis.items() if v)

    for label in s["labels"]:
        o = ours["labels"][label]
        p = peer["labels"].get(label) if peer else None
        if o["cu_mean"] >= 2 or (p and p["cu_mean"] >= 2):
            out.append(f"| `{label}` | {where(o)} | {where(p)} |")
    out += ["", f"`request_counts()` of the store equals what the proxy counted: "
                f"{'yes' if s.get('store_counts_match_proxy') else '**no**'}."]
    ovh = s.get("proxy_overhead_ms")
    if ovh:
        out += [f"The counting proxy adds {fmt(ovh['overhead'], 2)} ms per request to both clients (raw GetItem "
                f"median {fmt(ovh['direct'], 2)} ms direct, {fmt(ovh['proxy'], 2)} ms through the proxy)."]
    out += [""]
    out += ["### 2. Requests per call vs the documented minimum", "",
            "Measured: requests per call in the workload. Documented: the formula of docs/access-patterns.md "
            "evaluated for each call. Min: its Min column. Calls above min: how many of the calls needed more "
            "than the minimum.", "",
            "| Operation | Measured | Documented | Min | Calls above min | Reason |", "|---|---:|---:|---:|---:|---|"]
    for label, m in s["minimum"].items():
        reason = "; ".join(m["reasons"]) if m["calls_above_min"] else ""
        flag = "" if not m["calls_not_as_documented"] else f" (**{m['calls_not_as_documented']} differ**)"
        out.append(f"| `{label}` | {fmt(m['measured'])}{flag} | {fmt(m['documented'])} | {fmt(m['minimum'])} | "
                   f"{m['calls_above_min']} of {m['calls']} | {reason} |")
    calls = s["minimum"].values()

    def total(column: str) -> str:
        return fmt(sum(m["calls"] * m[column] for m in calls), 0)

    out.append(f"| **Whole workload** (requests) | {total('measured')} | {total('documented')} | {total('minimum')} | "
               f"{fmt(sum(m['calls_above_min'] for m in calls), 0)} of {fmt(sum(m['calls'] for m in calls), 0)} | |")
    return [*out, ""]


def cpu_table(c: dict[str, Any]) -> list[str]:
    out = ["### 3. Client CPU per call (stubbed transport)", "",
           "Median of rounds (min–max) of `time.process_time`, µs per call; in each round the variants run one "
           "block each, in an order rotated per round, and Ours / raw is the median of the per-round ratios. "
           "Raw: a botocore client made as any botocore user makes it (the store's client options, parameter "
           "validation off) issuing the recorded requests. Library: ours − raw. With validation: our store on a "
           "client the user made with `Config(parameter_validation=True)` (botocore's default; the library's own "
           "clients skip it), which also keeps botocore's own serializer and parser (the store's own clients read "
           "and write attribute values by their type tag: `mastra_dynamo/dynamo/wire.py`).", "",
           "| Operation | Requests | Ours µs | Raw botocore µs | Ours / raw | Library µs | With validation µs | "
           "Where our CPU goes (cProfile own time) |", "|---|---:|---:|---:|---:|---:|---:|---|"]
    for name, o in c["ops"].items():
        share = o["profile_store"]["share"]
        where = ", ".join(f"{k} {v}%" for k, v in share.items() if v >= 1)
        out.append(f"| {name} | {o['requests']} ({' + '.join(o['request_types'])}) | "
                   f"{_spread(o['store_us_per_call'], 0)} | {_spread(o['raw_us_per_call'], 0)} | "
                   f"{o['ratio']:.2f}× | {fmt(o['library_us_per_call'], 0)} | "
                   f"{_spread(o.get('store_validating_us_per_call', {}), 0)} | {where} |")
    return [*out, ""]


def cold_table(c: dict[str, Any]) -> list[str]:
    out = ["### 4. Cold start (fresh process, to the first GetItem answered)", "",
           f"{c['runs']} runs after {c['warmup']} warm-up; median (min–max), ms. Process: whole `python script.py` "
           "wall time measured by the parent. Inside: measured by the child from its first line.", "",
           "| Variant | Process ms | Inside: imports | Inside: client/store | Inside: first request | Inside: total |",
           "|---|---:|---:|---:|---:|---:|"]
    for name, v in c["variants"].items():
        inner = v["inner_ms"]
        out.append(f"| {name} | {_spread(v['process_ms'], 0)} | "
                   + " | ".join(_spread(inner[k], 0) if k in inner else "–"
                                for k in ("import_ms", "client_ms", "first_request_ms", "total_ms")) + " |")
    if c.get("ours") in c["variants"]:
        def total(name: str) -> float:
            return float(c["variants"][name]["inner_ms"]["total_ms"]["median"])
        ours, boto3, floor = total(c["ours"]), total(c["baseline"]), total(c["floor"])
        out += ["", f"Inside totals (medians): ours / boto3 = **{ours / boto3:.2f}×**; ours / boto3 with "
                f"pydantic and pynamodb imported = **{ours / floor:.2f}×** (the records are pydantic "
                "models and the item layout is PynamoDB models: their imports are part of any first call)."]
    if c.get("hyperfine"):
        h = c["hyperfine"]
        out += ["", f"{h['tool']}: " + "; ".join(f"{k}: {_spread(v, 0)} ms" for k, v in h["process_ms"].items())]
    else:
        out += ["", "hyperfine is not installed; the process times above come from repeated subprocess timing."]
    return [*out, ""]


def scale_tables(s: dict[str, Any]) -> list[str]:
    out = ["### 5. Scale (DynamoDB Local)", "",
           f"Each call {s['repeats']} times after a warm-up: wall ms median (min–max); requests and capacity of one "
           "call; Python heap peak (tracemalloc) and RSS peak growth of one call. Above 50,000 messages or runs, "
           "calls that include a COUNT are timed once without a warm-up.", "",
           "| Messages in the thread | Call | Requests | CU | ms | Heap peak KiB | RSS peak growth KiB | total |",
           "|---:|---|---|---:|---:|---:|---:|---:|"]
    for row in s["thread"]:
        for name, m in row.items():
            if not isinstance(m, dict):
                continue
            out.append(f"| {row['messages']:,} | `{name}` | {m['requests']} ({_types(m['types'])}) | "
                       f"{fmt(m['cu'], 0)} | {_spread(m['ms'])} | {fmt(m['heap_peak_kib'], 0)} | "
                       f"{fmt(m['rss_peak_growth_kib'], 0)} | "
                       f"{m['result'].get('total', '–')} |")
    d = s["delete_thread"]
    out += ["", f"`delete_thread` of {d['messages']:,} messages: {d['requests']:,} requests ({_types(d['types'])}), "
                f"{fmt(d['cu'], 0)} CU, {d['wall_s']:.1f} s, RSS peak growth {fmt(d['rss_peak_growth_kib'], 0)} KiB, "
                f"items left in the partition: {d['items_left']}, failed requests: {d['request_errors']}.", ""]
    out += ["| Runs | Call | Requests | CU | ms | Heap peak KiB | total |", "|---:|---|---|---:|---:|---:|---:|"]
    for row in s["runs"]:
        for name, m in row.items():
            if not isinstance(m, dict):
                continue
            out.append(f"| {row['runs']:,} | `{name}` | {m['requests']} ({_types(m['types'])}) | {fmt(m['cu'], 0)} | "
                       f"{_spread(m['ms'])} | {fmt(m['heap_peak_kib'], 0)} | {m['result'].get('total', '–')} |")
    seeds = [f"{r['messages']:,} messages {r['seed_s']:.0f} s" for r in s["thread"]]
    seeds += [f"{r['runs']:,} runs {r['seed_s']:.0f} s" for r in s["runs"]]
    out += ["", "Seeding (cumulative steps, not measured calls): " + ", ".join(seeds) + "."]
    return [*out, ""]


def chdb_table(c: dict[str, Any]) -> list[str]:
    if "error" in c:
        return ["### 5d. chDB", "", f"Failed: ```{c['error'][-1500:]}```", ""]
    out = ["### 5d. Spans into chDB, list_traces over them", "",
           f"{c['spans']:,} spans ({c['traces']:,} traces of 10 spans) in {c['batches']} `batch_create_spans` calls of "
           f"{c['batch']:,}: {c['ingest_wall_s']:.1f} s wall, {c['ingest_cpu_s']:.1f} s CPU, "
           f"**{fmt(c['spans_per_s'], 0)} spans/s** wall, {fmt(c['spans'] / c['ingest_cpu_s'], 0)} spans per CPU "
           f"second of the client process (chDB runs in it); per batch {_spread(c['batch_ms'], 0)} ms; RSS growth "
           f"{fmt(c['rss_growth_mib'], 0)} MiB; on disk {fmt(c['disk_mib'], 0)} MiB.", "",
           f"| Query ({c['repeats']} runs after a warm-up) | ms median (min–max) | p99 | total |",
           "|---|---:|---:|---:|"]
    for name, q in c["queries"].items():
        out.append(f"| `{name}` | {_spread(q['ms'])} | {fmt(q['ms_p99'], 1)} | "
                   f"{c['totals'].get(name, '–')} |")
    return [*out, ""]


def _times(ratio: float | None) -> str:
    return "–" if ratio is None else f"{ratio:.2f}×"


def _goal_sentence(t: dict[str, Any]) -> str:
    g = t["goal"]
    aim = (f"Goal (ours at {g['length']} messages within {g['max_ratio']:g}× of ours at {g['base']}, in requests and "
           "in capacity units per turn): ")
    if g["holds"] is None:
        return aim + f"not evaluated, this run measured threads of {t['lengths']} messages."
    peer = (f"; the peer's turn at {g['length']} costs {_times(g['peer_cu_ratio'])} its turn at {g['base']}"
            if g.get("peer_cu_ratio") is not None else "")
    return (aim + f"**{'holds' if g['holds'] else 'does not hold'}**: ours@{g['length']} / ours@{g['base']} = "
            f"{_times(g['cu_ratio'])} in CU, {_times(g['req_ratio'])} in requests{peer}.")


def _memory_note(t: dict[str, Any]) -> str:
    def cell(client: dict[str, Any] | None) -> str:
        m = (client or {}).get("working_memory")
        return "–" if m is None else f"{fmt(m['requests'])} requests, {fmt(m['cu'], 1)} CU"

    return (f"The working-memory update (`{t['working_memory_label']}`, once every {t['working_memory_every']} "
            f"turns) is not in the per-turn figures; per call: ours {cell(t['python'])}, peer {cell(t.get('peer'))}.")


def _differences_note(t: dict[str, Any]) -> list[str]:
    """Where the two stores' measured calls answered differently (page sizes, totals), with the answers."""
    def answers(results: list[list[Any]]) -> str:
        return ", ".join(f"`{value}` ×{count}" for value, count in results) or "none"

    notes = [f"at {int(length):,} messages `{label}` answered ours {answers(r['ours'])}; peer {answers(r['peer'])}"
             for length, labels in (t.get("results_differ") or {}).items() for label, r in labels.items()]
    return ["", "**The stores' answers differ**: " + "; ".join(notes) + "."] if notes else []


def _turns_intro(t: dict[str, Any]) -> str:
    return ("One agent turn: `getThreadById`, `listMessages` (last 20, newest first, with its total) and "
            "`saveMessages` of a user message (30 words) and the answer (120 words); mean of "
            f"{t['turns']} turns on one thread per length, through the counting proxy (transactions priced from "
            "their items, bench/pricing.py). Each thread was grown beforehand by calls that are not measured "
            "(saveMessages batches, then one read of its total, which makes ours store the thread's message "
            "counters), so the turns find a thread as a long conversation leaves it. " + _memory_note(t)
            + " Per-call figures: `turns.python` / `turns.peer` in the results JSON.")


def turns_table(t: dict[str, Any]) -> list[str]:
    ours, peer = t["python"], t.get("peer")
    base = t["lengths"][0]
    out = ["### 6. Agent turn vs thread length", ""]
    if peer is None:
        out += [f"The TypeScript peer was not measured: {t.get('peer_error')}", ""]
    out += [_turns_intro(t), "",
            "| Messages in the thread | Requests/turn ours | Requests/turn peer | CU/turn ours | CU/turn peer | "
            f"CU ours / ours@{base} | CU peer / peer@{base} |", "|---:|---:|---:|---:|---:|---:|---:|"]
    for row in ours["lengths"]:
        p = next((x for x in peer["lengths"] if x["length"] == row["length"]), None) if peer else None
        out.append("| " + " | ".join([
            f"{row['length']:,}", fmt(row["requests"]), fmt(p["requests"]) if p else "–", fmt(row["cu"], 1),
            fmt(p["cu"], 1) if p else "–", _times(row["cu_ratio"]), _times(p["cu_ratio"]) if p else "–",
        ]) + " |")
    failed = [f"{who} {row['errors']} at {row['length']:,}" for who, client in (("ours", ours), ("peer", peer))
              for row in (client or {}).get("lengths", []) if row["errors"]]
    if failed:
        out += ["", "**Measured calls failed**: " + ", ".join(failed) + " (see `first_error` in the results JSON)."]
    return [*out, *_differences_note(t), "", _goal_sentence(t), ""]


def _goal(ok: bool) -> str:
    return "met" if ok else "**missed**"


def _lag(lag: dict[str, float]) -> str:
    return f"{fmt(lag['p50'], 1)} / {fmt(lag['p99'], 1)} / {fmt(lag['max'], 1)} ({lag['ticks']:.0f})"


def _range(ratios: list[float] | None) -> str:
    return f" ({min(ratios):.2f}–{max(ratios):.2f})" if ratios and len(ratios) > 1 else ""


def async_table(a: dict[str, Any], v: dict[str, str]) -> list[str]:
    pool = a["pool"]
    out = ["### 7. Async API", "",
           f"{a['calls']} calls per phase on one event loop, {a['threads']} (seeded beforehand); {a['rounds']} rounds,"
           " each variant in its own `asyncio.run` with a fresh store, the order rotated per round; DynamoDB Local "
           "called directly (no proxy). *gather*: the async store (`mastra_dynamo.aio`), all calls under "
           "`asyncio.gather`; *sequential*: the same async store, the calls awaited one after another; *to_thread*: "
           "the sync store's method in `asyncio.to_thread` (the loop's default executor, "
           f"{a['executor_workers']} workers on {a['cpus']} CPUs); *raw_gather* / *raw_sequential*: no store, the "
           "GetItem / TransactWriteItems requests a sync store sends for the same calls (recorded just before "
           "the variant: its reads sent, its writes answered in the process and not sent; fresh message ids per "
           "variant) sent directly on an aiobotocore client made like the "
           "async store's, gathered or awaited one after another: what any aiobotocore user gets on this machine "
           f"and endpoint. `max_pool_connections`: {pool['gather']} "
           f"(async store), {pool['to_thread']} (sync store)"
           + (" (set by `--async-pool`)" if a.get("max_pool_connections") is not None else " (the stores' default)")
           + f". aiobotocore {v.get('aiobotocore')}, aiohttp {v.get('aiohttp')}, greenlet {v.get('greenlet')}.", "",
           "Wall ms: median (min–max) over rounds. Client CPU: `time.process_time` of the process over the phase "
           "(all its threads, the sampler and the ticker included) per call; client cores: that CPU over the wall "
           "time; machine cores: busy CPU time of the whole machine (/proc/stat, every process) over the wall time. "
           "Outstanding: the most requests handed to the HTTP layer and not yet answered (waiting for a pool "
           "connection included). Threads: the peak of `Threads:` in /proc/self/status (kernel threads of the "
           "process) beyond those alive before the variant started and beyond the sampler; in brackets the same "
           "from `threading.active_count()` (Python threads). Lag: overshoot of a 5 ms sleep in a loop, p50 / p99 / "
           "max ms (ticks). Full GC: the longest full garbage collection during the phase (all rounds; it stops the "
           "whole process, the loop included), ms (count)"
           + (". The heap was frozen after each variant's warm-up (`BENCH_ASYNC_FREEZE=1`: `gc.freeze()`)."
              if a.get("heap_frozen") else "; the collector as configured by default."), "",
           "| Phase | Variant | Wall ms | ms per call | Client CPU ms per call | Client cores | Machine cores | "
           "Outstanding | Threads | Loop lag ms | Full GC ms |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|"]
    for phase, p in a["phases"].items():
        for kind, x in p["variants"].items():
            out.append(f"| `{phase}` | {kind} | {_spread(x['wall_ms'], 0)} | {fmt(x['ms_per_call'])} | "
                       f"{fmt(x['cpu_ms_per_call'])} | {fmt(x['client_cores'])} | {fmt(x['machine_busy_cores'])} | "
                       f"{x['inflight_peak']} | {x['extra_os_threads']} ({x['extra_py_threads']}) | "
                       f"{_lag(x['lag_ms'])} | {fmt(x.get('full_gc_max_ms', math.nan), 1)} "
                       f"({x.get('full_gcs', '–')}) |")
    out += ["", "Ratios per round: median (min–max). Ceiling: a sequential call's wall time over the client CPU of "
                "a gathered call, the most any concurrency inside one client process could gain while the client's "
                "own work does not overlap. Raw: the same ratio for raw aiobotocore (raw_sequential over "
                "raw_gather); gather / raw gather: our gathered wall time over raw aiobotocore's.", "",
            "| Phase | gather vs sequential (goal ≥ 8×) | raw | ceiling | gather vs to_thread (goal ≥ 3×) | "
            "gather / raw gather | Threads gather / to_thread (goal ≤ 2) | "
            "Lag p99 ms gather / raw gather / to_thread (goal ≤ 20) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for phase, p in a["phases"].items():
        g, t = p["variants"]["gather"], p["variants"]["to_thread"]
        rg = p["variants"].get("raw_gather")
        seq, thr = p["speedup_vs_sequential"], p["speedup_vs_to_thread"]
        raw_seq, vs_raw = p.get("raw_speedup_vs_sequential"), p.get("gather_vs_raw_gather")
        out.append(f"| `{phase}` | {_spread(seq, 2)}× {_goal(seq['median'] >= 8)} | "
                   f"{_spread(raw_seq, 2) + '×' if raw_seq else '–'} | {fmt(p['speedup_ceiling'])}× | "
                   f"{_spread(thr, 2)}× {_goal(thr['median'] >= 3)} | "
                   f"{_spread(vs_raw, 2) + '×' if vs_raw else '–'} | {g['extra_os_threads']} "
                   f"{_goal(g['extra_os_threads'] <= 2)} / {t['extra_os_threads']} | "
                   f"{fmt(g['lag_ms']['p99'], 1)} {_goal(g['lag_ms']['p99'] <= 20)} / "
                   f"{fmt(rg['lag_ms']['p99'], 1) if rg else '–'} / {fmt(t['lag_ms']['p99'], 1)} |")
    c = a["cpu"]
    out += ["", f"Client CPU per call: `time.process_time` over {c['calls']} sequential calls per kind, median "
                f"(min–max) of {c['rounds']} rounds, µs. Each round runs the calls in blocks of {c.get('block', '–')}, "
                "each block made by the four kinds in a rotating order, so a change of the machine's load hits them "
                "alike: the sync store called directly, the async store awaited one by one (one event loop, no "
                "sampler, no ticker), and raw: the requests a sync store sends for the same block (recorded just "
                "before, the writes not sent) sent one by one on the stores' own clients, botocore and aiobotocore. "
                "Ours: the store minus raw (the library's own CPU per call); floor: raw aiobotocore over raw "
                "botocore, what the async client itself costs more. Ratios: of the medians, in brackets the range "
                "of the per-round ratios.", "",
            "| Call | Sync µs | Async µs | Async / sync (goal ≤ 1.2×) | Raw botocore µs | Raw aiobotocore µs | "
            "Floor (raw aio / raw) | Ours sync / async µs |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for op, o in c["ops"].items():
        floor = (f"{_spread(o['raw_botocore_us'], 0)} | {_spread(o['raw_aiobotocore_us'], 0)} | "
                 f"{o['raw_ratio']:.2f}×{_range(o.get('raw_ratio_per_round'))} | {fmt(o['ours_sync_us'], 0)} / "
                 f"{fmt(o['ours_async_us'], 0)}" if "raw_ratio" in o else "– | – | – | –")
        out.append(f"| `{op}` | {_spread(o['sync_us'], 0)} | {_spread(o['async_us'], 0)} | "
                   f"{o['ratio']:.2f}×{_range(o.get('ratio_per_round'))} {_goal(o['ratio'] <= 1.2)} | {floor} |")
    b = a.get("bridge")
    if b:
        out += ["", f"The bridge alone: CPU per `get_thread_by_id` on stub clients that answer at once (no request, "
                    f"no I/O), {b['calls']:,} calls × {b['rounds']} rounds, median (min–max) µs: sync store "
                    f"{_spread(b['sync_us'], 1)}, async store {_spread(b['async_us'], 1)}; the async path adds "
                    f"{fmt(b['added_us'], 1)} µs per call (greenlet, coroutine layers, client adapter)."]
    seq = a["sequence"]
    out += ["", f"`request_counts()` equal between the sync and the async store: "
                f"{'yes' if a['request_counts_equal'] else '**no**'} (the sequence {', '.join(seq['calls'])} on "
                f"fresh ids: {_types(seq['async'])}; the CPU rounds; every variant and round above: "
                f"{_types(a['requests']['gather'])} per variant).", ""]
    return out


def render(r: dict[str, Any]) -> str:
    lines = ["## Results", "", *header(r), ""]
    if "side" in r:
        lines += side_tables(r["side"])
    if "cpu" in r:
        lines += cpu_table(r["cpu"])
    if "cold" in r:
        lines += cold_table(r["cold"])
    if "scale" in r:
        lines += scale_tables(r["scale"])
    if "chdb" in r:
        lines += chdb_table(r["chdb"])
    if "turns" in r:
        lines += turns_table(r["turns"])
    if "async" in r:
        lines += async_table(r["async"], r["versions"])
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(json.loads(Path(sys.argv[1] if len(sys.argv) > 1 else "bench/results/latest.json").read_text())))
