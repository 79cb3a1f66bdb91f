"""Tiny on-disk datasets for the data tests (written into pytest tmp dirs)."""

import json
from pathlib import Path
from typing import List, Optional, Sequence

import cv2
import numpy as np


def write_frames(
    folder: Path, num_frames: int, size_wh=(96, 72), seed: int = 0, name_format: str = "{:05d}.jpg"
) -> List[Path]:
    """Random-texture frames (uint8 BGR) named 1-based."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(num_frames):
        image = rng.integers(0, 256, (size_wh[1], size_wh[0], 3), dtype=np.uint8)
        path = folder / name_format.format(i + 1)
        cv2.imwrite(str(path), image)
        paths.append(path)
    return paths


def write_boxes(path: Path, boxes: Sequence[Sequence[float]], sep: str = ",") -> None:
    path.write_text("\n".join(sep.join(f"{v:g}" for v in b) for b in boxes) + "\n")


def make_generic(root: Path, name: str, boxes, size_wh=(96, 72), seed=0) -> Path:
    folder = root / name
    write_frames(folder / "img", len(boxes), size_wh, seed)
    write_boxes(folder / "groundtruth.txt", boxes)
    return folder


def make_got10k(root: Path, name: str, boxes, absent: Optional[Sequence[int]] = None) -> Path:
    folder = root / name
    write_frames(folder, len(boxes), name_format="{:08d}.jpg")
    write_boxes(folder / "groundtruth.txt", boxes)
    if absent is not None:
        (folder / "absence.label").write_text("\n".join(str(a) for a in absent) + "\n")
    return folder


def make_lasot(root: Path, category: str, index: int, boxes, full_occlusion, out_of_view) -> Path:
    folder = root / category / f"{category}-{index}"
    write_frames(folder / "img", len(boxes), name_format="{:08d}.jpg")
    write_boxes(folder / "groundtruth.txt", boxes)
    (folder / "full_occlusion.txt").write_text(",".join(str(v) for v in full_occlusion))
    (folder / "out_of_view.txt").write_text(",".join(str(v) for v in out_of_view))
    return folder


def make_coco(root: Path, images: List[dict], annotations: List[dict]) -> Path:
    """COCO json at root/instances.json; each image dict needs file_name/width/height/id and
    gets a random image file written unless it has "missing": True."""
    for image in images:
        if not image.pop("missing", False):
            rng = np.random.default_rng(image["id"])
            pixels = rng.integers(0, 256, (image["height"], image["width"], 3), dtype=np.uint8)
            cv2.imwrite(str(root / image["file_name"]), pixels)
    for i, annotation in enumerate(annotations):
        annotation.setdefault("id", i + 1)
        annotation.setdefault("iscrowd", 0)
        annotation.setdefault("category_id", 1)
        annotation.setdefault("area", annotation["bbox"][2] * annotation["bbox"][3])
    data = dict(
        images=images,
        annotations=annotations,
        categories=[dict(id=1, name="thing"), dict(id=2, name="other")],
    )
    path = root / "instances.json"
    path.write_text(json.dumps(data))
    return path


def square_scene(size_wh=(400, 300), box_xywh=(150, 100, 60, 40), seed=0) -> np.ndarray:
    """Gray noise background with a pure red rectangle exactly covering box_xywh (integers)."""
    rng = np.random.default_rng(seed)
    image = rng.integers(90, 110, (size_wh[1], size_wh[0], 3), dtype=np.uint8)
    x, y, w, h = box_xywh
    image[y : y + h, x : x + w] = (0, 0, 255)
    return image
