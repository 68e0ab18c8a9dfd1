"""Step results of a workflow run: how a step result arriving for a run is merged into the stored snapshot
(including foreach iterations finishing on different workers), and the snapshot of a run that receives results
before it was persisted. Pure functions: the workflows store applies them inside its compare-and-set loop."""

from __future__ import annotations

from datetime import datetime
from typing import Any

PENDING_MARKER = "__mastra_pending__"


def pending_snapshot(run_id: str, now: datetime) -> dict[str, Any]:
    """The empty snapshot of a run that receives results before it was persisted."""
    return {
        "runId": run_id, "status": "pending", "value": {}, "context": {}, "activePaths": [],
        "activeStepsPath": {}, "serializedStepGraph": [], "suspendedPaths": {}, "resumeLabels": {},
        "waitingPaths": {}, "timestamp": int(now.timestamp() * 1000),
    }


FOREACH_KEY = "__mastra_foreach__"
COMPLETED_KEY = "__mastra_foreach_completed_indexes__"


def _pending(value: Any) -> bool:
    """A reset command for one foreach slot: exactly ``{"__mastra_pending__": True}``."""
    return isinstance(value, dict) and len(value) == 1 and value.get(PENDING_MARKER) is True


def _suspended_iteration(value: Any) -> bool:
    """A suspended step result (strict shape, so user outputs that merely say 'suspended' do not match)."""
    if not isinstance(value, dict) or value.get("status") != "suspended":
        return False
    payload = value.get("suspendPayload")
    suspended_at = value.get("suspendedAt")
    return (isinstance(suspended_at, int | float) and not isinstance(suspended_at, bool)
            and isinstance(payload, dict) and "__workflow_meta" in payload)


def _unfinished(value: Any) -> bool:
    return value is None or _pending(value) or _suspended_iteration(value)


def _completed_indexes(result: Any) -> set[int]:
    raw = result.get(COMPLETED_KEY) if isinstance(result, dict) else None
    if not isinstance(raw, list):
        return set()
    return {i for i in raw if isinstance(i, int) and not isinstance(i, bool) and i >= 0}


def merge_step_result(existing: Any, result: Any) -> Any:
    """The step result to store after ``result`` arrives for a step that holds ``existing``.

    Plain results replace the stored one. Foreach results are tagged by their writer with
    ``__mastra_foreach__`` (a transport marker, never stored); when either side is partial (an iteration
    still null, suspended or pending) their list outputs merge slot by slot, so iterations finishing on
    different workers in any order are all kept:

    * ``{"__mastra_pending__": True}`` in a slot resets that slot to null, but only if the stored slot is
      itself unfinished; a pending write keeps the stored step-level fields;
    * a slot listed in the writer's ``__mastra_foreach_completed_indexes__`` is taken from the writer;
      a slot the store already lists as completed is kept; otherwise a non-null value is taken;
    * completed indexes are accumulated (sorted) on the stored result.
    """
    if not isinstance(result, dict):
        return result
    tagged = result.get(FOREACH_KEY) is True
    to_store = {k: v for k, v in result.items() if k != FOREACH_KEY} if tagged else result
    old_out = existing.get("output") if isinstance(existing, dict) else None
    new_out = result.get("output")
    if not (tagged and isinstance(existing, dict) and isinstance(old_out, list) and isinstance(new_out, list)):
        return to_store
    any_pending = any(_pending(v) for v in new_out)
    if not (any_pending or any(_unfinished(v) for v in old_out) or any(_unfinished(v) for v in new_out)):
        return to_store
    incoming_done = _completed_indexes(result)
    stored_done = _completed_indexes(existing)
    merged = list(old_out)
    for index, value in enumerate(new_out):
        beyond = index >= len(old_out)
        if beyond:
            merged.append(None)
        if _pending(value):
            if beyond or _unfinished(old_out[index]):
                merged[index] = None
        elif any_pending:
            continue
        elif index in incoming_done or (index not in stored_done and value is not None):
            merged[index] = value
    out: dict[str, Any] = dict(existing)
    if not any_pending:
        out.update(to_store)
        done = stored_done | incoming_done
        if done:
            out[COMPLETED_KEY] = sorted(done)
    out["output"] = merged
    return out


__all__ = ["merge_step_result", "pending_snapshot"]
