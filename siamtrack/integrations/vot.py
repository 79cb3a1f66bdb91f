"""VOT toolkit integration: a TraX tracker server around ``SiamTracker`` (``pip install vot-trax``).

The VOT toolkit (``pip install vot-toolkit``) runs every tracker as a separate process and
talks to it with the TraX protocol. This module is that process::

    python -m siamtrack.integrations.vot --config-file CFG --weights W [--device cpu] \\
        [--opts KEY VALUE ...]

Register it in the workspace's ``trackers.ini``. The toolkit starts the command in a temporary
folder, so every path must be absolute; indented lines continue the command (the toolkit splits
it with shlex; on Windows keep it on one line); comments go on lines of their own::

    [siamtrack]
    label = SiamRPN++ (siamtrack)
    protocol = trax
    command = /abs/venv/bin/python -m siamtrack.integrations.vot
        --config-file /abs/siamtrack/configs/siamrpn/siamrpn_R_50_l234_dwxcorr.yaml
        --weights /abs/model.pth --device cpu
    # seconds the toolkit waits for each reply; the first one includes building the model
    # (R-50 on 2 CPU cores: ~15 s for model + jit trace + template)
    timeout = 120
    # optional: env_NAME = value sets an environment variable of the tracker process
    env_OMP_NUM_THREADS = 2

then ``vot evaluate --workspace W siamtrack``. siamtrack must be importable by that python
(``pip install -e .``, or ``env_PYTHONPATH = /abs/siamtrack``). With vot-toolkit 0.9.0 only
``unsupervised`` experiments run: its ``supervised`` and ``multistart`` experiments fail inside
the toolkit for every single-object TraX tracker, its own dummy tracker included.

Protocol details:

- Regions: rectangles are tracked as they are; polygons (VOT2015-2019 ground truth) are
  replaced by their bounding rectangle. The server declares only these two formats, so a
  libtrax client converts anything else first: a VOT2020+ mask arrives as the polygon through
  its outermost pixel indices, i.e. a box 1 px narrower and shorter than the mask's pixels
  (libtrax's conversion). A region that still arrives as a mask or a special region stops the
  session with an error naming the region type. One object per session (not multi-object).
- Images: ``color`` channel, as file paths, raw memory images (RGB or 8-bit gray) or encoded
  JPEG/PNG buffers; all are turned into the BGR uint8 arrays ``SiamTracker`` expects.
- Replies: the rectangle ``x, y, w, h`` (the initial box for ``initialize``) with the tracker's
  presence confidence (``TrackResult.confidence``, not the raw score) as the ``confidence``
  property (1.0 for the initial frame); the toolkit stores it
  (``<sequence>_001_confidence.value``) and thresholds it in its long-term analyses. TraX
  sends region coordinates as float32 printed with 4 decimals, so boxes reach the toolkit to
  within 1e-4 px (the confidence travels as text, exactly).
- A new ``initialize`` in the same session restarts tracking with the same model, which is
  built once per process.
- Timing: the handshake comes first; the config is read and the model built right after it,
  while the toolkit waits for the first reply. The toolkit's ``timeout`` (default 30 s) covers
  that wait and every frame but not the handshake itself (vot-toolkit 0.9.0), so nothing slow
  or fallible runs before it.
- Errors: a bad config, weights file or device, an unsupported region or image and an
  unreadable frame end the session with the message as the TraX ``quit`` reason (the toolkit
  prints it: "Server terminated the session: ..."), one ``siamtrack.integrations.vot: error:
  ...`` line on stderr and exit code 2. Before the handshake only a missing vot-trax (one
  line, exit code 2) and command-line syntax (argparse usage, exit code 2) can fail; the
  toolkit then only says "Unable to connect to tracker": run the command by hand to see why.
  Unexpected exceptions also end the session with a reason, print their traceback and exit
  with code 1.
"""

import argparse
import contextlib
import logging
import sys
from typing import Any, Callable, List, Optional, Tuple

import cv2
import numpy as np

from .. import __version__
from ..cli import BAD_INPUT_ERRORS, add_model_arguments, bad_input_message
from ..config import config_from_args
from ..errors import BadInputError, MissingDependencyError
from ..io.images import UnreadableImageError, read_image_bgr
from ..tracking import SiamTracker
from ..utils.boxes import polygon_bounds_xywh

