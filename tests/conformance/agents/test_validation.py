"""Bad input to the agents domain raises ValidationError (with a code) and writes nothing.

Spec 1.1 (pagination), 1.2 (validation is a USER error), 1.3 (metadata filter keys), 3.5.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from mastra_dynamo import DynamoDBStore
from mastra_dynamo.errors import ValidationError
from mastra_dynamo.stores.agents import DynamoAgentsStore
from tests.conftest import table_item_count

from .data import agent_data, version_data

VALID = "valid-agent"


@pytest.fixture
def seeded(agents: DynamoAgentsStore) -> DynamoAgentsStore:
    """One valid agent with two versions, so "writes nothing" is checked against a non-empty table."""
    agents.create(agent=agent_data(VALID, authorId="u"))
    agents.create_version(version=version_data(VALID, 2))
    return agents


def assert_rejected(store: DynamoDBStore, call: Callable[[], object]) -> ValidationError:
    before = table_item_count(store)
    with pytest.raises(ValidationError) as info:
        call()
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value.code, str) and info.value.code
    assert table_item_count(store) == before
    return info.value


BLANK_ID_CALLS: dict[str, Callable[[DynamoAgentsStore, Any], object]] = {
    "create": lambda a, bad: a.create(agent=agent_data(bad)),
    "get_by_id": lambda a, bad: a.get_by_id(id=bad),
    "get_by_id_resolved": lambda a, bad: a.get_by_id_resolved(id=bad),
    "update": lambda a, bad: a.update(id=bad, status="published"),
    "delete": lambda a, bad: a.delete(id=bad),
    "list_entity_ids": lambda a, bad: a.list(entity_ids=[VALID, bad]),
    "create_version_agent_id": lambda a, bad: a.create_version(version=version_data(VALID, 9, agentId=bad)),
    "get_version": lambda a, bad: a.get_version(id=bad),
    "get_version_by_number": lambda a, bad: a.get_version_by_number(agent_id=bad, version_number=1),
    "get_latest_version": lambda a, bad: a.get_latest_version(agent_id=bad),
    "list_versions": lambda a, bad: a.list_versions(agent_id=bad),
    "delete_version": lambda a, bad: a.delete_version(id=bad),
    "delete_versions_by_parent_id": lambda a, bad: a.delete_versions_by_parent_id(agent_id=bad),
    "count_versions": lambda a, bad: a.count_versions(agent_id=bad),
    "get_versions": lambda a, bad: a.get_versions(ids=[f"{VALID}-v2", bad]),
}


@pytest.mark.parametrize("bad", ["", "   ", None], ids=["empty", "blank", "none"])
def test_blank_ids_are_rejected(clocked_store: DynamoDBStore, seeded: DynamoAgentsStore, bad: Any) -> None:
    for method, call in BLANK_ID_CALLS.items():
        try:
            assert_rejected(clocked_store, lambda call=call: call(seeded, bad))
        except BaseException as exc:  # name the method in the failure
            raise AssertionError(f"{method} with id {bad!r} was not rejected cleanly: {exc}") from exc
    # the existing data is untouched
    assert seeded.count_versions(agent_id=VALID) == 2
    assert seeded.get_by_id(id=VALID) is not None


def test_blank_author_filter_and_version_id_are_rejected(clocked_store: DynamoDBStore,
                                                         seeded: DynamoAgentsStore) -> None:
    for bad in ("", "  \t "):
        assert_rejected(clocked_store, lambda bad=bad: seeded.list(author_id=bad))
        assert_rejected(clocked_store,
                        lambda bad=bad: seeded.create_version(version=version_data(VALID, 9, id=bad)))


def test_bad_version_numbers_are_rejected(clocked_store: DynamoDBStore, seeded: DynamoAgentsStore) -> None:
    for number in (-1, 10**10, "three", None, 1.5):
        version = version_data(VALID, 9, versionNumber=number)
        assert_rejected(clocked_store, lambda v=version: seeded.create_version(version=v))
    assert seeded.count_versions(agent_id=VALID) == 2


def test_version_without_agent_id_is_rejected(clocked_store: DynamoDBStore, seeded: DynamoAgentsStore) -> None:
    assert_rejected(clocked_store, lambda: seeded.create_version(version={"id": "x", "versionNumber": 3}))


def test_non_mapping_inputs_are_rejected(clocked_store: DynamoDBStore, seeded: DynamoAgentsStore) -> None:
    assert_rejected(clocked_store, lambda: seeded.create(agent="not an object"))  # type: ignore[arg-type]
    assert_rejected(clocked_store, lambda: seeded.create_version(version=["x"]))  # type: ignore[arg-type]


BAD_PAGINATION: list[dict[str, Any]] = [
    {"page": -1}, {"per_page": -1}, {"page": 1, "per_page": False}, {"page": "1"}, {"per_page": 2.5},
]


def test_bad_pagination_is_rejected(clocked_store: DynamoDBStore, seeded: DynamoAgentsStore) -> None:
    for kwargs in BAD_PAGINATION:
        assert_rejected(clocked_store, lambda kw=kwargs: seeded.list(**kw))
        assert_rejected(clocked_store, lambda kw=kwargs: seeded.list_resolved(**kw))
        assert_rejected(clocked_store,
                        lambda kw=kwargs: seeded.list_versions(agent_id=VALID, **kw))


def test_bad_metadata_filter_keys_are_rejected(clocked_store: DynamoDBStore, seeded: DynamoAgentsStore) -> None:
    for key in ("1abc", "a-b", "__proto__", "constructor", "x" * 129, ""):
        assert_rejected(clocked_store, lambda key=key: seeded.list(metadata={key: "v"}))
    assert_rejected(clocked_store, lambda: seeded.list(metadata=["team"]))  # type: ignore[arg-type]


def test_accepted_edge_inputs(seeded: DynamoAgentsStore) -> None:
    # a metadata filter key of exactly 128 characters is fine
    assert seeded.list(metadata={"k" * 128: "v"}).total == 0
    # version numbers that cannot exist read as None instead of failing
    assert seeded.get_version_by_number(agent_id=VALID, version_number=-1) is None
    # pagination at the limits
    assert seeded.list(page=0, per_page=0).total == 1
    assert seeded.list_versions(agent_id=VALID, per_page=False).total == 2
