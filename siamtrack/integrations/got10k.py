"""Adapter for the GOT-10k toolkit (``pip install got10k``), imported lazily.

``Got10kTracker`` subclasses ``got10k.trackers.Tracker``, so the toolkit's experiments run a
``SiamTracker`` unchanged::

    from got10k.experiments import ExperimentOTB
    from siamtrack.integrations.got10k import Got10kTracker

    tracker = Got10kTracker(SiamTracker(cfg), name="SiamRPN++")
    experiment = ExperimentOTB("data/OTB", version=2015)
    experiment.run(tracker)
    experiment.report([tracker.name])

got10k hands over PIL RGB images; they are converted to the BGR uint8 arrays ``SiamTracker``
expects. Boxes pass through unchanged (``[x, y, w, h]`` in the toolkit's own convention).
Importing this module works without got10k; using ``Got10kTracker`` raises an ImportError that
says how to install it.
"""

import numpy as np

from ..errors import MissingDependencyError
from ..tracking import SiamTracker

__all__ = ["Got10kTracker"]  # noqa: F822  (built lazily by __getattr__)

_CLASSES = {}


def _got10k_tracker_base():
    try:
        from got10k.trackers import Tracker
    except ImportError as error:
        raise MissingDependencyError(
            "siamtrack.integrations.got10k needs the GOT-10k toolkit: pip install got10k"
        ) from error
    return Tracker


def pil_to_bgr(image) -> np.ndarray:
    """PIL image (any mode) -> HxWx3 uint8 BGR array."""
    if getattr(image, "mode", "RGB") != "RGB":
        image = image.convert("RGB")
    return np.ascontiguousarray(np.asarray(image, dtype=np.uint8)[:, :, ::-1])


def _build_class(base):
    class Got10kTracker(base):
        """got10k ``Tracker`` around a ``SiamTracker`` (or a config to build one).

        Args:
            tracker: a ``SiamTracker``, or a detectron2 CfgNode to build one from.
            name: tracker name used by the toolkit for result and report folders.
        """

        def __init__(self, tracker, name: str = "siamtrack"):
            super().__init__(name=name, is_deterministic=True)
            if not hasattr(tracker, "update"):
                tracker = SiamTracker(tracker)
            self.tracker = tracker

        def init(self, image, box):
            self.tracker.init(pil_to_bgr(image), np.asarray(box, dtype=np.float64))

        def update(self, image):
            return np.array(self.tracker.update(pil_to_bgr(image)).box_xywh)

    Got10kTracker.__module__ = __name__
    return Got10kTracker


def __getattr__(name):  # PEP 562: build the class on first use, after importing got10k
    if name != "Got10kTracker":
        raise AttributeError(f"module {__name__} has no attribute {name}")
    base = _got10k_tracker_base()
    if base not in _CLASSES:
        _CLASSES[base] = _build_class(base)
    return _CLASSES[base]
