"""MastraAlarms: CloudWatch alarms on the table and, optionally, on the example function, to one SNS topic.

Table alarms (metrics of the stack's Region; a replica's metrics are in its own Region):

* throttled requests and system errors, summed over every operation the library sends;
* user errors: DynamoDB publishes ``UserErrors`` per account and Region, not per table, so this alarm also counts
  other tables' bad requests;
* consumed read / write capacity against a budget (units per second, averaged over the period), when one is given;
* conditional check failures per minute: the library's compare-and-set writes fail a condition when they lose a
  race and then re-read (normal in small numbers); a sustained rate means heavy contention on a few items or
  writers of one tenant in two Regions of a global table (docs/deployment.md);
* for a global table, the replication latency to each replica Region (published in the stack's Region): the
  routing rule of docs/deployment.md waits for it before moving a tenant's home Region.

Function alarms: errors (the handler answers storage errors itself, so an error is a crash or a timeout) and the
p99 duration against a share of the function's timeout.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import Construct

LIBRARY_OPERATIONS = (
    dynamodb.Operation.GET_ITEM,
    dynamodb.Operation.PUT_ITEM,
    dynamodb.Operation.UPDATE_ITEM,
    dynamodb.Operation.DELETE_ITEM,
    dynamodb.Operation.QUERY,
    dynamodb.Operation.BATCH_GET_ITEM,
    dynamodb.Operation.BATCH_WRITE_ITEM,
    dynamodb.Operation.TRANSACT_WRITE_ITEMS,
)
"""The data-plane operations the library sends (CloudWatch's ``Operation`` dimension)."""


@dataclass(frozen=True, kw_only=True)
class AlarmThresholds:
    """When each alarm fires; every count is per period (``period_minutes``)."""

    period_minutes: int = 5
    throttled_requests: int = 1
    system_errors: int = 1
    user_errors: int = 10
    conditional_check_failures_per_minute: float = 120.0
    read_units_per_second: float | None = None
    """Budget of consumed read capacity (RCU per second, average over the period); None: no alarm."""
    write_units_per_second: float | None = None
    """Budget of consumed write capacity (WCU per second, average over the period); None: no alarm."""
    replication_latency_ms: float = 60_000.0
    """Maximum replication latency to a replica Region (milliseconds) before the replication alarm fires."""
    function_errors: int = 1
    function_duration_share: float = 0.8
    """p99 duration above this share of the function's timeout raises the duration alarm."""

    @property
    def period(self) -> Duration:
        return Duration.minutes(self.period_minutes)

    def __post_init__(self) -> None:
        if not 1 <= self.period_minutes <= 1440:
            raise ValueError("period_minutes must be within 1..1440")
        if not 0 < self.function_duration_share <= 1:
            raise ValueError("function_duration_share must be within (0, 1]")
        for name in ("read_units_per_second", "write_units_per_second"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive")


class MastraAlarms(Construct):
    """Alarms for the table (``table=``) and/or the example function (``function=``), published to ``topic``
    (created here when not given). Exposes ``topic`` and ``alarms`` (name -> alarm).

    Args:
        table: the table to watch (its metrics in the stack's Region).
        replica_regions: the table's other replica Regions (one replication-latency alarm each).
        function: the function to watch, with ``function_timeout``.
        topic: an existing topic; None creates one (SSL enforced; see the cdk-nag note on encryption).
        thresholds: :class:`AlarmThresholds`.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        table: dynamodb.ITableV2 | None = None,
        replica_regions: Sequence[str] = (),
        function: lambda_.IFunction | None = None,
        function_timeout: Duration | None = None,
        topic: sns.ITopic | None = None,
        thresholds: AlarmThresholds | None = None,
    ) -> None:
        super().__init__(scope, id)
        if table is None and function is None:
            raise ValueError("MastraAlarms needs a table, a function or both")
        if function is not None and function_timeout is None:
            raise ValueError("function alarms need the function's timeout (function_timeout=)")
        self.thresholds = t = thresholds or AlarmThresholds()
        if topic is None:
            created = sns.Topic(self, "Topic", display_name="mastra-dynamo alarms", enforce_ssl=True)
            NagSuppressions.add_resource_suppressions(created, [NagPackSuppression(
                id="AwsSolutions-SNS2",
                reason="CloudWatch alarms cannot publish to a topic encrypted with the AWS-managed aws/sns key, "
                "and the messages carry alarm names, metric values and the table name only, no application data. "
                "Pass your own topic encrypted with a customer-managed key (alarm topic option) if policy requires.",
            )])
            topic = created
        self.topic = topic
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        period = t.period
        seconds = period.to_seconds()
        if table is not None:
            self._alarm("ThrottledRequests", table.metric_throttled_requests_for_operations(
                operations=list(LIBRARY_OPERATIONS), period=period), t.throttled_requests,
                "DynamoDB throttled requests of the mastra-dynamo table (the library raises ThrottledError after "
                "its retries): raise the on-demand maximum or provisioned capacity, or look for a hot key")
            self._alarm("SystemErrors", table.metric_system_errors_for_operations(
                operations=list(LIBRARY_OPERATIONS), period=period), t.system_errors,
                "DynamoDB 5xx answers for the mastra-dynamo table (RetryableError when retries run out)")
            self._alarm("UserErrors", table.metric_user_errors(period=period, statistic="Sum"), t.user_errors,
                        "DynamoDB 4xx answers in this account and Region (all tables): validation errors, "
                        "missing permissions, ...")
            ccf = table.metric_conditional_check_failed_requests(period=period, statistic="Sum")
            self._alarm("ConditionalCheckFailures", cloudwatch.MathExpression(
                expression=f"ccf / {seconds / 60:g}", using_metrics={"ccf": ccf}, period=period,
                label="conditional check failures per minute"), t.conditional_check_failures_per_minute,
                "Sustained conditional check failures: contention on few items, or writers of one tenant in two "
                "Regions of a global table (see docs/deployment.md)", at_least=False)
            for region in replica_regions:
                latency = cloudwatch.Metric(
                    namespace="AWS/DynamoDB", metric_name="ReplicationLatency",
                    dimensions_map={"TableName": table.table_name, "ReceivingRegion": region},
                    statistic="Maximum", period=period)
                self._alarm(f"ReplicationLatency-{region}", latency, t.replication_latency_ms,
                            f"Replication to {region} lags: writes of a tenant moved there now could be "
                            "overwritten by older ones still in flight (docs/deployment.md)", at_least=False)
            if t.read_units_per_second is not None:
                self._alarm("ReadCapacityBudget", cloudwatch.MathExpression(
                    expression=f"rcu / {seconds:g}", using_metrics={
                        "rcu": table.metric_consumed_read_capacity_units(period=period, statistic="Sum")},
                    period=period, label="consumed RCU per second"), t.read_units_per_second,
                    "Consumed read capacity above the budget", at_least=False)
            if t.write_units_per_second is not None:
                self._alarm("WriteCapacityBudget", cloudwatch.MathExpression(
                    expression=f"wcu / {seconds:g}", using_metrics={
                        "wcu": table.metric_consumed_write_capacity_units(period=period, statistic="Sum")},
                    period=period, label="consumed WCU per second"), t.write_units_per_second,
                    "Consumed write capacity above the budget", at_least=False)
        if function is not None and function_timeout is not None:
            self._alarm("FunctionErrors", function.metric_errors(period=period, statistic="Sum"),
                        t.function_errors, "Invocation errors of the memory API function (crashes and timeouts; "
                        "storage errors are answered, not raised)")
            limit_ms = function_timeout.to_milliseconds() * t.function_duration_share
            self._alarm("FunctionDuration", function.metric_duration(period=period, statistic="p99"), limit_ms,
                        f"p99 duration above {t.function_duration_share:.0%} of the function's timeout",
                        at_least=False)

    def _alarm(self, name: str, metric: cloudwatch.IMetric, threshold: float, description: str, *,
               at_least: bool = True) -> None:
        alarm = cloudwatch.Alarm(
            self,
            name,
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=(cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD if at_least
                                 else cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD),
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        alarm.add_ok_action(actions.SnsAction(self.topic))
        self.alarms[name] = alarm
