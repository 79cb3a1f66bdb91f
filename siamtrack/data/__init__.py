"""Data: crops shared with the tracker, sequence readers, dataset registration, pair sampling,
the pair-crop mapper and the training loader.

Importing this package registers the bundled sample (``siamtrack_sample_train``,
``siamtrack_sample_val``, ``siamtrack_sample_coco``) and the standard tracking datasets under
``$DETECTRON2_DATASETS`` (``got10k_*``, ``lasot_*``, ``otb100``, ``imagenet_vid_train``,
``imagenet_det_train``, ``youtube_bb_train``, ``coco_2017_sample``; ``builtin.py``); no file is
read until used.
"""

from .build import PairStream, build_pair_train_loader
from .builtin import register_builtin_datasets, sample_root
from .catalog import (
    get_dataset_dicts,
    get_sequences,
    is_sequence_dataset,
    register_coco_pairs,
    register_sequence_dataset,
    register_tracks_json,
)
from .crops import crop_square, crop_window, mean_color, siamese_crop_sides, square_window
from .pair_mapper import PairCropDatasetMapper, UnusableSampleError
from .pair_sampler import PairSampler, build_pair_source, build_pair_sources
from ..io.sequences import Sequence, load_sequence, load_sequences, read_box_file

register_builtin_datasets()

__all__ = [
    "PairCropDatasetMapper",
    "PairSampler",
    "PairStream",
    "Sequence",
    "UnusableSampleError",
    "build_pair_source",
    "build_pair_sources",
    "build_pair_train_loader",
    "crop_square",
    "crop_window",
    "get_dataset_dicts",
    "get_sequences",
    "is_sequence_dataset",
    "load_sequence",
    "load_sequences",
    "mean_color",
    "read_box_file",
    "register_builtin_datasets",
    "register_coco_pairs",
    "register_sequence_dataset",
    "register_tracks_json",
    "sample_root",
    "siamese_crop_sides",
    "square_window",
]
