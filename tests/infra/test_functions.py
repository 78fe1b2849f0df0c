"""Every function comes from the one factory: runtime, architecture, logs, tracing, layers,
environment equal to its settings model, the stack's key on its logs and environment, reserved
concurrency from the config, and error and throttle alarms."""

from __future__ import annotations

import pytest
from helpers import text

from infra.constructs.function import powertools_env
from lenslog.settings import Settings

pytestmark = pytest.mark.xdist_group("infra")

EXPECTED_FUNCTIONS = {
    "lenslog-cell-eu": {
        "lenslog-eu-ingest": "ingest",
        "lenslog-eu-audit-api": "audit_api",
        "lenslog-eu-snapshot": "snapshot",
        "lenslog-eu-leakage-check": "leakage_check",
    },
    "lenslog-cell-us": {
        "lenslog-us-ingest": "ingest",
        "lenslog-us-audit-api": "audit_api",
        "lenslog-us-snapshot": "snapshot",
        "lenslog-us-leakage-check": "leakage_check",
    },
    "lenslog-audit": {"lenslog-eu-audit-report": "audit_report"},
}


def _functions(s):
    return [(sid, lid, r["Properties"]) for sid, lid, r in s.resources("AWS::Lambda::Function")]


def test_every_capability_has_its_function_in_the_right_stack(synth):
    found: dict[str, dict[str, str]] = {}
    for stack_id, _, props in _functions(synth):
        found.setdefault(stack_id, {})[props["FunctionName"]] = props["Environment"]["Variables"][
            "POWERTOOLS_SERVICE_NAME"
        ]
    assert found == EXPECTED_FUNCTIONS


def test_every_function_runs_python_3_13_on_the_configured_architecture(synth, variant):
    for s, arch in ((synth, "arm64"), (variant, "x86_64")):
        assert s.config.architecture == arch
        for _, _, props in _functions(s):
            assert props["Runtime"] == "python3.13"
            assert props["Architectures"] == [arch]
            assert props["Handler"] == "handler.handler"


def test_every_function_logs_json_to_its_own_log_group_and_traces_with_xray(synth):
    for stack_id, _, props in _functions(synth):
        template = synth.templates[stack_id]
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert props["LoggingConfig"]["LogFormat"] == "JSON"
        assert props["LoggingConfig"]["ApplicationLogLevel"] == "INFO"
        group_id = props["LoggingConfig"]["LogGroup"]["Ref"]
        group = template.find_resources("AWS::Logs::LogGroup")[group_id]["Properties"]
        assert group["LogGroupName"] == f"/aws/lambda/{props['FunctionName']}"
        assert group["RetentionInDays"] > 0


def test_every_function_environment_is_its_settings_model_plus_powertools(synth, variant):
    for s in (synth, variant):
        for _, _, props in _functions(s):
            env = props["Environment"]["Variables"]
            service = env["POWERTOOLS_SERVICE_NAME"]
            settings = Settings.from_env(env)
            assert env == {**s.deployment.settings(settings.cell).to_env(), **powertools_env(service)}
            assert env["POWERTOOLS_METRICS_NAMESPACE"] == "lenslog"
            assert env["LOG_LEVEL"] == "INFO"
            # a function finds its cell's resources from the config and its settings alone
            assert settings.resources(s.config) == s.deployment.resources(settings.cell)
            assert props["FunctionName"].startswith(f"lenslog-{settings.cell}-")


def test_the_report_runs_as_the_home_cell(variant):
    (props,) = [p for sid, _, p in _functions(variant) if sid == "lenslog-audit"]
    assert Settings.from_env(props["Environment"]["Variables"]).cell == variant.config.home_cell == "us"


