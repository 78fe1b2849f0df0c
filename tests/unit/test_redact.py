"""Redacting a stored report for an erased camera: its rows go, other cameras and totals stay."""

from __future__ import annotations

from lenslog.audit.redact import ERASED, names_any, redact_report

DOC = {
    "headline": "camera cam-01 has no night images",
    "totals": {"dataset_images": 5},
    "cameras": [{"camera": "cam-01", "images": 2}, {"camera": "cam-02", "images": 3}],
    "camera_hour": {"rows": ["cam-01", "cam-02"], "columns": ["10", "11"], "values": [[1, 2], [3, 4]]},
    "new_cameras": ["cam-01", "cam-011"],
    "by_value": {"cam-01|10": 1, "cam-02|10": 2},
}


def test_an_erased_cameras_rows_matrix_row_and_keys_go_and_totals_stay():
    out = redact_report(DOC, ["cam-01"])
    assert out["totals"] == DOC["totals"]
    assert out["cameras"] == [{"camera": "cam-02", "images": 3}]
    assert out["camera_hour"] == {"rows": ["cam-02"], "columns": ["10", "11"], "values": [[3, 4]]}
    assert out["new_cameras"] == ["cam-011"] and out["by_value"] == {"cam-02|10": 2}
    assert out["headline"] == f"camera {ERASED} has no night images"
    assert not names_any(str(out), ["cam-01"])


def test_an_id_is_named_only_as_a_whole_token():
    assert names_any("cam-01|10", ["cam-01"]) and names_any("cam-01/2026-02-03.jpg", ["cam-01"])
    assert not names_any("cam-011", ["cam-01"]) and not names_any("xcam-01", ["cam-01"])


def test_a_report_that_names_no_erased_camera_is_returned_as_it_was():
    assert redact_report(DOC, ["cam-09"]) is DOC
