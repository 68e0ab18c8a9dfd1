"""MastraStorageTable: the one DynamoDB table of mastra-dynamo, derived from ``TABLE_SPEC``.

Keys, every GSI (keys + projection) and the TTL attribute come from :data:`mastra_dynamo.schema.TABLE_SPEC`,
the same spec ``DynamoDBStore.create_table()`` and ``DynamoDBStore.init()`` use, so the provisioned table and
the library cannot drift apart. Secure defaults: on-demand billing, point-in-time recovery, server-side
encryption (AWS-managed key unless a customer key is given), deletion protection and a RETAIN removal policy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from cdk_nag import NagPackSuppression, NagSuppressions, RegexAppliesTo
from constructs import Construct

from mastra_dynamo.schema import TABLE_SPEC, TableSpec

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


class MastraStorageTable(Construct):
    """The table of mastra-dynamo. Exposes ``table`` (and ``encryption_key`` when customer-managed).

    Args:
        scope: parent construct.
        id: construct id.
        spec: the table layout; default :data:`TABLE_SPEC` (what the library expects: change only with it).
        table_name: physical name; ``None`` lets CloudFormation generate one (read it from the stack output).
        capacity: ``None`` for on-demand billing; a :class:`ProvisionedCapacity` for provisioned billing with
            autoscaling on the table and every GSI.
        encryption_key: a customer-managed KMS key; ``None`` uses the AWS-managed key (``aws/dynamodb``).
        point_in_time_recovery: continuous backups (default on).
        deletion_protection: refuse DeleteTable (default on).
        removal_policy: what CloudFormation does when the resource leaves the stack (default RETAIN).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        spec: TableSpec = TABLE_SPEC,
        table_name: str | None = None,
        capacity: ProvisionedCapacity | None = None,
        encryption_key: kms.IKey | None = None,
        point_in_time_recovery: bool = True,
        deletion_protection: bool = True,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, id)
        self.spec = spec
        self.encryption_key = encryption_key
        provisioned = capacity is not None
        self.table = dynamodb.Table(
            self,
            "Table",
            table_name=table_name,
            partition_key=dynamodb.Attribute(name=spec.partition_key, type=_KEY_TYPE),
            sort_key=dynamodb.Attribute(name=spec.sort_key, type=_KEY_TYPE),
            billing_mode=dynamodb.BillingMode.PROVISIONED if provisioned else dynamodb.BillingMode.PAY_PER_REQUEST,
            read_capacity=capacity.read_min if capacity else None,
            write_capacity=capacity.write_min if capacity else None,
            time_to_live_attribute=spec.ttl_attribute,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=point_in_time_recovery
            ),
            encryption=(
                dynamodb.TableEncryption.CUSTOMER_MANAGED if encryption_key else dynamodb.TableEncryption.AWS_MANAGED
            ),
            encryption_key=encryption_key,
            deletion_protection=deletion_protection,
            removal_policy=removal_policy,
        )
        for gsi in spec.gsis:
            if gsi.projection == "INCLUDE" and not gsi.non_key_attributes:
                raise ValueError(f"index {gsi.name!r}: INCLUDE projections need non-key attributes in TableSpec")
            self.table.add_global_secondary_index(
                index_name=gsi.name,
                partition_key=dynamodb.Attribute(name=gsi.partition_key, type=_KEY_TYPE),
                sort_key=dynamodb.Attribute(name=gsi.sort_key, type=_KEY_TYPE),
                projection_type=_PROJECTIONS[gsi.projection],
                non_key_attributes=list(gsi.non_key_attributes) or None,
                read_capacity=capacity.read_min if capacity else None,
                write_capacity=capacity.write_min if capacity else None,
            )
        if capacity is not None:
            self._autoscale(capacity)

    def _autoscale(self, capacity: ProvisionedCapacity) -> None:
        target = capacity.target_utilization_percent
        self.table.auto_scale_read_capacity(
            min_capacity=capacity.read_min, max_capacity=capacity.read_max
        ).scale_on_utilization(target_utilization_percent=target)
        self.table.auto_scale_write_capacity(
            min_capacity=capacity.write_min, max_capacity=capacity.write_max
        ).scale_on_utilization(target_utilization_percent=target)
        for gsi in self.spec.gsis:
            self.table.auto_scale_global_secondary_index_read_capacity(
                gsi.name, min_capacity=capacity.read_min, max_capacity=capacity.read_max
            ).scale_on_utilization(target_utilization_percent=target)
            self.table.auto_scale_global_secondary_index_write_capacity(
                gsi.name, min_capacity=capacity.write_min, max_capacity=capacity.write_max
            ).scale_on_utilization(target_utilization_percent=target)

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
        """Grant ``grantee`` exactly :data:`STORAGE_ACTIONS` on the table and its indexes.

        With a customer-managed key, also grants encrypt/decrypt on that key (DynamoDB uses it on the caller's
        behalf). No Scan, no table-level administrative actions, no ``*`` resource.
        """
        grant = iam.Grant.add_to_principal(
            grantee=grantee,
            actions=list(STORAGE_ACTIONS),
            resource_arns=[self.table_arn, self.index_arns],
        )
        suppressions = [
            NagPackSuppression(
                id="AwsSolutions-IAM5",
                reason="Query on a GSI is authorized on the index ARN; '<table ARN>/index/*' covers exactly this "
                "table's indexes (derived from TABLE_SPEC), never another table.",
                applies_to=[RegexAppliesTo(regex=rf"/^Resource::<{self._logical_id_prefix()}[0-9A-F]{{8}}\.Arn>"
                                                 r"\/index\/\*$/g")],
            )
        ]
        if self.encryption_key is not None:
            self.encryption_key.grant_encrypt_decrypt(grantee)
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
