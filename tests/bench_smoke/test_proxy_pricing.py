"""The counting proxy records TransactWriteItems priced from their items (bench/pricing.py), keeps the reported
figure beside it, and does not record its own image reads. DynamoDB Local when the session runs under
scripts/with-dynamodb-local.sh, else a moto server on 127.0.0.1."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from bench.common import proxy, raw_client
from bench.pricing import INDEX_WRITE_FACTOR
from bench.run import _endpoint as bench_endpoint
from bench.workload import Control


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with bench_endpoint(os.environ.get("MASTRA_DYNAMO_DDB_LOCAL") or "moto") as url:
        yield url


def _create_table(endpoint: str) -> str:
    table = f"bench-pricing-{uuid.uuid4().hex[:8]}"
    client = raw_client(endpoint)
    client.create_table(
        TableName=table, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "gpk", "gsk")],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{"IndexName": "gsi", "Projection": {"ProjectionType": "ALL"}, "KeySchema": [
            {"AttributeName": "gpk", "KeyType": "HASH"}, {"AttributeName": "gsk", "KeyType": "RANGE"}]}])
    return table


def _put(table: str, n: int, **extra: str) -> dict[str, Any]:
    item = {"pk": {"S": f"P#{n}"}, "sk": {"S": "S"}, "body": {"S": "x" * 1500}}
    item.update({name: {"S": value} for name, value in extra.items()})
    return {"Put": {"TableName": table, "Item": item}}


def _only_request(control: Control) -> dict[str, Any]:
    calls = control.dump()
    assert len(calls) == 1 and len(calls[0]["requests"]) == 1, calls  # the proxy's own reads are not recorded
    request: dict[str, Any] = calls[0]["requests"][0]
    return request


def test_proxy_prices_transactions_from_their_items(endpoint: str) -> None:
    table = _create_table(endpoint)
    local = bool(os.environ.get("MASTRA_DYNAMO_DDB_LOCAL"))
    with proxy(endpoint) as url:
        client, control = raw_client(url), Control(url)
        control.dump()

        control.mark("ten puts")
        client.transact_write_items(TransactItems=[_put(table, n) for n in range(10)])
        q = _only_request(control)
        assert q["op"] == "TransactWriteItems" and q["priced"] is True
        assert q["cu"] == 40 and q["gsi_cu"] == 0
        if local:  # DynamoDB Local counts the ten identical items once
            assert q["cu_reported"] < q["cu"]

        control.mark("move into the index, then move the index key")
        client.transact_write_items(TransactItems=[_put(table, 0, gpk="A", gsk="1")])
        q = _only_request(control)
        assert q["gsi"] == {"gsi": INDEX_WRITE_FACTOR * 2} and q["cu"] == 4 + INDEX_WRITE_FACTOR * 2
        control.mark("update")
        client.transact_write_items(TransactItems=[{"Update": {
            "TableName": table, "Key": {"pk": {"S": "P#0"}, "sk": {"S": "S"}},
            "UpdateExpression": "SET gpk = :b", "ExpressionAttributeValues": {":b": {"S": "B"}}}}])
        q = _only_request(control)
        assert q["gsi"] == {"gsi": INDEX_WRITE_FACTOR * 4} and q["cu"] == 4 + INDEX_WRITE_FACTOR * 4

        control.mark("cancelled")
        with pytest.raises(client.exceptions.TransactionCanceledException):
            client.transact_write_items(TransactItems=[
                {**_put(table, 1), "Put": {**_put(table, 1)["Put"], "ConditionExpression": "attribute_not_exists(pk)"}},
                _put(table, 99)])
        q = _only_request(control)
        assert q["error"] == "TransactionCanceledException" and q["priced"] is True
        assert q["cu"] == 2 + 2 and q["cu_reported"] == 0  # each action: its 1.5 KB item, once
        control.close()
