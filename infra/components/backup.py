"""MastraTableBackup: an AWS Backup plan for the table, next to point-in-time recovery.

PITR restores to any second of the last 35 days (at most); the plan keeps snapshots longer and in a vault of its
own: daily ones for ``daily_retention_days`` and weekly ones (Sunday) for ``weekly_retention_weeks``. Restores
create a new table (as with PITR): point ``DynamoDBStore(table_name=...)`` at it, or copy back with
``mastra-dynamo export`` / ``import``.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_backup as backup
from aws_cdk import aws_events as events
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import Construct


class MastraTableBackup(Construct):
    """A backup vault (RETAIN) and a plan with a daily and/or a weekly rule selecting one table by ARN.

    Exposes ``vault`` and ``plan``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        table_arn: str,
        daily_retention_days: int | None = 35,
        weekly_retention_weeks: int | None = None,
    ) -> None:
        super().__init__(scope, id)
        if daily_retention_days is None and weekly_retention_weeks is None:
            raise ValueError("a backup plan needs a daily or a weekly rule (or both)")
        if daily_retention_days is not None and daily_retention_days < 1:
            raise ValueError("daily_retention_days must be >= 1")
        if weekly_retention_weeks is not None and weekly_retention_weeks < 1:
            raise ValueError("weekly_retention_weeks must be >= 1")
        self.vault = backup.BackupVault(self, "Vault", removal_policy=RemovalPolicy.RETAIN)
        rules: list[backup.BackupPlanRule] = []
        if daily_retention_days is not None:
            rules.append(backup.BackupPlanRule(
                rule_name="Daily", backup_vault=self.vault,
                schedule_expression=events.Schedule.cron(hour="3", minute="0"),
                delete_after=Duration.days(daily_retention_days)))
        if weekly_retention_weeks is not None:
            rules.append(backup.BackupPlanRule(
                rule_name="Weekly", backup_vault=self.vault,
                schedule_expression=events.Schedule.cron(week_day="SUN", hour="4", minute="0"),
                delete_after=Duration.days(7 * weekly_retention_weeks)))
        self.plan = backup.BackupPlan(self, "Plan", backup_plan_rules=rules, backup_vault=self.vault)
        selection = self.plan.add_selection("Table", resources=[backup.BackupResource.from_arn(table_arn)])
        NagSuppressions.add_resource_suppressions(selection, [NagPackSuppression(
            id="AwsSolutions-IAM4",
            reason="The backup selection's role uses AWSBackupServiceRolePolicyForBackup, the AWS-managed policy "
            "AWS Backup documents for its service role; the selection limits the plan to this one table.",
            applies_to=["Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                        "AWSBackupServiceRolePolicyForBackup"],
        )], apply_to_children=True)
