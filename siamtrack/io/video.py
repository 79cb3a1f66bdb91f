"""Frame sources (video file, image folder or glob, camera) and a safe video writer.

Frames are HxWx3 uint8 BGR arrays. A frame that cannot be decoded is yielded as ``None``
(with its index), so callers keep one row per frame; see ``FrameSource.__iter__`` and the
tracking loop's rule for such frames (``docs/conventions.md#tracker-state-and-frames``).

``SafeVideoWriter`` writes to a hidden temporary file next to the target and renames it on
``close()`` (``files.py``), so a crash never leaves a half-written file under the user's name,
and it never replaces an existing file unless ``overwrite=True``.
"""

import contextlib
import glob
import logging
import os
import sys
from pathlib import Path
from typing import Iterator, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

from ..errors import BadInputError
from .files import check_output_path, commit_temporary, make_temporary
from .images import is_image_file, list_image_files, natural_key

__all__ = [
    "FrameSource",
    "open_frame_source",
    "SafeVideoWriter",
    "video_codecs_for",
]

logger = logging.getLogger(__name__)

# A read failure is retried this many frames ahead before the video is taken to have ended.
MAX_CONSECUTIVE_BAD_FRAMES = 25


class FrameSource:
    """Frames of a video file, an image list or a camera, as ``(index, frame_or_None)``.

    Use ``open_frame_source`` to create one. ``len()`` is the frame count when known
    (``num_frames``; None for cameras and streams). Use as a context manager or call ``close``.

    Attributes:
        name: the input as the user gave it (for messages).
        kind: "video", "images" or "camera".
        fps: frames per second of the input (30 when unknown).
        num_frames: frame count, or None when unknown.
        bad_frames: indices of frames that could not be decoded (filled while iterating).
    """

    def __init__(self, name: str, kind: str, capture=None, image_paths: Sequence[str] = ()):
        self.name = name
        self.kind = kind
        self._capture = capture
        self._image_paths = list(image_paths)
        self.bad_frames: List[int] = []
        if capture is not None:
            fps = capture.get(cv2.CAP_PROP_FPS)
            count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) if kind == "video" else 0
            self.fps = float(fps) if fps and 1.0 <= fps <= 1000.0 else 30.0
            self.num_frames: Optional[int] = count if count > 0 else None
        else:
            self.fps = 30.0
            self.num_frames = len(self._image_paths)

    def __len__(self) -> int:
        if self.num_frames is None:
            raise TypeError(f"the number of frames of {self.name} is unknown")
        return self.num_frames

    def __iter__(self) -> Iterator[Tuple[int, Optional[np.ndarray]]]:
        """Yield ``(index, frame)``; ``frame`` is None for a frame that cannot be decoded.

        Policy for corrupt frames: they are reported (warning, ``bad_frames``) and yielded as
        None, so row k of every output still belongs to frame k. For videos, a failed read is
        retried up to ``MAX_CONSECUTIVE_BAD_FRAMES`` frames ahead; if nothing decodes any more,
        the video has ended (a warning is logged if that is before the header's frame count).
        """
        if self._capture is None:
            for index, path in enumerate(self._image_paths):
                frame = cv2.imread(path, cv2.IMREAD_COLOR)
                if frame is None:
                    self._report_bad(index, f"cannot decode image {path}")
                yield index, frame
            return
        index = 0
        while True:
            ok, frame = self._capture.read()
            if ok and frame is not None:
                yield index, frame
                index += 1
                continue
            if self.kind == "camera":
                logger.warning(f"camera {self.name} stopped delivering frames after {index}")
                return
            # A failed read: corrupt frame or end of video? Look ahead.
            failures = 1
            while failures <= MAX_CONSECUTIVE_BAD_FRAMES:
                ok, frame = self._capture.read()
                if ok and frame is not None:
                    break
                failures += 1
            if not (ok and frame is not None):
                if self.num_frames is not None and index < self.num_frames:
                    logger.warning(
                        f"{self.name}: decoding stopped at frame {index}, the header says "
                        f"{self.num_frames} frames"
                    )
                    self.num_frames = index
                return
            for bad in range(index, index + failures):
                self._report_bad(bad, "cannot decode this video frame")
                yield bad, None
            index += failures
            yield index, frame
            index += 1

    def _report_bad(self, index: int, reason: str) -> None:
        self.bad_frames.append(index)
        logger.warning(
            f"{self.name}: frame {index} skipped ({reason}); its row repeats the last box"
        )

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None

    def __enter__(self) -> "FrameSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_frame_source(source: Union[str, int, os.PathLike]) -> FrameSource:
    """Open a video file, an image folder, a glob pattern (``"frames/*.jpg"``) or a camera index.

    Image lists are sorted naturally (``2.jpg`` before ``10.jpg``). An all-digit string that is
    not an existing path is a camera index.

    Raises:
        FileNotFoundError / ValueError with the input named when it cannot be opened.
    """
    name = str(source)
    path = Path(name)
    if isinstance(source, int) or (name.isdigit() and not path.exists()):
        with _quiet_opencv():
            capture = cv2.VideoCapture(int(name))
        if not capture.isOpened():
            capture.release()
            raise BadInputError(f"camera {name} could not be opened (no such device or it is busy)")
        return FrameSource(name, "camera", capture=capture)
    if any(c in name for c in "*?[") and not path.exists():
        paths = sorted((p for p in glob.glob(name) if is_image_file(p)), key=natural_key)
        if not paths:
            raise FileNotFoundError(f"no image files match the pattern '{name}'")
        return FrameSource(name, "images", image_paths=paths)
    if path.is_dir():
        return FrameSource(name, "images", image_paths=list_image_files(path))
    if not path.is_file():
        raise FileNotFoundError(
            f"input '{name}' does not exist (expected a video file, image "
            "folder, glob pattern or camera index)"
        )
    if is_image_file(path):
        return FrameSource(name, "images", image_paths=[name])
    with _quiet_opencv():
        capture = cv2.VideoCapture(name)
    if not capture.isOpened():
        capture.release()
        raise BadInputError(
            f"video '{name}' cannot be opened (unreadable or not a video OpenCV decodes)"
        )
    return FrameSource(name, "video", capture=capture)


