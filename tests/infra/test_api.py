"""The audit API: AWS_IAM on every method, throttled, access-logged, validated, proxied."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.xdist_group("infra")


def test_every_api_method_requires_aws_iam_authorisation_and_a_request_validator(synth):
    methods = synth.resources("AWS::ApiGateway::Method")
    assert len(methods) == 2 * len(synth.config.cells)
    for _, _, method in methods:
        props = method["Properties"]
        assert props["AuthorizationType"] == "AWS_IAM"
        assert "Ref" in props["RequestValidatorId"]
        assert props["Integration"]["Type"] == "AWS_PROXY"


def test_the_validator_checks_parameters_and_bodies(synth):
    for _, _, validator in synth.resources("AWS::ApiGateway::RequestValidator"):
        assert validator["Properties"]["ValidateRequestParameters"] is True
        assert validator["Properties"]["ValidateRequestBody"] is True


def test_the_stage_is_throttled_traced_and_access_logged(synth):
    stages = synth.resources("AWS::ApiGateway::Stage")
    assert len(stages) == len(synth.config.cells)
    for stack_id, _, stage in stages:
        props = stage["Properties"]
        (settings,) = props["MethodSettings"]
        assert settings["ThrottlingRateLimit"] > 0 and settings["ThrottlingBurstLimit"] > 0
        assert settings["LoggingLevel"] == "ERROR"
        assert settings["DataTraceEnabled"] is False
        assert props["TracingEnabled"] is True
        log_group = props["AccessLogSetting"]["DestinationArn"]["Fn::GetAtt"][0]
        assert log_group in synth.templates[stack_id].find_resources("AWS::Logs::LogGroup")


def test_the_api_proxies_to_its_cells_audit_api_function(synth):
    for cell in synth.config.cells:
        template = synth.cell(cell)
        (function_id,) = [
            lid
            for lid, r in template.find_resources("AWS::Lambda::Function").items()
            if r["Properties"]["FunctionName"] == synth.deployment.function_name(cell, "audit_api")
        ]
        for method in template.find_resources("AWS::ApiGateway::Method").values():
            assert function_id in str(method["Properties"]["Integration"]["Uri"])
