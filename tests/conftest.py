"""Shared pytest fixtures: paths to the repository, configs and the external test material."""

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIGS_DIR = REPO_ROOT / "configs"


def _shared_data_dir() -> Path:
    return Path(os.environ.get("SIAMTRACK_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


def shared_dir(name: str) -> Path:
    """``../shared/<name>`` next to the data folder (``reference``, ``weights``, ``vendor``)."""
    return _shared_data_dir().parent / name


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Real OTB sequences and the COCO sample (kept outside the repo, see docs/install.md#tests).

    Missing data is an error, not a skip: CI copies ../shared next to the clone.
    """
    path = _shared_data_dir()
    if not (path / "sequences").is_dir() or not (path / "coco_sample").is_dir():
        pytest.fail(
            f"test data not found at {path} (expected sequences/ and coco_sample/): "
            "set SIAMTRACK_SHARED_DATA to the folder holding them"
        )
    return path


@pytest.fixture(scope="session")
def nanotrack_weights() -> Path:
    """The released NanoTrack ``.pth`` files and official ONNX exports (``../shared/weights``)."""
    path = shared_dir("weights") / "nanotrack"
    if not (path / "nanotrackv3.pth").is_file() or not (path / "onnx").is_dir():
        pytest.fail(f"NanoTrack weights not found at {path} (next to the shared data folder)")
    return path


@pytest.fixture(scope="session")
def shared_reference() -> Path:
    """Reference listings (state-dict .tsv files) next to the shared data."""
    path = shared_dir("reference")
    if not path.is_dir():
        pytest.fail(f"reference folder not found at {path} (next to the shared data folder)")
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


@pytest.fixture(scope="session", autouse=True)
def private_cache_dir(tmp_path_factory):
    """Point ``$SIAMTRACK_CACHE_DIR`` (the model zoo's downloads and the onnxruntime backend's
    exported graphs) at a folder of this test run, so that no test writes to the user's home.
    Set in ``os.environ`` itself, so subprocesses (the tools) inherit it. Restored at the end."""
    previous = os.environ.get("SIAMTRACK_CACHE_DIR")
    os.environ["SIAMTRACK_CACHE_DIR"] = str(tmp_path_factory.mktemp("siamtrack_cache"))
    yield
    if previous is None:
        os.environ.pop("SIAMTRACK_CACHE_DIR", None)
    else:
        os.environ["SIAMTRACK_CACHE_DIR"] = previous
