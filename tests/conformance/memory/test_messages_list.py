"""Spec 6.2 listMessages: pagination, filters, include windows, ordering, perPage/page parameters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from mastra_dynamo.domains import MemoryStorage
from mastra_dynamo.errors import ValidationError

from .data import (
    OTHER_RESOURCE,
    RESOURCE,
    assert_v2,
    at,
    ids,
    message_data,
    save_thread,
    seed_messages,
    texts,
)

FIVE = [f"Message {i}" for i in range(1, 6)]


@dataclass
class TwoThreads:
    a: str
    b: str
    a_msgs: list[dict[str, Any]]
    b_msgs: list[dict[str, Any]]


@pytest.fixture
def two(memory: MemoryStorage) -> TwoThreads:
    """Thread A with Message 1..5 at t+1s..t+5s; thread B with one message at t+6s."""
    a = save_thread(memory, title="Thread A")
    b = save_thread(memory, title="Thread B")
    a_msgs = seed_messages(memory, a.id, 5, start=at(seconds=1))
    b_msgs = seed_messages(memory, b.id, 1, start=at(seconds=6), label="B message")
    return TwoThreads(a.id, b.id, a_msgs, b_msgs)


def _include(message: dict[str, Any], prev: int = 0, nxt: int = 0, **extra: Any) -> dict[str, Any]:
    return {"id": message["id"], "with_previous_messages": prev, "with_next_messages": nxt, **extra}


def test_list_all_messages_of_a_thread(memory: MemoryStorage, two: TwoThreads) -> None:
    page = memory.list_messages(thread_id=two.a)
    assert texts(page.messages) == FIVE
    assert (page.total, page.page, page.per_page, page.has_more) == (5, 0, 40, False)
    for message in page.messages:
        assert_v2(message)
        assert message.thread_id == two.a and message.resource_id == RESOURCE


def test_token_estimates_survive_round_trip(memory: MemoryStorage) -> None:
    thread = save_thread(memory)
    content = {
        "format": 2,
        "content": "estimated",
        "parts": [{"type": "text", "text": "estimated",
                   "providerMetadata": {"mastra": {"tokenEstimate": {"v": 1, "tokens": 42}}}}],
    }
    memory.save_messages(messages=[message_data(thread.id, content=content)])
    [message] = memory.list_messages(thread_id=thread.id).messages
    assert message.content == content
    assert message.content["parts"][0]["providerMetadata"]["mastra"]["tokenEstimate"]["tokens"] == 42


@pytest.mark.parametrize(
    ("page_no", "expected", "has_more"),
    [(0, FIVE[0:2], True), (1, FIVE[2:4], True), (2, FIVE[4:], False)],
)
def test_pagination(
    memory: MemoryStorage, two: TwoThreads, page_no: int, expected: list[str], has_more: bool
) -> None:
    page = memory.list_messages(thread_id=two.a, per_page=2, page=page_no)
    assert texts(page.messages) == expected
    assert (page.total, page.page, page.per_page, page.has_more) == (5, page_no, 2, has_more)


def test_filter_by_resource_id(memory: MemoryStorage, two: TwoThreads) -> None:
    memory.save_messages(messages=[message_data(two.a, "foreign", resource_id=OTHER_RESOURCE,
                                                created_at=at(seconds=3, ms=500))])
    page = memory.list_messages(thread_id=two.a, resource_id=RESOURCE)
    assert page.total == 5 and texts(page.messages) == FIVE
    assert all(m.resource_id == RESOURCE for m in page.messages)
    assert memory.list_messages(thread_id=two.a).total == 6


def test_filter_by_date_range_start(memory: MemoryStorage) -> None:
    thread = save_thread(memory)
    seed_messages(memory, thread.id, 3, start=at(days=-2), step=timedelta(days=1))
    page = memory.list_messages(thread_id=thread.id, filter={"date_range": {"start": at(days=-1)}})
    assert page.total == 2 and texts(page.messages) == ["Message 2", "Message 3"]
    assert all(m.created_at >= at(days=-1) for m in page.messages)


@pytest.mark.parametrize(("prev", "nxt"), [(2, 0), (0, 2), (2, 2)])
def test_include_windows_do_not_duplicate(memory: MemoryStorage, two: TwoThreads, prev: int, nxt: int) -> None:
    page = memory.list_messages(thread_id=two.a, include=[_include(two.a_msgs[2], prev, nxt)])
    assert texts(page.messages) == FIVE
    assert len(set(ids(page.messages))) == 5


def test_include_from_another_thread(memory: MemoryStorage, two: TwoThreads) -> None:
    page = memory.list_messages(thread_id=two.a, include=[_include(two.b_msgs[0], thread_id=two.b)])
    assert len(page.messages) == 6
    assert [m.thread_id for m in page.messages].count(two.a) == 5
    assert texts(page.messages) == [*FIVE, "B message 1"]
    assert page.total == 5


def test_overlapping_include_windows_are_deduplicated(memory: MemoryStorage, two: TwoThreads) -> None:
    include = [_include(two.a_msgs[1], 1, 2), _include(two.a_msgs[2], 2, 1), _include(two.a_msgs[3], 3, 1)]
    page = memory.list_messages(thread_id=two.a, include=include)
    assert ids(page.messages) == ids(two.a_msgs)


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [(None, FIVE), ({"field": "createdAt", "direction": "ASC"}, FIVE),
     ({"field": "createdAt", "direction": "DESC"}, FIVE[::-1])],
    ids=["default-asc", "asc", "desc"],
)
def test_ordering(
    memory: MemoryStorage, two: TwoThreads, order_by: dict[str, str] | None, expected: list[str]
) -> None:
    assert texts(memory.list_messages(thread_id=two.a, order_by=order_by).messages) == expected


def test_empty_thread(memory: MemoryStorage) -> None:
    thread = save_thread(memory)
    page = memory.list_messages(thread_id=thread.id)
    assert (page.messages, page.total, page.has_more) == ([], 0, False)


def test_include_of_unknown_id_is_ignored(memory: MemoryStorage, two: TwoThreads) -> None:
    page = memory.list_messages(thread_id=two.a, include=[{"id": "no-such-message", "with_previous_messages": 2}])
    assert texts(page.messages) == FIVE


@pytest.mark.parametrize("bad", ["", "   "])
def test_blank_thread_id_is_rejected(memory: MemoryStorage, bad: str) -> None:
    with pytest.raises(ValidationError) as info:
        memory.list_messages(thread_id=bad)
    assert info.value.code


def test_include_completing_the_page(memory: MemoryStorage, two: TwoThreads) -> None:
    page = memory.list_messages(thread_id=two.a, per_page=3, order_by={"field": "createdAt", "direction": "ASC"},
                                include=[_include(two.a_msgs[0], 0, 10)])
    assert texts(page.messages) == FIVE
    assert (page.total, page.has_more) == (5, False)


def test_has_more_when_include_leaves_a_gap(memory: MemoryStorage, two: TwoThreads) -> None:
    page = memory.list_messages(thread_id=two.a, per_page=2, include=[_include(two.a_msgs[3], 0, 1)])
    assert texts(page.messages) == ["Message 1", "Message 2", "Message 4", "Message 5"]
    assert (page.total, page.has_more) == (5, True)


def test_several_thread_ids(memory: MemoryStorage, two: TwoThreads) -> None:
    page = memory.list_messages(thread_id=[two.a, two.b], order_by={"field": "createdAt", "direction": "DESC"})
    assert texts(page.messages) == ["B message 1", *FIVE[::-1]]
    assert page.total == 6


def test_pagination_with_date_range(memory: MemoryStorage) -> None:
    thread = save_thread(memory)
    msgs = seed_messages(memory, thread.id, 10, start=at(minutes=1), step=timedelta(minutes=1))
    cutoff = msgs[5]["created_at"]
    page = memory.list_messages(thread_id=thread.id, per_page=3, filter={"date_range": {"start": cutoff}})
    assert texts(page.messages) == ["Message 6", "Message 7", "Message 8"]
    assert (page.total, page.has_more) == (5, True)
    assert all(m.created_at >= cutoff for m in page.messages)


# ----------------------------------------------------------------------------------------------- perPage and page
def test_per_page_three(memory: MemoryStorage, two: TwoThreads) -> None:
    page = memory.list_messages(thread_id=two.a, per_page=3)
    assert (len(page.messages), page.total, page.page, page.per_page, page.has_more) == (3, 5, 0, 3, True)


def test_per_page_false_returns_everything(memory: MemoryStorage) -> None:
    thread = save_thread(memory)
    seed_messages(memory, thread.id, 55)
    page = memory.list_messages(thread_id=thread.id, per_page=False)
    assert texts(page.messages) == [f"Message {i}" for i in range(1, 56)]
    assert (page.total, page.has_more) == (55, False)
    assert page.per_page is False


def test_per_page_with_include_previous(memory: MemoryStorage, two: TwoThreads) -> None:
    page = memory.list_messages(thread_id=two.a, per_page=2, order_by={"field": "createdAt", "direction": "ASC"},
                                include=[_include(two.a_msgs[2], 1, 0)])
    assert texts(page.messages) == ["Message 1", "Message 2", "Message 3"]


def test_per_page_with_date_range(memory: MemoryStorage) -> None:
    thread = save_thread(memory)
    msgs = seed_messages(memory, thread.id, 8)
    page = memory.list_messages(thread_id=thread.id, per_page=3,
                                filter={"date_range": {"start": msgs[2]["created_at"]}})
    assert texts(page.messages) == ["Message 3", "Message 4", "Message 5"]
    assert (page.total, page.has_more) == (6, True)


def test_per_page_with_resource_filter(memory: MemoryStorage) -> None:
    thread = save_thread(memory)
    memory.save_messages(messages=[
        message_data(thread.id, f"m{i}", resource_id=RESOURCE if i % 2 else OTHER_RESOURCE,
                     created_at=at(seconds=i))
        for i in range(8)
    ])
    page = memory.list_messages(thread_id=thread.id, resource_id=OTHER_RESOURCE, per_page=2)
    assert texts(page.messages) == ["m0", "m2"]
    assert (page.total, page.has_more) == (4, True)
    assert all(m.resource_id == OTHER_RESOURCE for m in page.messages)


def test_per_page_zero(memory: MemoryStorage, two: TwoThreads) -> None:
    page = memory.list_messages(thread_id=two.a, per_page=0)
    assert (page.messages, page.total, page.per_page, page.has_more) == ([], 0, 0, False)


def test_negative_per_page_is_rejected(memory: MemoryStorage, two: TwoThreads) -> None:
    with pytest.raises(ValidationError) as info:
        memory.list_messages(thread_id=two.a, per_page=-5)
    assert info.value.code


def test_per_page_zero_with_include(memory: MemoryStorage, two: TwoThreads) -> None:
    page = memory.list_messages(thread_id=two.a, per_page=0, include=[_include(two.a_msgs[2], 1, 1)])
    assert texts(page.messages) == ["Message 2", "Message 3", "Message 4"]
    assert (page.total, page.per_page, page.has_more) == (0, 0, False)


def test_per_page_zero_with_includes_from_two_threads(memory: MemoryStorage, two: TwoThreads) -> None:
    include = [_include(two.a_msgs[0]), _include(two.b_msgs[0], thread_id=two.b)]
    page = memory.list_messages(thread_id=two.a, per_page=0, include=include)
    assert texts(page.messages) == ["Message 1", "B message 1"]
    assert (page.total, page.has_more) == (0, False)


def test_per_page_zero_with_empty_include(memory: MemoryStorage, two: TwoThreads) -> None:
    page = memory.list_messages(thread_id=two.a, per_page=0, include=[])
    assert (page.messages, page.total, page.has_more) == ([], 0, False)


def test_per_page_zero_with_overlapping_windows(memory: MemoryStorage, two: TwoThreads) -> None:
    include = [_include(two.a_msgs[1], 0, 1), _include(two.a_msgs[2], 1, 0)]
    page = memory.list_messages(thread_id=two.a, per_page=0, include=include)
    assert texts(page.messages) == ["Message 2", "Message 3"]


def test_per_page_zero_descending_include(memory: MemoryStorage, two: TwoThreads) -> None:
    page = memory.list_messages(thread_id=two.a, per_page=0, order_by={"field": "createdAt", "direction": "DESC"},
                                include=[_include(two.a_msgs[2], 1, 1)])
    assert texts(page.messages) == ["Message 4", "Message 3", "Message 2"]


# ----------------------------------------------------------------------------------------------- volume and batches
def test_high_volume_include_windows(memory: MemoryStorage) -> None:
    thread = save_thread(memory)
    msgs = seed_messages(memory, thread.id, 200)
    targets = [3, 50, 51, 120, 198]
    expected = sorted({i for t in targets for i in range(max(0, t - 2), min(200, t + 3))})
    page = memory.list_messages(thread_id=thread.id, per_page=0,
                                include=[_include(msgs[t], 2, 2) for t in targets])
    assert ids(page.messages) == [msgs[i]["id"] for i in expected]
    assert (page.total, page.has_more) == (0, False)


def test_include_of_messages_saved_in_an_earlier_batch(memory: MemoryStorage) -> None:
    thread = save_thread(memory)
    first = seed_messages(memory, thread.id, 2, start=at(seconds=1))
    seed_messages(memory, thread.id, 2, start=at(seconds=3), first=3)
    page = memory.list_messages(thread_id=thread.id, per_page=1, page=3, include=[_include(first[0], 0, 1)])
    assert texts(page.messages) == ["Message 1", "Message 2", "Message 4"]


def test_cross_thread_include_is_interleaved_chronologically(memory: MemoryStorage) -> None:
    a = save_thread(memory)
    b = save_thread(memory)
    memory.save_messages(messages=[message_data(a.id, "A1", created_at=at(seconds=1)),
                                   message_data(a.id, "A3", created_at=at(seconds=3))])
    [b2] = [message_data(b.id, "B2", created_at=at(seconds=2))]
    memory.save_messages(messages=[b2])
    page = memory.list_messages(thread_id=a.id, include=[_include(b2, thread_id=b.id)])
    assert texts(page.messages) == ["A1", "B2", "A3"]
