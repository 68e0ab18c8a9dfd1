"""MemoryFunctionStack: the optional Lambda over the memory domain, wired to the table through SSM parameters."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_sns as sns
from constructs import Construct

from infra.components import parameters
from infra.components.alarms import AlarmThresholds, MastraAlarms
from infra.components.memory_function import MemoryApiFunction
from infra.components.parameters import StorageReference
from infra.packaging import DEFAULT_PYTHON


class MemoryFunctionStack(Stack):
    """The memory API function. The table comes from the SSM parameters the table stack writes (no
    CloudFormation export, so the table stack stays free to change; see ``infra.components.parameters``).

    Args:
        parameter_prefix: the table stack's SSM parameter path (``StorageStack.parameter_prefix``).
        customer_managed_key: the table is encrypted with a customer-managed key (its ARN is a parameter too).
        python_version: Python of the Lambda runtime (``3.11``-``3.13``); the staged layer must match it.
        code_dir / dependencies_dir: staged assets (see ``infra.packaging``).
        bundles_sdk: whether the layer holds boto3/botocore (``mastra:layerBoto``); None when unknown (a layer
            directory prepared by hand). Only the layer's description says it.
        ttl_config: per-entity retention for the library (Mastra's ``{entity: {enabled, defaultTtlSeconds}}``).
        timeout: the function's timeout; the handler derives its DynamoDB client's timeouts and attempts from it.
        alarms: thresholds for the function's alarms (errors, duration); they publish to the topic whose ARN
            the table stack wrote (its alarms must be on). None for no alarms.
        **kwargs: passed to ``Stack``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        parameter_prefix: str,
        customer_managed_key: bool,
        python_version: str = DEFAULT_PYTHON,
        code_dir: Path,
        dependencies_dir: Path,
        bundles_sdk: bool | None = False,
        ttl_config: Mapping[str, Any] | None = None,
        timeout: Duration | None = None,
        alarms: AlarmThresholds | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, id, **kwargs)
        self.storage = StorageReference.from_parameters(self, parameter_prefix,
                                                        customer_managed_key=customer_managed_key)
        self.api = MemoryApiFunction(
            self,
            "MemoryApi",
            python_version=python_version,
            code_dir=code_dir,
            dependencies_dir=dependencies_dir,
            bundles_sdk=bundles_sdk,
            table_name=self.storage.table_name,
            ttl_config=ttl_config,
            timeout=timeout,
        )
        self.storage.grant_storage_access(self.api.function)
        self.alarms: MastraAlarms | None = None
        if alarms is not None:
            topic_arn = parameters.read(self, "MastraAlarmTopicArn", f"{parameter_prefix}/{parameters.ALARM_TOPIC_ARN}")
            self.alarms = MastraAlarms(self, "Alarms", function=self.api.function, function_timeout=self.api.timeout,
                                       topic=sns.Topic.from_topic_arn(self, "AlarmTopic", topic_arn),
                                       thresholds=alarms)
        CfnOutput(self, "FunctionName", value=self.api.function.function_name,
                  description="The memory API function (append / history)")
        CfnOutput(self, "FunctionUrl", value=self.api.url.url,
                  description="Function URL (AWS_IAM auth: sign requests with SigV4; the caller is the IAM identity)")
