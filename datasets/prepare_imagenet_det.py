#!/usr/bin/env python
"""Convert ImageNet DET (ILSVRC) annotations into a COCO-format instances json.

    python datasets/prepare_imagenet_det.py                      # $DETECTRON2_DATASETS/ILSVRC2015
    python datasets/prepare_imagenet_det.py --root /data/ILSVRC --split val

Reads every ``<root>/Annotations/DET/<split>/**.xml`` (multiple objects per image) and checks
that ``<root>/Data/DET/<split>/<same path>.JPEG`` exists. One category per WordNet id (the
``<name>`` of an object), ids 1..K in sorted order. Boxes: ``(xmin, ymin, xmax - xmin,
ymax - ymin)``, the VOC corners as-is (no +1), like pysot (see
``siamtrack/data/converters.py``). Images without a usable box are left out. Default output:
``<root>/annotations/imagenet_det_<split>.json``, which ``imagenet_det_train`` reads (file
names relative to ``<root>/Data/DET/<split>``). Refuses to overwrite without ``--force``.
"""

import argparse
import os
import sys
from pathlib import Path

from siamtrack.cli import run_tool
from siamtrack.errors import BadInputError
from siamtrack.data.converters import convert_imagenet_det, format_stats
from siamtrack.io import check_output_path, write_json

PROG = "prepare_imagenet_det.py"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default_root = Path(os.getenv("DETECTRON2_DATASETS", "datasets")) / "ILSVRC2015"
    parser.add_argument("--root", type=Path, default=default_root, help="the ILSVRC folder")
    parser.add_argument("--split", default="train", choices=("train", "val"))
    parser.add_argument(
        "--output",
        type=Path,
        help="COCO json to write (default <root>/annotations/imagenet_det_<split>.json)",
    )
    parser.add_argument("--force", action="store_true", help="replace an existing --output")
    args = parser.parse_args(argv)
    output = args.output or args.root / "annotations" / f"imagenet_det_{args.split}.json"
    return run_tool(PROG, lambda: convert(args, output))


def convert(args, output: Path) -> int:
    check_output_path(output, args.force, "output")  # before the long conversion
    coco, stats = convert_imagenet_det(args.root, args.split, show_progress=True)
    if not coco["annotations"]:
        raise BadInputError(f"no usable object under {args.root}")
    write_json(coco, output, overwrite=args.force)
    print(
        f"ImageNet DET {args.split}: wrote {stats['images']} images, {stats['objects']} objects, "
        f"{stats['categories']} categories to {output}"
    )
    print(format_stats(stats))
    print(f"image root for register_coco_pairs: {args.root / 'Data' / 'DET' / args.split}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
