"""Load the scripts under tools/ as modules (tools/ is not a package)."""

import importlib.util

import pytest

from ..conftest import REPO_ROOT


def load_tool(name: str):
    path = REPO_ROOT / "tools" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"tools_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def eval_tracker_tool():
    return load_tool("eval_tracker")


@pytest.fixture(scope="session")
def track_video_tool():
    return load_tool("track_video")
