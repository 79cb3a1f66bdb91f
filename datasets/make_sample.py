#!/usr/bin/env python
"""Render siamtrack's bundled sample dataset (``datasets/siamtrack_sample/``).

Real photographs shipped inside scikit-image (CC0 / public domain, listed in ``LICENCES``) move
as targets over textured backgrounds with scale and aspect-ratio change, a distractor object
and a partial occluder, and a slowly panning "camera". Output (generic one-folder-per-sequence
layout, see datasets/README.md):

    siamtrack_sample/train/<seq>/img/00001.jpg ... + groundtruth.txt   (3 sequences)
    siamtrack_sample/val/<seq>/img/... + groundtruth.txt + <seq>.mp4     (1 sequence)
    siamtrack_sample/annotations/instances.json   (COCO instances, every 5th training frame)
    siamtrack_sample/README.md

Boxes are continuous ``x,y,w,h`` (centre = x + w/2) with 2 decimals; frames are rendered with
exactly those boxes, by a sub-pixel affine warp. Everything is a deterministic function of the
specs below (numpy's PCG64 generator), so re-running the script reproduces the same ground
truth: ``python datasets/make_sample.py`` (replaces an existing sample folder it made itself).
"""

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Dict, List, Tuple

import cv2
import numpy as np

FRAME_W, FRAME_H = 320, 240
JPEG_QUALITY = 75
COCO_EVERY = 5
README_TITLE = "# siamtrack bundled sample"

# skimage.data function -> licence statement from its docstring (scikit-image 0.2x).
LICENCES = {
    "chelsea": "CC0 (photographer Stefan van der Walt)",
    "coffee": "CC0 (photographer Rachel Michetti, courtesy of Pikolo Espresso Bar)",
    "astronaut": "public domain (NASA, no known copyright restrictions)",
    "rocket": "public domain (SpaceX launch photo released into the public domain)",
    "camera": "CC0 (photographer Lav Varshney)",
    "hubble_deep_field": "public domain (NASA / HubbleSite)",
    "brick": "CC0 (CC0Textures, Bricks25)",
    "grass": "CC0 (DeviantArt linolafett, Grass-01)",
    "gravel": "CC0 (CC0Textures, Gravel04)",
}
# object name -> (skimage image, source window x0, y0, x1, y1, alpha shape, category id)
OBJECTS = {
    "cat": ("chelsea", (95, 15, 370, 290), "ellipse", 1),
    "cup": ("coffee", (150, 10, 470, 390), "ellipse", 2),
    "shuttle": ("astronaut", (350, 0, 460, 290), "rect", 3),
    "astronaut": ("astronaut", (150, 10, 330, 200), "rect", 4),
    "helmet": ("astronaut", (280, 350, 512, 512), "ellipse", 5),
    "tower": ("rocket", (0, 0, 95, 427), "rect", 6),
    "cameraman": ("camera", (180, 40, 330, 330), "rect", 7),
}
# background name -> (skimage image, BGR tint for gray textures)
BACKGROUNDS = {
    "brick": ("brick", (0.55, 0.65, 0.95)),
    "grass": ("grass", (0.45, 0.9, 0.55)),
    "gravel": ("gravel", (0.75, 0.85, 0.95)),
    "space": ("hubble_deep_field", None),
}
# target height (px, before scale change), distractor, occluder, frames, seed
SEQUENCES = [
    dict(
        split="train",
        name="cat_bricks",
        target="cat",
        height=62,
        background="brick",
        distractor="cup",
        occluder="tower",
        frames=60,
        seed=11,
    ),
    dict(
        split="train",
        name="cup_grass",
        target="cup",
        height=58,
        background="grass",
        distractor="helmet",
        occluder="cameraman",
        frames=60,
        seed=12,
    ),
    dict(
        split="train",
        name="shuttle_space",
        target="shuttle",
        height=80,
        background="space",
        distractor="cat",
        occluder="tower",
        frames=60,
        seed=13,
    ),
    dict(
        split="val",
        name="astronaut_gravel",
        target="astronaut",
        height=64,
        background="gravel",
        distractor="shuttle",
        occluder="cameraman",
        frames=80,
        seed=21,
    ),
]


def _skimage_bgr(name: str) -> np.ndarray:
    try:
        import skimage.data
    except ImportError as e:
        raise SystemExit(f"make_sample.py needs scikit-image (pip install scikit-image): {e}")

    image = getattr(skimage.data, name)()
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    return np.ascontiguousarray(image[..., 2::-1])


