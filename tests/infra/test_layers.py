"""The layers: the core carries the config, the deps are the project's pins for the Lambda
runtime, and a function plus its layers stays well under Lambda's 250 MB unzipped limit."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from infra.bundling import REQUIREMENTS, build_deps_layer, core_layer_tree, runtime_python, tree_size
from lenslog.config import load_config

pytestmark = pytest.mark.xdist_group("infra")

REPO_ROOT = Path(__file__).resolve().parents[2]
MAX_UNZIPPED_MB = 200  # Lambda's hard limit is 250 MB for a function and all its layers
NOT_IN_LAYER = {"boto3", "imagehash"}  # boto3 is in the runtime; pHash is computed with numpy


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(lines: list[str]) -> dict[str, str]:
    pins = {}
    for line in lines:
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            pins[_norm(name.split("[")[0])] = version
    return pins


def test_deps_layer_pins_every_runtime_dependency_at_the_projects_version():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    layer = _pins(REQUIREMENTS.read_text().splitlines())
    for name, version in _pins(project).items():
        if name in NOT_IN_LAYER:
            assert name not in layer
        else:
            assert layer[name] == version, name
    assert "scipy" not in layer
    assert "pydantic-core" in layer  # pinned: an unpinned resolve once picked a broken placeholder


def test_core_layer_carries_the_package_and_the_config_the_functions_load(tmp_path):
    config_path = REPO_ROOT / "config" / "lenslog.toml"
    core_layer_tree(tmp_path, config_path)
    packaged = tmp_path / "python" / "lenslog"
    assert (packaged / "config.py").read_text() == (
        REPO_ROOT / "layers" / "core" / "python" / "lenslog" / "config.py"
    ).read_text()
    assert load_config(packaged / "lenslog.toml") == load_config(config_path)
    # never the build machine's own byte code: only what the runtime's interpreter can load
    assert all(".cpython-313." in p.name for p in packaged.rglob("*.pyc"))


@pytest.mark.skipif(runtime_python() is None, reason="no python3.13 on this machine to compile with")
def test_core_layer_ships_byte_code_lambda_loads_whatever_the_zip_does_to_timestamps(tmp_path):
    """Lambda cannot write __pycache__ under /opt: without byte code every cold start compiles."""
    core_layer_tree(tmp_path, REPO_ROOT / "config" / "lenslog.toml")
    packaged = tmp_path / "python" / "lenslog"
    for source in packaged.rglob("*.py"):
        cached = source.parent / "__pycache__" / f"{source.stem}.cpython-313.pyc"
        header = cached.read_bytes()[:16]
        assert int.from_bytes(header[4:8], "little") == 0b01, cached  # hash-based, never checked


@pytest.mark.slow
def test_a_function_and_its_layers_stay_under_200_mb_unzipped(synth, tmp_path):
    """Runs the local bundler (cached under build/; the first run downloads wheels from PyPI)."""
    arch = synth.config.architecture
    deps = build_deps_layer(arch)
    machine = {"arm64": "aarch64", "x86_64": "x86_64"}[arch]
    site = deps / "python"
    for package in ("numpy", "PIL", "pydantic", "pydantic_core", "aws_lambda_powertools", "tzfpy", "tzdata"):
        assert (site / package).is_dir(), package
    assert list((site / "pydantic_core").glob(f"*cpython-313-{machine}-linux-gnu.so"))
    # the GPS time-zone lookup is a compiled (abi3) extension: it must be the runtime's architecture
    tzfpy = (site / "tzfpy" / "tzfpy.abi3.so").read_bytes()
    assert (
        tzfpy[:4] == b"\x7fELF"
        and int.from_bytes(tzfpy[18:20], "little") == {"aarch64": 183, "x86_64": 62}[machine]
    )
    assert (site / "tzdata" / "zoneinfo" / "Europe" / "Berlin").is_file()  # zoneinfo's fallback data
    if runtime_python():
        assert (site / "numpy" / "__pycache__" / "__init__.cpython-313.pyc").is_file()
    for package in ("scipy", "imagehash", "boto3", "botocore"):
        assert not (site / package).exists(), package
    core_layer_tree(tmp_path, REPO_ROOT / "config" / "lenslog.toml")
    largest_function = max(tree_size(d) for d in (REPO_ROOT / "functions").iterdir() if d.is_dir())
    total_mb = (tree_size(deps) + tree_size(tmp_path) + largest_function) / 1e6
    print(f"function + layers unzipped: {total_mb:.1f} MB")
    assert total_mb < MAX_UNZIPPED_MB
