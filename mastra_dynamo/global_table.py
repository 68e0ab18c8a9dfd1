"""Global tables (DynamoDB replication across Regions): what a table's description says and what the library
supports.

A DynamoDB global table is either *multi-Region eventually consistent* (MREC, DynamoDB's default) or
*multi-Region strongly consistent* (MRSC); the mode is fixed when the table becomes global. DescribeTable reports
the replicas (``Replicas``), the mode (``MultiRegionConsistency``) and, for MRSC, a witness Region
(``GlobalTableWitnesses``). :func:`parse_description` turns that into a :class:`GlobalTableInfo`; ``init()`` and
``mastra-dynamo table check`` report it.

What the library supports (details and the routing rule: docs/deployment.md):

* **single-Region tables** and **MREC global tables**. On MREC, every conditional write is checked against the
  replica in the Region that receives it, and concurrent writes to one item in two Regions end with the last
  writer winning. Every guarantee built on a condition (workflow compare-and-set, one winner per background-task
  claim with its status/owner/lease fences, exact message counters, dataset versions, the late-delivery guard of
  scores) holds only while all writers of one tenant send to one Region.
* **not MRSC**. DynamoDB's documentation (:data:`MRSC_SOURCE`) says MRSC global tables reject transaction
  operations and do not support Time to Live. The library writes with TransactWriteItems (saving messages, among
  others) and its table needs TTL on ``ttl``. ``DynamoDBStore(global_table="strong")`` and ``init()`` on an MRSC
  table therefore refuse with :class:`~mastra_dynamo.errors.ConfigurationError` code
  :data:`STRONG_UNSUPPORTED` instead of failing in the middle of a call.

This module imports only the standard library and :mod:`mastra_dynamo.errors`, so ``infra/`` can use it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from mastra_dynamo.errors import ConfigurationError, TableMismatchError

_log = logging.getLogger(__name__)

Consistency = Literal["eventual", "strong"]
"""``eventual``: MREC (DynamoDB's default); ``strong``: MRSC."""
CONSISTENCY_MODES: tuple[Consistency, ...] = ("eventual", "strong")

STRONG_UNSUPPORTED = "GLOBAL_TABLE_STRONG_UNSUPPORTED"
"""Code of the ConfigurationError for multi-Region strong consistency (stable)."""
GLOBAL_TABLE_MISMATCH = "GLOBAL_TABLE_MISMATCH"
"""Code of the TableMismatchError when the table is not the global table the store was told to expect."""
INVALID_GLOBAL_TABLE = "INVALID_GLOBAL_TABLE"
"""Code of the ConfigurationError for an unknown ``global_table=`` value."""

MRSC_SOURCE = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2globaltables_HowItWorks.html"
"""DynamoDB Developer Guide, "How DynamoDB global tables work": consistency modes and feature support."""
MRSC_REASONS: tuple[str, ...] = (
    "MRSC global tables reject transaction operations (TransactWriteItems, TransactGetItems), and mastra-dynamo "
    "writes with TransactWriteItems (save_messages in the memory domain, and writes of the workflows, datasets, "
    "experiments and agents domains)",
    "MRSC global tables do not support Time to Live, and the table mastra-dynamo needs has TTL on 'ttl' "
    "(per-entity retention; init() refuses a table without it)",
)
"""Why the library cannot run on an MRSC table (DynamoDB's documentation: :data:`MRSC_SOURCE`)."""


def strong_consistency_message(subject: str) -> str:
    """The explanation shared by the library's refusal and the CDK app's."""
    return (f"{subject}: multi-Region strong consistency (MRSC) is not supported: " + "; ".join(MRSC_REASONS)
            + f" (see {MRSC_SOURCE}). Use a multi-Region eventually consistent (MREC) global table and route all "
            "writes of one tenant to one home Region (docs/deployment.md).")


@dataclass(frozen=True)
class Replica:
    """One replica of a global table, as DescribeTable reports it."""

    region: str
    status: str | None = None
    """``ACTIVE``, ``CREATING``, ``UPDATING``, ``DELETING``, ``INACCESSIBLE_ENCRYPTION_CREDENTIALS``, ..."""


@dataclass(frozen=True)
class GlobalTableInfo:
    """Replication facts of one table (from DescribeTable in one Region)."""

    replicas: tuple[Replica, ...] = ()
    consistency: str | None = None
    """``EVENTUAL`` or ``STRONG`` for a global table (``EVENTUAL`` when DynamoDB omits it); None otherwise."""
    witnesses: tuple[str, ...] = ()
    version: str | None = None
    """``GlobalTableVersion`` (``2019.11.21`` for current global tables)."""

    @property
    def is_global(self) -> bool:
        return bool(self.replicas)

    @property
    def mode(self) -> Literal["single-region", "eventual", "strong"]:
        if not self.is_global:
            return "single-region"
        return "strong" if self.consistency == "STRONG" else "eventual"

    @property
    def regions(self) -> tuple[str, ...]:
        return tuple(r.region for r in self.replicas)

    def summary(self) -> str:
        """One line for logs and reports, e.g. ``MREC global table: eu-west-1 (ACTIVE), us-east-1 (ACTIVE)``."""
        if not self.is_global:
            return "single-Region table (no replicas)"
        label = "MRSC" if self.mode == "strong" else "MREC"
        replicas = ", ".join(f"{r.region} ({r.status or '?'})" for r in self.replicas)
        witness = f"; witness {', '.join(self.witnesses)}" if self.witnesses else ""
        return f"{label} global table: {replicas}{witness}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "multi_region_consistency": self.consistency,
            "replicas": [{"region": r.region, "status": r.status} for r in self.replicas],
            "witnesses": list(self.witnesses),
            "global_table_version": self.version,
        }


