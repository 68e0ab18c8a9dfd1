"""The table of the item models: its CreateTable request and its layout in TableSpec terms.

``TableItem`` (models/base.py) declares the keys, the six GSIs with their projections and the TTL attribute,
from :data:`~mastra_dynamo.schema.table.TABLE_SPEC`. :func:`create_table_request` turns the model's schema
(``TableItem._get_schema()``, what PynamoDB's own ``create_table`` sends) into the CreateTable request that
``DynamoDBStore.create_table`` sends through the store's client, on-demand. :func:`model_schema` turns a model
back into the TableSpec vocabulary so tests can prove that the models, the spec, ``create_table``, ``init()``'s
check and the CDK table agree.
"""

from __future__ import annotations

from typing import Any

from pynamodb.models import Model

from mastra_dynamo.models.base import TableItem


def create_table_request(table_name: str, model: type[Model] = TableItem) -> dict[str, Any]:
    """CreateTable (boto3 low-level shape) of ``model``'s table, PAY_PER_REQUEST, named ``table_name``."""
    schema: dict[str, Any] = dict(model._get_schema())
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [dict(a) for a in schema["attribute_definitions"]],
        "KeySchema": [dict(k) for k in schema["key_schema"]],
        "GlobalSecondaryIndexes": [
            {"IndexName": i["index_name"], "KeySchema": [dict(k) for k in i["key_schema"]],
             "Projection": dict(i["projection"])}
            for i in schema.get("global_secondary_indexes", [])
        ],
    }


def model_schema(model: type[Model]) -> dict[str, Any]:
    """The model's table layout in TableSpec terms: keys, GSIs (keys + projection), TTL attribute."""
    schema: dict[str, Any] = dict(model._get_schema())
    keys = {k["KeyType"]: k["AttributeName"] for k in schema["key_schema"]}
    gsis = {}
    for index in schema.get("global_secondary_indexes", []):
        ikeys = {k["KeyType"]: k["AttributeName"] for k in index["key_schema"]}
        projection = index["projection"]
        gsis[index["index_name"]] = (ikeys["HASH"], ikeys["RANGE"], projection["ProjectionType"],
                                     tuple(projection.get("NonKeyAttributes", ())))
    ttl_attr = model._ttl_attribute()  # type: ignore[no-untyped-call]
    return {
        "partition_key": keys["HASH"],
        "sort_key": keys["RANGE"],
        "gsis": gsis,
        "ttl_attribute": ttl_attr.attr_name if ttl_attr is not None else None,
        "attribute_types": {a["AttributeName"]: a["AttributeType"] for a in schema["attribute_definitions"]},
    }