def test_every_function_uses_the_core_and_deps_layers_of_its_stack(synth):
    for stack_id, _, props in _functions(synth):
        layers = synth.templates[stack_id].find_resources("AWS::Lambda::LayerVersion")
        assert sorted(ref["Ref"] for ref in props["Layers"]) == sorted(layers)
        for layer in layers.values():
            assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
            assert layer["Properties"]["CompatibleArchitectures"] == [synth.config.architecture]


def test_every_function_has_an_errors_and_a_throttles_alarm_to_its_stacks_topic(synth):
    for stack_id, function_id, _ in _functions(synth):
        template = synth.templates[stack_id]
        (topic_id,) = template.find_resources("AWS::SNS::Topic")
        metrics = {
            a["Properties"]["MetricName"]
            for a in template.find_resources("AWS::CloudWatch::Alarm").values()
            if a["Properties"].get("Dimensions") == [{"Name": "FunctionName", "Value": {"Ref": function_id}}]
            and a["Properties"]["AlarmActions"] == [{"Ref": topic_id}]
        }
        assert metrics == {"Errors", "Throttles"}, function_id


def test_the_weekly_report_runs_on_the_configured_schedule(synth, variant):
    for s in (synth, variant):
        (rule,) = s.audit.find_resources("AWS::Events::Rule").values()
        assert rule["Properties"]["ScheduleExpression"] == s.config.report.schedule
        (function_id,) = s.audit.find_resources("AWS::Lambda::Function")
        assert rule["Properties"]["Targets"][0]["Arn"] == {"Fn::GetAtt": [function_id, "Arn"]}
    assert variant.config.report.schedule == "cron(30 7 ? * FRI *)"


def test_the_report_sender_is_an_ses_identity_of_the_audit_stack(synth, variant):
    for s in (synth, variant):
        (identity,) = s.audit.find_resources("AWS::SES::EmailIdentity").values()
        assert identity["Properties"]["EmailIdentity"] == s.config.report.sender


def _stack_key(template):
    (key_id,) = template.find_resources("AWS::KMS::Key")
    return {"Fn::GetAtt": [key_id, "Arn"]}


def test_every_function_reserves_the_concurrency_the_config_sizes_it_to(synth, variant):
    for s in (synth, variant):
        scaling = s.config.scaling
        expected = {
            "ingest": scaling.ingest_reserved_concurrency,
            "audit_api": scaling.api_reserved_concurrency,
            "audit_report": scaling.report_reserved_concurrency,
            "snapshot": scaling.snapshot_reserved_concurrency,
            "leakage_check": scaling.leakage_reserved_concurrency,
        }
        for _, _, props in _functions(s):
            service = props["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
            assert props["ReservedConcurrentExecutions"] == expected[service], props["FunctionName"]
    assert variant.config.scaling.ingest_reserved_concurrency == 150


def test_every_function_environment_and_log_group_are_encrypted_with_its_stacks_key(synth):
    for stack_id, _, props in _functions(synth):
        template = synth.templates[stack_id]
        key = _stack_key(template)
        assert props["KmsKeyArn"] == key, props["FunctionName"]
        group = template.find_resources("AWS::Logs::LogGroup")[props["LoggingConfig"]["LogGroup"]["Ref"]]
        assert group["Properties"]["KmsKeyId"] == key, props["FunctionName"]


def test_every_log_group_is_encrypted_and_logs_may_use_the_key_for_this_accounts_groups_only(synth):
    for stack_id, template in synth.templates.items():
        key_id = _stack_key(template)["Fn::GetAtt"][0]
        groups = template.find_resources("AWS::Logs::LogGroup").values()
        assert groups and all(g["Properties"]["KmsKeyId"] == _stack_key(template) for g in groups), stack_id
        key = template.find_resources("AWS::KMS::Key")[key_id]
        (st,) = [st for st in key["Properties"]["KeyPolicy"]["Statement"] if st.get("Sid") == "LogGroups"]
        region = synth.stacks[stack_id].region
        assert st["Principal"] == {"Service": f"logs.{region}.amazonaws.com"}
        assert not any("*" in action for action in st["Action"])
        context = text(st["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"])
        assert f":logs:{region}:{synth.deployment.account}:log-group:*" in context


def test_the_report_keeps_events_that_failed_every_retry_in_an_alarmed_dead_letter_queue(synth):
    template = synth.audit
    (function_id,) = [
        lid
        for lid, f in template.find_resources("AWS::Lambda::Function").items()
        if f["Properties"]["FunctionName"] == "lenslog-eu-audit-report"
    ]
    queues = template.find_resources("AWS::SQS::Queue")
    (dlq_id,) = [
        lid for lid, q in queues.items() if q["Properties"]["QueueName"] == "lenslog-audit-report-dlq"
    ]
    assert queues[dlq_id]["Properties"]["KmsMasterKeyId"] == _stack_key(template)
    function = template.find_resources("AWS::Lambda::Function")[function_id]["Properties"]
    assert function["DeadLetterConfig"] == {"TargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]}}
    (alarm,) = [
        a["Properties"]
        for a in template.find_resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("Namespace") == "AWS/SQS"
    ]
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dlq_id, "QueueName"]}}]
    assert alarm["Threshold"] == 1


