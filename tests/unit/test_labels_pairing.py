"""Which keys are label carriers and which image stems a label file pairs with."""

from __future__ import annotations

import pytest

from lenslog.domain.labels import keys


@pytest.mark.parametrize(
    ("key", "kind"),
    [
        ("cam/x.jpg", "image"),
        ("cam/x.jpg.json", "sidecar"),
        ("cam/x.JPEG.json", "sidecar"),
        ("cam/noext.json", "coco"),  # its content decides: no COCO structure, a sidecar
        ("ds/labels/train/x.txt", "yolo"),
        ("ds/Annotations/x.xml", "voc"),
        ("ds/annotations/instances_val2017.json", "coco"),
        ("ds/data.yaml", "class_map"),
        ("ds/classes.txt", "class_map"),
        ("ds/obj.names", "class_map"),
        ("cam/photo", "image"),
    ],
)
def test_keys_are_classified_by_name(key, kind):
    assert keys.classify(key) == kind


def test_a_yolo_label_pairs_beside_and_across_the_images_labels_folders():
    assert keys.image_stems_for("ds/labels/train/x.txt") == ["ds/labels/train/x", "ds/images/train/x"]
    assert keys.stem("ds/images/train/x.jpg") == "ds/images/train/x"
    assert keys.image_stems_for("x.txt") == ["x"]


def test_the_last_labels_folder_is_swapped():
    assert keys.image_stems_for("labels/ds/labels/x.txt")[1] == "labels/ds/images/x"


def test_a_voc_annotation_pairs_with_jpegimages():
    assert keys.image_stems_for("VOC2012/Annotations/2007_000027.xml") == [
        "VOC2012/Annotations/2007_000027",
        "VOC2012/JPEGImages/2007_000027",
    ]


def test_coco_file_names_are_relative_to_the_json_or_an_images_folder_beside_it():
    stems = keys.coco_image_stems("ds/annotations/instances.json", "val/x.jpg")
    assert stems == ["ds/annotations/val/x", "ds/annotations/images/val/x", "ds/val/x", "ds/images/val/x"]
    assert keys.coco_image_stems("coco.json", "x.jpg") == ["x", "images/x"]
    assert keys.coco_image_stems("ds/a.json", "../../etc/x.jpg") == []


def test_class_maps_are_looked_up_from_the_label_folder_to_the_root():
    assert keys.class_map_lookup_folders("ds/labels/train/x.txt") == [
        "ds/labels/train",
        "ds/labels",
        "ds",
        "",
    ]
