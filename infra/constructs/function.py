"""The one Lambda factory: every lenslog function is built here, so runtime, architecture,
logging, tracing, Powertools settings, layers, environment, permissions to its own log group,
encryption (log group and environment with the stack's key), reserved concurrency, where failed
asynchronous events go, and alarms are the same everywhere."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.deployment import POWERTOOLS_METRICS_NAMESPACE
from infra.nag import acknowledge, skip_checkov
from infra.permissions import allow
from lenslog.settings import Settings

FUNCTIONS_DIR = Path(__file__).resolve().parents[2] / "functions"
RUNTIME = lambda_.Runtime.PYTHON_3_13
HANDLER = "handler.handler"
LOG_LEVEL = "INFO"
# CloudWatch Logs accepts these retentions only; a log group keeps the longest that is not longer
# than the config's shortest retention (infra.deployment.Deployment.log_days).
_RETENTIONS = sorted(
    (
        (1, logs.RetentionDays.ONE_DAY), (3, logs.RetentionDays.THREE_DAYS),
        (5, logs.RetentionDays.FIVE_DAYS), (7, logs.RetentionDays.ONE_WEEK),
        (14, logs.RetentionDays.TWO_WEEKS), (30, logs.RetentionDays.ONE_MONTH),
        (60, logs.RetentionDays.TWO_MONTHS), (90, logs.RetentionDays.THREE_MONTHS),
        (120, logs.RetentionDays.FOUR_MONTHS), (150, logs.RetentionDays.FIVE_MONTHS),
        (180, logs.RetentionDays.SIX_MONTHS), (365, logs.RetentionDays.ONE_YEAR),
    ),
    key=lambda r: r[0],
)  # fmt: skip


def log_retention(days: int) -> logs.RetentionDays:
    """The longest CloudWatch retention that is at most ``days`` (one day at least)."""
    return [r for d, r in _RETENTIONS if d <= max(days, 1)][-1]


# Why no lenslog function runs in a VPC (checkov CKV_AWS_117).
NO_VPC_REASON = (
    "reaches only AWS APIs (S3, DynamoDB, SQS, KMS, SES, X-Ray, CloudWatch) over TLS with SigV4 and "
    "least-privilege IAM, and no private resource; a VPC would add NAT or seven interface endpoints "
    "per cell for no data path it does not already have"
)
ARCHITECTURES = {"arm64": lambda_.Architecture.ARM_64, "x86_64": lambda_.Architecture.X86_64}
_ASSET_EXCLUDE = ["__pycache__", "*.pyc", ".gitkeep", "tests"]


def powertools_env(service: str) -> dict[str, str]:
    return {
        "POWERTOOLS_SERVICE_NAME": service,
        "POWERTOOLS_METRICS_NAMESPACE": POWERTOOLS_METRICS_NAMESPACE,
        "LOG_LEVEL": LOG_LEVEL,
    }


DEAD_LETTER_RETENTION = Duration.days(14)


def dead_letter_queue(scope: Construct, id: str, *, queue_name: str, key: kms.IKey) -> sqs.Queue:
    """Where a function invoked asynchronously (a schedule, an event) sends an event that failed
    Lambda's retries: encrypted with the stack's key, TLS-only, kept 14 days."""
    queue = sqs.Queue(
        scope,
        id,
        queue_name=queue_name,
        encryption=sqs.QueueEncryption.KMS,
        encryption_master_key=key,
        enforce_ssl=True,
        retention_period=DEAD_LETTER_RETENTION,
    )
    acknowledge(
        queue,
        "AwsSolutions-SQS3",
        "this queue is a dead-letter queue itself: a function's failed asynchronous invocations",
    )
    return queue


class LensFunction(Construct):
    """A function of ``functions/<name>`` (entry ``handler.handler``) with its role, log group and
    error and throttle alarms. Data permissions are granted by the capability that uses it.

    ``key`` (the stack's key) encrypts its log group and its environment. ``reserved_concurrency``
    is required: every function is sized (config ``[scaling]``). A function invoked asynchronously
    gets a ``dead_letter_queue`` (encrypted with ``key``); one invoked synchronously says why it
    has none in ``no_dlq_reason``."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        function_name: str,
        description: str,
        settings: Settings,
        architecture: str,
        layers: list[lambda_.ILayerVersion],
        alarm_topic: sns.ITopic,
        log_days: int,
        key: kms.IKey,
        reserved_concurrency: int,
        dead_letter_queue: sqs.IQueue | None = None,
        no_dlq_reason: str | None = None,
        memory_size: int = 512,
        timeout: Duration = Duration.seconds(30),
    ) -> None:
        super().__init__(scope, id)
        if (dead_letter_queue is None) == (no_dlq_reason is None):
            raise ValueError(f"{function_name}: give exactly one of dead_letter_queue and no_dlq_reason")
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"/aws/lambda/{function_name}",
            retention=log_retention(log_days),
            encryption_key=key,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{function_name}: least privilege, granted per capability",
        )
        # Instead of the AWSLambdaBasicExecutionRole managed policy: its own log group only.
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            )
        )
        allow(
            self.role,
            sid="StackKey",
            actions=["kms:Decrypt", *(["kms:GenerateDataKey"] if dead_letter_queue else [])],
            resources=[key.key_arn],
            reason="the stack key encrypts this function's environment"
            + (" and its dead-letter queue" if dead_letter_queue else ""),
        )
        self.environment = {**settings.to_env(), **powertools_env(name)}
        self.function = lambda_.Function(
            self,
            "Function",
            function_name=function_name,
            description=description,
            runtime=RUNTIME,
            architecture=ARCHITECTURES[architecture],
            handler=HANDLER,
            code=lambda_.Code.from_asset(str(FUNCTIONS_DIR / name), exclude=_ASSET_EXCLUDE),
            layers=layers,
            environment=self.environment,
            environment_encryption=key,
            reserved_concurrent_executions=reserved_concurrency,
            memory_size=memory_size,
            timeout=timeout,
            tracing=lambda_.Tracing.ACTIVE,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
            log_group=self.log_group,
            role=self.role,
        )
        acknowledge(
            self.function,
            "AwsSolutions-L1",
            "pinned to python3.13: the native wheels of the deps layer (numpy, Pillow) are built for it",
        )
        acknowledge(
            self.role,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions",
        )
        skip_checkov(self.function, "CKV_AWS_117", f"{function_name} {NO_VPC_REASON}")
        action = cw_actions.SnsAction(alarm_topic)
        self.alarms = [
            self._alarm("Errors", self.function.metric_errors(period=Duration.minutes(5)), action),
            self._alarm("Throttles", self.function.metric_throttles(period=Duration.minutes(5)), action),
        ]
        if dead_letter_queue is None:
            skip_checkov(self.function, "CKV_AWS_116", f"{function_name} {no_dlq_reason}")
        else:
            self._dead_letters(dead_letter_queue, action)

    def _dead_letters(self, queue: sqs.IQueue, action: cw_actions.SnsAction) -> None:
        """Asynchronous events that failed every retry go to ``queue`` (granted here with explicit
        actions, not CDK's grant, whose KMS actions are wildcards), and raise an alarm."""
        cfn = self.function.node.default_child
        assert isinstance(cfn, lambda_.CfnFunction)
        cfn.dead_letter_config = lambda_.CfnFunction.DeadLetterConfigProperty(target_arn=queue.queue_arn)
        allow(
            self.role,
            sid="DeadLetters",
            actions=["sqs:SendMessage"],
            resources=[queue.queue_arn],
            reason="Lambda sends an asynchronous event that failed every retry to the dead-letter queue",
        )
        self.alarms.append(
            self._alarm(
                "DeadLetters",
                queue.metric_approximate_number_of_messages_visible(period=Duration.minutes(5)),
                action,
            )
        )

    def _alarm(self, id: str, metric: cloudwatch.Metric, action: cw_actions.SnsAction) -> cloudwatch.Alarm:
        alarm = metric.create_alarm(
            self,
            f"{id}Alarm",
            alarm_description=f"{self.function.function_name}: {id.lower()} in the last 5 minutes",
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        alarm.add_alarm_action(action)
        return alarm