@pytest.mark.parametrize("dlq", ["both", "neither"])
def test_a_function_has_either_a_dead_letter_queue_or_a_reason_for_none(dlq):
    from aws_cdk import App, Stack
    from aws_cdk import aws_kms as kms
    from aws_cdk import aws_sns as sns
    from aws_cdk import aws_sqs as sqs

    from infra.constructs.function import LensFunction

    stack = Stack(App(), "S")
    options = {
        "both": {"dead_letter_queue": sqs.Queue(stack, "Q"), "no_dlq_reason": "invoked synchronously"},
        "neither": {},
    }[dlq]
    with pytest.raises(ValueError, match="exactly one of dead_letter_queue and no_dlq_reason"):
        LensFunction(
            stack, "F", name="ingest", function_name="f", description="d", settings=Settings(cell="eu"),
            architecture="arm64", layers=[], alarm_topic=sns.Topic(stack, "T"), log_days=7,
            key=kms.Key(stack, "K"), reserved_concurrency=2, **options,
        )  # fmt: skip


def test_each_cell_runs_its_leakage_check_on_the_configured_schedule_and_alarms_on_a_leak(synth):
    for cell in synth.config.cells:
        template = synth.cell(cell)
        functions = template.find_resources("AWS::Lambda::Function")
        (checker,) = [
            fid
            for fid, f in functions.items()
            if f["Properties"]["FunctionName"] == f"lenslog-{cell}-leakage-check"
        ]
        rules = [r["Properties"] for r in template.find_resources("AWS::Events::Rule").values()]
        (rule,) = [r for r in rules if r["Targets"][0]["Arn"] == {"Fn::GetAtt": [checker, "Arn"]}]
        assert rule["ScheduleExpression"] == synth.config.near_duplicates.leakage_schedule
        (topic_id,) = template.find_resources("AWS::SNS::Topic")
        alarms = [a["Properties"] for a in template.find_resources("AWS::CloudWatch::Alarm").values()]
        leak = {a["MetricName"]: a for a in alarms if a.get("MetricName", "").startswith("Leakage")}
        assert set(leak) == {"LeakageCrossingPairs", "LeakageClusterSplitMismatches"}
        for alarm in leak.values():
            assert alarm["AlarmActions"] == [{"Ref": topic_id}] and alarm["Threshold"] == 1
            assert alarm["Dimensions"] == [{"Name": "service", "Value": "leakage_check"}]
        degraded = [a for a in alarms if a.get("MetricName") == "near_index_degraded"]
        assert len(degraded) == 1 and degraded[0]["AlarmActions"] == [{"Ref": topic_id}]
        assert degraded[0]["Dimensions"] == [{"Name": "service", "Value": "ingest"}]
