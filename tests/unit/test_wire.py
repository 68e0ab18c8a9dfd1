"""The store's own clients serialize and parse items by their short paths (mastra_dynamo.dynamo.wire) with
exactly botocore's results, and leave every client or session the user passes as it is."""

from __future__ import annotations

import asyncio
import base64
import inspect
import json
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ParamValidationError
from botocore.parsers import JSONParser
from botocore.serialize import JSONSerializer
from hypothesis import given, settings
from hypothesis import strategies as st

from mastra_dynamo import DynamoDBStore
from mastra_dynamo.dynamo import wire
from mastra_dynamo.dynamo.aio_session import open_async_client

MODEL = botocore.session.get_session().get_service_model("dynamodb")
ITEM_OPERATIONS = ("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem",
                   "BatchWriteItem", "TransactGetItems", "TransactWriteItems")

# ---------------------------------------------------------------------------- attribute values
_names = st.text(min_size=1, max_size=6)
_numbers = st.integers(-10**6, 10**6).map(str)
_scalars = st.one_of(
    st.text(max_size=12).map(lambda s: {"S": s}), _numbers.map(lambda n: {"N": n}),
    st.binary(max_size=12).map(lambda b: {"B": b}), st.booleans().map(lambda b: {"BOOL": b}),
    st.just({"NULL": True}),
    st.lists(st.text(max_size=5), min_size=1, max_size=3, unique=True).map(lambda v: {"SS": v}),
    st.lists(_numbers, min_size=1, max_size=3, unique=True).map(lambda v: {"NS": v}),
    st.lists(st.binary(max_size=5), min_size=1, max_size=3, unique=True).map(lambda v: {"BS": v}))
VALUES = st.recursive(_scalars, lambda inner: st.one_of(
    st.dictionaries(_names, inner, max_size=3).map(lambda m: {"M": m}),
    st.lists(inner, max_size=3).map(lambda items: {"L": items})), max_leaves=12)
ITEMS = st.dictionaries(_names, VALUES, min_size=1, max_size=6)


