"""Spec 6.7 include windows honour the resource scope of listMessages (tenant isolation)."""

from __future__ import annotations

from typing import Any

import pytest

from mastra_dynamo.domains import MemoryStorage

from .data import at, message_data, save_thread, texts

RES_A = "scope-resource-a"
RES_B = "scope-resource-b"


@pytest.fixture
def scoped(memory: MemoryStorage) -> dict[str, str]:
    """Resource A owns A1 (a1, a2, a3 at minutes 0-2) and A2 (a4 at 3); resource B owns B1 (b1 at 4)."""
    save_thread(memory, id="A1", resource_id=RES_A)
    save_thread(memory, id="A2", resource_id=RES_A)
    save_thread(memory, id="B1", resource_id=RES_B)
    layout = [("a1", "A1", RES_A), ("a2", "A1", RES_A), ("a3", "A1", RES_A), ("a4", "A2", RES_A),
              ("b1", "B1", RES_B)]
    memory.save_messages(messages=[
        message_data(thread, name, id=f"msg-{name}", resource_id=resource, created_at=at(minutes=i))
        for i, (name, thread, resource) in enumerate(layout)
    ])
    return {name: f"msg-{name}" for name, _, _ in layout}


def _window(message_id: str, around: int, **extra: Any) -> list[dict[str, Any]]:
    return [{"id": message_id, "with_previous_messages": around, "with_next_messages": around, **extra}]


def test_other_resources_window_is_dropped(memory: MemoryStorage, scoped: dict[str, str]) -> None:
    page = memory.list_messages(thread_id="B1", resource_id=RES_B, include=_window(scoped["a2"], 2))
    assert texts(page.messages) == ["b1"]
    assert (page.total, page.has_more) == (1, False)


def test_same_resource_cross_thread_include_is_kept(memory: MemoryStorage, scoped: dict[str, str]) -> None:
    page = memory.list_messages(thread_id="A2", resource_id=RES_A, include=_window(scoped["a2"], 1))
    assert texts(page.messages) == ["a1", "a2", "a3", "a4"]


def test_other_resources_window_is_dropped_with_per_page_zero(
    memory: MemoryStorage, scoped: dict[str, str]
) -> None:
    page = memory.list_messages(thread_id="B1", resource_id=RES_B, per_page=0, include=_window(scoped["a2"], 2))
    assert (page.messages, page.total, page.has_more) == ([], 0, False)


def test_without_resource_id_any_window_is_included(memory: MemoryStorage, scoped: dict[str, str]) -> None:
    page = memory.list_messages(thread_id="B1", include=_window(scoped["a2"], 1))
    assert texts(page.messages) == ["a1", "a2", "a3", "b1"]


@pytest.mark.parametrize("hint", ["A2", "B1", "no-such-thread"])
def test_wrong_thread_hint_uses_the_targets_thread(
    memory: MemoryStorage, scoped: dict[str, str], hint: str
) -> None:
    page = memory.list_messages(thread_id="A2", resource_id=RES_A, include=_window(scoped["a2"], 1, thread_id=hint))
    assert texts(page.messages) == ["a1", "a2", "a3", "a4"]


def test_cross_resource_target_in_own_thread_list(memory: MemoryStorage, scoped: dict[str, str]) -> None:
    page = memory.list_messages(thread_id="A1", resource_id=RES_A,
                                include=_window(scoped["b1"], 3) + _window(scoped["a4"], 0))
    assert texts(page.messages) == ["a1", "a2", "a3", "a4"]
