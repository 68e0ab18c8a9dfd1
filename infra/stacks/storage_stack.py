"""StorageStack: the mastra-dynamo table (and, optionally, its customer-managed KMS key, alarms and a backup plan)
with outputs and SSM parameters for other stacks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import CfnOutput, RemovalPolicy, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.components import parameters
from infra.components.alarms import AlarmThresholds, MastraAlarms
from infra.components.backup import MastraTableBackup
from infra.components.storage_table import MastraStorageTable, MaxThroughput, ProvisionedCapacity
from mastra_dynamo.global_table import Consistency


class StorageStack(Stack):
    """The table. Exposes ``storage`` (the :class:`MastraStorageTable`), ``alarms`` and ``backup`` (or None) and
    ``parameter_prefix`` (where the table's name and ARN are published for other stacks).

    Args:
        table_name: physical table name, or None for a generated one (see the ``TableName`` output).
        capacity: None for on-demand billing, else provisioned with autoscaling.
        max_throughput: on-demand cost ceiling (requests per second) for the table and every GSI.
        customer_managed_key: encrypt with a customer-managed KMS key (created here with rotation on, unless
            ``kms_key_arn`` names an existing one); False uses the AWS-managed key.
        kms_key_arn: an existing key to use (implies customer-managed encryption).
        replica_key_arns: customer-managed key ARN per replica Region (global table with a customer key).
        point_in_time_recovery / deletion_protection / removal_policy: see :class:`MastraStorageTable`.
        replica_regions / consistency / contributor_insights: see :class:`MastraStorageTable`.
        alarms: thresholds for :class:`MastraAlarms` on the table; None for no alarms.
        alarm_topic_arn: an existing SNS topic for the alarms; None creates one.
        backup_daily_days / backup_weekly_weeks: an AWS Backup plan with these retentions; both None for none.
        parameter_prefix: SSM parameter path for the table's name/ARN (default ``/mastra-dynamo/<stack name>``).
        **kwargs: passed to ``Stack`` (env, stack_name, description, termination_protection, ...).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        table_name: str | None = None,
        capacity: ProvisionedCapacity | None = None,
        max_throughput: MaxThroughput | None = None,
        customer_managed_key: bool = False,
        kms_key_arn: str | None = None,
        replica_key_arns: Mapping[str, str] | None = None,
        point_in_time_recovery: bool = True,
        deletion_protection: bool = True,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        replica_regions: Sequence[str] = (),
        consistency: Consistency = "eventual",
        contributor_insights: bool = False,
        alarms: AlarmThresholds | None = None,
        alarm_topic_arn: str | None = None,
        backup_daily_days: int | None = None,
        backup_weekly_weeks: int | None = None,
        parameter_prefix: str | None = None,
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
            max_throughput=max_throughput,
            encryption_key=key,
            replica_key_arns=replica_key_arns,
            point_in_time_recovery=point_in_time_recovery,
            deletion_protection=deletion_protection,
            removal_policy=removal_policy,
            replica_regions=replica_regions,
            consistency=consistency,
            contributor_insights=contributor_insights,
        )
        self.parameter_prefix = parameter_prefix or parameters.default_prefix(self.stack_name)
        self.alarms: MastraAlarms | None = None
        published = parameters.publish_storage(self, self.storage, self.parameter_prefix)
        if alarms is not None:
            topic = sns.Topic.from_topic_arn(self, "AlarmTopic", alarm_topic_arn) if alarm_topic_arn else None
            self.alarms = MastraAlarms(self, "Alarms", table=self.storage.table, topic=topic, thresholds=alarms,
                                       replica_regions=self.storage.replica_regions)
            published |= parameters.publish(self, self.parameter_prefix,
                                            {parameters.ALARM_TOPIC_ARN: self.alarms.topic.topic_arn})
            CfnOutput(self, "AlarmTopicArn", value=self.alarms.topic.topic_arn,
                      description="Subscribe to this SNS topic for the table's alarms")
        self.backup: MastraTableBackup | None = None
        if backup_daily_days is not None or backup_weekly_weeks is not None:
            self.backup = MastraTableBackup(self, "Backup", table_arn=self.storage.table_arn,
                                            daily_retention_days=backup_daily_days,
                                            weekly_retention_weeks=backup_weekly_weeks)
        self.parameters = published
        CfnOutput(self, "TableName", value=self.storage.table_name,
                  description="DynamoDBStore(table_name=...) for mastra-dynamo")
        CfnOutput(self, "TableArn", value=self.storage.table_arn,
                  description="Grant the library's actions on this ARN and <ARN>/index/*")
        CfnOutput(self, "ParameterPrefix", value=self.parameter_prefix,
                  description="SSM parameters with the table's name and ARN, for other stacks and tools")