def _to_wire(value: Any) -> Any:
    """An attribute value in the API's Python form as DynamoDB sends it (binary values in base64)."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {k: _to_wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_wire(v) for v in value]
    return value


# ---------------------------------------------------------------------------- responses
def _parse(parser: Any, operation: str, body: Any) -> Any:
    raw = json.dumps(body).encode() if not isinstance(body, bytes) else body
    response = {"body": raw, "headers": {"x-amzn-requestid": "r"}, "status_code": 200}
    return parser.parse(response, MODEL.operation_model(operation).output_shape)


def _same_parse(operation: str, body: Any) -> Any:
    ours, theirs = wire.ItemJSONParser(), JSONParser()
    try:
        expected = _parse(theirs, operation, body)
    except Exception as exc:  # the short path must fail the same way
        with pytest.raises(type(exc)):
            _parse(ours, operation, body)
        return None
    assert _parse(ours, operation, body) == expected
    return expected


@settings(max_examples=150, deadline=None)
@given(items=st.lists(ITEMS, max_size=4), last=ITEMS)
def test_query_pages_parse_as_botocore_parses_them(items: list[dict[str, Any]], last: dict[str, Any]) -> None:
    body = {"Items": [_to_wire(i) for i in items], "Count": len(items), "ScannedCount": len(items),
            "LastEvaluatedKey": _to_wire(last), "ConsumedCapacity": {"TableName": "t", "CapacityUnits": 1}}
    parsed = _same_parse("Query", body)
    assert parsed["Items"] == items and parsed["LastEvaluatedKey"] == last  # bytes are bytes again


@settings(max_examples=60, deadline=None)
@given(item=ITEMS)
def test_single_items_batches_and_transactions_parse_as_botocore_parses_them(item: dict[str, Any]) -> None:
    wired = _to_wire(item)
    _same_parse("GetItem", {"Item": wired})
    _same_parse("UpdateItem", {"Attributes": wired})
    _same_parse("BatchGetItem", {"Responses": {"t": [wired, wired]}, "UnprocessedKeys": {
        "t": {"Keys": [wired], "ConsistentRead": True}}})
    _same_parse("TransactGetItems", {"Responses": [{"Item": wired}, {}]})


@pytest.mark.parametrize("value", [
    {"S": None}, {"S": "a", "N": "1"}, {"XYZ": "new type"}, {}, {"M": None}, {"L": None}, {"B": None},
    {"M": {"a": {"XYZ": 1}}}, {"L": [{"S": None}]}, {"N": 5}, {"BOOL": None}, None, "text"])
def test_odd_attribute_values_take_botocores_own_path(value: Any) -> None:
    _same_parse("GetItem", {"Item": {"a": value}})


def test_a_modeled_error_and_an_empty_body_parse_as_botocore_parses_them() -> None:
    error = {"__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException", "message": "no",
             "Item": {"pk": {"B": base64.b64encode(b"\x00").decode()}}}
    for parser in (wire.ItemJSONParser(), JSONParser()):
        response = {"body": json.dumps(error).encode(), "headers": {}, "status_code": 400}
        shape = MODEL.shape_for("ConditionalCheckFailedException")
        parsed = parser.parse(response, shape)
        assert parsed["Item"] == {"pk": {"B": b"\x00"}}
    _same_parse("PutItem", b"")
    _same_parse("PutItem", {})


# ---------------------------------------------------------------------------- requests
def _same_request(operation: str, params: dict[str, Any]) -> dict[str, Any]:
    ours, theirs = wire.ItemSerializer(), JSONSerializer()
    ours._plain = {}
    model = MODEL.operation_model(operation)
    expected = theirs.serialize_to_request(params, model)
    assert ours.serialize_to_request(params, model) == expected
    return dict(expected)


@settings(max_examples=150, deadline=None)
@given(item=ITEMS, values=st.dictionaries(_names.map(lambda n: ":" + n), VALUES, max_size=3))
def test_item_requests_serialize_as_botocore_serializes_them(item: dict[str, Any], values: dict[str, Any]) -> None:
    key = {"pk": {"S": "T#1"}, "sk": {"B": b"\x01\x02"}}
    names = {"#n": "name"} if values else None
    update: dict[str, Any] = {"TableName": "t", "Key": key, "UpdateExpression": "SET #n = :v",
                              "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}
    if values:
        update |= {"ExpressionAttributeNames": names, "ExpressionAttributeValues": values}
    absent, present = "attribute_not_exists(pk)", "attribute_exists(pk)"
    request = _same_request("TransactWriteItems", {
        "TransactItems": [{"Put": {"TableName": "t", "Item": item, "ConditionExpression": absent}},
                          {"Update": update}, {"Delete": {"TableName": "t", "Key": key}},
                          {"ConditionCheck": {"TableName": "t", "Key": key, "ConditionExpression": present}}],
        "ReturnConsumedCapacity": "TOTAL", "ClientRequestToken": "token"})
    assert json.loads(request["body"])["TransactItems"][0]["Put"]["Item"] == _to_wire(item)
    _same_request("PutItem", {"TableName": "t", "Item": item, "ReturnConsumedCapacity": "TOTAL"})
    _same_request("UpdateItem", update | {"ReturnValues": "ALL_NEW"})
    _same_request("Query", {"TableName": "t", "IndexName": "g", "KeyConditionExpression": "pk = :v",
                            "ExpressionAttributeValues": {":v": {"S": "x"}} | values, "Limit": 20,
                            "ScanIndexForward": False, "ExclusiveStartKey": item, "ConsistentRead": True})
    _same_request("BatchGetItem", {"RequestItems": {"t": {"Keys": [key, item], "ConsistentRead": False,
                                                          "ProjectionExpression": "pk"}}})
    _same_request("BatchWriteItem", {"RequestItems": {"t": [{"PutRequest": {"Item": item}},
                                                           {"DeleteRequest": {"Key": key}}]}})


def test_binary_values_in_any_bytes_form_serialize_as_botocore_serializes_them() -> None:
    for value in (b"\xff\x00", bytearray(b"abc"), b""):
        _same_request("PutItem", {"TableName": "t", "Item": {"pk": {"B": value}, "s": {"BS": [value, b"z"]}}})


def test_operations_with_other_wire_forms_keep_botocores_serializer() -> None:
    assert all(wire.plain_input(MODEL.operation_model(op)) for op in ITEM_OPERATIONS)
    assert not wire.plain_input(MODEL.operation_model("ListBackups"))  # timestamps
    assert not wire.plain_input(MODEL.operation_model("UpdateGlobalTableSettings"))  # a double
    _same_request("ListBackups", {"TableName": "t", "TimeRangeLowerBound": 1767225600, "Limit": 5})


# ---------------------------------------------------------------------------- which clients get them
def test_the_stores_own_client_uses_the_short_paths_and_still_answers_as_botocore(monkeypatch: Any) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    store = DynamoDBStore(id="s", table_name="table", region="eu-west-1")
    assert wire.installed(store.table.raw)


def test_a_validating_config_keeps_botocores_validation(monkeypatch: Any) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    store = DynamoDBStore(id="s", table_name="table", region="eu-west-1",
                          boto_config=Config(parameter_validation=True))
    client = store.table.raw
    assert not wire.installed(client)
    with pytest.raises(ParamValidationError):
        client.get_item(TableName="table", Key={"pk": {"S": 1}})  # botocore's validator still checks


def test_clients_and_sessions_the_user_passes_are_left_as_they_are(monkeypatch: Any) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    client = boto3.client("dynamodb", region_name="eu-west-1")
    assert not wire.installed(DynamoDBStore(id="s", table_name="table", client=client).table.raw)
    session = boto3.Session(region_name="eu-west-1")
    assert not wire.installed(DynamoDBStore(id="s", table_name="table", boto3_session=session).table.raw)


def test_the_async_client_parses_by_the_short_path_with_aiobotocores_coroutines(monkeypatch: Any) -> None:
    pytest.importorskip("aiobotocore", reason="the async extra (the main test venv has it; the version venvs do not)")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")

    async def scenario() -> None:
        context, client = await open_async_client(region="eu-west-1", endpoint_url="http://127.0.0.1:9")
        try:
            assert wire.installed(client)
            parser = client._endpoint._response_parser_factory.create_parser("json")
            assert inspect.iscoroutinefunction(parser.parse)
            item = {"pk": {"B": base64.b64encode(b"\x01").decode()}, "m": {"M": {"n": {"N": "1"}}}}
            response = {"body": json.dumps({"Item": item}).encode(), "headers": {}, "status_code": 200}
            parsed = await parser.parse(response, MODEL.operation_model("GetItem").output_shape)
            assert parsed["Item"] == {"pk": {"B": b"\x01"}, "m": {"M": {"n": {"N": "1"}}}}
        finally:
            await context.__aexit__(None, None, None)

    asyncio.run(scenario())
