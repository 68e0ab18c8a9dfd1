"""MemoryApiFunction: the example Lambda (``infra/handler/memory_api.py``) with its own role and log group.

The construct owns only what the function needs to run (role, log group, dependency layer) and a function URL
with ``AWS_IAM`` authentication: the handler takes the caller's identity from the request's authorizer context
(the signing IAM principal), never from the body. Access to the table is wired by the parent stack
(``grant_storage_access``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import Construct

from infra.packaging import DEFAULT_PYTHON

HANDLER = "memory_api.handler"
TABLE_ENV = "MASTRA_TABLE_NAME"
TTL_ENV = "MASTRA_TTL"
TIMEOUT_ENV = "MASTRA_FUNCTION_TIMEOUT_SECONDS"
"""The function's timeout, from which the handler derives its DynamoDB client's timeouts and attempts."""
DEFAULT_TIMEOUT = Duration.seconds(10)
RUNTIMES = {
    "3.11": lambda_.Runtime.PYTHON_3_11,
    "3.12": lambda_.Runtime.PYTHON_3_12,
    "3.13": lambda_.Runtime.PYTHON_3_13,
}
"""Lambda runtime per Python version the library supports (``requires-python``)."""
RUNTIME = RUNTIMES[DEFAULT_PYTHON]
"""The default runtime (``mastra:lambdaPython``'s default)."""
_LAYER_CONTENT = {
    False: " (constraints/lock.txt; boto3/botocore from the runtime)",
    True: " (constraints/lock.txt, with boto3/botocore)",
    None: "",
}


class MemoryApiFunction(Construct):
    """The memory-domain Lambda. Exposes ``function``, ``role``, ``log_group``, ``dependencies`` (layer), ``url``
    (function URL, IAM auth) and ``timeout``.

    Args:
        scope: parent construct.
        id: construct id.
        python_version: Python of the runtime (a key of ``RUNTIMES``); the layer must hold builds for it.
        code_dir: staged function code (``infra.packaging.stage_function_code``).
        dependencies_dir: staged layer directory with ``python/`` (``infra.packaging.stage_dependencies`` or
            a ``pip install --target DIR/python --platform ...`` build).
        bundles_sdk: whether that layer holds boto3/botocore (``infra.packaging.stage_dependencies``'s
            ``include_boto``) or leaves them to the runtime; None when unknown. Goes into the layer's description.
        table_name: the table, passed to the handler as ``MASTRA_TABLE_NAME``.
        ttl_config: per-entity retention (Mastra's shape), passed as JSON in ``MASTRA_TTL``; None keeps items.
        memory_size: MiB (CPU scales with it, which also shortens the cold start).
        timeout: per invocation (default 10 s); also passed as ``MASTRA_FUNCTION_TIMEOUT_SECONDS``.
        log_retention: of the function's log group.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        python_version: str = DEFAULT_PYTHON,
        code_dir: Path,
        dependencies_dir: Path,
        bundles_sdk: bool | None = False,
        table_name: str,
        ttl_config: Mapping[str, Any] | None = None,
        memory_size: int = 512,
        timeout: Duration | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH,
    ) -> None:
        super().__init__(scope, id)
        if python_version not in RUNTIMES:
            raise ValueError(f"python_version {python_version!r}: expected one of {', '.join(RUNTIMES)}")
        runtime = RUNTIMES[python_version]
        self.log_group = logs.LogGroup(self, "Logs", retention=log_retention)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="mastra-dynamo memory API function: its log group and the storage table only",
        )
        self.log_group.grant_write(self.role)  # the log group's ARN attribute already ends in ':*' (its streams)
        self.dependencies = lambda_.LayerVersion(
            self,
            "Dependencies",
            code=lambda_.Code.from_asset(str(dependencies_dir)),
            compatible_runtimes=[runtime],
            compatible_architectures=[lambda_.Architecture.X86_64],
            description=f"mastra-dynamo runtime dependencies for python{python_version}" + _LAYER_CONTENT[bundles_sdk],
        )
        self.timeout = timeout or DEFAULT_TIMEOUT
        environment = {TABLE_ENV: table_name, TIMEOUT_ENV: str(int(self.timeout.to_seconds()))}
        if ttl_config:
            environment[TTL_ENV] = json.dumps(dict(ttl_config), sort_keys=True, separators=(",", ":"))
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=runtime,
            architecture=lambda_.Architecture.X86_64,
            handler=HANDLER,
            code=lambda_.Code.from_asset(str(code_dir)),
            layers=[self.dependencies],
            role=self.role,
            log_group=self.log_group,
            environment=environment,
            memory_size=memory_size,
            timeout=self.timeout,
            description="mastra-dynamo memory API (append / history)",
        )
        self.url = self.function.add_function_url(auth_type=lambda_.FunctionUrlAuthType.AWS_IAM)
        NagSuppressions.add_resource_suppressions(
            self.function,
            [
                NagPackSuppression(
                    id="AwsSolutions-L1",
                    reason="The runtime follows mastra:lambdaPython (3.11-3.13, default 3.13: the Python versions "
                    "mastra-dynamo supports) and the dependency layer holds builds for that version; move the "
                    "runtime together with the library's requires-python.",
                ),
            ],
        )
