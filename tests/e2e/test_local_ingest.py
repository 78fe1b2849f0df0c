"""`lenslog ingest` against the embedded AWS, as a user runs it against `lenslog local`."""

from __future__ import annotations

import json

import pytest

from lenslog.cli import main as cli
from tests.images import encode, jpeg, scene

pytestmark = pytest.mark.xdist_group("embedded-aws")


def decision_lines(stdout: str) -> list[dict]:
    """The JSON lines of ``lenslog ingest --json``; the worker of the ``local_stack`` fixture runs in
    this process and its handler's structured log lines (they carry a "level") and metric blobs
    (Powertools' EMF lines, when metrics are on) share stdout."""
    return [d for d in map(json.loads, stdout.splitlines()) if "level" not in d and "_aws" not in d]


def versions(stack, cell: str) -> list[str]:
    s3 = stack.client("s3", cell)
    res = stack.cells[cell]
    out = []
    for bucket in (res.landing_bucket, res.curated_bucket, res.quarantine_bucket):
        resp = s3.list_object_versions(Bucket=bucket)
        out += [f"{bucket}/{v['Key']}" for v in resp.get("Versions", []) + resp.get("DeleteMarkers", [])]
    return out


def test_ingest_prints_one_decision_per_image_with_sidecars_and_aws_cli_style_keys(
    local_stack, tmp_path, capsys
):
    folder = tmp_path / "cam-01" / "2026-11-18"
    folder.mkdir(parents=True)
    (folder / "cam-01_20261118T101500.jpg").write_bytes(jpeg(1))
    (folder / "described.jpg").write_bytes(jpeg(2))
    (folder / "described.jpg.json").write_text(
        json.dumps({"camera_id": "cam-02", "captured_at": "2026-11-18T12:00:00Z"})
    )
    (folder / "broken.png").write_bytes(encode(scene(3, (300, 300)), "PNG")[:500])

    code = cli(
        ["ingest", str(tmp_path), "--endpoint-url", local_stack.endpoint_url, "--json", "--timeout", "60"]
    )

    assert code == 0
    decisions = {d["key"]: d for d in decision_lines(capsys.readouterr().out)}
    assert set(decisions) == {
        "cam-01/2026-11-18/cam-01_20261118T101500.jpg",
        "cam-01/2026-11-18/described.jpg",
        "cam-01/2026-11-18/broken.png",
    }
    assert (
        decisions["cam-01/2026-11-18/cam-01_20261118T101500.jpg"]["metadata"]["provenance"]["camera_id"]
        == "key_path"
    )
    assert decisions["cam-01/2026-11-18/described.jpg"]["metadata"]["camera_id"] == "cam-02"
    assert decisions["cam-01/2026-11-18/broken.png"]["status"] == "rejected"


def test_uploads_declared_for_eu_leave_nothing_in_us(local_stack, tmp_path, capsys):
    for i in range(3):
        (tmp_path / f"frame-{i}.jpg").write_bytes(jpeg(10 + i))

    code = cli(
        [
            "ingest", str(tmp_path), "--endpoint-url", local_stack.endpoint_url, "--cell", "us",
            "--meta", "data_region=eu", "--meta", "captured_at=2026-11-18T10:00:00Z",
            "--meta", "camera_id=partner-cam", "--json", "--timeout", "60",
        ]
    )  # fmt: skip

    assert code == 0
    decisions = decision_lines(capsys.readouterr().out)
    assert [d["data_region"] for d in decisions] == ["eu"] * 3
    assert {d["stored"]["region"] for d in decisions} == {"eu-central-1"}
    assert versions(local_stack, "us") == []
    us = local_stack.client("dynamodb", "us")
    items = us.scan(TableName=local_stack.cells["us"].table)["Items"]
    kinds = {i["PK"]["S"].split("#")[0] for i in items}
    assert kinds <= {"AGG"}  # an anonymous count only
    assert not any(d["image_id"] in json.dumps(items) for d in decisions)


def test_ingest_without_a_worker_stops_after_the_stall_timeout_and_names_what_is_pending(
    embedded_stack, tmp_path, capsys
):
    for i in range(3):
        (tmp_path / f"frame-{i}.jpg").write_bytes(jpeg(40 + i))
    url = embedded_stack.endpoint_url  # and no worker: nothing is ever decided
    code = cli(["ingest", str(tmp_path), "--endpoint-url", url, "--stall-timeout", "2"])
    captured = capsys.readouterr()
    assert code == 1
    assert "stalled" in captured.err and "3 uploaded images not decided yet" in captured.err
    assert "frame-0.jpg" in captured.err
    assert "not decided" in captured.out  # the summary table's row


def test_ingest_summary_says_how_to_fix_a_quarantine_for_a_configuration_reason(
    local_stack, tmp_path, capsys
):
    (tmp_path / "no-camera.jpg").write_bytes(jpeg(50))  # no camera in key, metadata or EXIF
    code = cli(["ingest", str(tmp_path), "--endpoint-url", local_stack.endpoint_url])
    out = capsys.readouterr().out
    assert code == 0
    assert "metadata_incomplete" in out
    assert "to fix: 1 x metadata_incomplete: a required field (camera or capture time) is missing" in out


def test_json_lines_stream_one_decision_per_image_of_a_larger_folder(local_stack, tmp_path, capsys):
    folder = tmp_path / "cam-03" / "2026-11-19"
    folder.mkdir(parents=True)
    for i in range(40):
        (folder / f"cam-03_20261119T10{i:02d}00.jpg").write_bytes(jpeg(200 + i))
    code = cli(
        ["ingest", str(tmp_path), "--endpoint-url", local_stack.endpoint_url, "--json", "--workers", "4"]
    )
    captured = capsys.readouterr()
    lines = decision_lines(captured.out)
    assert code == 0
    assert sorted(d["key"] for d in lines) == sorted(
        f"cam-03/2026-11-19/cam-03_20261119T10{i:02d}00.jpg" for i in range(40)
    )
    assert all(d["metadata"]["camera_id"] == "cam-03" for d in lines)