def parse_description(table: Mapping[str, Any]) -> GlobalTableInfo:
    """The replication facts of a DescribeTable ``Table``. A single-Region table has no ``Replicas``."""
    replicas = tuple(
        Replica(region=str(r["RegionName"]), status=r.get("ReplicaStatus"))
        for r in table.get("Replicas") or []
        if isinstance(r, Mapping) and r.get("RegionName")
    )
    witnesses = tuple(
        str(w["RegionName"]) for w in table.get("GlobalTableWitnesses") or []
        if isinstance(w, Mapping) and w.get("RegionName")
    )
    consistency = table.get("MultiRegionConsistency")
    if replicas and consistency is None:
        consistency = "EVENTUAL"  # DynamoDB's default mode, also what older global tables report by omission
    return GlobalTableInfo(
        replicas=tuple(sorted(replicas, key=lambda r: r.region)),
        consistency=str(consistency) if replicas and consistency else None,
        witnesses=witnesses,
        version=table.get("GlobalTableVersion"),
    )


def check_declared(global_table: object) -> Consistency | None:
    """Validate ``DynamoDBStore(global_table=...)``: None, ``"eventual"`` or ``"strong"``; ``"strong"`` raises.

    Raises:
        ConfigurationError: ``INVALID_GLOBAL_TABLE`` for another value, :data:`STRONG_UNSUPPORTED` for ``strong``.
    """
    if global_table is None:
        return None
    if global_table not in CONSISTENCY_MODES:
        raise ConfigurationError(
            f"DynamoDBStore: global_table must be None, 'eventual' or 'strong', not {global_table!r}",
            code=INVALID_GLOBAL_TABLE, details={"global_table": repr(global_table)})
    if global_table == "strong":
        raise ConfigurationError(strong_consistency_message("DynamoDBStore(global_table='strong')"),
                                 code=STRONG_UNSUPPORTED, details={"global_table": "strong", "source": MRSC_SOURCE})
    return "eventual"


def check_table(table_name: str, description: Mapping[str, Any],
                declared: Consistency | None = None) -> GlobalTableInfo:
    """Check a DescribeTable ``Table`` against what the library supports and what the store declared.

    Returns the table's :class:`GlobalTableInfo`.

    Raises:
        ConfigurationError: :data:`STRONG_UNSUPPORTED` when the table is an MRSC global table.
        TableMismatchError: :data:`GLOBAL_TABLE_MISMATCH` when ``declared`` is ``"eventual"`` and the table is not
            a global table.
    """
    info = parse_description(description)
    _log.info("table %r: %s", table_name, info.summary())
    details = {"table": table_name, **info.as_dict()}
    if info.mode == "strong":
        raise ConfigurationError(strong_consistency_message(f"table {table_name!r} ({info.summary()})"),
                                 code=STRONG_UNSUPPORTED, details={**details, "source": MRSC_SOURCE})
    if declared == "eventual" and not info.is_global:
        raise TableMismatchError(
            f"table {table_name!r} is a single-Region table, but the store was created with "
            "global_table='eventual': add replicas (infra/: -c 'mastra:replicaRegions=[\"us-east-1\"]') or drop "
            "the keyword", code=GLOBAL_TABLE_MISMATCH, details=details)
    return info


__all__ = [
    "CONSISTENCY_MODES",
    "GLOBAL_TABLE_MISMATCH",
    "INVALID_GLOBAL_TABLE",
    "MRSC_REASONS",
    "MRSC_SOURCE",
    "STRONG_UNSUPPORTED",
    "Consistency",
    "GlobalTableInfo",
    "Replica",
    "check_declared",
    "check_table",
    "parse_description",
    "strong_consistency_message",
]
