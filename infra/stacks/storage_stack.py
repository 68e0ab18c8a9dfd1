"""StorageStack: the mastra-dynamo table (and, optionally, its customer-managed KMS key) with outputs."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, RemovalPolicy, Stack
from aws_cdk import aws_kms as kms
from constructs import Construct

from infra.components.storage_table import MastraStorageTable, ProvisionedCapacity


class StorageStack(Stack):
    """The table. Exposes ``storage`` (the :class:`MastraStorageTable`) for other stacks to grant against.

    Args:
        table_name: physical table name, or None for a generated one (see the ``TableName`` output).
        capacity: None for on-demand billing, else provisioned with autoscaling.
        customer_managed_key: encrypt with a customer-managed KMS key (created here with rotation on, unless
            ``kms_key_arn`` names an existing one); False uses the AWS-managed key.
        kms_key_arn: an existing key to use (implies customer-managed encryption).
        point_in_time_recovery / deletion_protection / removal_policy: see :class:`MastraStorageTable`.
        **kwargs: passed to ``Stack`` (env, stack_name, description, termination_protection, ...).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        table_name: str | None = None,
        capacity: ProvisionedCapacity | None = None,
        customer_managed_key: bool = False,
        kms_key_arn: str | None = None,
        point_in_time_recovery: bool = True,
        deletion_protection: bool = True,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        key: kms.IKey | None = None
        if kms_key_arn:
            key = kms.Key.from_key_arn(self, "TableKey", kms_key_arn)
        elif customer_managed_key:
            key = kms.Key(
                self,
                "TableKey",
                description="mastra-dynamo table encryption",
                enable_key_rotation=True,
                removal_policy=RemovalPolicy.RETAIN,
            )
        self.storage = MastraStorageTable(
            self,
            "Storage",
            table_name=table_name,
            capacity=capacity,
            encryption_key=key,
            point_in_time_recovery=point_in_time_recovery,
            deletion_protection=deletion_protection,
            removal_policy=removal_policy,
        )
        CfnOutput(self, "TableName", value=self.storage.table_name,
                  description="DynamoDBStore(table_name=...) for mastra-dynamo")
        CfnOutput(self, "TableArn", value=self.storage.table_arn,
                  description="Grant the library's actions on this ARN and <ARN>/index/*")
