"""Spec 6.6 Resources: save/get round-trips, updateResource merge and create-on-missing semantics."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest

from mastra_dynamo.domains import MemoryStorage
from mastra_dynamo.records.memory import Resource

from .data import CYRILLIC_ID, LOOKALIKE_ID, at, new_id


def resource_data(
    *,
    id: str | None = None,
    working_memory: str | None = "# Working memory\n- likes tea",
    metadata: dict[str, Any] | None = None,
    created_at: datetime | None = None,
) -> dict[str, Any]:
    created = created_at or at()
    return {
        "id": id if id is not None else new_id("resource"),
        "working_memory": working_memory,
        "metadata": metadata if metadata is not None else {"plan": "pro"},
        "created_at": created,
        "updated_at": created,
    }


def _get(memory: MemoryStorage, resource_id: str) -> Resource:
    resource = memory.get_resource_by_id(resource_id=resource_id)
    assert resource is not None
    return resource


def test_create_and_retrieve(memory: MemoryStorage) -> None:
    data = resource_data()
    saved = memory.save_resource(resource=data)
    assert saved == Resource.model_validate(data)
    assert _get(memory, data["id"]) == saved


def test_specific_id_and_created_at(memory: MemoryStorage) -> None:
    created = datetime(2023, 1, 1, tzinfo=UTC)
    data = resource_data(id="1346362547862769664", created_at=created)
    memory.save_resource(resource=data)
    fetched = _get(memory, "1346362547862769664")
    assert fetched.id == "1346362547862769664"
    assert fetched.created_at.isoformat() == created.isoformat()
    assert fetched.working_memory == data["working_memory"]


def test_unknown_resource_is_none(memory: MemoryStorage) -> None:
    assert memory.get_resource_by_id(resource_id="no-such-resource") is None


def test_update_working_memory_and_metadata(memory: MemoryStorage) -> None:
    data = resource_data(metadata={"plan": "pro", "lang": "en"})
    memory.save_resource(resource=data)
    updated = memory.update_resource(resource_id=data["id"], working_memory="new memory",
                                     metadata={"lang": "fr", "tz": "CET"})
    expected_meta = {"plan": "pro", "lang": "fr", "tz": "CET"}
    assert (updated.working_memory, updated.metadata) == ("new memory", expected_meta)
    fetched = _get(memory, data["id"])
    assert (fetched.working_memory, fetched.metadata) == ("new memory", expected_meta)
    assert fetched.created_at == data["created_at"]


def test_update_only_working_memory(memory: MemoryStorage) -> None:
    data = resource_data(metadata={"plan": "pro"})
    memory.save_resource(resource=data)
    memory.update_resource(resource_id=data["id"], working_memory="only memory")
    fetched = _get(memory, data["id"])
    assert (fetched.working_memory, fetched.metadata) == ("only memory", {"plan": "pro"})


def test_update_only_metadata(memory: MemoryStorage) -> None:
    data = resource_data(metadata={"plan": "pro"})
    memory.save_resource(resource=data)
    updated = memory.update_resource(resource_id=data["id"], metadata={"seats": 3})
    assert (updated.working_memory, updated.metadata) == (data["working_memory"], {"plan": "pro", "seats": 3})
    assert _get(memory, data["id"]) == updated


def test_update_creates_missing_resource(memory: MemoryStorage) -> None:
    created = memory.update_resource(resource_id="fresh", working_memory="hello", metadata={"new": True})
    assert (created.id, created.working_memory, created.metadata) == ("fresh", "hello", {"new": True})
    fetched = _get(memory, "fresh")
    assert (fetched.working_memory, fetched.metadata) == ("hello", {"new": True})


def test_update_creates_with_empty_metadata_by_default(memory: MemoryStorage) -> None:
    created = memory.update_resource(resource_id="fresh-bare", working_memory="wm")
    assert created.metadata == {}
    assert _get(memory, "fresh-bare").metadata == {}


@pytest.mark.parametrize("field", ["working_memory", "metadata"])
def test_empty_none_and_missing_stay_distinct(memory: MemoryStorage, field: str) -> None:
    empty: Any = "" if field == "working_memory" else {}
    memory.save_resource(resource=resource_data(id="r-empty") | {field: empty})
    memory.save_resource(resource=resource_data(id="r-none") | {field: None})
    memory.save_resource(resource={k: v for k, v in resource_data(id="r-missing").items() if k != field})
    assert getattr(_get(memory, "r-empty"), field) == empty
    assert getattr(_get(memory, "r-empty"), field) is not None
    none = _get(memory, "r-none")
    assert getattr(none, field) is None and field in none.model_fields_set
    missing = _get(memory, "r-missing")
    assert not getattr(missing, field) and field not in missing.model_fields_set


def test_deeply_nested_metadata(memory: MemoryStorage) -> None:
    metadata = {"a": {"b": {"c": [1, 2, {"d": None, "e": False, "f": [True, "x", 1.25]}]}}, "g": [], "h": ""}
    data = resource_data(metadata=metadata)
    memory.save_resource(resource=data)
    assert _get(memory, data["id"]).metadata == metadata


def test_large_working_memory(memory: MemoryStorage) -> None:
    text = ("Line of working memory with ünïcode ✓\n" * 300)[:10_240]
    data = resource_data(working_memory=text)
    memory.save_resource(resource=data)
    assert _get(memory, data["id"]).working_memory == text


def test_update_bumps_updated_at(memory: MemoryStorage) -> None:
    data = resource_data()
    memory.save_resource(resource=data)
    updated = memory.update_resource(resource_id=data["id"], working_memory="later")
    assert updated.updated_at > data["updated_at"]
    again = memory.update_resource(resource_id=data["id"], metadata={"x": 1})
    assert again.updated_at > updated.updated_at
    assert _get(memory, data["id"]).updated_at == again.updated_at


def test_concurrent_updates_resolve(memory: MemoryStorage) -> None:
    data = resource_data()
    memory.save_resource(resource=data)

    def update(i: int) -> Resource:
        return memory.update_resource(resource_id=data["id"], working_memory=f"memory {i}", metadata={f"k{i}": i})

    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(update, range(3)))
    assert [r.id for r in results] == [data["id"]] * 3
    assert _get(memory, data["id"]).working_memory in {f"memory {i}" for i in range(3)}


def test_save_resource_upserts(memory: MemoryStorage) -> None:
    data = resource_data(metadata={"v": 1})
    memory.save_resource(resource=data)
    replacement = data | {"working_memory": "replaced", "metadata": {"v": 2}, "updated_at": at(days=1)}
    memory.save_resource(resource=replacement)
    assert _get(memory, data["id"]) == Resource.model_validate(replacement)


def test_special_resource_ids_do_not_collide(memory: MemoryStorage) -> None:
    special = ["r#1", "r%231", "r~1", "r%7E1", "R#1", CYRILLIC_ID, LOOKALIKE_ID, "r" * 1000, "r" * 999 + "s"]
    for i, resource_id in enumerate(special):
        memory.save_resource(resource=resource_data(id=resource_id, working_memory=f"wm {i}"))
    for i, resource_id in enumerate(special):
        fetched = _get(memory, resource_id)
        assert (fetched.id, fetched.working_memory) == (resource_id, f"wm {i}")
