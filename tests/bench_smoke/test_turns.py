"""The ``turns`` part without a server: its plan, its summary of recorded calls and its report section."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.plan import GROW, LAST_PAGE, TURN_CALLS, WORKING_MEMORY, build_turns_plan
from bench.report import turns_table
from bench.turns import summarize

Cost = Callable[[dict[str, Any]], float]


def test_plan_grows_each_thread_then_measures_turns() -> None:
    plan = build_turns_plan([4, 12], 3, working_memory_every=2)
    for length in (4, 12):
        calls = [c for c in plan if c["ctx"]["length"] == length]
        grow = [c for c in calls if not c["ctx"]["measured"]]
        measured = [c for c in calls if c["ctx"]["measured"]]
        assert all(c["label"].startswith(GROW) for c in grow)
        assert sum(len(c["args"].get("messages", [])) for c in grow) == length
        assert [c["label"] for c in measured] == [*TURN_CALLS, *TURN_CALLS, WORKING_MEMORY, *TURN_CALLS]
        pages = [c for c in measured if c["label"] == LAST_PAGE]
        assert [c["ctx"]["m"] for c in pages] == [length, length + 2, length + 4]
        assert not any(c["ctx"]["rebuild"] for c in pages)  # the growth read the total: counters are stored
    saved = [m for c in plan if c["ctx"]["measured"] for m in c["args"].get("messages", [])]
    assert [m["role"] for m in saved[:2]] == ["user", "assistant"]
    assert [len(m["content"]["content"].split()) for m in saved[:2]] == [30, 120]
    assert len({m["id"] for c in plan for m in c["args"].get("messages", [])}) == 4 + 12 + 2 * 3 * 2  # unique ids


def _records(plan: list[dict[str, Any]], cost: Cost) -> list[dict[str, Any]]:
    """What a run of ``plan`` records, with one request per call costing ``cost(call)`` capacity units."""
    return [{"label": c["label"], "ctx": c["ctx"], "ms": 1.0, "error": None, "result": {},
             "requests": [{"op": "Query", "cu": cost(c), "gsi_cu": 0.0, "req_bytes": 1, "resp_bytes": 1}]}
            for c in plan]


def _summary(ours: Cost, peer: Cost) -> dict[str, Any]:
    plan = build_turns_plan([20, 200, 1000], 5)
    return summarize({
        "lengths": [20, 200, 1000], "turns": 5, "working_memory_every": 5, "plan_calls": len(plan),
        "python": [{"records": _records(plan, ours), "store_counts_match_proxy": True}],
        "peer": [{"records": _records(plan, peer), "versions": {}}], "peer_error": None,
    })


def _whole_thread(call: dict[str, Any]) -> float:
    return call["ctx"].get("m", 0) / 10 if call["label"] == LAST_PAGE else 1.0


def test_summary_and_report_state_the_goal() -> None:
    summary = _summary(ours=lambda call: 1.0, peer=_whole_thread)
    ours, peer = summary["python"]["lengths"], summary["peer"]["lengths"]
    assert [row["requests"] for row in ours] == [3, 3, 3]  # the working-memory update is not in the turn
    assert [row["cu_ratio"] for row in ours] == [1, 1, 1]
    assert peer[1]["cu_ratio"] > 5 and summary["python"]["working_memory"]["calls"] == 3
    assert summary["goal"]["holds"] is True and summary["results_agree"] == {"20": True, "200": True, "1000": True}
    markdown = "\n".join(turns_table(summary))
    assert "| 1,000 | 3.00 | 3.00 | 3.0 |" in markdown and "CU ours / ours@20" in markdown
    assert "**holds**" in markdown and "the peer's turn at 200 costs" in markdown


def test_report_says_when_the_goal_fails_and_why_the_peer_is_missing() -> None:
    summary = _summary(ours=_whole_thread, peer=_whole_thread)
    assert summary["goal"]["holds"] is False
    summary.update(peer=None, peer_error="skipped (--no-peer)")
    markdown = "\n".join(turns_table(summary))
    assert "**does not hold**" in markdown and "not measured: skipped (--no-peer)" in markdown
