"""Least privilege: explicit actions only, every data permission on the cell's own resources,
peers reachable only to relocate, partners only under their own prefix."""

from __future__ import annotations

import pytest
from helpers import as_list, iam_statements, text

pytestmark = pytest.mark.xdist_group("infra")


def _role_statements(template, role_prefix):
    """Statements of the policies attached to the role whose logical id starts with ``role_prefix``."""
    resources = template.to_json()["Resources"]
    found = []
    for lid, st in iam_statements(resources):
        resource = resources[lid]
        roles = resource.get("Properties", {}).get("Roles", [{"Ref": lid}])
        if any(r.get("Ref", "").startswith(role_prefix) for r in roles):
            found.append(st)
    assert found, role_prefix
    return found


def test_no_identity_policy_grants_a_wildcard_action(synth, variant):
    for s in (synth, variant):
        for stack_id, template in s.templates.items():
            for lid, st in iam_statements(template.to_json()["Resources"]):
                for action in as_list(st["Action"]):
                    assert "*" not in action, (stack_id, lid, action)
                assert st["Effect"] == "Allow"
                assert "NotAction" not in st and "NotResource" not in st


def test_no_identity_policy_allows_every_resource_except_xray(synth):
    for template in synth.templates.values():
        for lid, st in iam_statements(template.to_json()["Resources"]):
            if as_list(st["Resource"]) == ["*"]:
                assert set(as_list(st["Action"])) == {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}, (
                    lid
                )


def test_cell_roles_name_no_other_cells_resources_but_the_peers_landing_buckets(variant):
    s = variant
    for cell in s.config.cells:
        template = s.cell(cell)
        for lid, st in iam_statements(template.to_json()["Resources"]):
            for resource in as_list(st["Resource"]):
                for peer in s.deployment.peers(cell):
                    peer_names = s.deployment.resources(peer)
                    if f"lenslog-{peer}-" in text(resource):
                        assert peer_names.landing_bucket in text(resource), (cell, lid, resource)
                        assert as_list(st["Action"]) == ["s3:PutObject"], (cell, lid)


def test_the_gate_may_only_put_into_each_peer_landing_bucket_with_its_aliased_key(variant):
    s = variant
    for cell in s.config.cells:
        statements = {st.get("Sid"): st for st in _role_statements(s.cell(cell), "GateRole")}
        for peer in s.deployment.peers(cell):
            peer_names = s.deployment.resources(peer)
            put = statements[f"RelocateTo{peer.capitalize()}"]
            assert put["Action"] == "s3:PutObject"
            assert text(put["Resource"]).endswith(f':s3:::{peer_names.landing_bucket}/*"]]}}')
            key = statements[f"RelocateTo{peer.capitalize()}Key"]
            assert sorted(key["Action"]) == ["kms:Encrypt", "kms:GenerateDataKey"]
            assert f":kms:{peer_names.region}:" in text(key["Resource"])
            assert key["Condition"] == {
                "ForAnyValue:StringEquals": {"kms:ResourceAliases": f"alias/lenslog-{peer}"},
                "StringEquals": {"kms:ViaService": f"s3.{peer_names.region}.amazonaws.com"},
            }


def test_the_gate_reads_writes_only_its_cells_buckets_table_and_key(synth):
    for cell in synth.config.cells:
        template = synth.cell(cell)
        own = set(template.find_resources("AWS::S3::Bucket")) | set(
            template.find_resources("AWS::DynamoDB::Table")
        )
        own |= set(template.find_resources("AWS::KMS::Key")) | set(template.find_resources("AWS::SQS::Queue"))
        for st in _role_statements(template, "GateRole"):
            if st.get("Sid", "").startswith("RelocateTo") or as_list(st["Resource"]) == ["*"]:
                continue
            for resource in as_list(st["Resource"]):
                refs = {ref for ref in own if ref in text(resource)}
                if not refs:  # the role's own log group
                    assert st["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"], st
                    continue
                assert len(refs) == 1, resource


def test_the_report_reads_every_cells_table_through_its_aliased_key_and_sends_as_the_sender(variant):
    s = variant
    statements = {st["Sid"]: st for st in _role_statements(s.audit, "ReporterRole") if "Sid" in st}
    for cell in s.config.cells:
        names = s.deployment.resources(cell)
        read = statements[f"ReadAggregates{cell.capitalize()}"]
        assert sorted(read["Action"]) == ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:Query"]
        assert f":dynamodb:{names.region}:" in text(read["Resource"])
        assert f"table/{names.table}" in text(read["Resource"])
        key = statements[f"ReadAggregates{cell.capitalize()}Key"]
        assert key["Action"] == "kms:Decrypt"
        assert key["Condition"]["ForAnyValue:StringEquals"] == {
            "kms:ResourceAliases": f"alias/lenslog-{cell}"
        }
    send = statements["SendReport"]
    assert text(send["Resource"]).endswith(f':identity/{s.config.report.sender}"]]}}')


