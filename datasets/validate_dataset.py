#!/usr/bin/env python
"""Check a tracking or COCO-style dataset before training on it.

Reports missing/unreadable frames, frame/box count mismatches, broken boxes (NaN, zero or
negative size, outside the image), image sizes that differ from the json, and counts what the
pair sampler will skip (absent frames, crowd and tiny boxes, images without objects).
Exit code 0 if no problem was found, 1 otherwise, 2 for bad input (e.g. a missing folder).

    python datasets/validate_dataset.py datasets/GOT-10k/train            # sequence folders
    python datasets/validate_dataset.py datasets/LaSOT --layout lasot
    python datasets/validate_dataset.py datasets/coco/annotations/instances_val2017.json \
        --image-root datasets/coco/val2017
    python datasets/validate_dataset.py siamtrack_sample_train            # a registered name
"""

import argparse
import sys
from pathlib import Path

from detectron2.data import DatasetCatalog

from siamtrack.cli import run_tool
from siamtrack.data.catalog import get_dataset_dicts, is_sequence_dataset, load_coco_instances
from siamtrack.data.validation import (
    validate_instance_dicts,
    validate_sequence_dicts,
    validate_sequence_root,
)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dataset", help="sequence folder, COCO json file, or registered name")
    parser.add_argument("--layout", default="auto", help="auto | generic | got10k | lasot")
    parser.add_argument("--image-root", help="image folder of a COCO json (default: its folder)")
    parser.add_argument("--decode", action="store_true", help="decode every image (slow)")
    parser.add_argument(
        "--quick", action="store_true", help="open only the first frame of each sequence"
    )
    parser.add_argument(
        "--min-box-size",
        type=float,
        default=4.0,
        help="count COCO boxes smaller than this (DATASETS.MIN_BOX_SIZE)",
    )
    args = parser.parse_args(argv)

    return run_tool("validate_dataset.py", lambda: validate(args))


def validate(args) -> int:
    target, all_frames = args.dataset, not args.quick
    if target in DatasetCatalog.list():
        dicts = get_dataset_dicts(target)
        if is_sequence_dataset(target) or "frame_paths" in dicts[0]:
            report = validate_sequence_dicts(target, dicts, args.decode, all_frames)
        else:
            report = validate_instance_dicts(target, dicts, args.decode, args.min_box_size)
    elif target.endswith(".json"):
        image_root = args.image_root or str(Path(target).parent)
        dicts = load_coco_instances(target, image_root, "validate")
        report = validate_instance_dicts(target, dicts, args.decode, args.min_box_size)
    else:
        report = validate_sequence_root(target, args.layout, args.decode, all_frames)
    print(report.format())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
