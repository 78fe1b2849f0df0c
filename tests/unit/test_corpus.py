"""The shared test-corpus fetcher: extracts safely and atomically, gives None when offline."""

from __future__ import annotations

import io
import tarfile

from PIL import __version__ as pillow_version

from tests.corpus import pillow_test_images

fetch = pillow_test_images.__wrapped__  # bypass the per-process cache


def _sdist(path, members: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_extracts_only_the_test_images_and_renames_them_into_place(tmp_path, monkeypatch):
    monkeypatch.setenv("LENSLOG_TEST_CORPUS", str(tmp_path))
    root = tmp_path / f"pillow-{pillow_version}"
    root.mkdir()
    sdist = root / f"pillow-{pillow_version}.tar.gz"
    _sdist(
        sdist,
        {
            "pillow/Tests/images/a.jpg": b"jpeg",
            "pillow/Tests/images/sub/b.tif": b"tiff",
            "pillow/Tests/images/../../../evil.txt": b"x",
            "pillow/src/PIL/Image.py": b"code",
        },
    )
    images = fetch()
    assert images == root / "images"
    assert sorted(p.relative_to(images).as_posix() for p in images.rglob("*") if p.is_file()) == [
        "a.jpg",
        "sub/b.tif",
    ]
    assert not (tmp_path / "evil.txt").exists()
    assert [p.name for p in root.iterdir()] == ["images"]  # no temp folder left, the sdist removed


def test_an_existing_folder_is_reused_without_download(tmp_path, monkeypatch):
    monkeypatch.setenv("LENSLOG_TEST_CORPUS", str(tmp_path))
    images = tmp_path / f"pillow-{pillow_version}" / "images"
    images.mkdir(parents=True)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    assert fetch() == images


def test_gives_none_when_the_download_is_impossible(tmp_path, monkeypatch):
    monkeypatch.setenv("LENSLOG_TEST_CORPUS", str(tmp_path / "cache"))
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path))
    assert fetch() is None
    leftovers = list((tmp_path / "cache").rglob("*"))
    assert [p.name for p in leftovers] == [f"pillow-{pillow_version}"]