__all__ = [
    "region_to_box_xywh",
    "trax_image_to_bgr",
    "import_trax",
    "open_trax_server",
    "serve",
    "build_tracker",
    "main",
]

PROG = "siamtrack.integrations.vot"

logger = logging.getLogger(__name__)

# Region and image formats the server declares in the TraX handshake (names as in vot-trax).
REGION_FORMATS = ("rectangle", "polygon")
IMAGE_FORMATS = ("path", "memory", "buffer")
# Confidence reported with the initial box (the box is given, not predicted).
INIT_CONFIDENCE = 1.0


class VotSessionError(BadInputError):
    """Bad input received through the protocol (region, image, request order)."""


def import_trax():
    """The ``trax`` module of vot-trax; an ImportError that says how to install it if missing."""
    try:
        import trax
        from trax import Image, Rectangle, Region, Server  # noqa: F401  (vot-trax's API)
    except ImportError as error:
        raise MissingDependencyError(
            f"{PROG} needs the TraX protocol library of the VOT toolkit: pip install vot-trax "
            f"({error})"
        ) from error
    return trax


def region_to_box_xywh(region: Any) -> np.ndarray:
    """A TraX region -> float64 ``[x, y, w, h]``.

    Args:
        region: a vot-trax ``Rectangle`` (``bounds()`` = x, y, w, h) or ``Polygon`` (iterates
            over ``(x, y)`` points; replaced by its bounding rectangle).

    Raises:
        VotSessionError: for masks, special regions or any other type, naming it.
    """
    region_type = getattr(region, "type", None)
    if region_type == "rectangle":
        return np.asarray(region.bounds(), dtype=np.float64)
    if region_type == "polygon":
        points = np.asarray(list(region), dtype=np.float64).reshape(-1)
        if len(points) == 0:
            raise VotSessionError("the TraX polygon region has no points")
        return polygon_bounds_xywh(points)
    raise VotSessionError(
        f"unsupported TraX region type '{region_type}' ({region}): siamtrack tracks rectangles "
        f"(polygons are replaced by their bounding rectangle); masks and special regions are "
        f"not supported"
    )


def trax_image_to_bgr(image: Any) -> np.ndarray:
    """A TraX image -> HxWx3 uint8 BGR array.

    Args:
        image: a vot-trax ``FileImage`` (``path()``), ``MemoryImage`` (``array()``: HxWx3 RGB or
            HxWx1 8-bit gray) or ``BufferImage`` (``buffer()``: JPEG/PNG bytes).

    Raises:
        VotSessionError: for other image types, 16-bit memory images or undecodable data.
    """
    image_type = image.type() if callable(getattr(image, "type", None)) else None
    if image_type == "path":
        try:
            return read_image_bgr(image.path())
        except UnreadableImageError as error:
            raise VotSessionError(str(error)) from None
    if image_type == "memory":
        array = image.array()
        if array.dtype != np.uint8:
            raise VotSessionError(
                f"TraX memory image of dtype {array.dtype} is not supported: expected 8-bit "
                f"RGB or gray"
            )
        if array.ndim == 3 and array.shape[2] == 3:
            return np.ascontiguousarray(array[:, :, ::-1])  # TraX memory images are RGB
        return cv2.cvtColor(array.reshape(array.shape[:2]), cv2.COLOR_GRAY2BGR)
    if image_type == "buffer":
        data = np.frombuffer(image.buffer(), dtype=np.uint8)
        decoded = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
        if decoded is None:
            raise VotSessionError(f"TraX buffer image ({data.size} bytes) cannot be decoded")
        return decoded
    raise VotSessionError(
        f"unsupported TraX image type '{image_type}': expected one of {', '.join(IMAGE_FORMATS)}"
    )


def _color_image(request) -> np.ndarray:
    images = request.image or {}
    if "color" not in images:
        raise VotSessionError(f"the TraX request has no 'color' image (got {sorted(images)})")
    return trax_image_to_bgr(images["color"])