def _object_patch(name: str, max_side: int = 160) -> Tuple[np.ndarray, np.ndarray]:
    """BGR float patch and its alpha mask (both pre-shrunk with INTER_AREA)."""
    source, (x0, y0, x1, y1), shape, _ = OBJECTS[name]
    patch = _skimage_bgr(source)[y0:y1, x0:x1]
    factor = max_side / max(patch.shape[:2])
    size = (round(patch.shape[1] * factor), round(patch.shape[0] * factor))
    patch = cv2.resize(patch, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    alpha = np.ones(patch.shape[:2], np.float32)
    if shape == "ellipse":
        yy, xx = np.mgrid[: size[1], : size[0]]
        r = ((xx + 0.5 - size[0] / 2) / (size[0] / 2)) ** 2 + (
            (yy + 0.5 - size[1] / 2) / (size[1] / 2)
        ) ** 2
        alpha = np.clip((1.0 - r) * max(size) / 4.0, 0.0, 1.0).astype(np.float32)
    return patch, alpha


def _background(name: str) -> np.ndarray:
    source, tint = BACKGROUNDS[name]
    image = _skimage_bgr(source).astype(np.float32)
    if tint is not None:  # gray texture: lower its contrast (smaller JPEGs) and colour it
        image = (image.mean() + 0.7 * (image - image.mean())) * np.asarray(tint, np.float32)
    image = cv2.resize(
        image, (int(FRAME_W * 1.6), int(FRAME_H * 1.6)), interpolation=cv2.INTER_AREA
    )
    return cv2.GaussianBlur(image, (0, 0), 1.5)  # soft, like an out-of-focus background


def _wave(
    rng: np.random.Generator, n: int, cycles: Tuple[float, float], waves: int = 3
) -> np.ndarray:
    """Smooth random signal over n frames that spans [-1, 1] exactly."""
    t = np.arange(n) / n
    amps = rng.uniform(0.3, 1.0, waves)
    freqs = rng.uniform(*cycles, waves)
    phases = rng.uniform(0, 2 * np.pi, waves)
    signal = sum(a * np.sin(2 * np.pi * f * t + p) for a, f, p in zip(amps, freqs, phases))
    return 2.0 * (signal - signal.min()) / (signal.max() - signal.min()) - 1.0


def _path_boxes(rng, n: int, aspect: float, height: float, scale_range: float) -> np.ndarray:
    """(n, 4) xywh boxes inside the frame: smooth motion, scale and aspect change."""
    scale = np.exp(scale_range * _wave(rng, n, (0.3, 0.9), 2))
    stretch = np.exp(0.1 * _wave(rng, n, (0.4, 1.2), 2))  # aspect ratio change
    w = aspect * height * scale * stretch
    h = height * scale / stretch
    position = [0.5 + 0.5 * _wave(rng, n, (0.3, 1.0)) for _ in range(2)]
    cx = w / 2 + 2 + position[0] * (FRAME_W - w - 4)
    cy = h / 2 + 2 + position[1] * (FRAME_H - h - 4)
    return np.round(np.stack([cx - w / 2, cy - h / 2, w, h], axis=1), 2)


def _occluder_boxes(rng, target_boxes: np.ndarray, aspect: float, height: float) -> np.ndarray:
    """Occluder on a straight path that covers part of the target around 40% of the sequence."""
    n = len(target_boxes)
    k = int(0.4 * n)
    tx, ty, tw, th = target_boxes[k]
    w, h = aspect * height, height
    meet = np.array([tx + tw * rng.uniform(0.1, 0.9), ty + th / 2])  # occluder centre at frame k
    velocity = np.array([rng.choice([-1, 1]) * rng.uniform(2.5, 4.0), rng.uniform(-1.0, 1.0)])
    centers = meet + (np.arange(n) - k)[:, None] * velocity
    return np.round(np.column_stack([centers - [w / 2, h / 2], np.full(n, w), np.full(n, h)]), 2)


def sequence_boxes(spec: Dict) -> Dict[str, np.ndarray]:
    """Boxes (n, 4) xywh of the target, distractor and occluder of one sequence spec."""
    rng = np.random.default_rng(spec["seed"])
    aspects = {}
    for role in ("target", "distractor", "occluder"):
        _, (x0, y0, x1, y1), _, _ = OBJECTS[spec[role]]
        aspects[role] = (x1 - x0) / (y1 - y0)
    target = _path_boxes(rng, spec["frames"], aspects["target"], spec["height"], 0.3)
    distractor = _path_boxes(rng, spec["frames"], aspects["distractor"], spec["height"] * 0.8, 0.15)
    occluder = _occluder_boxes(rng, target, aspects["occluder"], spec["height"] * 0.9)
    return {"target": target, "distractor": distractor, "occluder": occluder}


def _paste(frame: np.ndarray, patch: np.ndarray, alpha: np.ndarray, box_xywh: np.ndarray) -> None:
    """Alpha-blend a patch onto the frame so that it covers exactly box_xywh (continuous)."""
    x, y, w, h = box_xywh
    sx, sy = w / patch.shape[1], h / patch.shape[0]
    # continuous dst = x + sx * continuous src; pixel index = continuous - 0.5 on both sides
    matrix = np.array([[sx, 0, x + 0.5 * sx - 0.5], [0, sy, y + 0.5 * sy - 0.5]])
    size = (frame.shape[1], frame.shape[0])
    warped = cv2.warpAffine(patch, matrix, size, flags=cv2.INTER_LINEAR)
    coverage = cv2.warpAffine(alpha, matrix, size, flags=cv2.INTER_LINEAR)[..., None]
    frame *= 1.0 - coverage
    frame += warped * coverage


def render_frame(spec: Dict, boxes: Dict[str, np.ndarray], index: int, cache: Dict) -> np.ndarray:
    """Frame ``index`` (uint8 BGR, FRAME_H x FRAME_W) of a sequence."""
    if "background" not in cache:
        cache["background"] = _background(spec["background"])
        for role in ("target", "distractor", "occluder"):
            cache[role] = _object_patch(spec[role])
        pan_rng = np.random.default_rng(spec["seed"] + 1000)
        cache["pan"] = [_wave(pan_rng, spec["frames"], (0.2, 0.5), 2) for _ in range(2)]
    background = cache["background"]
    pan_x = (background.shape[1] - FRAME_W) * (0.5 + 0.45 * cache["pan"][0][index])
    pan_y = (background.shape[0] - FRAME_H) * (0.5 + 0.45 * cache["pan"][1][index])
    shift = np.array([[1.0, 0.0, -pan_x], [0.0, 1.0, -pan_y]])
    frame = cv2.warpAffine(background, shift, (FRAME_W, FRAME_H), flags=cv2.INTER_LINEAR)
    for role in ("distractor", "target", "occluder"):  # back to front
        _paste(frame, *cache[role], boxes[role][index])
    frame *= 1.0 + 0.08 * np.sin(2 * np.pi * index / 45.0)  # slow illumination change
    return np.clip(np.rint(frame), 0, 255).astype(np.uint8)


def _write_sequence(spec: Dict, folder: Path, frame_limit: int = 0) -> Dict[str, np.ndarray]:
    boxes = sequence_boxes(spec)  # of the full sequence, so a partial render has the same boxes
    if frame_limit:
        boxes = {role: b[:frame_limit] for role, b in boxes.items()}
    (folder / "img").mkdir(parents=True)
    cache: Dict = {}
    video = None
    if spec["split"] == "val":
        video = cv2.VideoWriter(
            str(folder / f"{spec['name']}.mp4"),
            cv2.VideoWriter_fourcc(*"mp4v"),
            30,
            (FRAME_W, FRAME_H),
        )
    for i in range(len(boxes["target"])):
        frame = render_frame(spec, boxes, i, cache)
        cv2.imwrite(
            str(folder / "img" / f"{i + 1:05d}.jpg"),
            frame,
            [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY],
        )
        if video is not None:
            video.write(frame)
    if video is not None:
        video.release()
    lines = [",".join(f"{v:.2f}" for v in box) for box in boxes["target"]]
    (folder / "groundtruth.txt").write_text("\n".join(lines) + "\n")
    return boxes


def _inside(box: np.ndarray) -> bool:
    return box[0] >= 0 and box[1] >= 0 and box[0] + box[2] <= FRAME_W and box[1] + box[3] <= FRAME_H


def _coco_json(all_boxes: List[Tuple[Dict, Dict[str, np.ndarray]]]) -> Dict:
    """COCO instances over every COCO_EVERY-th training frame: target, distractor and occluder
    (amodal boxes), each only when it lies fully inside the frame."""
    images, annotations = [], []
    for spec, boxes in all_boxes:
        if spec["split"] != "train":
            continue
        for i in range(0, len(boxes["target"]), COCO_EVERY):
            image_id = len(images) + 1
            images.append(
                dict(
                    id=image_id,
                    width=FRAME_W,
                    height=FRAME_H,
                    file_name=f"train/{spec['name']}/img/{i + 1:05d}.jpg",
                )
            )
            for role in ("target", "distractor", "occluder"):
                box = boxes[role][i]
                if _inside(box):
                    annotations.append(
                        dict(
                            id=len(annotations) + 1,
                            image_id=image_id,
                            bbox=[float(v) for v in box],
                            area=float(box[2] * box[3]),
                            iscrowd=0,
                            category_id=OBJECTS[spec[role]][3],
                        )
                    )
    categories = [dict(id=c, name=n, supercategory="object") for n, (_, _, _, c) in OBJECTS.items()]
    info = dict(description="siamtrack bundled sample (datasets/make_sample.py)", version="1")
    return dict(info=info, images=images, annotations=annotations, categories=categories)


def _readme(all_boxes) -> str:
    rows = "\n".join(
        f"| {s['split']} | {s['name']} | {len(b['target'])} | {s['target']} | {s['distractor']} | "
        f"{s['occluder']} | {s['background']} |"
        for s, b in all_boxes
    )
    used = sorted({OBJECTS[o][0] for o in OBJECTS} | {b for b, _ in BACKGROUNDS.values()})
    licences = "\n".join(f"| `skimage.data.{n}()` | {LICENCES[n]} |" for n in used)
    return f"""{README_TITLE}

Generated by `python datasets/make_sample.py` (deterministic; do not edit by hand). Real
photographs from scikit-image's bundled data move over textured backgrounds ({FRAME_W}x{FRAME_H},
JPEG quality {JPEG_QUALITY}) with scale and aspect change, a distractor behind the target, a
partial occluder in front of it, a panning background and a slow illumination change.

| split | sequence | frames | target | distractor | occluder | background |
| --- | --- | --- | --- | --- | --- | --- |
{rows}

- `train/<seq>/`, `val/<seq>/`: generic layout, `img/00001.jpg ...` and `groundtruth.txt`
  (one `x,y,w,h` line per frame, continuous pixel coordinates: the box covers
  `x <= u < x + w`; the occluded part of the target is inside its box, as in OTB).
- `val/<seq>/<seq>.mp4`: the validation frames as MPEG-4 (fourcc mp4v, 30 fps).
- `annotations/instances.json`: COCO instances over every {COCO_EVERY}th training frame
  (`file_name` relative to this folder); target, distractor and occluder boxes (full extent)
  when fully inside the frame.
- Registered on `import siamtrack` as `siamtrack_sample_train`, `siamtrack_sample_val`
  (sequences) and `siamtrack_sample_coco` (images).

## Image sources and licences
All pixels come from these scikit-image data files (licence as stated in each function's
docstring in scikit-image; scikit-image's own code is BSD-3-Clause):

| image | licence |
| --- | --- |
{licences}
"""


def make_sample(output: Path, frame_limit: int = 0) -> None:
    """Render the sample into ``output`` (must not exist). ``frame_limit`` > 0 renders only
    that many frames per sequence (quick checks)."""
    output.mkdir(parents=True)
    all_boxes = []
    for spec in SEQUENCES:
        boxes = _write_sequence(spec, output / spec["split"] / spec["name"], frame_limit)
        all_boxes.append((spec, boxes))
    (output / "annotations").mkdir()
    (output / "annotations" / "instances.json").write_text(json.dumps(_coco_json(all_boxes)))
    (output / "README.md").write_text(_readme(all_boxes))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--output", type=Path, default=Path(__file__).parent / "siamtrack_sample")
    parser.add_argument("--frames", type=int, default=0, help="render only N frames per sequence")
    args = parser.parse_args(argv)
    output = args.output.resolve()
    readme = output / "README.md"
    if output.exists() and not (readme.is_file() and readme.read_text().startswith(README_TITLE)):
        print(
            f"error: {output} exists and was not made by this script; choose another --output",
            file=sys.stderr,
        )
        return 1
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=output.parent) as tmp:
        staging = Path(tmp) / "sample"
        make_sample(staging, args.frames)  # an existing sample is replaced only on success
        if output.exists():
            shutil.rmtree(output)
        staging.rename(output)
    size = sum(p.stat().st_size for p in output.rglob("*") if p.is_file())
    print(f"wrote {output} ({size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
