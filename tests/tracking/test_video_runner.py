"""track_video's writers with presence decisions: nan rows, present / confidence columns, the
dashed grey "target lost" box, and the count of frames reported absent (model-free trackers)."""

import gc
import json
import weakref

import cv2
import numpy as np
import pytest

from siamtrack.errors import BadInputError
from siamtrack.io import OutputExistsError, TrackRows, read_boxes_file
from siamtrack.io.video import open_frame_source
from siamtrack.tracking import (
    AnnotatedVideoWriter,
    BoxesFileWriter,
    ConfidencePlotWriter,
    track_frames,
    track_video,
)
from siamtrack.tracking.confidence_plot import absent_spans
from siamtrack.utils.visualization import (
    LOST_COLOR,
    PREDICTION_COLOR,
    draw_dashed_rectangle,
    draw_targets,
    draw_track_result,
)

from .presence_trackers import (
    ABSENT_CONFIDENCE,
    PRESENT_CONFIDENCE,
    MultiPresenceTracker,
    PresenceTracker,
)

INIT_BOX = [20.0, 30.0, 24.0, 20.0]


def _write_frames(folder, num_frames=6):
    folder.mkdir()
    for k in range(num_frames):
        cv2.imwrite(str(folder / f"{k:03d}.png"), np.full((80, 100, 3), 40, np.uint8))
    return folder


def test_single_target_reported_absent(tmp_path):
    frames = _write_frames(tmp_path / "frames")
    with open_frame_source(str(frames)) as source:
        writers = [
            AnnotatedVideoWriter(tmp_path / "v.mp4", source.fps),
            BoxesFileWriter(tmp_path / "b.txt"),
            BoxesFileWriter(tmp_path / "b.csv"),
            BoxesFileWriter(tmp_path / "b.json"),
        ]
        summary = track_video(PresenceTracker(), source, INIT_BOX, writers=writers,
                              show_progress=False)  # fmt: skip
    assert summary.frames_absent == {None: 2}
    np.testing.assert_array_equal(summary.result.present, [1, 1, 0, 0, 1, 1])
    assert [p.name for p in summary.outputs[1]] == ["b.txt"]
    lines = (tmp_path / "b.txt").read_text().splitlines()
    assert lines[2] == lines[3] == "nan,nan,nan,nan" and lines[4] == "24.0,30.0,24.0,20.0"
    csv_rows = (tmp_path / "b.csv").read_text().splitlines()
    assert csv_rows[0] == "frame,x,y,w,h,score,present,confidence"
    assert csv_rows[3] == f"2,22.0,30.0,24.0,20.0,0.5,0,{ABSENT_CONFIDENCE}"  # the box is kept
    json_rows = json.loads((tmp_path / "b.json").read_text())["frames"]
    assert [r["present"] for r in json_rows] == [True, True, False, False, True, True]
    assert json_rows[1]["confidence"] == PRESENT_CONFIDENCE and json_rows[0]["confidence"] == 1.0
    (rows,) = read_boxes_file(tmp_path / "b.csv").values()
    np.testing.assert_array_equal(rows.boxes_xywh, summary.result.boxes_xywh)
    np.testing.assert_array_equal(rows.confidences, summary.result.confidences)
    with open_frame_source(str(tmp_path / "v.mp4")) as video:
        assert len(list(video)) == 6


def test_several_targets_reported_absent(tmp_path):
    frames = _write_frames(tmp_path / "frames", num_frames=5)
    with open_frame_source(str(frames)) as source:
        writers = [
            AnnotatedVideoWriter(tmp_path / "v.mp4", source.fps),
            BoxesFileWriter(tmp_path / "b.txt"),
            BoxesFileWriter(tmp_path / "b.csv"),
        ]
        summary = track_video(MultiPresenceTracker(), source, [INIT_BOX, [50, 10, 20, 20]],
                              writers=writers, show_progress=False)  # fmt: skip
    assert summary.frames_absent == {0: 1, 1: 3}
    assert [p.name for p in summary.outputs[1]] == ["b_0.txt", "b_1.txt"]
    assert (tmp_path / "b_1.txt").read_text().splitlines()[1:4] == ["nan,nan,nan,nan"] * 3
    tracks = read_boxes_file(tmp_path / "b.csv")
    np.testing.assert_array_equal(tracks["1"].present, [1, 0, 0, 0, 1])
    np.testing.assert_array_equal(tracks["0"].frames, np.arange(5))


def _green(image):
    b, g, r = (image[..., k].astype(int) for k in range(3))
    return (g > 60) & (r < 30) & (b < 30)


def _grey(image):
    low, high = image.min(axis=-1).astype(int), image.max(axis=-1).astype(int)
    return (low > 30) & (high - low < 8)


