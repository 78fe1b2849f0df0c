"""Local (Docker-free) bundlers of the Lambda layers.

- ``CoreLayerBundler`` copies the domain package (``layers/core/python/lenslog``) and the config
  file into the ``/opt/python`` shape, so the functions read the same validated config as the app.
- ``DepsLayerBundler`` installs the pinned third-party packages of ``layers/deps/requirements.txt``
  from manylinux wheels built for the Lambda runtime (CPython 3.13, the configured architecture).
  The result is cached under ``build/layers/`` keyed by the requirements and the target, so only
  the first synthesis downloads wheels.

Both layers carry byte code compiled by the runtime's own interpreter (``python3.13`` on the
build machine's PATH). Lambda cannot write ``__pycache__`` under ``/opt``, so a layer of source
only is compiled again on every cold start: about 1.2 s more for the ingest path's imports on the
benchmark machine (``docs/performance.md``). The byte code is ``unchecked-hash``: valid whatever
the files' timestamps become in the asset zip. Without that interpreter the layers still build,
source only, with a warning.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import ILocalBundling

REPO_ROOT = Path(__file__).resolve().parents[1]
CORE_LAYER_DIR = REPO_ROOT / "layers" / "core"
DEPS_LAYER_DIR = REPO_ROOT / "layers" / "deps"
REQUIREMENTS = DEPS_LAYER_DIR / "requirements.txt"
BUILD_DIR = REPO_ROOT / "build" / "layers"
LAMBDA_PYTHON_VERSION = "3.13"

# manylinux tags the Lambda python3.13 runtime (Amazon Linux 2023, glibc 2.34) can load.
PLATFORMS = {
    "x86_64": ("manylinux2014_x86_64", "manylinux_2_28_x86_64"),
    "arm64": ("manylinux2014_aarch64", "manylinux_2_28_aarch64"),
}
_PRUNE_DIRS = {"__pycache__", "tests", "testing"}
_PRUNE_KEEP = {"numpy/testing"}  # numpy imports numpy.testing lazily; keep it
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")


@functools.cache
def runtime_python() -> str | None:
    """An interpreter of the Lambda runtime's version on the build machine: ``$LENSLOG_RUNTIME_PYTHON``,
    ``python3.13`` on PATH, or a pyenv installation of 3.13; None when there is none."""
    version = LAMBDA_PYTHON_VERSION
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = [
        os.environ.get("LENSLOG_RUNTIME_PYTHON"),
        shutil.which(f"python{version}"),
        *(str(p) for p in sorted(pyenv_root.glob(f"versions/{version}.*/bin/python{version}"), reverse=True)),
    ]
    for candidate in candidates:
        if not candidate:
            continue
        probe = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
        )
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return candidate
    return None


def compile_bytecode(site: Path) -> bool:
    """Compile every module under ``site`` (a layer's ``python/``) for the runtime, as Lambda
    will find it under ``/opt/python``. False, with a warning, when no such interpreter is here."""
    python = runtime_python()
    if python is None:
        warnings.warn(
            f"no python{LAMBDA_PYTHON_VERSION} on PATH: the layer ships source only, and every cold "
            "start compiles it again",
            stacklevel=2,
        )
        return False
    subprocess.run(
        [
            python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash",
            "-s", str(site), "-p", "/opt/python", str(site),
        ],
        check=True,
    )  # fmt: skip
    return True


def core_layer_tree(output_dir: Path, config_path: Path) -> None:
    """Write the core layer: ``python/lenslog/...`` plus ``python/lenslog/lenslog.toml``, with
    the runtime's byte code."""
    target = output_dir / "python" / "lenslog"
    shutil.copytree(CORE_LAYER_DIR / "python" / "lenslog", target, ignore=_IGNORE, dirs_exist_ok=True)
    shutil.copyfile(config_path, target / "lenslog.toml")
    compile_bytecode(output_dir / "python")


def deps_cache_key(architecture: str, requirements: Path = REQUIREMENTS) -> str:
    digest = hashlib.sha256()
    digest.update(requirements.read_bytes())
    bytecode = "bytecode" if runtime_python() else "source"
    digest.update(f"{architecture}|{LAMBDA_PYTHON_VERSION}|{PLATFORMS[architecture]}|{bytecode}".encode())
    return digest.hexdigest()[:16]


def build_deps_layer(
    architecture: str, requirements: Path = REQUIREMENTS, build_dir: Path = BUILD_DIR
) -> Path:
    """Install the deps layer for ``architecture`` (``arm64`` or ``x86_64``) once and return the
    layer root (it holds ``python/``). Needs PyPI on the first call only."""
    root = build_dir / f"deps-{architecture}-{deps_cache_key(architecture, requirements)}"
    if (root / ".complete").exists():
        return root
    staging = root.with_name(root.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    platform_args = [arg for tag in PLATFORMS[architecture] for arg in ("--platform", tag)]
    subprocess.run(
        [
            sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "--no-compile", "--no-deps", "--only-binary=:all:", "--implementation", "cp",
            "--python-version", LAMBDA_PYTHON_VERSION, *platform_args,
            "--target", str(staging / "python"), "--requirement", str(requirements),
        ],
        check=True,
    )  # fmt: skip
    _prune(staging / "python")
    compile_bytecode(staging / "python")
    (staging / ".complete").write_text(deps_cache_key(architecture, requirements) + "\n")
    shutil.rmtree(root, ignore_errors=True)
    staging.rename(root)
    return root


def _prune(site: Path) -> None:
    """Drop what the runtime never imports: the packages' own test suites (and any byte code not
    compiled for the runtime)."""
    for path in sorted(site.rglob("*"), reverse=True):
        rel = path.relative_to(site).as_posix()
        if path.is_dir() and path.name in _PRUNE_DIRS and rel not in _PRUNE_KEEP:
            shutil.rmtree(path, ignore_errors=True)


def tree_size(path: Path) -> int:
    """Bytes of every regular file under ``path`` (what Lambda counts, unzipped)."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


@jsii.implements(ILocalBundling)
class CoreLayerBundler:
    def __init__(self, config_path: Path) -> None:
        self._config_path = config_path

    def try_bundle(self, output_dir: str, *_args: Any, **_kwargs: Any) -> bool:
        core_layer_tree(Path(output_dir), self._config_path)
        return True


@jsii.implements(ILocalBundling)
class DepsLayerBundler:
    def __init__(self, architecture: str) -> None:
        self._architecture = architecture

    def try_bundle(self, output_dir: str, *_args: Any, **_kwargs: Any) -> bool:
        root = build_deps_layer(self._architecture)
        shutil.copytree(root / "python", Path(output_dir) / "python", dirs_exist_ok=True)
        return True
