"""Spec 6.5 deleteMessages, plus the deleteThread cascade (3.1)."""

from __future__ import annotations

from mastra_dynamo.domains import MemoryStorage

from .data import all_messages, at, ids, message_data, save_thread, seed_messages, thread_updated_at


def test_delete_some_messages(memory: MemoryStorage) -> None:
    thread = save_thread(memory)
    msgs = seed_messages(memory, thread.id, 5)
    memory.delete_messages([msgs[1]["id"], msgs[2]["id"], msgs[4]["id"]])
    assert ids(all_messages(memory, thread.id)) == [msgs[0]["id"], msgs[3]["id"]]


def test_delete_accepts_keyword_argument(memory: MemoryStorage) -> None:
    thread = save_thread(memory)
    msgs = seed_messages(memory, thread.id, 2)
    memory.delete_messages(message_ids=[msgs[0]["id"]])
    assert ids(all_messages(memory, thread.id)) == [msgs[1]["id"]]


def test_delete_empty_list_and_unknown_ids(memory: MemoryStorage) -> None:
    thread = save_thread(memory)
    msgs = seed_messages(memory, thread.id, 2)
    memory.delete_messages([])
    memory.delete_messages(["no-such-1", "no-such-2"])
    assert ids(all_messages(memory, thread.id)) == ids(msgs)


def test_delete_bumps_thread_updated_at(memory: MemoryStorage) -> None:
    thread = save_thread(memory)
    msgs = seed_messages(memory, thread.id, 2)
    before = thread_updated_at(memory, thread.id)
    memory.delete_messages([msgs[0]["id"]])
    assert thread_updated_at(memory, thread.id) > before


def test_delete_across_threads(memory: MemoryStorage) -> None:
    t1, t2 = save_thread(memory), save_thread(memory)
    m1 = seed_messages(memory, t1.id, 2, label="T1")
    m2 = seed_messages(memory, t2.id, 2, label="T2")
    before = {t1.id: thread_updated_at(memory, t1.id), t2.id: thread_updated_at(memory, t2.id)}
    memory.delete_messages([m1[0]["id"], m2[1]["id"]])
    assert ids(all_messages(memory, t1.id)) == [m1[1]["id"]]
    assert ids(all_messages(memory, t2.id)) == [m2[0]["id"]]
    for thread_id, previous in before.items():
        assert thread_updated_at(memory, thread_id) > previous


def test_delete_newest_half_of_a_large_thread(memory: MemoryStorage) -> None:
    thread = save_thread(memory)
    msgs = seed_messages(memory, thread.id, 100)
    memory.delete_messages(ids(msgs[50:]))
    remaining = all_messages(memory, thread.id)
    assert ids(remaining) == ids(msgs[:50])
    assert memory.list_messages(thread_id=thread.id).total == 50
    assert memory.list_messages_by_id(message_ids=ids(msgs[50:])).messages == []


def test_delete_mixed_valid_and_unknown_ids(memory: MemoryStorage) -> None:
    thread = save_thread(memory)
    msgs = seed_messages(memory, thread.id, 3)
    memory.delete_messages([msgs[0]["id"], "unknown-a", msgs[2]["id"], "unknown-b"])
    assert ids(all_messages(memory, thread.id)) == [msgs[1]["id"]]


def test_deleted_message_id_can_be_reused(memory: MemoryStorage) -> None:
    thread = save_thread(memory)
    [msg] = seed_messages(memory, thread.id, 1)
    memory.delete_messages([msg["id"]])
    memory.save_messages(messages=[message_data(thread.id, "reborn", id=msg["id"], created_at=at(seconds=30))])
    [again] = all_messages(memory, thread.id)
    assert (again.id, again.content["content"], again.created_at) == (msg["id"], "reborn", at(seconds=30))


# ----------------------------------------------------------------------------------------------- deleteThread cascade
def test_delete_thread_cascades_to_its_messages_only(memory: MemoryStorage) -> None:
    doomed, kept = save_thread(memory, resource_id="cascade"), save_thread(memory, resource_id="cascade")
    doomed_msgs = seed_messages(memory, doomed.id, 30, label="doomed")
    kept_msgs = seed_messages(memory, kept.id, 3, label="kept")
    memory.delete_thread(thread_id=doomed.id)
    assert memory.get_thread_by_id(thread_id=doomed.id) is None
    page = memory.list_messages(thread_id=doomed.id)
    assert (page.messages, page.total) == ([], 0)
    assert memory.list_messages_by_id(message_ids=ids(doomed_msgs)).messages == []
    assert ids(all_messages(memory, kept.id)) == ids(kept_msgs)
    assert [t.id for t in memory.list_threads(filter={"resource_id": "cascade"}).threads] == [kept.id]
    assert [t.id for t in memory.list_threads().threads] == [kept.id]


def test_recreated_thread_starts_empty(memory: MemoryStorage) -> None:
    thread = save_thread(memory)
    seed_messages(memory, thread.id, 4)
    memory.delete_thread(thread_id=thread.id)
    again = save_thread(memory, id=thread.id)
    assert memory.get_thread_by_id(thread_id=thread.id) == again
    assert all_messages(memory, thread.id) == []


def test_delete_missing_thread_is_a_no_op(memory: MemoryStorage) -> None:
    other = save_thread(memory)
    memory.delete_thread(thread_id="never-existed")
    assert memory.get_thread_by_id(thread_id=other.id) == other
