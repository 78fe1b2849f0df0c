"""Label carriers as users' tools write them: YOLO txt, Pascal VOC XML, COCO JSON, data.yaml, the
sidecar's ``labels``; real-world quirks and hostile files. Parsing only (validation against the
image is in test_labels_validate.py)."""

from __future__ import annotations

import codecs
import json

import pytest

from lenslog.domain.labels import classmap, coco, sidecar, voc, yolo


# YOLO --------------------------------------------------------------------------------------------
def test_yolo_reads_crlf_a_bom_trailing_spaces_and_blank_lines():
    data = codecs.BOM_UTF8 + b"0 0.5 0.5 0.2 0.4  \r\n\r\n3 0.25 0.75 0.1 0.1\t\r\n"
    c = yolo.parse(data, "ds/labels/a.txt", "v1")
    assert [(b.class_ref, b.coords) for b in c.boxes] == [
        ("0", (0.5, 0.5, 0.2, 0.4)),
        ("3", (0.25, 0.75, 0.1, 0.1)),
    ]
    assert c.errors == [] and not c.null and all(b.by_id for b in c.boxes)


@pytest.mark.parametrize("data", [b"", b"\r\n", b"  \n\n", codecs.BOM_UTF8])
def test_an_empty_yolo_file_is_a_null_image(data):
    c = yolo.parse(data, "a.txt")
    assert c.null and c.boxes == [] and c.errors == []


def test_yolo_polygons_and_oriented_boxes_become_their_bounding_box_with_the_kind():
    c = yolo.parse(b"1 0.1 0.2 0.5 0.2 0.3 0.6\n2 0.1 0.1 0.3 0.1 0.3 0.3 0.1 0.3\n", "a.txt")
    poly, obb = c.boxes
    assert poly.kind == "polygon" and poly.coords == pytest.approx((0.3, 0.4, 0.4, 0.4))
    assert obb.kind == "obb" and obb.coords == pytest.approx((0.2, 0.2, 0.2, 0.2))


def test_malformed_yolo_lines_are_reported_by_line_and_the_rest_kept():
    c = yolo.parse(
        b"0 0.5 0.5 0.2 0.2\ncar 0.5 0.5 0.1 0.1\n-1 0.5 0.5 0.1 0.1\n0 0.5 nan 0.1 0.1\n0 0.5 0.5\n", "a.txt"
    )
    assert len(c.boxes) == 1
    assert [e.split(":")[0] for e in c.errors] == ["malformed"] * 4
    assert [e.split(": ")[1] for e in c.errors] == ["line 2", "line 3", "line 4", "line 5"]


def test_a_yolo_file_in_another_encoding_is_refused_not_guessed():
    c = yolo.parse("0 0.5 0.5 0.2 0.2 # caf\u00e9\n".encode("latin-1"), "a.txt")
    assert c.boxes == [] and c.errors and c.errors[0].startswith("bad_encoding")


def test_a_utf16_yolo_file_with_its_bom_is_read():
    c = yolo.parse("0 0.5 0.5 0.2 0.2\r\n".encode("utf-16"), "a.txt")
    assert len(c.boxes) == 1


def test_a_huge_yolo_file_is_refused_before_parsing():
    c = yolo.parse(b"0 0.5 0.5 0.2 0.2\n" * 100_000, "a.txt")
    assert c.boxes == [] and c.errors[0].startswith("too_large")


# data.yaml ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "path: ../ds\ntrain: images/train\nnames:\n  0: person\n  1: 'traffic light'  # comment\nnc: 2\n",
        'names: [person, "traffic light"]\n',
        "names:\n- person\n- traffic light\n",
        "names: {0: person, 1: traffic light}\n",
    ],
)
def test_data_yaml_names_as_a_list_or_a_mapping(text):
    assert classmap.parse_data_yaml(text.encode()) == {"0": "person", "1": "traffic light"}


def test_data_yaml_with_nc_disagreeing_with_names_is_an_error():
    with pytest.raises(classmap.ClassMapError, match="nc is 3"):
        classmap.parse_data_yaml(b"nc: 3\nnames: [a, b]\n")


def test_classes_txt_is_one_name_a_line():
    assert classmap.parse("ds/classes.txt", b"cat\r\ndog\r\n\r\n") == {"0": "cat", "1": "dog"}


# VOC ---------------------------------------------------------------------------------------------
VOC = b"""<annotation>
  <filename>x.jpg</filename>
  <size><width>640</width><height>480</height><depth>3</depth></size>
  <object><name>car</name><pose>Left</pose><truncated>1</truncated><difficult>0</difficult>
    <bndbox><xmin>11</xmin><ymin>21</ymin><xmax>111</xmax><ymax>221</ymax></bndbox></object>
  <object><name>person</name><difficult>1</difficult>
    <bndbox><xmin>1</xmin><ymin>1</ymin><xmax>50.5</xmax><ymax>60</ymax></bndbox></object>
</annotation>
"""


def test_voc_reads_size_objects_and_keeps_difficult_and_truncated():
    c = voc.parse(VOC, "ds/Annotations/x.xml", "v1")
    assert c.declared == (640, 480) and c.errors == []
    car, person = c.boxes
    assert car.class_ref == "car" and car.coords == (10, 20, 110, 220) and car.convention == "xyxy_px"
    assert car.extra == {"truncated": True, "difficult": False, "pose": "Left"}
    assert person.extra == {"difficult": True}


