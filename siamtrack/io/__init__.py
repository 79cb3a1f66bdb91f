"""The bottom layer: files on disk, no torch, no detectron2.

Images and frame sources (``images.py``, ``video.py``), tracking sequences on disk
(``sequences.py``), result and boxes files (``result_files.py``), the tracks-json format
(``tracks_json.py``), the one atomic-write helper everything uses (``files.py``) and PNG
figures (``figures.py``: matplotlib, imported where a plot is drawn, not here).
"""

from .files import OutputExistsError, atomic_output, check_output_path, write_json, write_text
from .images import IMAGE_EXTENSIONS, UnreadableImageError, list_image_files, read_image_bgr
from .result_files import (
    BOXES_FILE_FORMATS,
    SavedResult,
    TrackRows,
    find_result_file,
    list_trackers,
    read_boxes_file,
    read_got10k_results,
    read_otb_results,
    read_results,
    write_boxes_file,
    write_got10k_results,
    write_otb_results,
)
from .sequences import LAYOUTS, Sequence, load_sequence, load_sequences, read_box_file
from .tracks_json import read_tracks_json, tracks_to_json, write_tracks_json
from .video import FrameSource, SafeVideoWriter, open_frame_source

__all__ = [
    "BOXES_FILE_FORMATS",
    "FrameSource",
    "IMAGE_EXTENSIONS",
    "LAYOUTS",
    "OutputExistsError",
    "SafeVideoWriter",
    "SavedResult",
    "Sequence",
    "TrackRows",
    "UnreadableImageError",
    "atomic_output",
    "check_output_path",
    "find_result_file",
    "list_image_files",
    "list_trackers",
    "load_sequence",
    "load_sequences",
    "open_frame_source",
    "read_box_file",
    "read_boxes_file",
    "read_got10k_results",
    "read_image_bgr",
    "read_otb_results",
    "read_results",
    "read_tracks_json",
    "tracks_to_json",
    "write_boxes_file",
    "write_got10k_results",
    "write_json",
    "write_otb_results",
    "write_text",
    "write_tracks_json",
]
