#!/usr/bin/env python
"""Turn a video (or a folder of frames) plus a box file into a generic-layout sequence.

    python datasets/prepare_sequence.py --video clip.mp4 --boxes clip_boxes.txt \
        --output datasets/my_tracking/train/clip
    python datasets/prepare_sequence.py --frames raw/clip_frames --boxes gt.txt \
        --output datasets/my_tracking/train/clip --one-based

Writes ``<output>/img/00001.jpg ...`` and ``<output>/groundtruth.txt`` (``x,y,w,h`` per frame,
continuous 0-based pixel coordinates). ``--one-based`` subtracts 1 from x and y (MATLAB/OTB
style annotations). ``--polygons`` also takes polygon lines ``x1,y1,x2,y2,x3,y3,...`` (VOT's
rotated boxes) and writes each as its axis-aligned bounding box. A line ``nan,nan,nan,nan``
marks a frame without a box (target absent); such frames are kept and the pair sampler skips
them. Register the parent folder with ``siamtrack.data.register_sequence_dataset`` (see
datasets/README.md). Refuses to write into an existing folder.
"""

import argparse
import shutil
import sys
from pathlib import Path

import cv2
import numpy as np

from siamtrack.cli import run_tool
from siamtrack.errors import BadInputError
from siamtrack.io import OutputExistsError, list_image_files, read_box_file


def _frames(args):
    if args.frames:
        for path in list_image_files(args.frames):
            image = cv2.imread(path, cv2.IMREAD_COLOR)
            if image is None:
                raise BadInputError(f"cannot read frame {path}")
            yield image
        return
    video = cv2.VideoCapture(str(args.video))
    if not video.isOpened():
        raise BadInputError(f"cannot open video {args.video}")
    while True:
        ok, image = video.read()
        if not ok:
            break
        yield image
    video.release()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--video", type=Path, help="video file readable by OpenCV")
    source.add_argument("--frames", type=Path, help="folder of frames (sorted by name)")
    parser.add_argument("--boxes", type=Path, required=True, help="one x,y,w,h line per frame")
    parser.add_argument("--output", type=Path, required=True, help="new sequence folder")
    parser.add_argument("--one-based", action="store_true", help="subtract 1 from x and y")
    parser.add_argument(
        "--polygons",
        action="store_true",
        help="also take polygon lines x1,y1,x2,y2,... (VOT): written as their bounding boxes",
    )
    parser.add_argument("--quality", type=int, default=95, help="JPEG quality")
    args = parser.parse_args(argv)

    return run_tool("prepare_sequence.py", lambda: prepare(args))


def prepare(args) -> int:
    if args.output.exists():
        raise OutputExistsError(args.output, "sequence folder")
    boxes = read_box_file(args.boxes, polygons=args.polygons)
    if args.one_based:
        boxes[:, :2] -= 1.0
    (args.output / "img").mkdir(parents=True)
    try:
        count = 0
        for count, image in enumerate(_frames(args), start=1):
            cv2.imwrite(
                str(args.output / "img" / f"{count:05d}.jpg"),
                image,
                [cv2.IMWRITE_JPEG_QUALITY, args.quality],
            )
        if count != len(boxes):
            raise BadInputError(f"{count} frames but {len(boxes)} boxes in {args.boxes}")
    except BaseException:
        shutil.rmtree(args.output, ignore_errors=True)  # created above: no half-written sequence
        raise
    lines = [",".join("nan" if np.isnan(v) else f"{v:.2f}" for v in box) for box in boxes]
    (args.output / "groundtruth.txt").write_text("\n".join(lines) + "\n")
    print(f"wrote {count} frames and boxes to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
