"""A cell's DynamoDB table, built from the single-table layout in ``lenslog.adapters.schema``."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from constructs import Construct

from lenslog.adapters import schema

_KEY_TYPES = {"HASH": "partition_key", "RANGE": "sort_key"}


def _key_schema(key_schema: list[dict]) -> dict[str, dynamodb.Attribute]:
    return {
        _KEY_TYPES[k["KeyType"]]: dynamodb.Attribute(
            name=k["AttributeName"], type=dynamodb.AttributeType.STRING
        )
        for k in key_schema
    }


class CellTable(Construct):
    """On-demand, point-in-time recovery, customer-managed KMS, TTL on ``expires_at``; the
    global indexes the API queries come from the shared schema."""

    def __init__(self, scope: Construct, id: str, *, table_name: str, key: kms.IKey) -> None:
        super().__init__(scope, id)
        spec = schema.create_table_kwargs(table_name)
        self.table = dynamodb.Table(
            self,
            "Table",
            table_name=spec["TableName"],
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            **_key_schema(spec["KeySchema"]),
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=schema.TTL_ATTRIBUTE,
            removal_policy=RemovalPolicy.RETAIN,
        )
        for gsi in spec["GlobalSecondaryIndexes"]:
            self.table.add_global_secondary_index(
                index_name=gsi["IndexName"],
                **_key_schema(gsi["KeySchema"]),
                projection_type=dynamodb.ProjectionType[gsi["Projection"]["ProjectionType"]],
            )
