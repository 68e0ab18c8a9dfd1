"""Spec 6.3 listMessages pagination & persistence, and listMessagesById."""

from __future__ import annotations

import base64
import os
from datetime import timedelta
from typing import Any

import pytest

from mastra_dynamo.domains import MemoryStorage
from mastra_dynamo.errors import ItemTooLargeError, ValidationError

from .data import (
    OTHER_RESOURCE,
    RESOURCE,
    all_messages,
    as_messages,
    assert_v2,
    at,
    ids,
    message_data,
    save_thread,
    seed_messages,
    text_content,
    texts,
    thread_updated_at,
)

DESC = {"field": "createdAt", "direction": "DESC"}


def test_paginated_messages_with_total(memory: MemoryStorage) -> None:
    thread = save_thread(memory)
    for i in range(15):  # one save call per message, like a live conversation
        memory.save_messages(messages=[message_data(thread.id, f"Message {i + 1}", created_at=at(seconds=i))])
    expected = [(0, True), (1, True), (2, False)]
    for page_no, has_more in expected:
        page = memory.list_messages(thread_id=thread.id, page=page_no, per_page=5)
        assert texts(page.messages) == [f"Message {i}" for i in range(page_no * 5 + 1, page_no * 5 + 6)]
        assert (page.total, page.page, page.per_page, page.has_more) == (15, page_no, 5, has_more)


def test_date_filter_with_pagination(memory: MemoryStorage) -> None:
    thread = save_thread(memory)
    memory.save_messages(messages=[
        message_data(thread.id, f"{day}/{n}", created_at=at(days=day, seconds=n))
        for day in (-2, -1, 0) for n in (0, 1)
    ])
    page = memory.list_messages(thread_id=thread.id, per_page=3, filter={"date_range": {"start": at(days=-1)}})
    assert page.total == 4 and page.has_more is True
    assert texts(page.messages) == ["-1/0", "-1/1", "0/0"]
    assert all(m.created_at >= at(days=-1) for m in page.messages)


def test_save_and_retrieve_round_trip(memory: MemoryStorage) -> None:
    thread = save_thread(memory)
    inputs = [message_data(thread.id, "first", created_at=at(us=1)),
              message_data(thread.id, "second", role="assistant", created_at=at(seconds=1, us=999_999))]
    saved = memory.save_messages(messages=inputs)
    assert saved.messages == as_messages(inputs)
    assert memory.list_messages(thread_id=thread.id).messages == as_messages(inputs)


def test_save_empty_list(memory: MemoryStorage) -> None:
    assert memory.save_messages(messages=[]).messages == []


def test_message_order_follows_created_at(memory: MemoryStorage) -> None:
    thread = save_thread(memory)
    memory.save_messages(messages=[message_data(thread.id, "Third", created_at=at(ms=3)),
                                   message_data(thread.id, "First", created_at=at(ms=1)),
                                   message_data(thread.id, "Second", created_at=at(ms=2))])
    assert texts(all_messages(memory, thread.id)) == ["First", "Second", "Third"]


def test_identical_timestamps_are_ordered_by_id(memory: MemoryStorage) -> None:
    thread = save_thread(memory)
    memory.save_messages(messages=[message_data(thread.id, i, id=i, created_at=at()) for i in ("m-b", "m-c", "m-a")])
    assert ids(all_messages(memory, thread.id)) == ["m-a", "m-b", "m-c"]
    paged = [m.id for p in range(3) for m in memory.list_messages(thread_id=thread.id, per_page=1, page=p).messages]
    assert paged == ["m-a", "m-b", "m-c"]


@pytest.mark.parametrize("bad", [{"resource_id": None}, {"role": "not-a-role"}], ids=["null-resource", "bad-role"])
def test_rejected_batch_persists_nothing(memory: MemoryStorage, bad: dict[str, Any]) -> None:
    thread = save_thread(memory)
    good = message_data(thread.id, "good")
    with pytest.raises(ValidationError) as info:
        memory.save_messages(messages=[good, message_data(thread.id, "bad") | bad])
    assert info.value.code
    assert all_messages(memory, thread.id) == []
    assert memory.list_messages_by_id(message_ids=[good["id"]]).messages == []


