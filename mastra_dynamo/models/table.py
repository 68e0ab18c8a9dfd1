"""The PynamoDB model of the table, derived from :data:`~mastra_dynamo.schema.table.TABLE_SPEC`.

PynamoDB caches one connection per model class, so a model class is built per binding (table name, region,
endpoint) by :func:`bind` instead of being configured globally at import time. The model carries the key
attributes, every GSI, the entity-type stamp, the schema version and the TTL attribute, which is how
PynamoDB's ``create_table`` provisions the table (GSIs and TTL) for local use. ``model_schema`` turns the
model back into the TableSpec vocabulary so a test can prove the two agree.

This model creates tables; the item models that requests are built from (``TableItem`` and its entity
subclasses, models/base.py) are bound to no table at all (see models/requests.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.models import Model

from mastra_dynamo.models.base import index_class
from mastra_dynamo.schema.table import TABLE_SPEC, TableSpec


@dataclass(frozen=True)
class BoundSettings:
    table_name: str
    region: str
    endpoint_url: str | None = None


def bind(settings: BoundSettings, spec: TableSpec = TABLE_SPEC) -> type[Model]:
    """A fresh PynamoDB model class for ``spec`` bound to ``settings`` (one connection per binding)."""
    meta_attrs: dict[str, Any] = {
        "table_name": settings.table_name,
        "region": settings.region,
        "billing_mode": "PAY_PER_REQUEST",
    }
    if settings.endpoint_url:
        meta_attrs["host"] = settings.endpoint_url
    attrs: dict[str, Any] = {
        "Meta": type("Meta", (), meta_attrs),
        "pk": UnicodeAttribute(hash_key=True, attr_name=spec.partition_key),
        "sk": UnicodeAttribute(range_key=True, attr_name=spec.sort_key),
        "entity_type": UnicodeAttribute(null=True, attr_name=spec.entity_attribute),
        "schema_version": NumberAttribute(null=True, attr_name=spec.schema_version_attribute),
        "expires_at": TTLAttribute(null=True, attr_name=spec.ttl_attribute),
    }
    for gsi in spec.gsis:
        attrs[gsi.partition_key] = UnicodeAttribute(null=True)
        attrs[gsi.sort_key] = UnicodeAttribute(null=True)
        attrs[gsi.name] = index_class(gsi)()
    model: type[Model] = type("TableItem", (Model,), attrs)
    # A fresh botocore session that reuses the process-wide parsed service model (see dynamo/session.py).
    from mastra_dynamo.dynamo.session import new_session

    model._get_connection().connection._local.session = new_session()
    return model


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
