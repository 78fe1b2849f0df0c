"""The built-in sample set of ``lenslog demo``: deterministic, complete, and realistic enough for
the gate and the audit to have something to say about every category."""

from __future__ import annotations

import io
import itertools
import json
import re
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import median
from zoneinfo import ZoneInfo

import imagehash
import numpy as np
import pytest
from PIL import Image, UnidentifiedImageError

from lenslog.config import load_config
from lenslog.local.samples import (
    CAMERAS,
    CLASSES,
    EXPECTED_OUTCOMES,
    GPS_LAT,
    GPS_LAT_REF,
    GPS_LON,
    GPS_LON_REF,
    IFD_EXIF,
    IFD_GPS,
    TAG_BODY_SERIAL_NUMBER,
    TAG_DATETIME_ORIGINAL,
    TAG_MAKE,
    TAG_MODEL,
    TAG_OFFSET_TIME_ORIGINAL,
    SampleKind,
    Upload,
    generate_samples,
)

NOW = datetime(2026, 11, 21, 6, 0, 0, tzinfo=UTC)
SIDECARS = (SampleKind.sidecar, SampleKind.late_sidecar)
# Images that show a scene of their own (not a copy of another, not a blank frame, decodable).
DISTINCT_SCENES = (
    SampleKind.image,
    SampleKind.late_sidecar_image,
    SampleKind.misrouted,
    SampleKind.pii_without_consent,
    SampleKind.no_metadata,
    SampleKind.blurry,
    SampleKind.too_small_png,
)
CONVENTION = re.compile(
    r"^(?P<source>[a-z-]+)/(?P<camera>[a-z0-9-]+)/(?P<date>\d{4}-\d{2}-\d{2})/"
    r"(?P=camera)_(?P<stamp>\d{8}T\d{6})\.jpg$"
)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Upload], float]:
    started = time.perf_counter()
    uploads = generate_samples(tmp_path_factory.mktemp("samples"), now=NOW)
    return uploads, time.perf_counter() - started


@pytest.fixture(scope="module")
def uploads(generated: tuple[list[Upload], float]) -> list[Upload]:
    return generated[0]


def of_kind(uploads: list[Upload], kind: SampleKind) -> list[Upload]:
    return [u for u in uploads if u.kind == kind]


def images(uploads: list[Upload]) -> list[Upload]:
    return [u for u in uploads if u.kind not in SIDECARS]


def sidecar_of(uploads: list[Upload], image: Upload) -> dict | None:
    for u in uploads:
        if u.kind in SIDECARS and u.key == image.key + ".json":
            return json.loads(u.path.read_text())
    return None


def exif_of(upload: Upload) -> tuple[dict, dict, dict]:
    exif = Image.open(upload.path).getexif()
    return dict(exif), dict(exif.get_ifd(IFD_EXIF)), dict(exif.get_ifd(IFD_GPS))


def captured_at(uploads: list[Upload], image: Upload) -> datetime | None:
    """The capture instant the way the gate should find it: sidecar, then EXIF (+ offset or the
    camera's registered zone)."""
    side = sidecar_of(uploads, image)
    if side and "captured_at" in side:
        return datetime.fromisoformat(side["captured_at"])
    _, sub, _ = exif_of(image)
    raw = sub.get(TAG_DATETIME_ORIGINAL)
    if not raw or raw.startswith("0000"):
        return None
    offset = sub.get(TAG_OFFSET_TIME_ORIGINAL)
    if offset:
        return datetime.fromisoformat(raw.replace(":", "-", 2).replace(" ", "T") + offset)
    camera = image.metadata.get("camera-id") or image.key.split("/")[1]
    local = datetime.strptime(raw, "%Y:%m:%d %H:%M:%S")
    return local.replace(tzinfo=ZoneInfo(CAMERAS[camera].timezone))


def camera_of(uploads: list[Upload], image: Upload) -> str | None:
    side = sidecar_of(uploads, image) or {}
    if side.get("camera_id"):
        return side["camera_id"]
    if image.metadata.get("camera-id"):
        return image.metadata["camera-id"]
    m = CONVENTION.match(image.key)
    return m["camera"] if m else None


