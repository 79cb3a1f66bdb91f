"""Drawing tracking results on BGR frames, and the interactive box selection (OpenCV only)."""

import os
import sys
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np

__all__ = [
    "draw_track_result",
    "draw_targets",
    "draw_dashed_rectangle",
    "select_box_interactively",
    "why_no_gui",
    "PREDICTION_COLOR",
    "GROUND_TRUTH_COLOR",
]

PREDICTION_COLOR = (0, 220, 0)  # BGR green
GROUND_TRUTH_COLOR = (0, 0, 255)  # BGR red
# One colour per target (BGR), in the order targets were added; targets reported absent are
# drawn grey and dashed at their last box.
TARGET_COLORS = (
    (0, 220, 0), (255, 128, 0), (0, 200, 255), (255, 0, 200), (0, 128, 255),
    (200, 255, 0), (128, 0, 255), (255, 255, 0),
)  # fmt: skip
LOST_COLOR = (160, 160, 160)
LOST_LABEL = "target lost"  # drawn next to a target reported absent
_TEXT_COLOR = (255, 255, 255)


def draw_dashed_rectangle(
    image: np.ndarray,
    top_left: Tuple[int, int],
    bottom_right: Tuple[int, int],
    color,
    thickness: int = 1,
    dash_length: int = 6,
) -> None:
    """Draw a dashed rectangle in place, like ``cv2.rectangle`` (pixel corners, inclusive).

    Args:
        image: HxWx3 uint8 BGR image, drawn on.
        top_left, bottom_right: ``(x, y)`` pixel corners.
        color: BGR colour.
        thickness: line width in pixels.
        dash_length: length of each dash and of each gap, in pixels.
    """
    (left, top), (right, bottom) = top_left, bottom_right
    dash_length = max(1, int(dash_length))
    for start, end in (
        ((left, top), (right, top)),
        ((right, top), (right, bottom)),
        ((right, bottom), (left, bottom)),
        ((left, bottom), (left, top)),
    ):
        length = max(abs(end[0] - start[0]), abs(end[1] - start[1]))
        for offset in range(0, length + 1, 2 * dash_length):
            stop = min(offset + dash_length, length)
            points = [
                tuple(int(round(a + (b - a) * t / max(length, 1))) for a, b in zip(start, end))
                for t in (offset, stop)
            ]
            cv2.line(image, points[0], points[1], color, thickness, lineType=cv2.LINE_AA)


def _draw_box(
    image: np.ndarray, box_xywh: Sequence[float], color, thickness: int, dashed: bool = False
) -> None:
    x, y, w, h = (float(v) for v in box_xywh)
    if not np.all(np.isfinite([x, y, w, h])):
        return
    # cv2 draws on pixel indices; continuous [x, x + w) covers pixels x .. x + w - 1.
    top_left = (int(round(x)), int(round(y)))
    bottom_right = (int(round(x + w)) - 1, int(round(y + h)) - 1)
    if dashed:
        draw_dashed_rectangle(image, top_left, bottom_right, color, thickness, 3 + 3 * thickness)
    else:
        cv2.rectangle(image, top_left, bottom_right, color, thickness, lineType=cv2.LINE_AA)


def _number_text(name: str, value: Optional[float]) -> str:
    """``"  name 0.123"``, or nothing for a None / NaN value."""
    return f"  {name} {value:.3f}" if value is not None and np.isfinite(value) else ""


def draw_track_result(
    frame_bgr: np.ndarray,
    box_xywh: Optional[Sequence[float]],
    frame_index: int,
    score: Optional[float] = None,
    gt_box_xywh: Optional[Sequence[float]] = None,
    note: str = "",
    *,
    present: bool = True,
    confidence: Optional[float] = None,
) -> np.ndarray:
    """Return a copy of the frame with the predicted box, frame index, score and confidence
    drawn.

    Args:
        frame_bgr: HxWx3 uint8 BGR frame.
        box_xywh: predicted ``[x, y, w, h]`` (green), or None.
        frame_index: shown as ``#<index>``.
        score: raw tracker score (shown with 3 decimals; NaN/None shows nothing).
        gt_box_xywh: optional ground-truth box (red).
        note: extra text (e.g. "frame unreadable").
        present: False when the tracker reports the target absent: the box (its last one) is
            drawn dashed and grey, and the label says "target lost".
        confidence: the tracker's presence confidence (3 decimals; NaN/None shows nothing).
    """
    image = frame_bgr.copy()
    thickness = max(1, int(round(min(image.shape[:2]) / 240)))
    if gt_box_xywh is not None:
        _draw_box(image, gt_box_xywh, GROUND_TRUTH_COLOR, thickness)
    if box_xywh is not None:
        color = PREDICTION_COLOR if present else LOST_COLOR
        _draw_box(image, box_xywh, color, thickness, dashed=not present)
    text = f"#{frame_index}" + _number_text("score", score) + _number_text("conf", confidence)
    if not present:
        text += f"  {LOST_LABEL}"
    if note:
        text += f"  {note}"
    font_scale = max(0.4, min(image.shape[:2]) / 600)
    (text_w, text_h), baseline = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font_scale, 1)
    cv2.rectangle(image, (0, 0), (text_w + 8, text_h + baseline + 8), (0, 0, 0), thickness=-1)
    cv2.putText(
        image,
        text,
        (4, text_h + 4),
        cv2.FONT_HERSHEY_SIMPLEX,
        font_scale,
        _TEXT_COLOR,
        1,
        cv2.LINE_AA,
    )
    return image


