from __future__ import annotations

from pathlib import Path

import pytest
from eksdiag.engine.indexer import BundleIndex, index_bundle

from tests.fixtures.seed import build_seed_bundles


@pytest.fixture(scope="session")
def seed_bundles(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return build_seed_bundles(tmp_path_factory.mktemp("seed"))


@pytest.fixture(scope="session")
def faulty(seed_bundles: tuple[Path, Path]) -> BundleIndex:
    return index_bundle(seed_bundles[0])


@pytest.fixture(scope="session")
def healthy(seed_bundles: tuple[Path, Path]) -> BundleIndex:
    return index_bundle(seed_bundles[1])
