"""The audit API of a cell: a REST API whose every method needs AWS_IAM (SigV4) authorisation,
throttled, access-logged and request-validated, proxied to the audit_api function."""

from __future__ import annotations

import json

from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.constructs.function import LensFunction, log_retention
from infra.nag import acknowledge, skip_checkov

STAGE = "v1"
# The access log names the route template (``/{proxy+}``), never the request's path or query
# string: ``/cameras/cam-01`` or ``?camera_id=cam-01`` would put a camera id in a log.
ACCESS_LOG_FORMAT = apigw.AccessLogFormat.custom(
    json.dumps(
        {
            "requestId": "$context.requestId",
            "requestTime": "$context.requestTime",
            "httpMethod": "$context.httpMethod",
            "resourcePath": "$context.resourcePath",
            "status": "$context.status",
            "protocol": "$context.protocol",
            "responseLength": "$context.responseLength",
            "ip": "$context.identity.sourceIp",
            "caller": "$context.identity.caller",
            "user": "$context.identity.user",
        }
    )
)
THROTTLING_RATE_LIMIT = 50  # requests per second, steady
THROTTLING_BURST_LIMIT = 100


class AuditApi(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        api_name: str,
        handler: LensFunction,
        log_days: int,
        key: kms.IKey,
    ) -> None:
        super().__init__(scope, id)
        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=log_retention(log_days),
            encryption_key=key,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.api = apigw.RestApi(
            self,
            "Api",
            rest_api_name=api_name,
            description="lenslog audit API: images, duplicates, cameras, decisions, reports",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            deploy_options=apigw.StageOptions(
                stage_name=STAGE,
                throttling_rate_limit=THROTTLING_RATE_LIMIT,
                throttling_burst_limit=THROTTLING_BURST_LIMIT,
                tracing_enabled=True,
                metrics_enabled=True,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=ACCESS_LOG_FORMAT,
            ),
        )
        validator = self.api.add_request_validator(
            "Validator", validate_request_parameters=True, validate_request_body=True
        )
        integration = apigw.LambdaIntegration(handler.function, proxy=True)
        for resource in (self.api.root, self.api.root.add_resource("{proxy+}")):
            resource.add_method(
                "ANY",
                integration,
                authorization_type=apigw.AuthorizationType.IAM,
                request_validator=validator,
            )

        acknowledge(
            self.api,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
            "the AWS-managed role API Gateway's account settings need to write access and execution logs",
        )
        acknowledge(
            self.api,
            "AwsSolutions-COG4",
            "the API authorises callers with AWS_IAM (SigV4), not a Cognito user pool",
        )
        skip_checkov(
            self.api.deployment_stage,
            "CKV_AWS_120",
            "no response cache: answers are per IAM caller and must reflect an erasure at once; a "
            "cache would serve erased images' records until it expired, and bills by the hour",
        )
        acknowledge(
            self.api,
            "AwsSolutions-APIG3",
            "every method requires AWS_IAM signatures and the stage is throttled: no anonymous traffic",
        )