def test_a_voc_file_without_objects_is_a_null_image():
    c = voc.parse(b"<annotation><size><width>10</width><height>10</height></size></annotation>", "a.xml")
    assert c.null and c.boxes == []


def test_xml_entity_expansion_is_refused():
    bomb = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<annotation><object><name>&lol3;</name></object></annotation>"""
    c = voc.parse(bomb, "a.xml")
    assert c.boxes == [] and c.errors[0].startswith("unsafe_xml")


def test_an_external_entity_is_refused():
    xxe = b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><annotation>&x;</annotation>'
    c = voc.parse(xxe, "a.xml")
    assert c.errors[0].startswith("unsafe_xml")


def test_malformed_xml_and_incomplete_objects_get_reasons():
    assert voc.parse(b"<annotation><object>", "a.xml").errors[0].startswith("malformed: XML")
    c = voc.parse(
        b"<annotation><object><name>car</name><bndbox><xmin>1</xmin></bndbox></object></annotation>", "a.xml"
    )
    assert c.boxes == [] and c.errors == ["malformed: object 1: no name or an incomplete bndbox"]


# COCO --------------------------------------------------------------------------------------------
def coco_doc() -> dict:
    return {
        "images": [
            {"id": 7, "file_name": "a.jpg", "width": 640, "height": 480},
            {"id": 9, "file_name": "sub/b.jpg", "width": 100, "height": 100},
            {"id": 11, "file_name": "empty.jpg", "width": 100, "height": 100},
        ],
        "categories": [
            {"id": 1, "name": "person"},
            {"id": 18, "name": "dog"},
            {"id": 90, "name": "toothbrush"},
        ],
        "annotations": [
            {
                "id": 1,
                "image_id": 7,
                "category_id": 18,
                "bbox": [10, 20, 100, 50],
                "iscrowd": 0,
                "area": 5000,
            },
            {
                "id": 2,
                "image_id": 7,
                "category_id": 1,
                "bbox": [0, 0, 640, 480],
                "iscrowd": 1,
                "segmentation": {},
            },
            {"id": 3, "image_id": 9, "category_id": 90, "bbox": [1, 1, 2]},
            {"id": 4, "image_id": 404, "category_id": 1, "bbox": [1, 1, 2, 2]},
        ],
    }


def test_coco_splits_per_image_with_non_contiguous_category_ids_and_iscrowd():
    per_image, errors = coco.split(coco_doc(), "ds/annotations/instances.json", "v1")
    a = per_image["a.jpg"]
    assert a.declared == (640, 480) and a.class_map["18"] == "dog" and a.class_map["90"] == "toothbrush"
    assert [(b.class_ref, b.coords, b.extra) for b in a.boxes] == [
        ("18", (10, 20, 100, 50), {"iscrowd": 0}),
        ("1", (0, 0, 640, 480), {"iscrowd": 1}),
    ]
    assert per_image["sub/b.jpg"].boxes == [] and per_image["sub/b.jpg"].errors[0].startswith(
        "malformed: annotation 3"
    )
    assert per_image["empty.jpg"].null  # listed, never annotated: a background image
    assert errors == ["malformed: annotation 4: image_id 404 is not in images"]


def test_deeply_nested_json_is_refused_with_a_reason():
    deep = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(coco.CocoError, match="too_deep"):
        coco.load(deep)
    nested: list = [1]
    for _ in range(25):
        nested = [nested]
    moderately = json.dumps({"images": [], "x": nested}).encode()
    with pytest.raises(coco.CocoError, match="too_deep"):
        coco.load(moderately)


def test_malformed_and_wrongly_encoded_coco_files_get_reasons():
    with pytest.raises(coco.CocoError, match="malformed"):
        coco.load(b'{"images": [')
    with pytest.raises(coco.CocoError, match="bad_encoding"):
        coco.load('{"images": [], "info": "caf\u00e9"}'.encode("latin-1"))


def test_a_huge_coco_file_is_refused_by_size(monkeypatch):
    monkeypatch.setattr(coco, "MAX_BYTES", 1000)
    with pytest.raises(coco.CocoError, match="too_large"):
        coco.load(b" " * 1001)


def test_a_sidecar_shaped_json_is_not_coco():
    assert not coco.looks_like_coco({"camera_id": "cam-01"})
    assert coco.looks_like_coco(coco_doc())


# sidecar -----------------------------------------------------------------------------------------
def test_sidecar_labels_are_native_class_names_and_normalised_boxes():
    c = sidecar.parse(
        {"camera_id": "c", "labels": [{"class": "cup", "box": [0.5, 0.5, 0.2, 0.2]}, {"class": 3}]}
    )
    assert c is not None and [(b.class_ref, b.by_id) for b in c.boxes] == [("cup", False)]
    assert c.errors == ["malformed: label 2: needs class and box [cx, cy, w, h]"]
    assert sidecar.parse({"labels": []}).null
    assert sidecar.parse({"camera_id": "c"}) is None
