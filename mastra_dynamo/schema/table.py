"""TableSpec: the one definition of the DynamoDB table.

Everything that needs the table's shape derives from :data:`TABLE_SPEC`: the PynamoDB model
(``mastra_dynamo.models``), ``DynamoDBStore.create_table()`` and ``init()``'s check, the test tables and the
CDK construct in ``infra/``. This module imports nothing but the standard library so infra code and tools can
use it without pulling in boto3.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Projection = Literal["ALL", "KEYS_ONLY", "INCLUDE"]


@dataclass(frozen=True)
class GsiSpec:
    """One overloaded global secondary index with generic key attribute names."""

    name: str
    partition_key: str
    sort_key: str
    projection: Projection = "ALL"
    purpose: str = ""
    non_key_attributes: tuple[str, ...] = ()
    """Attributes an INCLUDE projection copies besides the keys."""

    def projection_request(self) -> dict[str, Any]:
        """The ``Projection`` of a CreateTable / DescribeTable index description."""
        if self.projection == "INCLUDE":
            return {"ProjectionType": "INCLUDE", "NonKeyAttributes": list(self.non_key_attributes)}
        return {"ProjectionType": self.projection}


@dataclass(frozen=True)
class TableSpec:
    """Physical layout of the table. Changing it is a schema migration: update docs/access-patterns.md too."""

    partition_key: str = "pk"
    sort_key: str = "sk"
    gsis: tuple[GsiSpec, ...] = field(default_factory=tuple)
    ttl_attribute: str = "ttl"
    entity_attribute: str = "_et"
    schema_version_attribute: str = "_sv"
    revision_attribute: str = "_rev"
    schema_version: int = 2
    billing_mode: Literal["PAY_PER_REQUEST", "PROVISIONED"] = "PAY_PER_REQUEST"

    @property
    def key_attributes(self) -> tuple[str, ...]:
        """Every attribute that appears in a key of the table or an index (all strings)."""
        names = [self.partition_key, self.sort_key]
        for gsi in self.gsis:
            names.extend([gsi.partition_key, gsi.sort_key])
        return tuple(names)

    def gsi(self, name: str) -> GsiSpec:
        for gsi in self.gsis:
            if gsi.name == name:
                return gsi
        raise KeyError(name)

    def create_table_request(self, table_name: str) -> dict[str, Any]:
        """The CreateTable request (boto3 low-level shape) for this spec, on-demand billing."""
        return {
            "TableName": table_name,
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": n, "AttributeType": "S"} for n in self.key_attributes],
            "KeySchema": [
                {"AttributeName": self.partition_key, "KeyType": "HASH"},
                {"AttributeName": self.sort_key, "KeyType": "RANGE"},
            ],
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": g.name,
                    "KeySchema": [
                        {"AttributeName": g.partition_key, "KeyType": "HASH"},
                        {"AttributeName": g.sort_key, "KeyType": "RANGE"},
                    ],
                    "Projection": g.projection_request(),
                }
                for g in self.gsis
            ],
        }

    def older_layout(self, table: dict[str, Any]) -> int | None:
        """The schema version of an older mastra-dynamo layout that a DescribeTable ``Table`` matches (its
        indexes are a leading subset of this spec's), or None. Version 1 (mastra-dynamo 0.1) had gsi1..gsi4."""
        names = {g.get("IndexName") for g in table.get("GlobalSecondaryIndexes", []) or []}
        layouts = {1: {"gsi1", "gsi2", "gsi3", "gsi4"}}
        for version, indexes in layouts.items():
            if version < self.schema_version and names == indexes:
                return version
        return None

    def describe_mismatches(self, table: dict[str, Any], ttl: dict[str, Any] | None) -> list[str]:
        """Compare a DescribeTable ``Table`` (and DescribeTimeToLive description) with this spec.

        Returns human-readable, actionable differences; an empty list means the table matches.
        """
        problems: list[str] = []
        keys = {k["KeyType"]: k["AttributeName"] for k in table.get("KeySchema", [])}
        if keys.get("HASH") != self.partition_key or keys.get("RANGE") != self.sort_key:
            problems.append(
                f"key schema is {keys!r}; expected HASH={self.partition_key!r} RANGE={self.sort_key!r}"
            )
        types = {a["AttributeName"]: a["AttributeType"] for a in table.get("AttributeDefinitions", [])}
        for name in self.key_attributes:
            if name in types and types[name] != "S":
                problems.append(f"attribute {name!r} is type {types[name]!r}; expected 'S' (string)")
        actual = {g["IndexName"]: g for g in table.get("GlobalSecondaryIndexes", []) or []}
        for gsi in self.gsis:
            got = actual.get(gsi.name)
            if got is None:
                problems.append(
                    f"global secondary index {gsi.name!r} is missing (HASH={gsi.partition_key!r}, "
                    f"RANGE={gsi.sort_key!r}, projection {gsi.projection})"
                )
                continue
            gkeys = {k["KeyType"]: k["AttributeName"] for k in got.get("KeySchema", [])}
            if gkeys.get("HASH") != gsi.partition_key or gkeys.get("RANGE") != gsi.sort_key:
                problems.append(
                    f"index {gsi.name!r} has keys {gkeys!r}; expected HASH={gsi.partition_key!r} "
                    f"RANGE={gsi.sort_key!r}"
                )
            projection = (got.get("Projection") or {}).get("ProjectionType")
            if projection != gsi.projection:
                problems.append(f"index {gsi.name!r} projects {projection!r}; expected {gsi.projection!r}")
            elif projection == "INCLUDE":
                included = sorted((got.get("Projection") or {}).get("NonKeyAttributes") or [])
                if included != sorted(gsi.non_key_attributes):
                    problems.append(f"index {gsi.name!r} includes {included!r}; expected "
                                    f"{sorted(gsi.non_key_attributes)!r}")
        if ttl is not None:
            status = ttl.get("TimeToLiveStatus")
            attr = ttl.get("AttributeName")
            if status not in {"ENABLED", "ENABLING"} or attr != self.ttl_attribute:
                problems.append(
                    f"time to live is {status or 'DISABLED'} on {attr!r}; expected ENABLED on "
                    f"{self.ttl_attribute!r} (items past retention would never be deleted)"
                )
        return problems


TABLE_SPEC = TableSpec(
    gsis=(
        GsiSpec("gsi1", "gsi1pk", "gsi1sk", purpose="children of a parent, by creation time"),
        GsiSpec("gsi2", "gsi2pk", "gsi2sk", purpose="second grouping or update-time order"),
        GsiSpec("gsi3", "gsi3pk", "gsi3sk", purpose="write-sharded global listings by creation time"),
        GsiSpec("gsi4", "gsi4pk", "gsi4sk", purpose="write-sharded global listings by update time, status"),
        # Small entries (keys, entity stamp, expiry): writes that change the record but not its keys, stamp or
        # expiry (a message touching its thread, working-memory updates) never rewrite them. Listings read a
        # page of entries, then the page's records with one BatchGetItem.
        GsiSpec("gsi5", "gsi5pk", "gsi5sk", projection="INCLUDE", non_key_attributes=("_et", "ttl"),
                purpose="children of a parent by creation time, small entries (threads of a resource, "
                        "background tasks by status)"),
        GsiSpec("gsi6", "gsi6pk", "gsi6sk", projection="INCLUDE", non_key_attributes=("_et", "ttl"),
                purpose="write-sharded global listings by creation time, small entries (threads, resources; "
                        "background tasks of a run)"),
    ),
)
"""The table every DynamoDBStore uses."""
