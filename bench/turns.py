"""Part ``turns``: the cost of one agent turn as its thread grows, mastra-dynamo vs @mastra/dynamodb.

The plan (``bench.plan.build_turns_plan``) grows one thread per length with unmeasured calls, then makes a few
agent turns on it. Both clients replay it through the counting proxy (``bench.side_by_side.run_clients``), so
transactions are priced from their items for both. Per length and client: mean requests and capacity units per
turn (getThreadById + listMessages(last 20) + saveMessages(2)) and per call of each; the working-memory update
(every few turns) is kept out of the per-turn figures and reported on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bench.common import credentials, proxy
from bench.plan import TURN_CALLS, WORKING_MEMORY, build_turns_plan
from bench.side_by_side import aggregate, requests_vs_minimum, results_agree, run_clients

GOAL_BASE, GOAL_LENGTH, GOAL_MAX_RATIO = 20, 200, 1.1
"""The goal: with ours, a turn on a thread of 200 messages costs at most 1.1x a turn on a thread of 20 messages,
in requests and in capacity units."""


def run(endpoint: str, *, lengths: Sequence[int], turns: int, working_memory_every: int = 5,
        with_peer: bool = True, log: Any = print) -> dict[str, Any]:
    """One run of the turns plan per client, on fresh tables (requests and capacity are deterministic)."""
    credentials()
    plan = build_turns_plan(lengths, turns, working_memory_every=working_memory_every)
    out: dict[str, Any] = {"lengths": list(lengths), "turns": turns, "working_memory_every": working_memory_every,
                           "plan_calls": len(plan)}
    with proxy(endpoint) as proxy_url:
        out.update(run_clients(endpoint, proxy_url, plan, with_peer=with_peer, name="turns", log=log))
    return out


def _measured(records: list[dict[str, Any]], length: int) -> list[dict[str, Any]]:
    return [r for r in records if r["ctx"].get("measured") and r["ctx"].get("length") == length]


def _call(row: dict[str, Any]) -> dict[str, Any]:
    """What the turns part keeps of one label's aggregate."""
    return {"calls": row["calls"], "requests": row["req_mean"], "cu": row["cu_mean"], "gsi_cu": row["gsi_cu_mean"],
            "types": row["types"], "errors": row["errors"], "first_error": row["first_error"],
            "ms_median": row["ms_median"], "results": row["results"]}


def _length_row(records: list[dict[str, Any]], length: int) -> dict[str, Any]:
    """Per-turn means (the sum of the per-call means of the turn's calls) and per-call figures at one length."""
    calls = {label: _call(row) for label, row in aggregate(_measured(records, length)).items()}
    turn_calls = [calls[label] for label in TURN_CALLS if label in calls]
    return {"length": length, "turns": calls[TURN_CALLS[0]]["calls"] if TURN_CALLS[0] in calls else 0,
            "requests": sum(c["requests"] for c in turn_calls), "cu": sum(c["cu"] for c in turn_calls),
            "gsi_cu": sum(c["gsi_cu"] for c in turn_calls), "errors": sum(c["errors"] for c in calls.values()),
            "calls": {label: calls[label] for label in TURN_CALLS if label in calls},
            "working_memory": calls.get(WORKING_MEMORY)}


def _ratio(a: float, b: float) -> float | None:
    return a / b if b else None


def _client(records: list[dict[str, Any]], lengths: Sequence[int]) -> dict[str, Any]:
    """Rows per length, each with its ratio to the first length; the working-memory update over all lengths."""
    rows = [_length_row(records, length) for length in lengths]
    for row in rows:
        row["req_ratio"] = _ratio(row["requests"], rows[0]["requests"])
        row["cu_ratio"] = _ratio(row["cu"], rows[0]["cu"])
    memory = [r for length in lengths for r in _measured(records, length) if r["label"] == WORKING_MEMORY]
    return {"lengths": rows, "working_memory": _call(aggregate(memory)[WORKING_MEMORY]) if memory else None}


def _row(client: dict[str, Any] | None, length: int) -> dict[str, Any] | None:
    return next((row for row in client["lengths"] if row["length"] == length), None) if client else None


def goal(ours: dict[str, Any] | None, peer: dict[str, Any] | None) -> dict[str, Any]:
    """Does ours at ``GOAL_LENGTH`` messages stay within ``GOAL_MAX_RATIO`` of ours at ``GOAL_BASE``, in
    requests and in capacity units per turn? ``holds`` is None when those lengths were not measured."""
    def ratios(client: dict[str, Any] | None) -> tuple[float | None, float | None]:
        base, far = _row(client, GOAL_BASE), _row(client, GOAL_LENGTH)
        if base is None or far is None:
            return None, None
        return _ratio(far["requests"], base["requests"]), _ratio(far["cu"], base["cu"])

    req_ratio, cu_ratio = ratios(ours)
    _, peer_cu_ratio = ratios(peer)
    holds = None if req_ratio is None or cu_ratio is None else max(req_ratio, cu_ratio) <= GOAL_MAX_RATIO
    return {"base": GOAL_BASE, "length": GOAL_LENGTH, "max_ratio": GOAL_MAX_RATIO, "req_ratio": req_ratio,
            "cu_ratio": cu_ratio, "peer_cu_ratio": peer_cu_ratio, "holds": holds}


def _differences(raw: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """Per length: the measured calls whose result summaries (page sizes, totals) differ between the clients,
    with each client's most common results."""
    if not (raw["python"] and raw["peer"]):
        return {}
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for length in raw["lengths"]:
        ours, peer = _measured(raw["python"][0]["records"], length), _measured(raw["peer"][0]["records"], length)
        agree = results_agree(ours, peer, [*TURN_CALLS, WORKING_MEMORY])
        rows = {"ours": aggregate(ours), "peer": aggregate(peer)}
        out[str(length)] = {label: {who: calls[label]["results"] if label in calls else []
                                    for who, calls in rows.items()}
                            for label, same in agree.items() if not same}
    return out


def summarize(raw: dict[str, Any]) -> dict[str, Any]:
    lengths = raw["lengths"]
    ours = _client(raw["python"][0]["records"], lengths) if raw["python"] else None
    peer = _client(raw["peer"][0]["records"], lengths) if raw["peer"] else None
    py_records = raw["python"][0]["records"] if raw["python"] else []
    differences = _differences(raw)
    return {
        "lengths": lengths, "turns": raw["turns"], "working_memory_every": raw["working_memory_every"],
        "plan_calls": raw["plan_calls"], "calls": list(TURN_CALLS), "working_memory_label": WORKING_MEMORY,
        "python": ours, "peer": peer, "peer_error": raw["peer_error"],
        "peer_versions": raw["peer"][0]["versions"] if raw["peer"] else None,
        "results_agree": {length: not labels for length, labels in differences.items()},
        "results_differ": differences,
        "minimum": {str(length): requests_vs_minimum(_measured(py_records, length)) for length in lengths},
        "store_counts_match_proxy": all(r["store_counts_match_proxy"] for r in raw["python"]),
        "goal": goal(ours, peer),
    }

