"""got10k adapter against a fake ``got10k`` package (the real one is an optional dependency)."""

import sys
import types

import numpy as np
import pytest
from PIL import Image

from siamtrack.integrations import got10k as adapter
from siamtrack.tracking import SiamTracker

from .stub_models import ContentStubModel


class _FakeToolkitTracker:
    """Mimics got10k.trackers.Tracker: init/update hooks and a track() loop over image files."""

    def __init__(self, name, is_deterministic=False):
        self.name = name
        self.is_deterministic = is_deterministic

    def track(self, img_files, box):
        boxes = np.zeros((len(img_files), 4))
        boxes[0] = box
        for f, img_file in enumerate(img_files):
            image = Image.open(img_file)
            if image.mode != "RGB":
                image = image.convert("RGB")
            if f == 0:
                self.init(image, box)
            else:
                boxes[f] = self.update(image)
        return boxes, np.zeros(len(img_files))


@pytest.fixture
def fake_got10k(monkeypatch):
    package = types.ModuleType("got10k")
    trackers = types.ModuleType("got10k.trackers")
    trackers.Tracker = _FakeToolkitTracker
    package.trackers = trackers
    monkeypatch.setitem(sys.modules, "got10k", package)
    monkeypatch.setitem(sys.modules, "got10k.trackers", trackers)


def test_missing_got10k_gives_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "got10k", None)  # makes the import fail
    monkeypatch.setitem(sys.modules, "got10k.trackers", None)
    with pytest.raises(ImportError, match="pip install got10k"):
        adapter.Got10kTracker


def test_adapter_runs_the_toolkit_loop_with_bgr_frames(fake_got10k, tmp_path):
    rng = np.random.default_rng(0)
    frames_bgr = [rng.integers(0, 256, (96, 128, 3), dtype=np.uint8) for _ in range(4)]
    files = []
    for k, frame in enumerate(frames_bgr):
        files.append(str(tmp_path / f"{k:08d}.png"))
        Image.fromarray(frame[:, :, ::-1]).save(files[-1])  # stored as RGB
    box = np.array([40.0, 30.0, 24.0, 20.0])
    model = ContentStubModel()
    tracker = adapter.Got10kTracker(SiamTracker(model=model), name="siam")
    assert isinstance(tracker, _FakeToolkitTracker)
    assert tracker.name == "siam" and tracker.is_deterministic
    boxes, _ = tracker.track(files, box)
    expected = SiamTracker(model=model).track(frames_bgr, box).boxes_xywh
    np.testing.assert_array_equal(boxes, expected)  # same frames => PIL RGB was turned into BGR
    assert adapter.pil_to_bgr(Image.fromarray(frames_bgr[0]).convert("L")).shape == (96, 128, 3)