def draw_targets(
    frame_bgr: np.ndarray,
    targets: Sequence[Tuple[object, Sequence[float], float, bool]],
    frame_index: int,
    note: str = "",
) -> np.ndarray:
    """A copy of the frame with every target's box in its own colour, labelled with its id
    and confidence (reported absent: the last box dashed and grey, labelled "target lost"),
    and the frame index.

    Args:
        frame_bgr: HxWx3 uint8 BGR frame.
        targets: ``(target id, box_xywh, confidence, present)`` per target, in a stable order.
        frame_index: shown as ``#<index>``.
        note: extra text (e.g. "unreadable").
    """
    image = frame_bgr.copy()
    thickness = max(1, int(round(min(image.shape[:2]) / 240)))
    font_scale = max(0.4, min(image.shape[:2]) / 800)
    for k, (target_id, box, confidence, present) in enumerate(targets):
        color = TARGET_COLORS[k % len(TARGET_COLORS)] if present else LOST_COLOR
        _draw_box(image, box, color, thickness, dashed=not present)
        x, y = (float(v) for v in box[:2])
        if not np.isfinite([x, y]).all():
            continue
        label = f"{target_id}" + (
            f" {confidence:.2f}" if confidence is not None and np.isfinite(confidence) else ""
        )
        label += "" if present else f" {LOST_LABEL}"
        origin = (max(0, int(round(x))), max(12, int(round(y)) - 4))
        cv2.putText(
            image, label, origin, cv2.FONT_HERSHEY_SIMPLEX, font_scale, color, 1, cv2.LINE_AA
        )
    text = f"#{frame_index}" + (f"  {note}" if note else "")
    (text_w, text_h), baseline = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font_scale, 1)
    cv2.rectangle(image, (0, 0), (text_w + 8, text_h + baseline + 8), (0, 0, 0), thickness=-1)
    cv2.putText(image, text, (4, text_h + 4), cv2.FONT_HERSHEY_SIMPLEX, font_scale, _TEXT_COLOR,
                1, cv2.LINE_AA)  # fmt: skip
    return image


def why_no_gui() -> Optional[str]:
    """None if OpenCV can open a window here, else the reason (no display / headless build)."""
    gui_line = next(
        (
            line
            for line in cv2.getBuildInformation().splitlines()
            if line.strip().startswith("GUI:")
        ),
        "",
    )
    if "NONE" in gui_line.upper():
        return "this OpenCV build has no GUI support (opencv-python-headless?)"
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return "no display (DISPLAY is not set)"
    return None


def select_box_interactively(frame_bgr: np.ndarray, window_name: str = "siamtrack") -> np.ndarray:
    """Let the user drag the initial box on the frame (``cv2.selectROI``); returns xywh.

    Raises:
        RuntimeError if no window can be opened (see ``why_no_gui``); ValueError if the user
        confirms an empty box.
    """
    reason = why_no_gui()
    if reason is not None:
        raise RuntimeError(f"cannot select the box interactively: {reason}")
    print("drag a box around the target, then press ENTER or SPACE (c cancels)")
    try:
        x, y, w, h = cv2.selectROI(window_name, frame_bgr, showCrosshair=True, fromCenter=False)
    finally:
        cv2.destroyWindow(window_name)
    if w <= 0 or h <= 0:
        raise ValueError("no box was selected (empty selection)")
    return np.array([x, y, w, h], dtype=np.float64)
