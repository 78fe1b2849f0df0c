"""Validation of carried labels against the decoded image: reasons per box and per file, the
upright frame, null versus unlabelled, precedence between carriers."""

from __future__ import annotations

import pytest

from lenslog.domain.labels import LabelLimits, coco, validate, voc, yolo
from lenslog.domain.labels.models import Carried, CarriedBox, LabelFormat

NAMES = {"0": "cup", "1": "spoon"}


def test_valid_yolo_boxes_are_kept_normalised_with_their_class_names():
    c = yolo.parse(b"0 0.5 0.5 0.2 0.4\n1 0.1 0.1 0.1 0.1\n", "a.txt", "v1")
    labels = validate.resolve([c], 640, 480, id_map=NAMES)
    assert labels.status == "labelled" and labels.format == "yolo" and labels.sources == ["a.txt@v1"]
    assert [(o.class_, o.box) for o in labels.objects] == [
        ("cup", [0.5, 0.5, 0.2, 0.4]),
        ("spoon", [0.1, 0.1, 0.1, 0.1]),
    ]
    dumped = labels.model_dump(mode="json")
    assert set(dumped) >= {"format", "status", "objects", "warnings"}
    assert dumped["objects"][0] == {"class": "cup", "box": [0.5, 0.5, 0.2, 0.4], "kind": "box"}


def test_each_bad_box_is_dropped_with_its_reason_and_the_good_ones_kept():
    text = (
        b"0 0.5 0.5 0.2 0.2\n"  # good
        b"7 0.5 0.5 0.2 0.2\n"  # unknown class id
        b"0 0.95 0.5 0.2 0.2\n"  # out of bounds (x1 = 1.05)
        b"0 0.3 0.3 0 0.2\n"  # zero area
        b"0 0.5 0.5 0.2 0.199\n"  # duplicate of line 1 (IoU 0.995)
        b"1 0.5 0.5 0.2 0.2\n"  # same box, another class: kept
        b"0 0.905 0.5 0.2 0.2\n"  # x1 = 1.005: within the 1% tolerance, clipped
    )
    labels = validate.resolve([yolo.parse(text, "a.txt")], 640, 480, id_map=NAMES)
    assert labels.status == "labelled"
    assert [o.class_ for o in labels.objects] == ["cup", "spoon", "cup"]
    assert labels.objects[2].box[0] + labels.objects[2].box[2] / 2 == pytest.approx(1.0)
    reasons = [w.split(":")[0] for w in labels.warnings]
    assert reasons == ["unknown_class", "out_of_bounds", "zero_area", "duplicate", "clipped"]


def test_a_file_with_no_valid_box_makes_the_image_invalid_not_unlabelled():
    labels = validate.resolve([yolo.parse(b"5 0.5 0.5 0.2 0.2\n", "a.txt")], 640, 480, id_map=NAMES)
    assert (
        labels.status == "invalid" and labels.objects == [] and labels.warnings[0].startswith("unknown_class")
    )


def test_yolo_ids_without_any_class_map_are_invalid_with_their_reason():
    labels = validate.resolve([yolo.parse(b"0 0.5 0.5 0.2 0.2\n", "a.txt")], 640, 480)
    assert labels.status == "invalid" and labels.warnings[0].startswith("no_class_map")


def test_null_unlabelled_and_invalid_are_distinct():
    assert validate.resolve([], 640, 480).status == "unlabelled"
    assert validate.resolve([yolo.parse(b"", "a.txt")], 640, 480).status == "null"
    assert validate.resolve([yolo.parse(b"oops\n", "a.txt")], 640, 480).status == "invalid"


def test_a_declared_size_different_from_the_decoded_image_invalidates_the_file():
    labels = validate.resolve([voc.parse(VOC_640x480, "x.xml")], 800, 600)
    assert labels.status == "invalid" and labels.warnings == [
        "size_mismatch: declared 640x480, decoded 800x600 (upright)"
    ]


def test_too_many_boxes_invalidate_the_file():
    text = b"".join(b"0 %.3f 0.5 0.001 0.001\n" % (i / 1000) for i in range(1, 12))
    labels = validate.resolve(
        [yolo.parse(text, "a.txt")], 640, 480, id_map=NAMES, limits=LabelLimits(max_boxes=10)
    )
    assert labels.status == "invalid" and labels.warnings[0] == "too_many_boxes: 11 boxes > 10"


