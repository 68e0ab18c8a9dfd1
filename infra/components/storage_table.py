"""MastraStorageTable: the one DynamoDB table of mastra-dynamo, derived from ``TABLE_SPEC``.

Keys, every GSI (keys + projection) and the TTL attribute come from :data:`mastra_dynamo.schema.TABLE_SPEC`,
the same spec ``DynamoDBStore.create_table()`` and ``DynamoDBStore.init()`` use, so the provisioned table and
the library cannot drift apart. The table is a ``TableV2`` (``AWS::DynamoDB::GlobalTable``): without replicas it
is an ordinary single-Region table; with ``replica_regions`` it becomes a multi-Region eventually consistent
(MREC) global table. Secure defaults: on-demand billing, point-in-time recovery, server-side encryption
(AWS-managed key unless a customer key is given), deletion protection and a RETAIN removal policy, in every
replica.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import RemovalPolicy, Stack, Token
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from cdk_nag import NagPackSuppression, NagSuppressions, RegexAppliesTo
from constructs import Construct

from mastra_dynamo.global_table import CONSISTENCY_MODES, Consistency, strong_consistency_message
from mastra_dynamo.schema import TABLE_SPEC, TableSpec
from mastra_dynamo.schema.table import GsiSpec

STORAGE_ACTIONS: tuple[str, ...] = (
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
    "dynamodb:DescribeTimeToLive",
)
"""Exactly the DynamoDB actions the library's request paths and ``init()`` use.

