"""Dataset registration: tracking sequences and COCO-style instance datasets as pair sources.

Two kinds of datasets feed the pair sampler (``MetadataCatalog.get(name).kind``):

- ``"sequences"``: ``DatasetCatalog.get(name)`` returns one dict per sequence,
  ``{"sequence_name": str, "frame_paths": [str], "boxes_xywh": ndarray (N, 4),
  "absent": ndarray (N,) bool, "layout": str}`` (boxes in the file's own coordinates).
  Tracks json files (``register_tracks_json``, written by ``datasets/prepare_imagenet_vid.py``
  and ``prepare_youtube_bb.py``) hold exactly these records, with frame paths relative to an
  image root.
- ``"images"`` (or no ``kind``): detectron2 instance dicts (``file_name``, ``height``, ``width``,
  ``annotations`` with ``bbox``/``bbox_mode``/``iscrowd``), e.g. from ``load_coco_json`` or any
  dataset detectron2 registers itself (``coco_2017_train``).

Registering a name never touches the disk; files are read when ``DatasetCatalog.get`` runs.
"""

import json
import os
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np
from detectron2.data import DatasetCatalog, MetadataCatalog
from detectron2.data.datasets import load_coco_json

from ..errors import BadInputError, UnknownNameError
from ..io.sequences import LAYOUTS, Sequence, find_sequence_folders, load_sequence
from ..io.tracks_json import read_tracks_json

__all__ = [
    "register_sequence_dataset",
    "register_coco_pairs",
    "register_tracks_json",
    "load_sequence_dicts",
    "load_tracks_json",
    "load_coco_instances",
    "get_sequences",
    "get_dataset_dicts",
    "is_sequence_dataset",
    "sequence_to_dict",
    "dict_to_sequence",
]


def sequence_to_dict(sequence: Sequence) -> Dict:
    """The ``DatasetCatalog`` record of one sequence (see module docstring)."""
    return {
        "sequence_name": sequence.name,
        "frame_paths": list(sequence.frame_paths),
        "boxes_xywh": np.asarray(sequence.boxes_xywh, dtype=np.float64),
        "absent": np.asarray(sequence.absent, dtype=bool),
        "layout": sequence.layout,
    }


def dict_to_sequence(record: Dict) -> Sequence:
    """Inverse of :func:`sequence_to_dict`."""
    return Sequence(
        name=record["sequence_name"],
        frame_paths=list(record["frame_paths"]),
        boxes_xywh=record["boxes_xywh"],
        absent=record.get("absent"),
        layout=record.get("layout", "generic"),
    )


def _read_name_list(path: Path) -> List[str]:
    if not path.is_file():
        raise FileNotFoundError(f"sequence list {path} does not exist")
    names = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    if not names:
        raise BadInputError(f"sequence list {path} is empty")
    return names


def load_sequence_dicts(
    root: os.PathLike,
    layout: str = "auto",
    sequence_list: Optional[os.PathLike] = None,
    exclude_list: Optional[os.PathLike] = None,
) -> List[Dict]:
    """Load every sequence under ``root`` as ``DatasetCatalog`` records.

    Args:
        root: a sequence folder, a folder of sequence folders, or LaSOT's ``<class>/<seq>`` tree.
        layout: "auto" or one of ``sequences.LAYOUTS``.
        sequence_list: optional text file with one sequence (folder) name per line; only
            those sequences are loaded (e.g. LaSOT's ``testing_set.txt``).
        exclude_list: optional text file of sequence names to leave out (e.g. the LaSOT
            training split = everything except ``testing_set.txt``).
    """
    if layout != "auto" and layout not in LAYOUTS:
        raise BadInputError(
            f"unknown sequence layout '{layout}', expected 'auto' or one of {LAYOUTS}"
        )
    folders = find_sequence_folders(root)
    if sequence_list is not None:
        wanted = _read_name_list(Path(sequence_list))
        by_name = {f.name: f for f in folders}
        missing = [n for n in wanted if n not in by_name]
        if missing:
            raise FileNotFoundError(
                f"{sequence_list} names {len(missing)} sequences not found under {root}, "
                f"e.g. {missing[:5]}"
            )
        folders = [by_name[n] for n in wanted]
    if exclude_list is not None:
        excluded = set(_read_name_list(Path(exclude_list)))
        folders = [f for f in folders if f.name not in excluded]
    if not folders:
        raise FileNotFoundError(
            f"no tracking sequences under {root} (expected the layouts of datasets/README.md)"
        )
    return [sequence_to_dict(load_sequence(f, layout)) for f in folders]


def register_sequence_dataset(
    name: str,
    root: os.PathLike,
    layout: str = "auto",
    sequence_list: Optional[os.PathLike] = None,
    exclude_list: Optional[os.PathLike] = None,
    **metadata,
) -> None:
    """Register a folder of tracking sequences (GOT-10k, LaSOT, generic/OTB) under ``name``.

    Usable for training (``DATASETS.TRAIN``) and evaluation (:func:`get_sequences`). Nothing is
    read until the dataset is used. Arguments as in :func:`load_sequence_dicts`; extra keyword
    arguments are stored in ``MetadataCatalog.get(name)``.
    """
    if layout != "auto" and layout not in LAYOUTS:
        raise BadInputError(
            f"unknown sequence layout '{layout}', expected 'auto' or one of {LAYOUTS}"
        )
    root = os.fspath(root)
    DatasetCatalog.register(
        name, lambda: load_sequence_dicts(root, layout, sequence_list, exclude_list)
    )
    MetadataCatalog.get(name).set(kind="sequences", root=root, layout=layout, **metadata)