def _single_region(objects) -> Any:
    if not objects or len(objects) != 1:
        raise VotSessionError(
            f"siamtrack tracks one object per TraX session, got {len(objects or [])} in "
            f"'initialize'"
        )
    region, _properties = objects[0]
    return region


def serve(server, tracker_factory: Callable[[], Any]) -> int:
    """Answer TraX requests until the client quits.

    Args:
        server: a ``trax.Server`` after the handshake (or an object with its ``wait()``,
            ``status(objects, properties)`` and ``quit(reason)``).
        tracker_factory: called once, before the first request is read, to build the tracker
            (an object with ``init(image_bgr, box_xywh)`` and ``update(image_bgr)`` returning a
            ``TrackResult``).

    Returns:
        The process exit code: 0 after the client's ``quit``, 2 for bad input (config,
        weights, region, image; reported to the client as the quit reason), 1 when the
        connection breaks.
    """
    trax = import_trax()
    try:
        tracker = tracker_factory()
        while True:
            request = server.wait()
            if request.type == "quit":
                return 0
            if request.type == "initialize":
                box_xywh = region_to_box_xywh(_single_region(request.objects))
                tracker.init(_color_image(request), box_xywh)
                reply: Tuple[np.ndarray, float] = (box_xywh, INIT_CONFIDENCE)
            elif request.type == "frame":
                if request.objects:
                    raise VotSessionError(
                        "new objects in a TraX 'frame' request are not supported (one object)"
                    )
                if not getattr(tracker, "is_initialized", True):
                    raise VotSessionError("TraX 'frame' request before 'initialize'")
                result = tracker.update(_color_image(request))
                reply = (result.box_xywh, result.confidence)
            else:
                raise VotSessionError(f"unexpected TraX request '{request.type}'")
            box, confidence = reply
            rectangle = trax.Rectangle.create(*(float(v) for v in box))
            server.status([(rectangle, {"confidence": float(confidence)})])
    except trax.TraxException as error:  # the client went away or broke the protocol
        print(f"{PROG}: error: TraX connection lost: {error}", file=sys.stderr)
        return 1
    except BAD_INPUT_ERRORS as error:
        # bad input: one line on stderr, the same reason sent to the client
        message = bad_input_message(error).replace("\n", " ")
        print(f"{PROG}: error: {message}", file=sys.stderr, flush=True)  # before the client stops
        _quit(server, message)  # reading the tracker's output at the quit message
        return 2
    except Exception as error:  # a bug: tell the client, keep the traceback
        _quit(server, f"{type(error).__name__}: {error}")
        raise


def _quit(server, reason: str) -> None:
    try:
        server.quit(reason=reason)
    except Exception as error:  # the client may be gone already
        logger.debug(f"TraX quit failed: {error}")


def open_trax_server(trax):
    """TraX handshake on stdin/stdout (or ``TRAX_SOCKET`` / ``TRAX_IN`` + ``TRAX_OUT``)."""
    return trax.Server(
        list(REGION_FORMATS),
        list(IMAGE_FORMATS),
        image_channels=["color"],
        tracker_name="siamtrack",
        tracker_description=f"siamtrack {__version__}",
        tracker_family="siamese",
        multiobject=False,
    )


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"python -m {PROG}",
        description="TraX tracker server for the VOT toolkit (protocol = trax in trackers.ini).",
    )
    add_model_arguments(parser)
    return parser


def build_tracker(args: argparse.Namespace):
    """``SiamTracker`` from the command line (``--config-file``, ``--weights``,
    ``--trust-weights``, ``--opts``, ``--device``); errors name the file or option."""
    return SiamTracker(config_from_args(args))  # --device is MODEL.DEVICE


def main(argv: Optional[List[str]] = None) -> int:
    """Command-line entry point; returns the exit code (see the module docstring)."""
    args = get_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        trax = import_trax()
    except ImportError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    # The protocol owns file descriptor 1: stray Python prints go to stderr (the tracker log).
    with contextlib.redirect_stdout(sys.stderr):
        try:
            server = open_trax_server(trax)
        except trax.TraxException as error:
            print(f"{PROG}: error: TraX handshake failed: {error}", file=sys.stderr)
            return 1
        return serve(server, lambda: build_tracker(args))


if __name__ == "__main__":
    sys.exit(main())
