"""Buckets: private, TLS-only, SSE-KMS with the cell key, versioned, logged, lifecycle from config."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.xdist_group("infra")


def _buckets(template):
    return {
        r["Properties"]["BucketName"]: (lid, r)
        for lid, r in template.find_resources("AWS::S3::Bucket").items()
    }


def _data_buckets(synth, cell):
    names = synth.deployment.resources(cell)
    buckets = _buckets(synth.cell(cell))
    return {role: buckets[getattr(names, f"{role}_bucket")] for role in ("landing", "curated", "quarantine")}


def _rules(bucket):
    return {r["Id"]: r for r in bucket["Properties"]["LifecycleConfiguration"]["Rules"]}


def test_every_bucket_blocks_all_public_access(synth):
    for _, _, bucket in synth.resources("AWS::S3::Bucket"):
        assert bucket["Properties"]["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }


def test_data_buckets_use_the_stacks_kms_key_and_access_log_buckets_sse_s3(synth):
    for stack_id, template in synth.templates.items():
        (key_id,) = template.find_resources("AWS::KMS::Key")
        for name, (_, bucket) in _buckets(template).items():
            (rule,) = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
            default = rule["ServerSideEncryptionByDefault"]
            if "access-logs" in name:  # S3 server access logging delivers to SSE-S3 buckets only
                assert default == {"SSEAlgorithm": "AES256"}, name
            else:
                assert default["SSEAlgorithm"] == "aws:kms", name
                assert default["KMSMasterKeyID"] == {"Fn::GetAtt": [key_id, "Arn"]}, (stack_id, name)


def test_every_bucket_policy_denies_requests_without_tls(synth):
    buckets = {(sid, lid) for sid, lid, _ in synth.resources("AWS::S3::Bucket")}
    denied = set()
    for stack_id, _, policy in synth.resources("AWS::S3::BucketPolicy"):
        for st in policy["Properties"]["PolicyDocument"]["Statement"]:
            if st["Effect"] == "Deny" and st.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}:
                assert st["Principal"] == {"AWS": "*"} and st["Action"] == "s3:*"
                denied.add((stack_id, policy["Properties"]["Bucket"]["Ref"]))
    assert denied == buckets


def test_every_key_rotates(synth):
    keys = synth.resources("AWS::KMS::Key")
    assert len(keys) == len(synth.templates)
    assert all(key["Properties"]["EnableKeyRotation"] is True for _, _, key in keys)


def test_image_buckets_are_versioned_and_log_to_the_cells_access_log_bucket(synth):
    for cell in synth.config.cells:
        buckets = _buckets(synth.cell(cell))
        (log_id,) = [lid for name, (lid, _) in buckets.items() if "access-logs" in name]
        for role, (_, bucket) in _data_buckets(synth, cell).items():
            assert bucket["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}, role
            assert bucket["Properties"]["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": log_id}


def _retention_rule(bucket: dict[str, Any], days: int) -> dict[str, Any]:
    rule = _rules(bucket)[f"retention-{days}d"]
    assert rule["ExpirationInDays"] == days
    assert rule["TagFilters"] == [{"Key": "lenslog-retention", "Value": f"{days}d"}]
    return rule


def test_quarantine_expires_after_the_configured_retention_by_tag(synth, variant):
    for s in (synth, variant):
        for cell in s.config.cells:
            quarantine = _data_buckets(s, cell)["quarantine"][1]
            _retention_rule(quarantine, s.config.defaults.quarantine_retention_days)
    _retention_rule(_data_buckets(variant, "eu")["quarantine"][1], 12)


def test_curated_images_expire_only_when_the_cell_sets_a_retention(synth, variant):
    assert not any(i.startswith("retention-") for i in _rules(_data_buckets(synth, "eu")["curated"][1]))
    _retention_rule(_data_buckets(variant, "eu")["curated"][1], 400)


def test_a_source_retention_gets_its_own_rule_beside_the_cell_default(variant):
    _retention_rule(_data_buckets(variant, "eu")["curated"][1], 90)
    _retention_rule(_data_buckets(variant, "us")["curated"][1], 90)
    us_rules = {i for i in _rules(_data_buckets(variant, "us")["curated"][1]) if i.startswith("retention-")}
    assert us_rules == {"retention-90d"}  # only the source override: the us cell itself keeps forever


def test_noncurrent_versions_expire_on_every_image_bucket(synth):
    for cell in synth.config.cells:
        for role, (_, bucket) in _data_buckets(synth, cell).items():
            rule = _rules(bucket)["expire-noncurrent-versions"]
            assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] > 0, role
            assert rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] > 0, role


def test_table_follows_the_shared_schema_with_ttl_pitr_and_the_cell_key(synth, variant):
    from lenslog.adapters import schema

    for s in (synth, variant):
        for cell in s.config.cells:
            template = s.cell(cell)
            (key_id,) = template.find_resources("AWS::KMS::Key")
            (table,) = template.find_resources("AWS::DynamoDB::Table").values()
            props = table["Properties"]
            spec = schema.create_table_kwargs(s.deployment.resources(cell).table)
            assert props["TableName"] == spec["TableName"]
            assert props["KeySchema"] == spec["KeySchema"]
            assert sorted(props["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == sorted(
                spec["AttributeDefinitions"], key=lambda a: a["AttributeName"]
            )
            assert props["GlobalSecondaryIndexes"] == spec["GlobalSecondaryIndexes"]
            assert props["BillingMode"] == "PAY_PER_REQUEST"
            assert props["TimeToLiveSpecification"] == {
                "AttributeName": schema.TTL_ATTRIBUTE,
                "Enabled": True,
            }
            assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
            assert props["SSESpecification"] == {
                "KMSMasterKeyId": {"Fn::GetAtt": [key_id, "Arn"]},
                "SSEEnabled": True,
                "SSEType": "KMS",
            }
            assert table["DeletionPolicy"] == "Retain"
