"""The table's name and ARN (and key ARN) between stacks through SSM parameters, not CloudFormation exports.

An export cannot change or disappear while another stack imports it, so a cross-stack reference
(``Fn::ImportValue``) locks the table stack: replacing or renaming the table, or removing the output, fails
until every importing stack is changed first. Here the table stack *writes* SSM String parameters and a consumer
stack *reads* them as CloudFormation parameters of type ``AWS::SSM::Parameter::Value<String>``, resolved at each
deployment of the consumer. The table stack stays free to change; a consumer picks a change up at its next
deployment (the app declares a deployment-order dependency only, no export).
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import CfnParameter, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from infra.components.storage_table import MastraStorageTable, grant_storage_access

TABLE_NAME = "table-name"
TABLE_ARN = "table-arn"
KEY_ARN = "key-arn"
ALARM_TOPIC_ARN = "alarm-topic-arn"


def default_prefix(storage_stack_name: str) -> str:
    return f"/mastra-dynamo/{storage_stack_name}"


def publish(scope: Construct, prefix: str, values: dict[str, str]) -> dict[str, ssm.StringParameter]:
    """One String parameter ``<prefix>/<name>`` per value (names from this module)."""
    return {
        name: ssm.StringParameter(scope, f"Parameter-{name}", parameter_name=f"{prefix}/{name}",
                                  string_value=value, description=f"mastra-dynamo: {name.replace('-', ' ')}")
        for name, value in values.items()
    }


def publish_storage(scope: Construct, storage: MastraStorageTable, prefix: str) -> dict[str, ssm.StringParameter]:
    values = {TABLE_NAME: storage.table_name, TABLE_ARN: storage.table_arn}
    if storage.encryption_key is not None:
        values[KEY_ARN] = storage.encryption_key.key_arn
    return publish(scope, prefix, values)


def read(stack: Stack, logical_id: str, name: str) -> str:
    """The value of ``name`` as a stack parameter (logical id ``logical_id``), resolved at deployment."""
    parameter = CfnParameter(stack, logical_id, type="AWS::SSM::Parameter::Value<String>", default=name,
                             description=f"SSM parameter {name} (written by the mastra-dynamo table stack)")
    return parameter.value_as_string


@dataclass(frozen=True)
class StorageReference:
    """The table as seen from another stack: name, ARN and key from SSM parameters."""

    table_name: str
    table_arn: str
    encryption_key: kms.IKey | None
    arn_logical_id: str

    @classmethod
    def from_parameters(cls, stack: Stack, prefix: str, *, customer_managed_key: bool) -> StorageReference:
        key = None
        if customer_managed_key:
            key = kms.Key.from_key_arn(stack, "MastraTableKey", read(stack, "MastraTableKeyArn", f"{prefix}/{KEY_ARN}"))
        return cls(
            table_name=read(stack, "MastraTableName", f"{prefix}/{TABLE_NAME}"),
            table_arn=read(stack, "MastraTableArn", f"{prefix}/{TABLE_ARN}"),
            encryption_key=key,
            arn_logical_id="MastraTableArn",
        )

    def grant_storage_access(self, grantee: iam.IGrantable) -> iam.Grant:
        """Exactly the library's actions on the table and its indexes (see ``STORAGE_ACTIONS``)."""
        return grant_storage_access(grantee, table_arn=self.table_arn,
                                    index_wildcard_pattern=f"<{self.arn_logical_id}>",
                                    encryption_key=self.encryption_key)