@contextlib.contextmanager
def _quiet_opencv():
    """Silence OpenCV's log and FFmpeg's own messages (written straight to file descriptor 2)
    while probing codecs or devices; a failure there is expected and handled."""
    logging_module = getattr(getattr(cv2, "utils", None), "logging", None)
    previous = logging_module.getLogLevel() if logging_module is not None else None
    if logging_module is not None:
        logging_module.setLogLevel(logging_module.LOG_LEVEL_SILENT)
    saved_stderr = None
    try:
        sys.stderr.flush()
        saved_stderr = os.dup(2)
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
    except (OSError, ValueError, AttributeError):  # no real fd 2 (e.g. some notebooks)
        saved_stderr = None
    try:
        yield
    finally:
        if saved_stderr is not None:
            os.dup2(saved_stderr, 2)
            os.close(saved_stderr)
        if logging_module is not None:
            logging_module.setLogLevel(previous)


def video_codecs_for(path: Union[str, os.PathLike]) -> List[str]:
    """FourCC codes to try, best first, for a file extension."""
    suffix = Path(path).suffix.lower()
    if suffix in (".mp4", ".m4v", ".mov"):
        return ["avc1", "mp4v"]
    if suffix == ".avi":
        return ["MJPG", "XVID"]
    if suffix == ".mkv":
        return ["X264", "XVID", "MJPG"]
    raise BadInputError(
        f"video output '{path}': unsupported extension '{suffix}' (use .mp4, .avi or .mkv)"
    )


class SafeVideoWriter:
    """Video writer that checks its codec, writes to a temporary file and renames on close.

    Args:
        path: target file (.mp4, .avi or .mkv).
        fps: frames per second.
        frame_size: (width, height) of every frame.
        overwrite: replace an existing ``path`` (otherwise FileExistsError up front).
    """

    def __init__(self, path, fps: float, frame_size: Tuple[int, int], overwrite: bool = False):
        self.path = check_output_path(path, overwrite, "output video")
        self.overwrite = overwrite
        self.frame_size = (int(frame_size[0]), int(frame_size[1]))
        self.temp_path = make_temporary(self.path, suffix=f".partial{self.path.suffix}")
        self.codec = None
        self.frames_written = 0
        self._writer = None
        for codec in video_codecs_for(self.path):
            with _quiet_opencv():  # a missing encoder prints FFmpeg errors; we fall back instead
                writer = cv2.VideoWriter(
                    str(self.temp_path), cv2.VideoWriter_fourcc(*codec), float(fps), self.frame_size
                )
            if writer.isOpened():
                self._writer, self.codec = writer, codec
                break
            writer.release()
        if self._writer is None:
            self.temp_path.unlink(missing_ok=True)
            raise OSError(
                f"OpenCV cannot write '{self.path}' with any of {video_codecs_for(self.path)}; "
                "try another extension (.avi)"
            )
        if self.codec != video_codecs_for(self.path)[0]:
            logger.debug(
                f"video codec {video_codecs_for(self.path)[0]} unavailable, using {self.codec}"
            )

    def write(self, frame_bgr: np.ndarray) -> None:
        if frame_bgr.shape[1::-1] != self.frame_size:
            frame_bgr = cv2.resize(frame_bgr, self.frame_size)
        self._writer.write(frame_bgr)
        self.frames_written += 1

    def close(self, keep: bool = True) -> Optional[Path]:
        """Finish the file; rename it to ``path`` if ``keep`` and it holds frames, else delete it.

        Returns the final path, or None when nothing was kept. If ``path`` appeared meanwhile
        and overwriting is off, the complete file stays under its temporary name (logged).
        """
        if self._writer is None:
            return None
        self._writer.release()
        self._writer = None
        if not keep or self.frames_written == 0:
            self.temp_path.unlink(missing_ok=True)
            return None
        if self.path.exists() and not self.overwrite:
            logger.warning(f"{self.path} appeared while writing; the video is at {self.temp_path}")
            return self.temp_path
        return commit_temporary(self.temp_path, self.path)

    def __enter__(self) -> "SafeVideoWriter":
        return self

    def __exit__(self, exc_type, *exc) -> None:
        self.close(keep=True)