def test_absent_box_is_dashed_and_grey():
    assert len(set(LOST_COLOR)) == 1 and PREDICTION_COLOR[1] > 0  # what _grey / _green find
    frame = np.zeros((120, 160, 3), np.uint8)
    dashed = frame.copy()
    draw_dashed_rectangle(dashed, (20, 30), (119, 89), (255, 255, 255), 1, dash_length=6)
    top_edge = dashed[30, 20:120].any(axis=-1)
    assert 0.3 < top_edge.mean() < 0.7  # dashes and gaps
    assert dashed[30:90, 20].any() and dashed[30:90, 119].any() and dashed[89, 20:120].any()
    shown = draw_track_result(frame, [20, 30, 100, 60], 7, 0.4, present=True, confidence=0.9)
    lost = draw_track_result(frame, [20, 30, 100, 60], 7, 0.4, present=False, confidence=0.1)
    box_rows = slice(25, None)  # below the label
    assert _green(shown[box_rows]).sum() > 200 and not _grey(shown[box_rows]).any()
    assert not _green(lost[box_rows]).any()
    assert 0.2 < _grey(lost)[30, 20:120].mean() < 0.8  # a dashed grey top edge
    assert not np.array_equal(shown[:20], lost[:20])  # the label differs ("target lost")
    targets = draw_targets(
        frame, [(0, [10, 40, 30, 30], 0.9, True), (1, [60, 40, 30, 30], 0.1, False)], 3
    )
    assert _grey(targets)[40, 60:90].any() and not _grey(targets)[40, 10:40].any()
    assert _green(targets)[40, 10:40].any()


class _GeneratedFrames:
    """A frame source that makes its frames as they are read and counts, once the last one has
    been taken, how many of them are still held."""

    name, num_frames, fps, bad_frames = "generated", 8, 30.0, []

    def __iter__(self):
        references = []
        for k in range(self.num_frames):
            image = np.full((60, 80, 3), 10 * k, np.uint8)
            references.append(weakref.ref(image))
            yield k, image
        del image
        gc.collect()
        self.held_at_end = sum(ref() is not None for ref in references)


def test_runs_keep_results_not_frames(tmp_path):
    """A long video must not pile up its decoded frames: once a frame is tracked and written,
    the run keeps its result, not the frame (at most the first and the current one are held)."""
    video, frames = _GeneratedFrames(), _GeneratedFrames()
    summary = track_video(PresenceTracker(), video, INIT_BOX,
                          writers=[BoxesFileWriter(tmp_path / "b.csv")], show_progress=False)  # fmt: skip
    track = track_frames(PresenceTracker(), (image for _, image in frames), INIT_BOX)
    assert video.held_at_end <= 2 and frames.held_at_end <= 2
    assert len(summary.result) == len(track) == 8
    assert len(read_boxes_file(tmp_path / "b.csv")[None]) == 8


SHADE_BGR = (223, 223, 249)  # the absent frames' shading: tab:red at alpha 0.15 over white


def _plot(tmp_path, name, tracker, init, **writer_args):
    frames = tmp_path / "frames"
    if not frames.exists():
        _write_frames(frames)
    with open_frame_source(str(frames)) as source:
        writer = ConfidencePlotWriter(tmp_path / name, **writer_args)
        summary = track_video(tracker, source, init, writers=[writer], show_progress=False)
    assert summary.outputs == [tmp_path / name]
    image = cv2.imread(str(tmp_path / name))
    shaded = np.all(np.abs(image.astype(int) - SHADE_BGR) <= 4, axis=2).sum()
    return image, shaded


def test_confidence_plot(tmp_path):
    one, one_shaded = _plot(
        tmp_path, "one.png", PresenceTracker(), INIT_BOX, presence_threshold=0.5
    )
    _, never_shaded = _plot(tmp_path, "never.png", PresenceTracker(absent_frames=()), INIT_BOX)
    two, _ = _plot(tmp_path, "two.png", MultiPresenceTracker(), [INIT_BOX, [50, 10, 20, 20]])
    assert one_shaded > 500 and never_shaded == 0  # frames 2-3 reported absent are shaded
    assert two.shape[0] > 1.5 * one.shape[0]  # a panel per target
    with pytest.raises(OutputExistsError):
        ConfidencePlotWriter(tmp_path / "one.png")
    with pytest.raises(BadInputError, match="extension must be one of"):
        ConfidencePlotWriter(tmp_path / "plot.jpg")


def test_absent_spans_are_runs_of_frames():
    present = [1, 0, 0, 1, 1, 0, 0, 0]
    rows = TrackRows(np.ones((8, 4)), np.ones(8), frames=np.arange(3, 11), present=present)
    assert absent_spans(rows) == [(4, 5), (8, 10)]
    assert absent_spans(TrackRows(np.ones((2, 4)), np.ones(2))) == []