def test_failure_mid_batch_rolls_back(memory: MemoryStorage) -> None:
    thread = save_thread(memory)
    huge = base64.b64encode(os.urandom(17_500_000)).decode()  # ~23 MB, incompressible: over the message limit
    first = message_data(thread.id, "first", created_at=at(seconds=1))
    too_big = message_data(thread.id, huge, created_at=at(seconds=2))
    with pytest.raises(ItemTooLargeError):
        memory.save_messages(messages=[first, too_big])
    assert all_messages(memory, thread.id) == []
    assert memory.list_messages_by_id(message_ids=[first["id"], too_big["id"]]).messages == []


@pytest.fixture
def three_threads(memory: MemoryStorage) -> dict[str, Any]:
    t1, t2, t3 = (save_thread(memory).id for _ in range(3))
    names = ["First", "Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh", "Eighth"]
    owners = [t1] * 3 + [t2] * 3 + [t3] * 2
    msgs = [
        message_data(tid, name, created_at=at(ms=i + 1), resource_id=OTHER_RESOURCE if tid == t3 else RESOURCE)
        for i, (tid, name) in enumerate(zip(owners, names, strict=True))
    ]
    memory.save_messages(messages=msgs)
    return {"t1": t1, "t2": t2, "t3": t3, "msgs": msgs}


def test_per_thread_retrieval_and_cross_thread_include(memory: MemoryStorage, three_threads: dict[str, Any]) -> None:
    t1, t2, t3, msgs = (three_threads[k] for k in ("t1", "t2", "t3", "msgs"))
    assert texts(all_messages(memory, t1)) == ["First", "Second", "Third"]
    assert texts(all_messages(memory, t2)) == ["Fourth", "Fifth", "Sixth"]
    assert texts(all_messages(memory, t3)) == ["Seventh", "Eighth"]

    def window(target: dict[str, Any], thread: str, prev: int, nxt: int) -> dict[str, Any]:
        return {"id": target["id"], "thread_id": thread, "with_previous_messages": prev, "with_next_messages": nxt}

    both = memory.list_messages(thread_id=t1, per_page=0, include=[window(msgs[1], t1, 2, 2),
                                                                   window(msgs[4], t2, 2, 2)]).messages
    assert texts(both) == ["First", "Second", "Third", "Fourth", "Fifth", "Sixth"]
    other = memory.list_messages(thread_id=t1, per_page=0, include=[window(msgs[4], t2, 1, 30)]).messages
    assert texts(other) == ["Fourth", "Fifth", "Sixth"]
    reverse = memory.list_messages(thread_id=t2, per_page=0, include=[window(msgs[1], t1, 1, 1)]).messages
    assert texts(reverse) == ["First", "Second", "Third"]


def test_last_page_plus_cross_thread_include(memory: MemoryStorage) -> None:
    a, b = save_thread(memory).id, save_thread(memory).id
    msgs = [message_data(a if i < 3 else b, name, created_at=at(seconds=i)) for i, name in enumerate("ABCDEF")]
    memory.save_messages(messages=msgs)
    page = memory.list_messages(thread_id=a, per_page=2, order_by=DESC, include=[
        {"id": msgs[4]["id"], "thread_id": b, "with_previous_messages": 1, "with_next_messages": 1}])
    assert texts(page.messages) == ["F", "E", "D", "C", "B"]


def test_resave_with_other_thread_moves_the_message(memory: MemoryStorage) -> None:
    t1, t2 = save_thread(memory).id, save_thread(memory).id
    original = message_data(t1, "Thread1 Content")
    memory.save_messages(messages=[original])
    moved = message_data(t2, "Thread2 Content", id=original["id"], created_at=at(seconds=5))
    memory.save_messages(messages=[moved])
    assert all_messages(memory, t1) == []
    assert all_messages(memory, t2) == as_messages([moved])
    assert memory.list_messages_by_id(message_ids=[original["id"]]).messages == as_messages([moved])


