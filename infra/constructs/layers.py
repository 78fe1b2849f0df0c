"""The two layers every function uses: the lenslog core (domain package + config) and the pinned
third-party deps, both bundled locally (no Docker)."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import AssetHashType, BundlingOptions, DockerImage, RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.bundling import CORE_LAYER_DIR, DEPS_LAYER_DIR, CoreLayerBundler, DepsLayerBundler, deps_cache_key
from infra.constructs.function import ARCHITECTURES, RUNTIME

# Never pulled: the local bundlers always succeed, and bundling fails rather than fall back.
_NO_DOCKER = DockerImage.from_registry("lenslog/local-bundling-only")


class Layers(Construct):
    def __init__(self, scope: Construct, id: str, *, architecture: str, config_path: Path) -> None:
        super().__init__(scope, id)
        arch = ARCHITECTURES[architecture]
        self.core = lambda_.LayerVersion(
            self,
            "Core",
            description="lenslog domain package and its validated config (lenslog.toml)",
            code=lambda_.Code.from_asset(
                str(CORE_LAYER_DIR),
                asset_hash_type=AssetHashType.OUTPUT,
                bundling=BundlingOptions(image=_NO_DOCKER, local=CoreLayerBundler(config_path)),
            ),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[arch],
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.deps = lambda_.LayerVersion(
            self,
            "Deps",
            description="pinned third-party packages (layers/deps/requirements.txt), manylinux wheels",
            code=lambda_.Code.from_asset(
                str(DEPS_LAYER_DIR),
                asset_hash_type=AssetHashType.CUSTOM,
                asset_hash=deps_cache_key(architecture),
                bundling=BundlingOptions(image=_NO_DOCKER, local=DepsLayerBundler(architecture)),
            ),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[arch],
            removal_policy=RemovalPolicy.RETAIN,
        )

    @property
    def all(self) -> list[lambda_.ILayerVersion]:
        return [self.deps, self.core]
