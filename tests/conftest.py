"""Shared pytest fixtures: paths to the repository, configs and the external test data."""

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIGS_DIR = REPO_ROOT / "configs"


def _shared_data_dir() -> Path:
    return Path(os.environ.get("SIAMTRACK_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Real OTB sequences and the COCO sample (kept outside the repo, see README "Tests").

    Missing data is an error, not a skip: CI copies ../shared next to the clone.
    """
    path = _shared_data_dir()
    if not (path / "sequences").is_dir() or not (path / "coco_sample").is_dir():
        pytest.fail(
            f"test data not found at {path} (expected sequences/ and coco_sample/): "
            "set SIAMTRACK_SHARED_DATA to the folder holding them"
        )
    return path


@pytest.fixture(autouse=True)
def single_thread():
    """Tests run tiny networks: one intra-op thread is faster than two (no thread hand-off per
    small op) and immune to a busy machine. Restored after each test."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
