"""Weight files never run code unless the user trusts them; real checkpoint kinds still load."""

import pickle

import numpy as np
import pytest
import torch

from siamtrack.checkpoint import SiamCheckpointer
from siamtrack.checkpoint.safe_load import UnsafeCheckpointError, load_torch_file

from ..conftest import CONFIGS_DIR
from ..modeling.helpers import TINY_CONFIGS, build


class Payload:
    """Unpickling this calls ``open(path, "w")``: a file appears if the payload runs."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_pth_payload_is_refused_with_the_global_and_how_to_opt_in(tmp_path):
    marker = tmp_path / "payload-ran"
    model = build(TINY_CONFIGS["standard"])
    path = tmp_path / "model.pth"
    torch.save({"model": model.state_dict(), "extra": Payload(marker)}, path)
    with pytest.raises(UnsafeCheckpointError, match=r"model\.pth.*'io\.open'.*--trust-weights"):
        SiamCheckpointer(model).load(str(path))
    assert not marker.exists()
    # the user's explicit opt-in loads it (and so runs it)
    SiamCheckpointer(model, trust_weights=True).load(str(path))
    assert marker.exists()


def test_pkl_payload_is_refused(tmp_path):
    marker = tmp_path / "payload-ran"
    path = tmp_path / "R-50.pkl"
    with open(path, "wb") as f:
        pickle.dump({"model": {"conv1.weight": Payload(marker)}, "__author__": "x"}, f)
    model = build(TINY_CONFIGS["standard"])
    with pytest.raises(UnsafeCheckpointError, match=r"R-50\.pkl.*'io\.open'"):
        SiamCheckpointer(model).load(str(path))
    assert not marker.exists()


def test_numpy_contents_of_real_checkpoints_are_allowed(tmp_path, nanotrack_weights):
    # NanoTrack's optimizer stores numpy float64 learning rates (numpy.core.multiarray.scalar)
    checkpoint = load_torch_file(str(nanotrack_weights / "nanotrackv1.pth"))
    assert isinstance(checkpoint["optimizer"]["param_groups"][0]["lr"], np.floating)
    # numpy arrays and dtypes (detectron2 .pkl files, numpy-holding training state)
    path = tmp_path / "arrays.pth"
    torch.save(
        {"model": {"w": torch.ones(2)}, "stats": np.arange(3.0), "dtype": np.dtype("f4")}, path
    )
    loaded = load_torch_file(str(path))
    np.testing.assert_array_equal(loaded["stats"], np.arange(3.0))


def test_caffe2_style_pkl_with_numpy_arrays_loads(tmp_path):
    model = build(
        CONFIGS_DIR / "siamrpn" / "quick_schedules" / "siamrpn_tiny_standard_instant_test.yaml",
        "MODEL.BACKBONE.FREEZE_AT", 0,
    )  # fmt: skip
    weights = {
        k.replace("backbone.", ""): v.numpy()
        for k, v in model.state_dict().items()
        if k.startswith("backbone.stem")
    }
    path = tmp_path / "stem.pkl"
    with open(path, "wb") as f:
        pickle.dump({"model": weights, "__author__": "test", "matching_heuristics": True}, f)
    loaded = SiamCheckpointer(model)._load_file(str(path))
    assert set(loaded["model"]) == set(weights)