def classes_of(uploads: list[Upload], image: Upload) -> list[str]:
    side = sidecar_of(uploads, image) or {}
    if "classes" in side:
        return side["classes"]
    return [c for c in image.metadata.get("classes", "").split(",") if c]


def grey(upload: Upload, scale: int = 1) -> np.ndarray:
    img = Image.open(upload.path)
    if scale > 1:
        img.draft("L", (img.width // scale, img.height // scale))
    return np.asarray(img.convert("L"), np.float64)


def laplacian_variance(g: np.ndarray) -> float:
    lap = g[1:-1, :-2] + g[1:-1, 2:] + g[:-2, 1:-1] + g[2:, 1:-1] - 4 * g[1:-1, 1:-1]
    return float(lap.var())


# --- determinism and cost --------------------------------------------------------------------------


def test_same_seed_and_now_give_identical_bytes_keys_and_metadata(
    uploads: list[Upload], tmp_path: Path
) -> None:
    again = generate_samples(tmp_path, now=NOW)
    assert [(u.key, u.cell, dict(u.metadata), u.kind, u.wait_before) for u in again] == [
        (u.key, u.cell, dict(u.metadata), u.kind, u.wait_before) for u in uploads
    ]
    assert all(a.path.read_bytes() == b.path.read_bytes() for a, b in zip(again, uploads, strict=True))


def test_another_seed_draws_other_scenes(uploads: list[Upload], tmp_path: Path) -> None:
    other = generate_samples(tmp_path, now=NOW, seed=8)
    mine = {u.path.read_bytes() for u in uploads if u.kind in DISTINCT_SCENES}
    theirs = {u.path.read_bytes() for u in other if u.kind in DISTINCT_SCENES}
    assert len(mine) == len(theirs) >= 60
    assert not mine & theirs


def test_naive_now_is_taken_as_utc(uploads: list[Upload], tmp_path: Path) -> None:
    naive = generate_samples(tmp_path, now=NOW.replace(tzinfo=None))
    assert [u.key for u in naive] == [u.key for u in uploads]


def test_the_whole_set_is_generated_in_a_few_seconds(generated: tuple[list[Upload], float]) -> None:
    uploads, seconds = generated
    print(f"\ngenerated {len(uploads)} objects ({len(images(uploads))} images) in {seconds:.2f} s")
    assert seconds < 30  # a few seconds locally; generous for a slow CI runner


def test_files_are_written_under_dest_by_cell_and_key(uploads: list[Upload]) -> None:
    for u in uploads:
        assert u.path.parts[-len(u.key.split("/")) :] == tuple(u.key.split("/"))
        assert u.path.parts[-len(u.key.split("/")) - 1] == u.cell


# --- composition -----------------------------------------------------------------------------------


def test_every_category_is_present_and_each_edge_case_exactly_once(uploads: list[Upload]) -> None:
    kinds = Counter(u.kind for u in uploads)
    assert set(kinds) == set(SampleKind)
    for kind in SampleKind:
        if kind not in (SampleKind.image, SampleKind.sidecar):
            assert kinds[kind] == 1, kind
    assert 60 <= len(images(uploads)) <= 80
    assert set(EXPECTED_OUTCOMES) == set(SampleKind) - set(SIDECARS)


def test_keys_are_unique_per_cell(uploads: list[Upload]) -> None:
    keys = [(u.cell, u.key) for u in uploads]
    assert len(keys) == len(set(keys))


def test_production_cameras_span_the_14_days_ending_at_now(uploads: list[Upload]) -> None:
    days_by_camera: dict[str, set] = {}
    for u in of_kind(uploads, SampleKind.image):
        cam, at = camera_of(uploads, u), captured_at(uploads, u)
        if at is None:
            continue
        assert NOW - timedelta(days=14) <= at <= NOW, u.key
        if cam in ("cam-01", "cam-02", "cam-03"):
            days_by_camera.setdefault(cam, set()).add(at.astimezone(UTC).date())
    assert set(days_by_camera) == {"cam-01", "cam-02", "cam-03"}
    assert all(len(days) >= 7 for days in days_by_camera.values())
    assert len(set().union(*days_by_camera.values())) >= 13


def test_cam_01_and_cam_02_have_night_frames_and_cam_03_only_daytime(uploads: list[Upload]) -> None:
    local_hours: dict[str, set[int]] = {}
    for u in of_kind(uploads, SampleKind.image):
        cam, at = camera_of(uploads, u), captured_at(uploads, u)
        if cam in CAMERAS and at is not None:
            local_hours.setdefault(cam, set()).add(at.astimezone(ZoneInfo(CAMERAS[cam].timezone)).hour)
    night = set(range(0, 5)) | set(range(21, 24))
    assert local_hours["cam-01"] & night
    assert local_hours["cam-02"] & night
    assert local_hours["us-cam-01"] & night
    assert not local_hours["cam-03"] & night  # the coverage gap the audit should report
    assert len(local_hours["cam-01"]) >= 10


def test_source_mix_has_about_a_sixth_staged_and_a_tenth_public(uploads: list[Upload]) -> None:
    decodable = [u for u in images(uploads) if u.kind not in (SampleKind.empty_file, SampleKind.text_as_png)]
    staged = sum(u.key.startswith("studio/stage-01/") for u in decodable) / len(decodable)
    public = sum(u.key.startswith("open-data/") for u in decodable) / len(decodable)
    assert 0.15 <= staged <= 0.20
    assert 0.08 <= public <= 0.12


def test_us_camera_lands_in_the_us_cell_except_the_misrouted_one(uploads: list[Upload]) -> None:
    us = [u for u in images(uploads) if u.key.startswith("us-yards/")]
    assert len([u for u in us if u.cell == "us"]) >= 5
    (misrouted,) = [u for u in us if u.cell != "us"]
    assert misrouted.kind == SampleKind.misrouted
    assert misrouted.cell == "eu"
    assert misrouted.metadata["data_region"] == "us"
    assert all(u.cell == "eu" for u in uploads if not u.key.startswith("us-yards/"))


def test_open_data_images_carry_a_capture_time_and_no_camera_id(uploads: list[Upload]) -> None:
    public = [u for u in of_kind(uploads, SampleKind.image) if u.key.startswith("open-data/")]
    assert len(public) >= 6
    assert {Image.open(u.path).size for u in public} > {(640, 480)}
    for u in public:
        assert captured_at(uploads, u) is not None, u.key
        assert camera_of(uploads, u) is None
    with_exif = [u for u in public if exif_of(u)[1].get(TAG_DATETIME_ORIGINAL)]
    assert 0 < len(with_exif) < len(public)


def test_classes_are_the_four_classes_mildly_imbalanced(uploads: list[Upload]) -> None:
    counts = Counter(
        c for u in images(uploads) if u.kind != SampleKind.no_metadata for c in classes_of(uploads, u)
    )
    assert set(counts) == set(CLASSES)
    ratio = min(counts.values()) / max(counts.values())
    assert 0.5 <= ratio < 0.9, counts  # imbalanced, within the 1:2 rule


def test_sidecars_report_several_kinds_of_weather_and_conditions(uploads: list[Upload]) -> None:
    bodies = [json.loads(u.path.read_text()) for u in uploads if u.kind in SIDECARS]
    assert len({b.get("weather") for b in bodies}) >= 4
    assert len({b.get("conditions") for b in bodies}) >= 4
    assert any(b.get("operator") for b in bodies)
    assert any(b.get("scene") for b in bodies)


def test_cameras_agree_with_the_configuration() -> None:
    config = load_config()
    for camera_id, cam in CAMERAS.items():
        registered = config.cameras[camera_id]
        assert (cam.source, cam.timezone, cam.site) == (
            registered.source,
            registered.timezone,
            registered.site,
        )
        assert cam.cell == (config.sources[cam.source].cell or config.home_cell)
        for attr in ("make", "model"):
            if getattr(registered, attr) is not None:
                assert getattr(cam, attr) == getattr(registered, attr)


# --- metadata carriers -----------------------------------------------------------------------------


def test_cam_01_exif_reads_back_with_offset_make_serial_and_gps(uploads: list[Upload]) -> None:
    cam01 = [u for u in of_kind(uploads, SampleKind.image) if u.key.startswith("depot-live/cam-01/")]
    with_gps = 0
    for u in cam01:
        main, sub, gps = exif_of(u)
        assert main[TAG_MAKE] == "Axis"
        assert main[TAG_MODEL] == "P1468-LE"
        assert sub[TAG_BODY_SERIAL_NUMBER]
        assert re.fullmatch(r"\d{4}:\d\d:\d\d \d\d:\d\d:\d\d", sub[TAG_DATETIME_ORIGINAL])
        assert sub[TAG_OFFSET_TIME_ORIGINAL] in ("+01:00", "+02:00")
        m = CONVENTION.match(u.key)
        assert m, u.key
        assert m["stamp"] == sub[TAG_DATETIME_ORIGINAL].replace(":", "").replace(" ", "T")
        if gps:
            with_gps += 1
            lat = sum(float(v) / 60**i for i, v in enumerate(gps[GPS_LAT]))
            lon = sum(float(v) / 60**i for i, v in enumerate(gps[GPS_LON]))
            assert (gps[GPS_LAT_REF], gps[GPS_LON_REF]) == ("N", "E")
            assert lat == pytest.approx(52.5163, abs=1e-3)
            assert lon == pytest.approx(13.4534, abs=1e-3)
    assert 0 < with_gps < len(cam01)


def test_us_camera_gps_is_west_and_its_offset_is_chicago_time(uploads: list[Upload]) -> None:
    us = [u for u in images(uploads) if u.cell == "us"]
    for u in us:
        _, sub, gps = exif_of(u)
        assert sub[TAG_OFFSET_TIME_ORIGINAL] in ("-06:00", "-05:00")
        assert gps[GPS_LON_REF] == "W"


def test_cam_02_relies_on_s3_metadata_and_exif_time_without_offset(uploads: list[Upload]) -> None:
    cam02 = [u for u in of_kind(uploads, SampleKind.image) if u.key.startswith("depot-live/cam-02/")]
    assert len(cam02) >= 10
    for u in cam02:
        assert u.metadata["camera-id"] == "cam-02"
        assert u.metadata["site"] == "hamburg-dock"
        assert set(u.metadata["classes"].split(",")) <= set(CLASSES)
        _, sub, _ = exif_of(u)
        assert TAG_DATETIME_ORIGINAL in sub
        assert TAG_OFFSET_TIME_ORIGINAL not in sub


def test_cam_03_carries_messy_exif_that_its_sidecar_overrides(uploads: list[Upload]) -> None:
    cam03 = [u for u in of_kind(uploads, SampleKind.image) if u.key.startswith("depot-archive/")]
    raws = [exif_of(u)[1].get(TAG_DATETIME_ORIGINAL) for u in cam03]
    assert "0000:00:00 00:00:00" in raws
    assert any(exif_of(u)[2].get(GPS_LAT) == (0.0, 0.0, 0.0) for u in cam03)
    assert all(sidecar_of(uploads, u)["camera_id"] == "cam-03" for u in cam03)


def test_sidecars_are_json_named_after_their_image_in_the_same_cell(uploads: list[Upload]) -> None:
    by_key = {(u.cell, u.key): u for u in images(uploads)}
    sidecars = [u for u in uploads if u.kind in SIDECARS]
    assert len(sidecars) >= 20
    for s in sidecars:
        assert s.key == f"{s.related_key}.json"
        assert (s.cell, s.related_key) in by_key
        assert s.content_type == "application/json"
        body = json.loads(s.path.read_text())
        captured = datetime.fromisoformat(body["captured_at"])
        assert captured.utcoffset() is not None
        assert isinstance(body["classes"], list)


def test_sidecars_precede_their_image_except_exactly_one_late_one(uploads: list[Upload]) -> None:
    position = {(u.cell, u.key): i for i, u in enumerate(uploads)}
    late = []
    for i, s in enumerate(uploads):
        if s.kind in SIDECARS and i > position[(s.cell, s.related_key)]:
            late.append(s)
    assert late == of_kind(uploads, SampleKind.late_sidecar)
    (sidecar,) = late
    assert sidecar.wait_before
    image = uploads[position[(sidecar.cell, sidecar.related_key)]]
    assert image.kind == SampleKind.late_sidecar_image
    body = json.loads(sidecar.path.read_text())
    assert body["camera_id"] and body["captured_at"]


def test_the_late_sidecar_image_has_no_camera_or_time_anywhere_else(uploads: list[Upload]) -> None:
    (image,) = of_kind(uploads, SampleKind.late_sidecar_image)
    assert dict(image.metadata) == {}
    assert not Image.open(image.path).getexif()
    assert not CONVENTION.match(image.key)
    assert not re.search(r"\d{4}-\d\d-\d\d|cam-\d\d", image.key)


def test_no_metadata_image_has_no_exif_no_sidecar_no_s3_metadata(uploads: list[Upload]) -> None:
    (image,) = of_kind(uploads, SampleKind.no_metadata)
    assert dict(image.metadata) == {}
    assert not Image.open(image.path).getexif()
    assert sidecar_of(uploads, image) is None
    assert not re.search(r"\d{4}-\d\d-\d\d|\d{8}T\d{6}|cam-\d\d", image.key)


def test_pii_sample_declares_faces_without_a_consent_id(uploads: list[Upload]) -> None:
    (image,) = of_kind(uploads, SampleKind.pii_without_consent)
    assert image.key.startswith("depot-live/")
    body = sidecar_of(uploads, image)
    assert body["pii"] == ["faces"]
    assert "consent_id" not in body
    assert "consent-id" not in image.metadata


# --- duplicates ------------------------------------------------------------------------------------


def test_exact_duplicate_is_the_same_bytes_under_another_key_after_a_wait(uploads: list[Upload]) -> None:
    (dup,) = of_kind(uploads, SampleKind.exact_duplicate)
    original = next(u for u in uploads if u.key == dup.related_key)
    assert dup.key != original.key
    assert dup.path.read_bytes() == original.path.read_bytes()
    assert dup.wait_before
    assert uploads.index(dup) > uploads.index(original)
    assert sum(u.path.read_bytes() == original.path.read_bytes() for u in images(uploads)) == 2


def test_near_duplicate_is_a_resized_recompressed_copy_with_the_same_metadata(uploads: list[Upload]) -> None:
    (near,) = of_kind(uploads, SampleKind.near_duplicate)
    original = next(u for u in uploads if u.key == near.related_key)
    assert uploads.index(near) > uploads.index(original)
    a, b = Image.open(original.path), Image.open(near.path)
    assert b.size == (int(a.width * 0.8), int(a.height * 0.8))
    assert near.path.read_bytes() != original.path.read_bytes()
    assert dict(near.metadata) == dict(original.metadata)
    assert exif_of(near) == exif_of(original)
    distance = imagehash.phash(a) - imagehash.phash(b)
    assert distance <= load_config().near_duplicates.max_distance


@pytest.mark.parametrize("seed", [7, 3])
def test_distinct_scenes_are_not_near_duplicates_of_each_other(
    seed: int, uploads: list[Upload], tmp_path: Path
) -> None:
    sample = uploads if seed == 7 else generate_samples(tmp_path, now=NOW, seed=seed)
    hashes = {u.key: imagehash.phash(Image.open(u.path)) for u in sample if u.kind in DISTINCT_SCENES}
    assert len(hashes) >= 60
    closest = min((hashes[a] - hashes[b], a, b) for a, b in itertools.combinations(hashes, 2))
    assert closest[0] > 10, closest


# --- light and quality -----------------------------------------------------------------------------


def test_night_frames_are_dark_and_daytime_frames_are_not(uploads: list[Upload]) -> None:
    night, day = [], []
    for u in of_kind(uploads, SampleKind.image):
        cam, at = camera_of(uploads, u), captured_at(uploads, u)
        if cam not in ("cam-01", "cam-02", "us-cam-01") or at is None:
            continue
        hour = at.astimezone(ZoneInfo(CAMERAS[cam].timezone)).hour
        if hour >= 22 or hour <= 3:
            night.append(grey(u).mean())
        elif 10 <= hour <= 14:
            day.append(grey(u).mean())
    assert night and day
    assert max(night) < 50
    assert min(day) > 70
    assert all(n > 3 for n in night)  # dark, but lamps and windows still show


def test_blurry_frame_is_below_the_blur_threshold_where_sharp_frames_are_above(uploads: list[Upload]) -> None:
    threshold = load_config().quality.blur_laplacian_var
    (blurry,) = of_kind(uploads, SampleKind.blurry)
    assert laplacian_variance(grey(blurry, scale=4)) < threshold
    sharp = [laplacian_variance(grey(u, scale=4)) for u in of_kind(uploads, SampleKind.image)]
    assert median(sharp) > 3 * threshold


def test_black_frame_is_nearly_black_and_carries_full_metadata(uploads: list[Upload]) -> None:
    (black,) = of_kind(uploads, SampleKind.black_frame)
    g = grey(black)
    assert g.mean() < 10
    assert g.std() < 3
    main, sub, _ = exif_of(black)
    assert main[TAG_MAKE] and sub[TAG_DATETIME_ORIGINAL] and sub[TAG_OFFSET_TIME_ORIGINAL]


# --- bad files -------------------------------------------------------------------------------------


def test_truncated_jpeg_opens_but_fails_a_full_decode(uploads: list[Upload]) -> None:
    (truncated,) = of_kind(uploads, SampleKind.truncated_jpeg)
    data = truncated.path.read_bytes()
    assert data[:3] == b"\xff\xd8\xff"
    originals = [u.path.read_bytes() for u in of_kind(uploads, SampleKind.image)]
    assert any(o.startswith(data) and len(data) == int(len(o) * 0.6) for o in originals)
    img = Image.open(io.BytesIO(data))
    assert img.format == "JPEG"
    with pytest.raises(OSError):
        img.load()


def test_empty_gif_small_png_and_text_files_are_what_their_notes_say(uploads: list[Upload]) -> None:
    (empty,) = of_kind(uploads, SampleKind.empty_file)
    assert empty.key.endswith(".jpg")
    assert empty.path.read_bytes() == b""

    (gif,) = of_kind(uploads, SampleKind.gif_as_jpeg)
    assert gif.key.endswith(".jpg")
    assert gif.content_type == "image/jpeg"
    assert gif.path.read_bytes()[:6] in (b"GIF87a", b"GIF89a")
    assert Image.open(gif.path).format == "GIF"

    (small,) = of_kind(uploads, SampleKind.too_small_png)
    with Image.open(small.path) as img:
        assert (img.format, img.size) == ("PNG", (200, 150))

    (text,) = of_kind(uploads, SampleKind.text_as_png)
    assert text.key.endswith(".png")
    text.path.read_bytes().decode("utf-8")
    with pytest.raises(UnidentifiedImageError):
        Image.open(text.path)


def test_every_sample_has_a_one_line_note_and_a_content_type(uploads: list[Upload]) -> None:
    for u in uploads:
        assert u.note and "\n" not in u.note
        assert u.content_type in ("image/jpeg", "image/png", "application/json")


def test_only_the_late_sidecar_and_the_exact_duplicate_wait(uploads: list[Upload]) -> None:
    waiting = {u.kind for u in uploads if u.wait_before}
    assert waiting == {SampleKind.late_sidecar, SampleKind.exact_duplicate}
    # they come last, so everything they depend on has been decided before them
    assert uploads[-3].kind == SampleKind.late_sidecar
