"""Landing -> queue (+ DLQ) -> gate with partial batch failures; encrypted, TLS-only, alarmed."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.xdist_group("infra")


def _queues(template):
    return {
        r["Properties"]["QueueName"]: (lid, r)
        for lid, r in template.find_resources("AWS::SQS::Queue").items()
    }


def _function_id(template, name):
    (lid,) = [
        lid
        for lid, r in template.find_resources("AWS::Lambda::Function").items()
        if r["Properties"]["FunctionName"] == name
    ]
    return lid


def test_ingest_queue_redrives_to_its_dlq_after_the_configured_receive_count(synth, variant):
    for s in (synth, variant):
        for cell in s.config.cells:
            names = s.deployment.resources(cell)
            queues = _queues(s.cell(cell))
            dlq_id, _ = queues[names.dlq]
            policy = queues[names.queue][1]["Properties"]["RedrivePolicy"]
            assert policy == {
                "deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]},
                "maxReceiveCount": s.config.dlq_max_receive_count,
            }
    assert variant.config.dlq_max_receive_count == 3


def test_queues_are_encrypted_with_the_cell_key_and_deny_requests_without_tls(synth):
    for cell in synth.config.cells:
        template = synth.cell(cell)
        (key_id,) = template.find_resources("AWS::KMS::Key")
        queue_ids = set()
        for lid, queue in _queues(template).values():
            assert queue["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
            queue_ids.add(lid)
        tls_denied = set()
        for policy in template.find_resources("AWS::SQS::QueuePolicy").values():
            for st in policy["Properties"]["PolicyDocument"]["Statement"]:
                if st["Effect"] == "Deny" and st.get("Condition") == {
                    "Bool": {"aws:SecureTransport": "false"}
                }:
                    tls_denied |= {q["Ref"] for q in policy["Properties"]["Queues"]}
        assert tls_denied == queue_ids


def test_landing_bucket_notifies_the_ingest_queue_of_every_created_object(synth):
    for cell in synth.config.cells:
        names = synth.deployment.resources(cell)
        template = synth.cell(cell)
        queue_id, _ = _queues(template)[names.queue]
        (landing,) = [
            r
            for r in template.find_resources("AWS::S3::Bucket").values()
            if r["Properties"]["BucketName"] == names.landing_bucket
        ]
        assert landing["Properties"]["NotificationConfiguration"]["QueueConfigurations"] == [
            {"Event": "s3:ObjectCreated:*", "Queue": {"Fn::GetAtt": [queue_id, "Arn"]}}
        ]
        allowed = [
            st
            for p in template.find_resources("AWS::SQS::QueuePolicy").values()
            for st in p["Properties"]["PolicyDocument"]["Statement"]
            if st["Effect"] == "Allow" and st["Principal"] == {"Service": "s3.amazonaws.com"}
        ]
        (st,) = allowed
        assert st["Action"] == "sqs:SendMessage"
        assert names.landing_bucket in str(st["Condition"]["ArnLike"]["aws:SourceArn"])
        # S3 checks the destination when the configuration is written: the policy must exist first.
        policy_ids = set(template.find_resources("AWS::SQS::QueuePolicy"))
        assert policy_ids & set(landing.get("DependsOn", []))


def test_the_gate_consumes_the_ingest_queue_reporting_batch_item_failures(synth):
    for cell in synth.config.cells:
        names = synth.deployment.resources(cell)
        template = synth.cell(cell)
        queue_id, _ = _queues(template)[names.queue]
        (mapping,) = template.find_resources("AWS::Lambda::EventSourceMapping").values()
        props = mapping["Properties"]
        assert props["EventSourceArn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
        assert props["FunctionName"] == {
            "Ref": _function_id(template, synth.deployment.function_name(cell, "ingest"))
        }
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_queue_visibility_outlasts_the_gate_timeout(synth):
    for cell in synth.config.cells:
        names = synth.deployment.resources(cell)
        template = synth.cell(cell)
        gate = template.find_resources("AWS::Lambda::Function")[
            _function_id(template, synth.deployment.function_name(cell, "ingest"))
        ]
        queue = _queues(template)[names.queue][1]
        assert queue["Properties"]["VisibilityTimeout"] >= 6 * gate["Properties"]["Timeout"]


def _queue_alarms(template, metric):
    return [
        a["Properties"]
        for a in template.find_resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("Namespace") == "AWS/SQS" and a["Properties"]["MetricName"] == metric
    ]


def test_a_message_on_the_dlq_raises_an_alarm_to_the_cells_topic(synth):
    for cell in synth.config.cells:
        names = synth.deployment.resources(cell)
        template = synth.cell(cell)
        (topic_id,) = template.find_resources("AWS::SNS::Topic")
        alarms = _queue_alarms(template, "ApproximateNumberOfMessagesVisible")
        by_queue = {a["Dimensions"][0]["Value"]["Fn::GetAtt"][0]: a for a in alarms}
        queues = _queues(template)
        # the ingest DLQ, and the DLQs of the snapshot function and the scheduled leakage check
        assert set(by_queue) == {queues[q][0] for q in (names.dlq, names.snapshot_dlq, names.leakage_dlq)}
        for alarm in by_queue.values():
            assert alarm["Threshold"] == 1
            assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
            assert alarm["AlarmActions"] == [{"Ref": topic_id}]


def test_the_age_of_the_oldest_message_of_the_queue_and_the_dlq_raise_alarms_from_the_config(synth, variant):
    for s in (synth, variant):
        scaling = s.config.scaling
        for cell in s.config.cells:
            names = s.deployment.resources(cell)
            template = s.cell(cell)
            (topic_id,) = template.find_resources("AWS::SNS::Topic")
            queues = _queues(template)
            by_queue = {
                a["Dimensions"][0]["Value"]["Fn::GetAtt"][0]: a
                for a in _queue_alarms(template, "ApproximateAgeOfOldestMessage")
            }
            assert set(by_queue) == {queues[names.queue][0], queues[names.dlq][0]}
            behind = by_queue[queues[names.queue][0]]
            assert behind["Threshold"] == scaling.queue_age_alarm_seconds
            assert behind["Period"] * behind["EvaluationPeriods"] <= 300  # minutes, not hours, late
            waiting = by_queue[queues[names.dlq][0]]
            assert waiting["Threshold"] == scaling.dlq_age_alarm_hours * 3600
            # it fires while the message can still be redriven
            assert waiting["Threshold"] < queues[names.dlq][1]["Properties"]["MessageRetentionPeriod"]
            for alarm in (behind, waiting):
                assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
                assert alarm["AlarmActions"] == [{"Ref": topic_id}]
    assert variant.config.scaling.queue_age_alarm_seconds == 600


def test_the_event_source_is_sized_to_the_cells_rate_within_the_gates_reserved_concurrency(synth, variant):
    for s in (synth, variant):
        scaling = s.config.scaling
        for cell in s.config.cells:
            template = s.cell(cell)
            (mapping,) = template.find_resources("AWS::Lambda::EventSourceMapping").values()
            maximum = mapping["Properties"]["ScalingConfig"]["MaximumConcurrency"]
            assert maximum == scaling.ingest_max_concurrency
            # Little's law: the instances busy at the target rate fit under the maximum
            assert maximum >= scaling.images_per_second * scaling.seconds_per_image
            gate = template.find_resources("AWS::Lambda::Function")[
                _function_id(template, s.deployment.function_name(cell, "ingest"))
            ]
            assert maximum <= gate["Properties"]["ReservedConcurrentExecutions"]
            assert 2 <= maximum <= 1000  # what Lambda accepts
    assert variant.config.scaling.ingest_max_concurrency == 120


def test_alarm_topics_are_encrypted_and_tls_only(synth):
    for stack_id, template in synth.templates.items():
        (key_id,) = template.find_resources("AWS::KMS::Key")
        for topic_id, topic in template.find_resources("AWS::SNS::Topic").items():
            assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}, stack_id
            policies = [
                p
                for p in template.find_resources("AWS::SNS::TopicPolicy").values()
                if {"Ref": topic_id} in p["Properties"]["Topics"]
            ]
            assert any(
                st["Effect"] == "Deny" and st.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
                for p in policies
                for st in p["Properties"]["PolicyDocument"]["Statement"]
            ), stack_id
