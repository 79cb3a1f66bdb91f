"""Models shared by the export tests."""

from siamtrack.checkpoint import SiamCheckpointer

from ..conftest import CONFIGS_DIR
from ..modeling.helpers import build


def nanotrack_config(version: int):
    return CONFIGS_DIR / "nanotrack" / f"nanotrack_v{version}.yaml"


def released_nanotrack(version: int, weights_folder):
    """NanoTrack v``version`` with its released weights, eval mode."""
    model = build(nanotrack_config(version)).eval()
    SiamCheckpointer(model).load(str(weights_folder / f"nanotrackv{version}.pth"))
    return model
