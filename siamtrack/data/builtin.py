"""The dataset names siamtrack registers on import (``register_builtin_datasets``).

- the bundled sample: ``siamtrack_sample_train``, ``siamtrack_sample_val`` (sequences) and
  ``siamtrack_sample_coco`` (images), from the repository's ``datasets/siamtrack_sample`` or
  ``$DETECTRON2_DATASETS/siamtrack_sample``;
- standard datasets at their usual places under ``$DETECTRON2_DATASETS`` (default
  ``datasets/``): ``got10k_train/val/test``, ``lasot_train/test``, ``otb100``,
  ``imagenet_vid_train``, ``youtube_bb_train`` (tracks json written by
  ``datasets/prepare_*.py``), ``imagenet_det_train``, ``coco_2017_sample`` and
  ``coco_2017_sample_550`` (COCO json).

As with detectron2's builtin datasets, registering reads nothing; files are read when
``DatasetCatalog.get`` runs. The registration API itself is ``catalog.py``.
"""

import os
from pathlib import Path
from typing import Dict, List

from detectron2.data import DatasetCatalog, MetadataCatalog

from .catalog import load_coco_instances, load_sequence_dicts, load_tracks_json

__all__ = ["register_builtin_datasets", "sample_root"]

_REPO_SAMPLE = Path(__file__).resolve().parents[2] / "datasets" / "siamtrack_sample"


def _datasets_root() -> Path:
    return Path(os.getenv("DETECTRON2_DATASETS", "datasets"))


def sample_root() -> Path:
    """Folder of the bundled sample: the repo's ``datasets/siamtrack_sample`` (source checkout)
    or ``$DETECTRON2_DATASETS/siamtrack_sample``. Error if neither exists."""
    for candidate in (_REPO_SAMPLE, _datasets_root() / "siamtrack_sample"):
        if (candidate / "train").is_dir():
            return candidate
    raise FileNotFoundError(
        f"bundled sample not found at {_REPO_SAMPLE} or $DETECTRON2_DATASETS/siamtrack_sample; "
        "regenerate it with `python datasets/make_sample.py`"
    )


# name -> (path under $DETECTRON2_DATASETS, layout, sequence list, exclude list)
_STANDARD_SEQUENCE_DATASETS = {
    "got10k_train": ("GOT-10k/train", "got10k", None, None),
    "got10k_val": ("GOT-10k/val", "got10k", None, None),
    "got10k_test": ("GOT-10k/test", "got10k", None, None),
    "lasot_train": ("LaSOT", "lasot", None, "LaSOT/testing_set.txt"),
    "lasot_test": ("LaSOT", "lasot", "LaSOT/testing_set.txt", None),
    "otb100": ("OTB100", "generic", None, None),
}


# name -> (json file, image root), both under $DETECTRON2_DATASETS; written by datasets/prepare_*.py
_STANDARD_TRACKS_DATASETS = {
    "imagenet_vid_train": (
        "ILSVRC2015/annotations/imagenet_vid_train_tracks.json",
        "ILSVRC2015/Data/VID/train",
    ),
    "youtube_bb_train": ("youtube_bb/annotations/youtube_bb_train_tracks.json", "youtube_bb"),
}
_STANDARD_COCO_DATASETS = {
    "imagenet_det_train": (
        "ILSVRC2015/annotations/imagenet_det_train.json",
        "ILSVRC2015/Data/DET/train",
    ),
    # 100 COCO 2017 images (50 train2017 + 50 val2017, original annotations merged into one
    # file): the real-image source of the CPU quick schedules (configs/*/quick_schedules)
    "coco_2017_sample": ("coco_sample/annotations/instances.json", "coco_sample/images"),
    # 549 COCO 2017 images (a superset of the 100, original annotations, one file): a larger
    # real-image source for CPU quick schedules trained from scratch
    "coco_2017_sample_550": (
        "coco_sample_550/annotations/instances.json",
        "coco_sample_550/images",
    ),
}


def _register_standard_json(name: str, json_file: str, image_root: str, kind: str) -> None:
    def load() -> List[Dict]:
        root = _datasets_root()
        if kind == "sequences":
            return load_tracks_json(root / json_file, root / image_root, name)
        return load_coco_instances(root / json_file, root / image_root, name)

    DatasetCatalog.register(name, load)
    layout = {"layout": "tracks_json"} if kind == "sequences" else {"evaluator_type": "coco"}
    MetadataCatalog.get(name).set(kind=kind, dataset_dir=os.path.dirname(json_file), **layout)


def _register_standard(name: str, subdir: str, layout: str, keep, exclude) -> None:
    def load() -> List[Dict]:
        root = _datasets_root()
        return load_sequence_dicts(
            root / subdir,
            layout,
            root / keep if keep else None,
            root / exclude if exclude else None,
        )

    DatasetCatalog.register(name, load)
    MetadataCatalog.get(name).set(kind="sequences", layout=layout, dataset_dir=subdir)


def _register_sample(name: str, split: str) -> None:
    DatasetCatalog.register(name, lambda: load_sequence_dicts(sample_root() / split, "generic"))
    MetadataCatalog.get(name).set(kind="sequences", layout="generic", dataset_dir=split)


def _load_sample_coco() -> List[Dict]:
    root = sample_root()
    return load_coco_instances(
        root / "annotations" / "instances.json", root, "siamtrack_sample_coco"
    )


def register_builtin_datasets() -> None:
    """Register the bundled sample and the standard tracking datasets (idempotent, no I/O)."""
    registered = set(DatasetCatalog.list())
    if "siamtrack_sample_train" not in registered:
        _register_sample("siamtrack_sample_train", "train")
        _register_sample("siamtrack_sample_val", "val")
        DatasetCatalog.register("siamtrack_sample_coco", _load_sample_coco)
        MetadataCatalog.get("siamtrack_sample_coco").set(kind="images", evaluator_type="coco")
    for name, spec in _STANDARD_SEQUENCE_DATASETS.items():
        if name not in registered:
            _register_standard(name, *spec)
    for kind, table in (
        ("sequences", _STANDARD_TRACKS_DATASETS),
        ("images", _STANDARD_COCO_DATASETS),
    ):
        for name, (json_file, image_root) in table.items():
            if name not in registered:
                _register_standard_json(name, json_file, image_root, kind)