def test_saving_messages_bumps_every_thread_touched(memory: MemoryStorage) -> None:
    t1, t2 = save_thread(memory), save_thread(memory)
    memory.save_messages(messages=[message_data(t1.id, "one"), message_data(t2.id, "two")])
    assert thread_updated_at(memory, t1.id) > t1.updated_at
    assert thread_updated_at(memory, t2.id) > t2.updated_at


def test_resave_same_id_and_thread_keeps_one_row(memory: MemoryStorage) -> None:
    thread = save_thread(memory)
    first = message_data(thread.id, "v1", created_at=at(seconds=1))
    memory.save_messages(messages=[first])
    memory.save_messages(messages=[first | {"content": text_content("v2"), "role": "assistant"}])
    later = first | {"content": text_content("v3"), "created_at": at(seconds=9)}
    memory.save_messages(messages=[later])
    page = memory.list_messages(thread_id=thread.id)
    assert page.total == 1
    assert page.messages == as_messages([later])


@pytest.mark.parametrize("bad", ["", "   ", [], [""], ["ok-thread", "  "]])
def test_invalid_thread_id_is_rejected(memory: MemoryStorage, bad: Any) -> None:
    with pytest.raises(ValidationError) as info:
        memory.list_messages(thread_id=bad)
    assert info.value.code


# ----------------------------------------------------------------------------------------------- date ranges
@pytest.fixture
def five(memory: MemoryStorage) -> tuple[str, list[dict[str, Any]]]:
    thread = save_thread(memory)
    return thread.id, seed_messages(memory, thread.id, 5, start=at(minutes=1))


def _range(memory: MemoryStorage, thread_id: str, **date_range: Any) -> list[str]:
    return texts(memory.list_messages(thread_id=thread_id, filter={"date_range": date_range}).messages)


def test_cursor_pagination_with_end_exclusive(memory: MemoryStorage) -> None:
    thread = save_thread(memory)
    msgs = seed_messages(memory, thread.id, 10)
    first = memory.list_messages(thread_id=thread.id, per_page=5, order_by=DESC).messages
    assert texts(first) == [f"Message {i}" for i in (10, 9, 8, 7, 6)]
    seed_messages(memory, thread.id, 2, start=at(minutes=5), first=11)
    drifted = memory.list_messages(thread_id=thread.id, per_page=5, page=1, order_by=DESC).messages
    assert texts(drifted) == [f"Message {i}" for i in (7, 6, 5, 4, 3)]  # offsets drift when rows are added
    cursor = memory.list_messages(thread_id=thread.id, per_page=5, order_by=DESC, filter={
        "date_range": {"end": first[-1].created_at, "end_exclusive": True}}).messages
    assert texts(cursor) == [f"Message {i}" for i in (5, 4, 3, 2, 1)]
    assert first[-1].created_at == msgs[5]["created_at"]


@pytest.mark.parametrize(
    ("start_exclusive", "end_exclusive", "expected"),
    [(False, False, [2, 3, 4]), (True, False, [3, 4]), (False, True, [2, 3]), (True, True, [3])],
)
def test_exclusive_bounds(
    memory: MemoryStorage, five: tuple[str, list[dict[str, Any]]], start_exclusive: bool, end_exclusive: bool,
    expected: list[int],
) -> None:
    thread_id, msgs = five
    got = _range(memory, thread_id, start=msgs[1]["created_at"], end=msgs[3]["created_at"],
                 start_exclusive=start_exclusive, end_exclusive=end_exclusive)
    assert got == [f"Message {i}" for i in expected]


def test_only_end_bound(memory: MemoryStorage, five: tuple[str, list[dict[str, Any]]]) -> None:
    thread_id, msgs = five
    page = memory.list_messages(thread_id=thread_id, filter={"date_range": {"end": msgs[3]["created_at"]}})
    assert texts(page.messages) == [f"Message {i}" for i in (1, 2, 3, 4)] and page.total == 4