def test_the_report_indexes_itself_only_in_the_home_cells_table(variant):
    s = variant
    statements = {st["Sid"]: st for st in _role_statements(s.audit, "ReporterRole") if "Sid" in st}
    home = s.deployment.resources(s.config.home_cell)
    put = statements["IndexReports"]
    assert put["Action"] == "dynamodb:PutItem"
    assert f"table/{home.table}" in text(put["Resource"]) and f":dynamodb:{home.region}:" in text(
        put["Resource"]
    )
    key = statements["IndexReportsKey"]
    assert key["Condition"]["ForAnyValue:StringEquals"] == {
        "kms:ResourceAliases": f"alias/lenslog-{s.config.home_cell}"
    }


def test_each_partner_role_may_only_put_under_its_own_landing_prefix(synth, variant):
    for s in (synth, variant):
        for cell in s.config.cells:
            template = s.cell(cell)
            roles = {
                r["Properties"]["RoleName"]: lid
                for lid, r in template.find_resources("AWS::IAM::Role").items()
                if "-upload-" in r["Properties"].get("RoleName", "")
            }
            expected = {name for name, src in s.config.sources.items() if src.cell in (None, cell)}
            assert set(roles) == {f"lenslog-{cell}-upload-{source}" for source in expected}
            for role_name, lid in roles.items():
                source = role_name.removeprefix(f"lenslog-{cell}-upload-")
                statements = {st["Sid"]: st for st in _role_statements(template, lid)}
                assert set(statements) == {"UploadOwnPrefix", "EncryptUploads"}
                put = statements["UploadOwnPrefix"]
                assert put["Action"] == "s3:PutObject"
                assert text(put["Resource"]).endswith(f'/uploads/{source}/*"]]}}')
                assert statements["EncryptUploads"]["Action"] == "kms:GenerateDataKey"


def test_the_api_signs_uploads_only_under_the_uploads_prefix_and_reads_reports_read_only(synth):
    for cell in synth.config.cells:
        statements = {
            st["Sid"]: st for st in _role_statements(synth.cell(cell), "AuditApiFunctionRole") if "Sid" in st
        }
        assert statements["SignUploads"]["Action"] == "s3:PutObject"
        assert text(statements["SignUploads"]["Resource"]).endswith('/uploads/*"]]}')
        assert statements["ReadReports"]["Action"] == "s3:GetObject"
        assert synth.deployment.reports_bucket in text(statements["ReadReports"]["Resource"])
        assert "dynamodb:DeleteItem" not in statements["Records"]["Action"]


def test_the_gate_may_tag_what_it_stores_and_purge_every_version_of_a_relocated_upload(synth):
    for cell in synth.config.cells:
        statements = {st["Sid"]: st for st in _role_statements(synth.cell(cell), "GateRole") if "Sid" in st}
        assert "s3:PutObjectTagging" in statements["WriteCurated"]["Action"]
        assert "s3:PutObjectTagging" in statements["WriteQuarantine"]["Action"]
        assert "s3:DeleteObjectVersion" in statements["ReadAndClearLanding"]["Action"]
        assert statements["ListLandingVersions"]["Action"] == "s3:ListBucketVersions"


def test_snapshots_are_written_only_under_the_cells_own_curated_prefix_and_handed_on_to_its_function(synth):
    for cell in synth.config.cells:
        template = synth.cell(cell)
        for role in ("SnapshotFunctionRole", "AuditApiFunctionRole"):
            statements = {st["Sid"]: st for st in _role_statements(template, role) if "Sid" in st}
            manifests = statements["SnapshotManifests"]
            assert set(manifests["Action"]) == {"s3:PutObject", "s3:GetObject"}
            assert text(manifests["Resource"]).endswith('/snapshots/*"]]}')
            assert synth.deployment.resources(cell).curated_bucket in text(
                manifests["Resource"]
            ) or "Curated" in text(manifests["Resource"])
            hand_on = statements["SnapshotHandOn"]
            assert hand_on["Action"] == "lambda:InvokeFunction"
            assert text(hand_on["Resource"]).endswith(f':function:lenslog-{cell}-snapshot"]]}}')
            assert "dynamodb:DeleteItem" not in statements["SnapshotRecords"]["Action"]