``TransactWriteItems`` has no IAM action of its own: it is authorized per contained operation (PutItem,
UpdateItem, DeleteItem, ConditionCheckItem). ``DescribeTable``/``DescribeTimeToLive`` serve ``init()``'s layout
check. Deliberately absent: ``Scan`` (only the administrative clear-all in ``mastra_dynamo.admin`` scans; run it
with an operator's credentials, never from the application role) and every table-level administrative action
(CreateTable, DeleteTable, UpdateTable, UpdateTimeToLive, ...): the table's lifecycle belongs to this stack.
"""

_KEY_TYPE = dynamodb.AttributeType.STRING
_PROJECTIONS = {
    "ALL": dynamodb.ProjectionType.ALL,
    "KEYS_ONLY": dynamodb.ProjectionType.KEYS_ONLY,
    "INCLUDE": dynamodb.ProjectionType.INCLUDE,
}


@dataclass(frozen=True, kw_only=True)
class ProvisionedCapacity:
    """Provisioned billing with target-tracking autoscaling, applied to the table and to every GSI."""

    read_min: int
    read_max: int
    write_min: int
    write_max: int
    target_utilization_percent: int = 70

    def __post_init__(self) -> None:
        if not (1 <= self.read_min <= self.read_max and 1 <= self.write_min <= self.write_max):
            raise ValueError(f"invalid capacity bounds: {self!r} (need 1 <= min <= max for reads and writes)")
        if not 10 <= self.target_utilization_percent <= 90:
            raise ValueError("target_utilization_percent must be within 10..90 (DynamoDB autoscaling limits)")


@dataclass(frozen=True, kw_only=True)
class MaxThroughput:
    """A cost ceiling for on-demand billing: requests per second above it are throttled (ThrottledError in the
    library), applied to the table and to every GSI."""

    read_request_units: int | None = None
    write_request_units: int | None = None

    def __post_init__(self) -> None:
        for name in ("read_request_units", "write_request_units"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"max throughput {name} must be >= 1, got {value}")
        if self.read_request_units is None and self.write_request_units is None:
            raise ValueError("max throughput needs read_request_units, write_request_units or both")


class MastraStorageTable(Construct):
    """The table of mastra-dynamo. Exposes ``table`` (a ``TableV2``) and ``encryption_key`` when customer-managed.

    Args:
        scope: parent construct.
        id: construct id.
        spec: the table layout; default :data:`TABLE_SPEC` (what the library expects: change only with it).
        table_name: physical name; ``None`` lets CloudFormation generate one (read it from the stack output).
        capacity: ``None`` for on-demand billing; a :class:`ProvisionedCapacity` for provisioned billing with
            autoscaling on the table and every GSI (in every replica).
        max_throughput: on-demand only: a :class:`MaxThroughput` ceiling (cost cap) for the table and every GSI.
        encryption_key: a customer-managed KMS key; ``None`` uses the AWS-managed key (``aws/dynamodb``).
        replica_key_arns: with replicas and a customer-managed key: the key ARN to use in each replica Region.
        point_in_time_recovery: continuous backups (default on), in every replica.
        deletion_protection: refuse DeleteTable (default on), in every replica.
        removal_policy: what CloudFormation does when the resource leaves the stack (default RETAIN).
        replica_regions: Regions of further replicas (the stack's own Region always holds one); empty for a
            single-Region table. Needs a stack with a concrete Region.
        consistency: multi-Region consistency of a global table: ``"eventual"`` (MREC, default). ``"strong"``
            (MRSC) is refused with ValueError: MRSC tables reject transactions and TTL, which the library needs.
        contributor_insights: CloudWatch Contributor Insights (most accessed and most throttled keys) on the
            table, in every replica (extra cost per event; off by default).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        spec: TableSpec = TABLE_SPEC,
        table_name: str | None = None,
        capacity: ProvisionedCapacity | None = None,
        max_throughput: MaxThroughput | None = None,
        encryption_key: kms.IKey | None = None,
        replica_key_arns: Mapping[str, str] | None = None,
        point_in_time_recovery: bool = True,
        deletion_protection: bool = True,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        replica_regions: Sequence[str] = (),
        consistency: Consistency = "eventual",
        contributor_insights: bool = False,
    ) -> None:
        super().__init__(scope, id)
        if consistency not in CONSISTENCY_MODES:
            raise ValueError(f"consistency must be one of {CONSISTENCY_MODES}, not {consistency!r}")
        if consistency == "strong":
            raise ValueError(strong_consistency_message("MastraStorageTable(consistency='strong')"))
        if capacity is not None and max_throughput is not None:
            raise ValueError("max_throughput applies to on-demand billing; provisioned capacity is capped by "
                             "its autoscaling maximum (capacity.read_max / write_max)")
        stack_region = Stack.of(self).region
        regions = list(dict.fromkeys(replica_regions))
        if (regions or encryption_key is not None) and Token.is_unresolved(stack_region):
            raise ValueError(("replica_regions" if regions else "a customer-managed key") + " needs a stack with a "
                             "concrete Region (env=Environment(region=...); for the CDK app -c mastra:region=... or "
                             "CDK_DEFAULT_REGION, which cdk sets from the AWS profile)")
        if stack_region in regions:
            raise ValueError(f"replica_regions: {stack_region!r} is the stack's own Region, which always holds "
                             "the first replica; list only the others")
        keys_by_region = dict(replica_key_arns or {})
        if regions and encryption_key is not None:
            missing = [r for r in regions if r not in keys_by_region]
            if missing:
                raise ValueError("a customer-managed key is Regional: pass replica_key_arns with a key ARN for "
                                 f"every replica Region (missing: {', '.join(missing)})")
        self.spec = spec
        self.encryption_key = encryption_key
        self.replica_regions: tuple[str, ...] = tuple(regions)
        self.consistency: Consistency = consistency
        for gsi in spec.gsis:
            if gsi.projection == "INCLUDE" and not gsi.non_key_attributes:
                raise ValueError(f"index {gsi.name!r}: INCLUDE projections need non-key attributes in TableSpec")
        pitr = dynamodb.PointInTimeRecoverySpecification(point_in_time_recovery_enabled=point_in_time_recovery)
        insights = dynamodb.ContributorInsightsSpecification(enabled=contributor_insights)
        self.table = dynamodb.TableV2(
            self,
            "Table",
            table_name=table_name,
            partition_key=dynamodb.Attribute(name=spec.partition_key, type=_KEY_TYPE),
            sort_key=dynamodb.Attribute(name=spec.sort_key, type=_KEY_TYPE),
            billing=self._billing(capacity, max_throughput),
            global_secondary_indexes=[self._gsi(g, capacity, max_throughput) for g in spec.gsis],
            time_to_live_attribute=spec.ttl_attribute,
            point_in_time_recovery_specification=pitr,
            contributor_insights_specification=insights,
            encryption=(
                dynamodb.TableEncryptionV2.customer_managed_key(encryption_key,
                                                                 replica_key_arns=keys_by_region or None)
                if encryption_key is not None
                else dynamodb.TableEncryptionV2.aws_managed_key()
            ),
            deletion_protection=deletion_protection,
            removal_policy=removal_policy,
            replicas=[dynamodb.ReplicaTableProps(region=r) for r in regions] or None,
            multi_region_consistency=dynamodb.MultiRegionConsistency.EVENTUAL if regions else None,
        )

    @staticmethod
    def _billing(capacity: ProvisionedCapacity | None, max_throughput: MaxThroughput | None) -> dynamodb.Billing:
        if capacity is None:
            return dynamodb.Billing.on_demand(
                max_read_request_units=max_throughput.read_request_units if max_throughput else None,
                max_write_request_units=max_throughput.write_request_units if max_throughput else None,
            )
        target = capacity.target_utilization_percent
        return dynamodb.Billing.provisioned(
            read_capacity=dynamodb.Capacity.autoscaled(min_capacity=capacity.read_min, max_capacity=capacity.read_max,
                                                       target_utilization_percent=target),
            write_capacity=dynamodb.Capacity.autoscaled(min_capacity=capacity.write_min,
                                                        max_capacity=capacity.write_max,
                                                        target_utilization_percent=target),
        )

    @staticmethod
    def _gsi(gsi: GsiSpec, capacity: ProvisionedCapacity | None,
             max_throughput: MaxThroughput | None) -> dynamodb.GlobalSecondaryIndexPropsV2:
        target = capacity.target_utilization_percent if capacity else None
        return dynamodb.GlobalSecondaryIndexPropsV2(
            index_name=gsi.name,
            partition_key=dynamodb.Attribute(name=gsi.partition_key, type=_KEY_TYPE),
            sort_key=dynamodb.Attribute(name=gsi.sort_key, type=_KEY_TYPE),
            projection_type=_PROJECTIONS[gsi.projection],
            non_key_attributes=list(gsi.non_key_attributes) or None,
            read_capacity=dynamodb.Capacity.autoscaled(min_capacity=capacity.read_min,
                                                       max_capacity=capacity.read_max,
                                                       target_utilization_percent=target) if capacity else None,
            write_capacity=dynamodb.Capacity.autoscaled(min_capacity=capacity.write_min,
                                                        max_capacity=capacity.write_max,
                                                        target_utilization_percent=target) if capacity else None,
            max_read_request_units=max_throughput.read_request_units if max_throughput else None,
            max_write_request_units=max_throughput.write_request_units if max_throughput else None,
        )

    @property
    def table_name(self) -> str:
        return self.table.table_name

    @property
    def table_arn(self) -> str:
        return self.table.table_arn

    @property
    def index_arns(self) -> str:
        """``<table ARN>/index/*``: the table's GSIs (Query on an index is authorized on the index ARN)."""
        return f"{self.table.table_arn}/index/*"

    def _logical_id_prefix(self) -> str:
        """The human part of the table's CloudFormation logical id (CDK appends an 8-hex-digit hash), so the
        cdk-nag acknowledgement below matches this table's index wildcard and no other."""
        scopes = self.table.node.scopes[len(Stack.of(self).node.scopes):]
        parts = [s.node.id for s in scopes if s.node.id not in {"Default", "Resource"}]
        return "".join(re.sub(r"[^A-Za-z0-9]", "", part) for part in parts)

    def grant_storage_access(self, grantee: iam.IGrantable) -> iam.Grant:
        """Grant ``grantee`` exactly :data:`STORAGE_ACTIONS` on the table and its indexes (in the same stack or a
        stack of the same app; across stacks prefer :class:`~infra.components.StorageParameters`, which avoids
        CloudFormation exports).

        With a customer-managed key, also grants encrypt/decrypt on that key (DynamoDB uses it on the caller's
        behalf). No Scan, no table-level administrative actions, no ``*`` resource.
        """
        return grant_storage_access(
            grantee,
            table_arn=self.table_arn,
            index_wildcard_pattern=rf"<{self._logical_id_prefix()}[0-9A-F]{{8}}\.Arn>",
            encryption_key=self.encryption_key,
        )


def grant_storage_access(grantee: iam.IGrantable, *, table_arn: str, index_wildcard_pattern: str,
                         encryption_key: kms.IKey | None = None) -> iam.Grant:
    """Grant ``grantee`` exactly :data:`STORAGE_ACTIONS` on ``table_arn`` and ``<table_arn>/index/*``.

    ``index_wildcard_pattern`` is the regular expression cdk-nag sees for ``table_arn`` in the policy (e.g.
    ``<MyTable1A2B3C4D\\.Arn>`` or ``<MastraTableArn>`` for a parameter), so the acknowledged ``/index/*``
    wildcard is this table's and no other. With ``encryption_key``, also encrypt/decrypt on that one key.
    """
    grant = iam.Grant.add_to_principal(
        grantee=grantee,
        actions=list(STORAGE_ACTIONS),
        resource_arns=[table_arn, f"{table_arn}/index/*"],
    )
    suppressions = [
        NagPackSuppression(
            id="AwsSolutions-IAM5",
            reason="Query on a GSI is authorized on the index ARN; '<table ARN>/index/*' covers exactly this "
            "table's indexes (derived from TABLE_SPEC), never another table.",
            applies_to=[RegexAppliesTo(regex=rf"/^Resource::{index_wildcard_pattern}\/index\/\*$/g")],
        )
    ]
    if encryption_key is not None:
        encryption_key.grant_encrypt_decrypt(grantee)
        suppressions.append(
            NagPackSuppression(
                id="AwsSolutions-IAM5",
                reason="DynamoDB encrypts and decrypts with the table's customer-managed key on the caller's "
                "behalf; CDK's encrypt/decrypt set (GenerateDataKey*, ReEncrypt*) is scoped to that one key ARN.",
                applies_to=["Action::kms:GenerateDataKey*", "Action::kms:ReEncrypt*"],
            )
        )
    principal = grantee.grant_principal
    if isinstance(principal, Construct):
        NagSuppressions.add_resource_suppressions(principal, suppressions, apply_to_children=True)
    return grant
