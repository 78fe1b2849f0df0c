"""Snapshots and exports against the embedded AWS, as a user runs them against `lenslog local`:
images decided by the real gate, a snapshot taken over HTTP, an export downloaded and read back."""

from __future__ import annotations

import hashlib
import json

import pytest

from lenslog.cli import main as cli
from tests.e2e.test_local_ingest import decision_lines
from tests.images import jpeg

pytestmark = pytest.mark.xdist_group("embedded-aws")


def test_ingested_images_come_back_byte_for_byte_in_their_split_through_the_embedded_aws(
    local_stack, tmp_path, capsys
):
    from pycocotools.coco import COCO

    folder = tmp_path / "photos" / "cam-01" / "2026-11-18"
    folder.mkdir(parents=True)
    bodies = {f"cam-01_20261118T10{i:02d}00.jpg": jpeg(300 + i) for i in range(4)}
    for name, body in bodies.items():
        (folder / name).write_bytes(body)
    url = local_stack.endpoint_url
    assert cli(["ingest", str(tmp_path / "photos"), "--endpoint-url", url, "--json", "--timeout", "60"]) == 0
    decided = {d["image_id"]: d for d in decision_lines(capsys.readouterr().out) if d["status"] == "accepted"}
    assert len(decided) == 4

    assert cli(["snapshot", "create", "--endpoint-url", url, "--name", "local"]) == 0
    snapshot = json.loads(capsys.readouterr().out)
    assert snapshot["images"] == 4 and snapshot["status"] == "complete"

    out = tmp_path / "coco"
    args = ["export", "--endpoint-url", url, "--format", "coco", "--out", str(out), "--include-unlabelled"]
    assert cli([*args, "--snapshot", snapshot["snapshot_id"]]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["downloaded"] == 4 and summary["failed"] == []
    for image_id, decision in decided.items():
        coco = COCO(str(out / "annotations" / f"instances_{decision['split']}.json"))
        [image] = [i for i in coco.loadImgs(coco.getImgIds()) if i["lenslog_id"] == image_id]
        path = out / "images" / decision["split"] / image["file_name"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == image_id
        assert coco.getAnnIds(imgIds=[image["id"]]) == []  # unlabelled, exported as a null image

    assert cli([*args, "--snapshot", snapshot["snapshot_id"]]) == 0  # again: nothing to fetch
    again = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert again["downloaded"] == 0 and again["already_present"] == 4
