"""ILSVRC DET -> a COCO instances dict (one category per WordNet id) for ``register_coco_pairs``."""

import os
from collections import Counter
from pathlib import Path
from typing import Dict, Tuple

from tqdm import tqdm

from ...errors import BadInputError
from ...io.tracks_json import json_coordinate
from ...utils.boxes import is_valid_xywh
from .common import ilsvrc_folders, image_size_wh
from .voc_xml import VOC_BOX_NOTE, parse_voc_xml

__all__ = ["convert_imagenet_det"]


def convert_imagenet_det(
    root: os.PathLike, split: str = "train", show_progress: bool = False
) -> Tuple[Dict, Counter]:
    """ILSVRC DET -> a COCO instances dict, one category per WordNet id (``<name>``).

    Args:
        root: the folder with ``Annotations/DET/<split>/**.xml`` and the images at the same
            relative paths under ``Data/DET/<split>`` (``.JPEG``), e.g. ``ILSVRC2015``.
        split: "train" or "val".
        show_progress: tqdm bar over XML files.

    Returns:
        (coco, stats): ``file_name`` relative to ``root/Data/DET/<split>``; categories sorted by
        WordNet id with ids 1..K; boxes as in the module docstring. Images with no usable box
        and images whose JPEG is missing are left out; empty boxes are dropped.
    """
    root = Path(root)
    annotation_root, image_root = ilsvrc_folders(root, "DET", split, "ILSVRC DET")
    xml_files = sorted(annotation_root.rglob("*.xml"))
    if not xml_files:
        raise FileNotFoundError(f"no .xml annotation files under {annotation_root}")
    stats: Counter = Counter()
    images, annotations = [], []
    for xml_file in tqdm(xml_files, desc=f"DET {split}", unit="xml", disable=not show_progress):
        stats["xml_files"] += 1
        file_name = xml_file.relative_to(annotation_root).with_suffix(".JPEG").as_posix()
        if not (image_root / file_name).is_file():
            stats["skipped_images_missing_jpeg"] += 1
            continue
        parsed = parse_voc_xml(xml_file)
        if not all(obj["name"] for obj in parsed["objects"]):
            raise BadInputError(f"{xml_file}: an <object> has no <name> (WordNet id)")
        kept = [obj for obj in parsed["objects"] if is_valid_xywh(obj["box_xywh"])]
        stats["skipped_objects_empty_box"] += len(parsed["objects"]) - len(kept)
        if not kept:
            stats["skipped_images_without_objects"] += 1
            continue
        width, height = parsed["size_wh"] or (0, 0)
        if width <= 0 or height <= 0:
            width, height = image_size_wh(image_root / file_name)
            stats["image_sizes_read_from_jpeg"] += 1
        image_id = len(images) + 1
        images.append(dict(id=image_id, file_name=file_name, width=width, height=height))
        for obj in kept:
            box = [json_coordinate(v) for v in obj["box_xywh"]]
            annotation = dict(id=len(annotations) + 1, image_id=image_id, bbox=box, iscrowd=0)
            # category_id holds the WordNet id until the numeric ids are known (below)
            annotation.update(area=json_coordinate(box[2] * box[3]), category_id=obj["name"])
            annotations.append(annotation)
    wnids = sorted({a["category_id"] for a in annotations})
    category_ids = {wnid: i + 1 for i, wnid in enumerate(wnids)}
    for annotation in annotations:
        annotation["category_id"] = category_ids[annotation["category_id"]]
    stats.update(images=len(images), objects=len(annotations), categories=len(wnids))
    coco = {
        "info": {"description": f"ImageNet DET {split}", "box_convention": VOC_BOX_NOTE},
        "licenses": [],
        "images": images,
        "annotations": annotations,
        "categories": [dict(id=category_ids[w], name=w, supercategory="") for w in wnids],
    }
    return coco, stats