def test_iso_strings_accepted_as_bounds(memory: MemoryStorage, five: tuple[str, list[dict[str, Any]]]) -> None:
    thread_id, msgs = five
    iso = [m["created_at"].isoformat().replace("+00:00", "Z") for m in msgs]
    page = memory.list_messages(thread_id=thread_id, filter={"dateRange": {"start": iso[1], "end": iso[3]}})
    assert texts(page.messages) == ["Message 2", "Message 3", "Message 4"]


def test_date_range_without_match(memory: MemoryStorage, five: tuple[str, list[dict[str, Any]]]) -> None:
    thread_id, _ = five
    page = memory.list_messages(thread_id=thread_id, filter={"date_range": {"start": at(days=-9),
                                                                            "end": at(days=-8)}})
    assert (page.messages, page.total, page.has_more) == ([], 0, False)


def test_pagination_inside_a_date_range(memory: MemoryStorage) -> None:
    thread = save_thread(memory)
    msgs = seed_messages(memory, thread.id, 8)
    date_range = {"start": msgs[1]["created_at"], "end": msgs[6]["created_at"]}
    for page_no, has_more in [(0, True), (1, True), (2, False)]:
        page = memory.list_messages(thread_id=thread.id, per_page=2, page=page_no,
                                    filter={"date_range": date_range})
        assert texts(page.messages) == [f"Message {page_no * 2 + i}" for i in (2, 3)]
        assert (page.total, page.has_more) == (6, has_more)


@pytest.mark.parametrize("unit", [timedelta(milliseconds=1), timedelta(microseconds=1)], ids=["ms", "us"])
def test_sub_second_boundaries(memory: MemoryStorage, unit: timedelta) -> None:
    thread = save_thread(memory)
    msgs = seed_messages(memory, thread.id, 5, start=at(us=7), step=unit)
    stored = all_messages(memory, thread.id)
    assert [m.created_at for m in stored] == [m["created_at"] for m in msgs]
    lo, hi = msgs[1]["created_at"], msgs[3]["created_at"]
    assert _range(memory, thread.id, start=lo, end=hi) == ["Message 2", "Message 3", "Message 4"]
    assert _range(memory, thread.id, start=lo, end=hi, start_exclusive=True, end_exclusive=True) == ["Message 3"]


# ----------------------------------------------------------------------------------------------- listMessagesById
@pytest.fixture
def by_id_messages(memory: MemoryStorage) -> list[dict[str, Any]]:
    save_thread(memory, id="thread-1", resource_id="resource-a")
    save_thread(memory, id="thread-2", resource_id="resource-a")
    save_thread(memory, id="thread-3", resource_id="resource-b")
    msgs = [
        message_data(tid, f"{tid}/{n}", resource_id=rid, created_at=at(seconds=s))
        for s, (tid, rid, n) in enumerate([("thread-1", "resource-a", 1), ("thread-2", "resource-a", 1),
                                           ("thread-3", "resource-b", 1), ("thread-1", "resource-a", 2),
                                           ("thread-3", "resource-b", 2), ("thread-2", "resource-a", 2)])
    ]
    memory.save_messages(messages=msgs)
    return msgs


def test_list_by_id_empty(memory: MemoryStorage, by_id_messages: list[dict[str, Any]]) -> None:
    assert memory.list_messages_by_id(message_ids=[]).messages == []


def test_list_by_id_across_threads_and_resources(memory: MemoryStorage, by_id_messages: list[dict[str, Any]]) -> None:
    wanted = [by_id_messages[i]["id"] for i in (4, 0, 5, 2, 1)]
    got = memory.list_messages_by_id(message_ids=[*wanted, "unknown-id"]).messages
    assert sorted(ids(got)) == sorted(wanted)
    assert [m.created_at for m in got] == sorted(m.created_at for m in got)
    assert {m.thread_id for m in got} == {"thread-1", "thread-2", "thread-3"}
    assert {m.resource_id for m in got} == {"resource-a", "resource-b"}
    for message in got:
        assert_v2(message)
    assert got == as_messages(sorted((by_id_messages[i] for i in (4, 0, 5, 2, 1)), key=lambda m: m["created_at"]))