def test_voc_pixel_corners_are_normalised_like_ultralytics_voc_conversion():
    labels = validate.resolve([voc.parse(VOC_640x480, "x.xml")], 640, 480)
    (car,) = labels.objects
    # xmin 65, xmax 129 (1-based) on 640 wide: centre (65 + 129) / 2 - 1 = 96, width 64
    assert car.box == pytest.approx([96 / 640, 96 / 480, 64 / 640, 64 / 480], abs=1e-6)  # 6 digits kept
    assert car.model_dump(by_alias=True)["difficult"] is True


def test_coco_boxes_are_top_left_width_height_in_pixels():
    per_image, _ = coco.split(
        {
            "images": [{"id": 1, "file_name": "a.jpg", "width": 400, "height": 200}],
            "categories": [{"id": 5, "name": "dog"}],
            "annotations": [
                {"id": 1, "image_id": 1, "category_id": 5, "bbox": [100, 50, 200, 100], "iscrowd": 1}
            ],
        },
        "a.json",
    )
    (dog,) = validate.resolve([per_image["a.jpg"]], 400, 200).objects
    assert dog.class_ == "dog" and dog.box == [0.5, 0.5, 0.5, 0.5]
    assert dog.model_dump(by_alias=True)["iscrowd"] == 1


def test_names_outside_the_sources_class_list_are_unknown():
    labels = validate.resolve([voc.parse(VOC_640x480, "x.xml")], 640, 480, known=frozenset({"person"}))
    assert labels.status == "invalid" and labels.warnings[0].startswith(
        "unknown_class: object 1: class 'car'"
    )


# the upright frame -------------------------------------------------------------------------------
def test_boxes_of_a_rotated_image_are_in_the_upright_frame():
    # a 640x480 stored frame with EXIF orientation 6 is displayed 480 wide, 640 high
    c = Carried(
        format=LabelFormat.voc, source="x.xml", declared=(480, 640),
        boxes=[CarriedBox(class_ref="car", coords=(0, 0, 240, 160), convention="xyxy_px")],
    )  # fmt: skip
    (car,) = validate.resolve([c], 640, 480, 6).objects
    assert car.box == pytest.approx([0.25, 0.125, 0.5, 0.25])


def test_a_carrier_declaring_the_stored_frame_of_a_rotated_image_is_turned_upright():
    # the top-left quarter of the stored frame; orientation 6 (rotate 90 degrees clockwise) puts it top-right
    c = Carried(
        format=LabelFormat.voc, source="x.xml", declared=(640, 480),
        boxes=[CarriedBox(class_ref="car", coords=(0, 0, 320, 240), convention="xyxy_px")],
    )  # fmt: skip
    labels = validate.resolve([c], 640, 480, 6)
    assert labels.objects[0].box == pytest.approx([0.75, 0.25, 0.5, 0.5])
    assert labels.warnings[0].startswith("raw_frame")


@pytest.mark.parametrize(
    ("orientation", "expected"),
    [
        (1, (0.1, 0.2, 0.3, 0.4)),
        (2, (0.7, 0.2, 0.9, 0.4)),
        (3, (0.7, 0.6, 0.9, 0.8)),
        (4, (0.1, 0.6, 0.3, 0.8)),
        (5, (0.2, 0.1, 0.4, 0.3)),
        (6, (0.6, 0.1, 0.8, 0.3)),
        (7, (0.6, 0.7, 0.8, 0.9)),
        (8, (0.2, 0.7, 0.4, 0.9)),
    ],
)
def test_every_exif_orientation_maps_a_box_as_pillows_exif_transpose(orientation, expected):
    from PIL import Image, ImageOps

    img = Image.new("L", (100, 100))
    img.paste(255, (10, 20, 30, 40))  # the box, drawn in the stored frame
    exif = img.getexif()
    exif[0x0112] = orientation
    img.info["exif"] = exif.tobytes()
    upright = ImageOps.exif_transpose(img)
    assert upright.getbbox() == tuple(round(v * 100) for v in expected)
    assert validate.to_upright((0.1, 0.2, 0.3, 0.4), orientation) == pytest.approx(expected)


def test_the_most_specific_carrier_wins_and_the_others_are_noted():
    y = yolo.parse(b"0 0.5 0.5 0.2 0.2\n", "ds/labels/a.txt", "v1")
    v = voc.parse(VOC_640x480, "ds/Annotations/a.xml", "v2")
    labels = validate.resolve([y, v], 640, 480, id_map=NAMES)
    assert labels.format == "voc" and labels.warnings == ["superseded: yolo ds/labels/a.txt"]


VOC_640x480 = b"""<annotation><size><width>640</width><height>480</height></size>
<object><name>car</name><difficult>1</difficult><bndbox><xmin>65</xmin><ymin>65</ymin><xmax>129</xmax><ymax>129</ymax></bndbox></object>
</annotation>"""