def load_tracks_json(
    json_file: os.PathLike, image_root: os.PathLike, name: str = "tracks"
) -> List[Dict]:
    """Read a tracks json (``siamtrack.io.tracks_json``) as ``DatasetCatalog`` sequence records.

    Args:
        json_file: ``{"tracks": [{"sequence_name": str, "frame_paths": [str], "boxes_xywh":
            [[x, y, w, h] (null = unknown)], "absent": [0/1 or bool] (optional)}, ...]}``.
        image_root: folder the ``frame_paths`` are relative to (absolute paths stay as they are).
        name: dataset name for error messages.

    Returns:
        one record per track, frame paths joined with ``image_root``, boxes (N, 4) float64 as
        stored (NaN where null), absent (N,) bool.
    """
    return [sequence_to_dict(s) for s in read_tracks_json(json_file, image_root, name)]


def register_tracks_json(
    name: str, json_file: os.PathLike, image_root: os.PathLike, **metadata
) -> None:
    """Register a tracks json (ImageNet VID, YouTube-BB or your own) as a sequence dataset.

    Usable for training (``DATASETS.TRAIN``) and evaluation (:func:`get_sequences`). Nothing is
    read until the dataset is used. Arguments as in :func:`load_tracks_json`; extra keyword
    arguments are stored in ``MetadataCatalog.get(name)``.
    """
    json_file, image_root = os.fspath(json_file), os.fspath(image_root)
    DatasetCatalog.register(name, lambda: load_tracks_json(json_file, image_root, name))
    MetadataCatalog.get(name).set(
        kind="sequences",
        layout="tracks_json",
        json_file=json_file,
        image_root=image_root,
        **metadata,
    )


def load_coco_instances(json_file: os.PathLike, image_root: os.PathLike, name: str) -> List[Dict]:
    """``load_coco_json`` with clear errors for a missing or corrupt json file."""
    json_file = os.fspath(json_file)
    if not os.path.isfile(json_file):
        raise FileNotFoundError(f"dataset '{name}': annotation file {json_file} does not exist")
    try:
        return load_coco_json(json_file, os.fspath(image_root), name)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise BadInputError(
            f"dataset '{name}': {json_file} is not valid JSON ({e}); expected a COCO "
            "instances file"
        ) from e
    except (KeyError, TypeError, AssertionError) as e:
        raise BadInputError(
            f"dataset '{name}': {json_file} is not a COCO instances file "
            f"({type(e).__name__}: {e}); expected 'images', 'annotations' and 'categories'"
        ) from e


def register_coco_pairs(
    name: str, json_file: os.PathLike, image_root: os.PathLike, **metadata
) -> None:
    """Register a COCO-format instances json as a still-image pair source.

    Template and search crops of a pair come from the same annotated object (pysot's COCO
    setting); crowd and tiny boxes are filtered by ``DATASETS.SKIP_CROWD`` and
    ``DATASETS.MIN_BOX_SIZE`` when the pair sampler is built. Equivalent to detectron2's
    ``register_coco_instances`` plus ``kind="images"`` and clearer load errors.
    """
    json_file, image_root = os.fspath(json_file), os.fspath(image_root)
    DatasetCatalog.register(name, lambda: load_coco_instances(json_file, image_root, name))
    MetadataCatalog.get(name).set(
        kind="images",
        json_file=json_file,
        image_root=image_root,
        evaluator_type="coco",
        **metadata,
    )


def is_sequence_dataset(name: str) -> bool:
    """True if ``name`` is registered as a tracking-sequence dataset."""
    return MetadataCatalog.get(name).get("kind") == "sequences"


def get_dataset_dicts(name: str) -> List[Dict]:
    """``DatasetCatalog.get(name)`` with errors that name the dataset (missing, empty, broken)."""
    if name not in DatasetCatalog.list():
        raise UnknownNameError(
            f"dataset '{name}' is not registered; register it with "
            "siamtrack.data.register_sequence_dataset / register_coco_pairs (datasets/README.md)"
        )
    try:
        dicts = DatasetCatalog.get(name)
    except FileNotFoundError as e:
        raise FileNotFoundError(f"dataset '{name}' could not be loaded: {e}") from e
    except ValueError as e:
        raise BadInputError(f"dataset '{name}' could not be loaded: {e}") from e
    if not isinstance(dicts, list) or not dicts:
        raise BadInputError(f"dataset '{name}' is empty")
    return dicts


def get_sequences(dataset_name: str) -> List[Sequence]:
    """The sequences of a registered sequence dataset (for evaluation)."""
    dicts = get_dataset_dicts(dataset_name)
    if not is_sequence_dataset(dataset_name) or "frame_paths" not in dicts[0]:
        raise BadInputError(
            f"dataset '{dataset_name}' is not a sequence dataset (MetadataCatalog kind "
            f"'{MetadataCatalog.get(dataset_name).get('kind')}'); register one with "
            "register_sequence_dataset"
        )
    return [dict_to_sequence(d) for d in dicts]
