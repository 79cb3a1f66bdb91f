"""A tiny GOT-10k ``val`` split on disk, in the release's own layout, and predictions for it.

Each sequence folder holds ``00000001.jpg ...``, ``groundtruth.txt`` (``x,y,w,h`` with four
decimals), ``absence.label``, ``cover.label`` (0..8), ``cut_by_image.label`` and
``meta_info.ini`` (the got10k toolkit reads the image size from its ``resolution`` line), and
``val/list.txt`` names the sequences, so got10k's ``ExperimentGOT10k`` can score it too.
"""

from pathlib import Path
from typing import Dict, Tuple

import cv2
import numpy as np

# name: (width, height, number of frames)
SEQUENCES = {
    "GOT-10k_Val_000001": (64, 48, 10),
    "GOT-10k_Val_000002": (80, 60, 12),
    "GOT-10k_Val_000003": (50, 70, 8),
}
NOT_VISIBLE = {  # frame: absence flag, for frames with cover 0
    "GOT-10k_Val_000001": {4: 1, 5: 1, 7: 0},  # frame 7: fully occluded but not "absent"
    "GOT-10k_Val_000002": {9: 1},
    "GOT-10k_Val_000003": {},
}


def _ground_truth(width: int, height: int, num_frames: int, rng) -> np.ndarray:
    """A box drifting right; the last frames stick out of the image (cut by the image)."""
    size = np.array([0.3 * width, 0.35 * height])
    start = np.array([0.1 * width, 0.2 * height])
    step = np.array([0.9 * width / num_frames, 0.02 * height])
    boxes = [np.r_[start + k * step + rng.uniform(-1, 1, 2), size] for k in range(num_frames)]
    return np.round(np.asarray(boxes), 4)


def write_got10k_val(root: Path, seed: int = 0) -> Path:
    """Write ``<root>/val/...``; returns the ``val`` folder."""
    rng = np.random.default_rng(seed)
    split = Path(root) / "val"
    split.mkdir(parents=True)
    (split / "list.txt").write_text("\n".join(SEQUENCES) + "\n")
    for name, (width, height, num_frames) in SEQUENCES.items():
        folder = split / name
        folder.mkdir()
        for k in range(num_frames):
            image = np.full((height, width, 3), 40 + 15 * k, dtype=np.uint8)
            cv2.imwrite(str(folder / f"{k + 1:08d}.jpg"), image)
        gt = _ground_truth(width, height, num_frames, rng)
        cover = rng.integers(1, 9, num_frames)
        absence = np.zeros(num_frames, dtype=int)
        for frame, absent in NOT_VISIBLE[name].items():
            cover[frame], absence[frame] = 0, absent
            if absent:
                gt[frame] = gt[frame - 1]  # an absent target keeps some box
        cut = (gt[:, 0] < 0) | (gt[:, 1] < 0) | (gt[:, 0] + gt[:, 2] > width)
        lines = "".join(",".join(f"{v:.4f}" for v in box) + "\n" for box in gt)
        (folder / "groundtruth.txt").write_text(lines)
        (folder / "cover.label").write_text("".join(f"{c}\n" for c in cover))
        (folder / "absence.label").write_text("".join(f"{a}\n" for a in absence))
        (folder / "cut_by_image.label").write_text("".join(f"{int(c)}\n" for c in cut))
        (folder / "meta_info.ini").write_text(
            f"[METAINFO]\nobject_class: toy\nmotion_class: drifting\nresolution: ({width}, "
            f"{height})\nanno_fps: 10Hz\n"
        )
    return split


def read_ground_truth(split: Path) -> Dict[str, np.ndarray]:
    return {n: np.loadtxt(split / n / "groundtruth.txt", delimiter=",") for n in SEQUENCES}


def make_predictions(
    split: Path, seed: int = 1, nan_on_visible: bool = False
) -> Dict[str, Tuple[np.ndarray, np.ndarray]]:
    """``{sequence: (boxes (N, 4), times (N,))}``: noisy boxes, some leaving the image.

    Frame 0 is the given box. Sequence 1 gets a NaN box on a frame with cover 0 (not scored),
    a box entirely right of the image and one with a negative width; sequence 2 gets boxes
    above and left of the image; with ``nan_on_visible`` sequence 3 gets a NaN box on a scored
    frame. Times are positive except one NaN and one 0 (both ignored by got10k's speed).
    """
    rng = np.random.default_rng(seed)
    predictions = {}
    for name, gt in read_ground_truth(split).items():
        width, height, num_frames = SEQUENCES[name]
        boxes = gt + rng.normal(0.0, 2.5, gt.shape)
        boxes[:, 2:] = gt[:, 2:] * rng.uniform(0.7, 1.4, (num_frames, 2))
        boxes[0] = gt[0]
        times = rng.uniform(0.005, 0.05, num_frames)
        if name == "GOT-10k_Val_000001":
            boxes[4] = np.nan
            boxes[2] = [width + 5.0, 10.0, 12.0, 9.0]
            boxes[3, 2] = -4.0
            times[1], times[6] = np.nan, 0.0
        elif name == "GOT-10k_Val_000002":
            boxes[3, :2] = [-8.0, -6.0]
            boxes[6, 1] = -20.0
        elif nan_on_visible:
            boxes[5] = [np.nan, 12.0, 10.0, 10.0]
        predictions[name] = (boxes, times)
    return predictions
