"""Which landing keys are label carriers, and how a label file pairs with its images.

Pairing works on *stems*: an image key without its extension (``ds/images/train/x.jpg`` ->
``ds/images/train/x``). A label file names the stems of the images it may belong to:

- the same stem beside the image (``x.jpg`` with ``x.txt`` or ``x.xml``);
- Ultralytics: ``.../labels/...`` <-> ``.../images/...`` (the last such folder);
- Pascal VOC: ``.../Annotations/...`` <-> ``.../JPEGImages/...``;
- COCO: each ``file_name`` relative to the JSON's folder, to an ``images/`` folder beside the
  JSON, or to the JSON folder's parent and its ``images/`` folder (``ds/annotations/x.json`` with
  ``ds/images/...``).

An image looks up its own stem only (one query, whatever the corpus holds).
"""

from __future__ import annotations

import posixpath
from enum import StrEnum

IMAGE_EXTENSIONS = frozenset({"jpg", "jpeg", "png", "bmp", "tif", "tiff", "webp", "gif"})
SIDECAR_SUFFIX = ".json"


class KeyKind(StrEnum):
    image = "image"  # anything else: the gate decides it
    sidecar = "sidecar"  # <image key>.json
    yolo = "yolo"  # .txt
    voc = "voc"  # .xml
    coco = "coco"  # .json that is not <image key>.json (confirmed by its content)
    class_map = "class_map"  # data.yaml / *.yaml / classes.txt / *.names


def _ext(key: str) -> str:
    base = key.rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[-1].lower() if "." in base else ""


def classify(key: str) -> KeyKind:
    """The kind of a landing key, from its name alone (content confirms COCO)."""
    ext = _ext(key)
    base = key.rsplit("/", 1)[-1].lower()
    if ext in ("yaml", "yml", "names") or base == "classes.txt":
        return KeyKind.class_map
    if ext == "txt":
        return KeyKind.yolo
    if ext == "xml":
        return KeyKind.voc
    if ext == "json":
        # <image>.json is a sidecar; any other .json may be a COCO file, which its content
        # confirms (else it is treated as the sidecar of an image without extension)
        if _ext(key[: -len(SIDECAR_SUFFIX)]) in IMAGE_EXTENSIONS:
            return KeyKind.sidecar
        return KeyKind.coco
    return KeyKind.image


def is_companion(key: str) -> bool:
    """A file that travels with images (sidecar, label, class map): uploaded before them and
    never decided as an image."""
    return classify(key) is not KeyKind.image


def stem(key: str) -> str:
    """The key without its extension (the folder part is kept)."""
    head, _, base = key.rpartition("/")
    name = base.rsplit(".", 1)[0] if "." in base.lstrip(".") else base
    return f"{head}/{name}" if head else name


def _swap_folder(key: str, folder: str, other: str) -> str | None:
    """``key`` with its last ``folder/`` path component replaced by ``other/``."""
    parts = key.split("/")
    for i in range(len(parts) - 2, -1, -1):
        if parts[i] == folder:
            return "/".join([*parts[:i], other, *parts[i + 1 :]])
    return None


def image_stems_for(label_key: str) -> list[str]:
    """The image stems a YOLO or VOC label file pairs with (same stem first)."""
    out = [stem(label_key)]
    for folder, other in (("labels", "images"), ("Annotations", "JPEGImages")):
        swapped = _swap_folder(label_key, folder, other)
        if swapped is not None:
            out.append(stem(swapped))
    return list(dict.fromkeys(out))


def coco_roots(json_key: str) -> list[str]:
    """The folders a COCO file's ``file_name`` values are relative to."""
    folder = posixpath.dirname(json_key)
    parent = posixpath.dirname(folder) if folder else ""
    roots = [folder, posixpath.join(folder, "images") if folder else "images"]
    if folder:
        roots += [parent, posixpath.join(parent, "images") if parent else "images"]
    return list(dict.fromkeys(roots))


def coco_image_stems(json_key: str, file_name: str) -> list[str]:
    name = posixpath.normpath(file_name.replace("\\", "/")).lstrip("/")
    if name.startswith("../") or name == "..":
        return []
    return list(
        dict.fromkeys(stem(posixpath.join(root, name) if root else name) for root in coco_roots(json_key))
    )


def class_map_scopes(key: str) -> list[str]:
    """The folders a class map at ``key`` covers: its own folder and everything below it."""
    return [posixpath.dirname(key)]


def class_map_lookup_folders(label_key: str) -> list[str]:
    """Folders where a class map for ``label_key`` may lie: its folder and every ancestor, nearest
    first (a ``data.yaml`` at the dataset root covers ``labels/train/...``)."""
    out: list[str] = []
    folder = posixpath.dirname(label_key)
    while True:
        out.append(folder)
        if not folder:
            return out
        folder = posixpath.dirname(folder)
