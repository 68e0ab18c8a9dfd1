"""Spec 3.12.4 memory run fences: monotonic raise, retire only the current fence, raise again after retire."""

from __future__ import annotations

from mastra_dynamo.stores.run_fencing import MemoryFenceOps


def fence(generation: int, owner: str = "a", run: str = "run") -> dict[str, object]:
    return {"runId": run, "generation": generation, "ownerId": owner}


def test_raises_monotonically(fences: MemoryFenceOps) -> None:
    assert fences.raise_run_fence(fence(2))
    assert fences.raise_run_fence(fence(2))
    assert not fences.raise_run_fence(fence(2, "other"))
    assert not fences.raise_run_fence(fence(1))
    assert fences.raise_run_fence(fence(3))


def test_retires_only_the_current_fence(fences: MemoryFenceOps) -> None:
    assert not fences.retire_run_fence(fence(5))  # never raised
    fences.raise_run_fence(fence(5))
    assert not fences.retire_run_fence(fence(5, "other"))
    assert not fences.retire_run_fence(fence(6))
    assert fences.retire_run_fence(fence(5))
    assert fences.retire_run_fence(fence(5))


def test_a_late_retire_from_a_superseded_fence_is_ignored(fences: MemoryFenceOps) -> None:
    fences.raise_run_fence(fence(1, "a"))
    fences.raise_run_fence(fence(2, "b"))
    assert not fences.retire_run_fence(fence(1, "a"))
    assert fences.retire_run_fence(fence(2, "b"))


def test_raise_and_retire_again(fences: MemoryFenceOps) -> None:
    for _ in range(2):
        assert fences.raise_run_fence(fence(1, "a"))
        assert fences.retire_run_fence(fence(1, "a"))
    assert fences.raise_run_fence(fence(2, "b"))
    assert not fences.raise_run_fence(fence(1, "a"))
