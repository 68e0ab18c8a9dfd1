"""Global tables: the library reports replicas and mode, accepts MREC and refuses MRSC before any data call."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from mastra_dynamo import DynamoDBStore
from mastra_dynamo.cli.table import build_report
from mastra_dynamo.errors import ConfigurationError, TableMismatchError
from mastra_dynamo.global_table import (
    GLOBAL_TABLE_MISMATCH,
    INVALID_GLOBAL_TABLE,
    MRSC_SOURCE,
    STRONG_UNSUPPORTED,
    check_declared,
    parse_description,
)

MREC = {
    "GlobalTableVersion": "2019.11.21",
    "MultiRegionConsistency": "EVENTUAL",
    "Replicas": [{"RegionName": "us-east-1", "ReplicaStatus": "ACTIVE"},
                 {"RegionName": "eu-west-1", "ReplicaStatus": "UPDATING"}],
}
MRSC = {
    "GlobalTableVersion": "2019.11.21",
    "MultiRegionConsistency": "STRONG",
    "Replicas": [{"RegionName": "us-east-1", "ReplicaStatus": "ACTIVE"},
                 {"RegionName": "us-east-2", "ReplicaStatus": "ACTIVE"}],
    "GlobalTableWitnesses": [{"RegionName": "us-west-2", "WitnessStatus": "ACTIVE"}],
}


def test_parse_description() -> None:
    single = parse_description({"TableName": "t"})
    assert (single.is_global, single.mode, single.consistency) == (False, "single-region", None)
    assert single.summary() == "single-Region table (no replicas)"
    mrec = parse_description(MREC)
    assert mrec.mode == "eventual" and mrec.regions == ("eu-west-1", "us-east-1")
    assert mrec.summary() == "MREC global table: eu-west-1 (UPDATING), us-east-1 (ACTIVE)"
    legacy = parse_description({"Replicas": [{"RegionName": "us-east-1"}]})  # no MultiRegionConsistency
    assert legacy.mode == "eventual" and legacy.consistency == "EVENTUAL"
    mrsc = parse_description(MRSC)
    assert mrsc.mode == "strong" and mrsc.witnesses == ("us-west-2",)
    assert mrsc.as_dict()["multi_region_consistency"] == "STRONG"
    assert "witness us-west-2" in mrsc.summary()


def test_declared_modes() -> None:
    assert check_declared(None) is None and check_declared("eventual") == "eventual"
    with pytest.raises(ConfigurationError) as caught:
        check_declared("sometimes")
    assert caught.value.code == INVALID_GLOBAL_TABLE


@pytest.fixture
def moto_store() -> Iterator[DynamoDBStore]:
    with mock_aws():
        store = DynamoDBStore(id="gt", table_name="mastra-global", region="us-east-1")
        store.create_table()
        yield store
        store.close()


def describe_as(store: DynamoDBStore, extra: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """DescribeTable answers as for a global table (moto has no multi-Region replicas); the rest is unchanged."""
    original = store.table.call

    def call(operation: str, **params: Any) -> dict[str, Any]:
        result = original(operation, **params)
        if operation == "DescribeTable":
            result = {**result, "Table": {**result["Table"], **extra}}
        return result

    monkeypatch.setattr(store.table, "call", call)


def test_strong_is_refused_when_the_store_is_created() -> None:
    with pytest.raises(ConfigurationError) as caught:
        DynamoDBStore(id="gt", table_name="mastra-global", region="us-east-1", global_table="strong")
    assert caught.value.code == STRONG_UNSUPPORTED
    assert "TransactWriteItems" in caught.value.message and "Time to Live" in caught.value.message
    assert caught.value.details["source"] == MRSC_SOURCE


def test_init_reports_a_single_region_table(moto_store: DynamoDBStore) -> None:
    moto_store.init()
    assert moto_store.global_table_info is not None and moto_store.global_table_info.mode == "single-region"


def test_init_reports_an_mrec_table(moto_store: DynamoDBStore, monkeypatch: pytest.MonkeyPatch) -> None:
    describe_as(moto_store, MREC, monkeypatch)
    moto_store.init()
    info = moto_store.global_table_info
    assert info is not None and info.mode == "eventual" and info.regions == ("eu-west-1", "us-east-1")
    memory = moto_store.get_store("memory")  # and the store works as usual
    memory.save_thread(thread={"id": "t1", "resourceId": "r1"})
    memory.save_messages(messages=[{"id": "m1", "threadId": "t1", "resourceId": "r1", "role": "user",
                                    "content": "hi"}])
    assert memory.list_messages(thread_id="t1").total == 1


def test_init_refuses_an_mrsc_table_before_any_data_call(
    moto_store: DynamoDBStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    describe_as(moto_store, MRSC, monkeypatch)
    before = moto_store.request_counts()
    with pytest.raises(ConfigurationError) as caught:
        moto_store.init()
    assert caught.value.code == STRONG_UNSUPPORTED
    assert caught.value.details["replicas"][0]["region"] == "us-east-1"
    sent = {op: n - before.get(op, 0) for op, n in moto_store.request_counts().items() if n != before.get(op, 0)}
    assert set(sent) <= {"DescribeTable", "DescribeTimeToLive"}


def test_declared_eventual_needs_a_global_table(monkeypatch: pytest.MonkeyPatch) -> None:
    with mock_aws():
        store = DynamoDBStore(id="gt", table_name="mastra-global", region="us-east-1", global_table="eventual")
        store.create_table()
        with pytest.raises(TableMismatchError) as caught:
            store.init()
        assert caught.value.code == GLOBAL_TABLE_MISMATCH
        describe_as(store, MREC, monkeypatch)
        store.init()
        assert store.global_table_info is not None and store.global_table_info.is_global
        store.close()


def _report(extra: dict[str, Any]) -> Any:
    from mastra_dynamo.schema import TABLE_SPEC

    description = {**TABLE_SPEC.create_table_request("t"), "TableStatus": "ACTIVE", **extra}
    ttl = {"TimeToLiveStatus": "ENABLED", "AttributeName": TABLE_SPEC.ttl_attribute}
    pitr = {"PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "ENABLED"}}
    return build_report("t", description, ttl, pitr, require_pitr=True)


def test_table_check_reports_replicas_and_mode() -> None:
    report = _report(MREC)
    assert not report.problems
    assert report.info["replica regions"] == "eu-west-1, us-east-1"
    assert report.info["multi-Region consistency"] == "EVENTUAL"
    assert [c.name for c in report.warnings] == ["replica eu-west-1"]  # UPDATING
    strong = _report(MRSC)
    assert [c.name for c in strong.problems] == ["multi-Region consistency"]
    assert "MRSC" in strong.problems[0].actual and MRSC_SOURCE in strong.problems[0].fix
    assert _report({}).info["replication"] == "single-Region table (no replicas)"
