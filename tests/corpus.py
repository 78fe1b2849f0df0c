"""Public test corpora, fetched once into a user cache and shared by every test module.

``pillow_test_images()`` returns the ``Tests/images`` folder of the Pillow source distribution of
the installed Pillow version: hundreds of real and deliberately broken JPEG, TIFF, PNG files (odd
EXIF, bad offsets, truncated data). It is fetched with pip (the ordinary registry client) into
``$LENSLOG_TEST_CORPUS`` or ``~/.cache/lenslog-test-corpus``, and extracted lock-free: into a
private temporary folder first, then renamed into place in one step, so concurrent test workers
either see the complete folder or build their own and lose the rename race harmlessly.
Returns ``None`` (the caller skips) only when the download is impossible, e.g. offline.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

DOWNLOAD_TIMEOUT_S = 600
MAX_MEMBER_BYTES = 64 * 1024 * 1024


def cache_dir() -> Path:
    explicit = os.environ.get("LENSLOG_TEST_CORPUS")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "lenslog-test-corpus"


@functools.cache
def pillow_test_images() -> Path | None:
    """The extracted ``Tests/images`` of the installed Pillow's sdist, or None if unobtainable."""
    from PIL import __version__ as pillow

    root = cache_dir() / f"pillow-{pillow}"
    target = root / "images"
    if target.is_dir():
        return target
    try:
        root.mkdir(parents=True, exist_ok=True)
        sdist = _download_sdist(pillow, root)
        if sdist is not None:
            _extract_images(sdist, target)
    except (OSError, tarfile.TarError, subprocess.SubprocessError):
        pass  # a concurrent worker may still have completed it; checked below
    return target if target.is_dir() else None


def _download_sdist(pillow: str, root: Path) -> Path | None:
    sdist = root / f"pillow-{pillow}.tar.gz"
    if sdist.is_file():
        return sdist
    with tempfile.TemporaryDirectory(dir=root, prefix=".download-") as tmp:
        cmd = [
            sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
            "--no-deps", "--no-binary", "pillow", f"pillow=={pillow}", "--dest", tmp,
        ]  # fmt: skip
        env = {**os.environ, "PIP_NO_INPUT": "1"}
        done = subprocess.run(cmd, capture_output=True, timeout=DOWNLOAD_TIMEOUT_S, env=env, check=False)
        found = sorted(Path(tmp).glob("pillow-*.tar.gz"))
        if done.returncode != 0 or not found:
            return None
        os.replace(found[0], sdist)  # atomic within one file system
    return sdist


def _extract_images(sdist: Path, target: Path) -> None:
    """Extract ``*/Tests/images/**`` (regular files only, no path escapes) and rename into place."""
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=".images-"))
    try:
        with tarfile.open(sdist, "r:gz") as tar:
            for member in tar:
                parts = PurePosixPath(member.name).parts
                if not member.isfile() or len(parts) < 4 or parts[1:3] != ("Tests", "images"):
                    continue
                rel = parts[3:]
                if any(p in ("", ".", "..") or "\\" in p for p in rel) or member.size > MAX_MEMBER_BYTES:
                    continue
                dest = tmp.joinpath(*rel)
                dest.parent.mkdir(parents=True, exist_ok=True)
                src = tar.extractfile(member)
                if src is None:
                    continue
                with src, dest.open("wb") as out:
                    shutil.copyfileobj(src, out)
        try:
            tmp.rename(target)  # one step: readers see all of it or nothing
        except OSError:
            if not target.is_dir():
                raise
            return  # another worker won the race
        sdist.unlink(missing_ok=True)  # the images are all we need from it
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
