"""Fixtures of the export tests: tools/export_onnx.py as a module, the released NanoTrack v2."""

import pytest

from ..tools.conftest import load_tool
from .helpers import released_nanotrack


@pytest.fixture(scope="session")
def export_tool():
    return load_tool("export_onnx")


@pytest.fixture(scope="module")
def nanotrack_v2(nanotrack_weights):
    return released_nanotrack(2, nanotrack_weights)
