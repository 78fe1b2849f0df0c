"""No log outlives what it names: server access logs, API access logs and function logs are kept
no longer than the config's shortest retention, and the API's access log has no path or query
string in it."""

from __future__ import annotations

import json

import pytest

from lenslog.retention import shortest_days

pytestmark = pytest.mark.xdist_group("infra")


@pytest.fixture(params=["synth", "variant"])
def synthesised(request):
    return request.getfixturevalue(request.param)


def _access_log_buckets(synth):
    logged_into = {
        json.dumps(b["Properties"]["LoggingConfiguration"]["DestinationBucketName"])
        for _, _, b in synth.resources("AWS::S3::Bucket")
        if "LoggingConfiguration" in b["Properties"]
    }
    return [
        (stack_id, lid, b)
        for stack_id, lid, b in synth.resources("AWS::S3::Bucket")
        if json.dumps({"Ref": lid}) in logged_into
    ]


def test_server_access_logs_expire_within_the_shortest_retention(synthesised):
    shortest = shortest_days(synthesised.config)
    buckets = _access_log_buckets(synthesised)
    assert len(buckets) == len(synthesised.config.cells) + 1  # one per cell, one for the reports
    for _, lid, bucket in buckets:
        rules = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
        expirations = [r["ExpirationInDays"] for r in rules if r["Status"] == "Enabled" and "Prefix" not in r]
        assert expirations and max(expirations) <= shortest, lid


def test_every_log_group_is_kept_no_longer_than_the_shortest_retention(synthesised):
    shortest = shortest_days(synthesised.config)
    groups = synthesised.resources("AWS::Logs::LogGroup")
    assert groups
    for _, lid, group in groups:
        assert 0 < group["Properties"]["RetentionInDays"] <= shortest, lid


def test_the_api_access_log_has_no_request_path_or_query_string(synthesised):
    stages = synthesised.resources("AWS::ApiGateway::Stage")
    assert len(stages) == len(synthesised.config.cells)
    for _, lid, stage in stages:
        fmt = stage["Properties"]["AccessLogSetting"]["Format"]
        fields = json.loads(fmt)
        assert fields["resourcePath"] == "$context.resourcePath"
        for leak in ("$context.path", "querystring", "$input.params", "$context.requestoverride"):
            assert leak not in fmt.lower(), (lid, leak)
