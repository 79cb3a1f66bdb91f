"""Frame sources, the safe video writer and the track_video loop (with a stub model)."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from siamtrack.io import read_boxes_file
from siamtrack.tracking import InferenceOptions, SiamTracker
from siamtrack.tracking import AnnotatedVideoWriter, BoxesFileWriter, track_video
from siamtrack.io.files import OutputExistsError, check_output_path
from siamtrack.io.video import SafeVideoWriter, open_frame_source

from ..tracking.stub_models import ContentStubModel


def write_video(path, num_frames=10, size=(160, 120), seed=0):
    """A short mp4v video of a bright square moving over noise; returns the frames."""
    rng = np.random.default_rng(seed)
    background = cv2.resize(rng.integers(0, 256, (15, 20, 3), dtype=np.uint8), size)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, size)
    frames = []
    for k in range(num_frames):
        frame = background.copy()
        frame[40 + k : 70 + k, 50 + 2 * k : 74 + 2 * k] = (30, 220, 250)
        writer.write(frame)
        frames.append(frame)
    writer.release()
    return frames


def write_images(folder, names, size=(64, 48)):
    folder.mkdir(parents=True, exist_ok=True)
    for k, name in enumerate(names):
        cv2.imwrite(str(folder / name), np.full((size[1], size[0], 3), 10 * k, np.uint8))


def test_video_file_source(tmp_path):
    write_video(tmp_path / "v.mp4")
    with open_frame_source(str(tmp_path / "v.mp4")) as source:
        items = list(source)
        assert (
            source.kind == "video" and source.num_frames == 10 and source.fps == pytest.approx(10.0)
        )
    assert [i for i, _ in items] == list(range(10))
    assert all(f.shape == (120, 160, 3) and f.dtype == np.uint8 for _, f in items)


def test_image_folder_and_glob_sorted_naturally(tmp_path):
    write_images(tmp_path / "imgs", ["10.png", "2.png", "1.png"])
    (tmp_path / "imgs" / "notes.txt").write_text("not an image")
    folder = open_frame_source(str(tmp_path / "imgs"))
    assert [Path(p).name for p in folder._image_paths] == ["1.png", "2.png", "10.png"]
    assert len(folder) == 3
    pattern = open_frame_source(str(tmp_path / "imgs" / "*.png"))
    assert [int(f[0, 0, 0]) for _, f in pattern] == [20, 10, 0]  # 1.png was written third


def test_corrupt_image_is_yielded_as_none(tmp_path):
    write_images(tmp_path / "imgs", ["0001.png", "0002.png", "0003.png"])
    (tmp_path / "imgs" / "0002.png").write_bytes(b"\x89PNG garbage")
    source = open_frame_source(str(tmp_path / "imgs"))
    frames = [f for _, f in source]
    assert frames[1] is None and frames[0] is not None and frames[2] is not None
    assert source.bad_frames == [1]


def _write(path, text):
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda d: str(d / "missing.mp4"), FileNotFoundError, "missing.mp4' does not exist"),
        (lambda d: _write(d / "fake.mp4", "no video"), ValueError, "fake.mp4' cannot be opened"),
        (
            lambda d: (d / "empty").mkdir() or str(d / "empty"),
            FileNotFoundError,
            "holds no image files",
        ),
        (lambda d: str(d / "*.jpg"), FileNotFoundError, "no image files match"),
        (lambda d: "57", ValueError, "camera 57 could not be opened"),
    ],
)
def test_bad_inputs_name_the_input(tmp_path, make, error, message):
    with pytest.raises(error, match=message):
        open_frame_source(make(tmp_path))


def test_safe_video_writer_renames_and_never_clobbers(tmp_path):
    target = tmp_path / "out" / "video.mp4"
    with SafeVideoWriter(target, 10.0, (64, 48)) as writer:
        assert writer.codec in ("avc1", "mp4v") and writer.temp_path.parent == target.parent
        assert not target.exists()
        for k in range(3):
            writer.write(np.full((48, 64, 3), 40 * k, np.uint8))
    assert target.is_file() and sorted(p.name for p in target.parent.iterdir()) == ["video.mp4"]
    assert len(list(open_frame_source(str(target)))) == 3
    with pytest.raises(OutputExistsError, match="already exists"):
        SafeVideoWriter(target, 10.0, (64, 48))
    (tmp_path / "afile").write_text("x")
    with pytest.raises(OSError, match="cannot create the folder"):
        check_output_path(tmp_path / "afile" / "v.mp4", overwrite=False)
    with pytest.raises(ValueError, match="extension"):
        SafeVideoWriter(tmp_path / "v.gif", 10.0, (64, 48))


class _InterruptingTracker:
    """Delegates to a SiamTracker and raises KeyboardInterrupt at a given frame."""

    def __init__(self, tracker, stop_at):
        self.tracker, self.stop_at, self.calls = tracker, stop_at, 0

    def init(self, image, box):
        return self.tracker.init(image, box)

    def update(self, image):
        self.calls += 1
        if self.calls == self.stop_at:
            raise KeyboardInterrupt
        return self.tracker.update(image)


def test_track_video_rows_corrupt_frames_and_interrupt(tmp_path):
    folder = tmp_path / "frames"
    frames = write_video(tmp_path / "v.mp4", num_frames=6)
    folder.mkdir()
    for k, frame in enumerate(frames):
        cv2.imwrite(str(folder / f"{k:03d}.png"), frame)
    (folder / "003.png").write_bytes(b"broken")
    tracker = SiamTracker(model=ContentStubModel(), inference=InferenceOptions.eager())
    with open_frame_source(str(folder)) as source:
        writers = [
            AnnotatedVideoWriter(tmp_path / "o.mp4", source.fps),
            BoxesFileWriter(tmp_path / "b.csv"),
        ]
        summary = track_video(
            tracker, source, [50, 40, 24, 30], writers=writers, show_progress=False
        )
    assert summary.completed and summary.bad_frames == [3]
    (rows,) = read_boxes_file(tmp_path / "b.csv").values()
    index, boxes, scores = rows.frames, rows.boxes_xywh, rows.scores
    np.testing.assert_array_equal(index, np.arange(6))
    np.testing.assert_array_equal(boxes[0], [50, 40, 24, 30])
    np.testing.assert_array_equal(boxes[3], boxes[2])
    assert scores[0] == 1.0 and np.isnan(scores[3]) and np.all(np.isfinite(scores[[1, 2, 4, 5]]))
    assert len(list(open_frame_source(str(tmp_path / "o.mp4")))) == 6

    stopper = _InterruptingTracker(
        SiamTracker(model=ContentStubModel(), inference=InferenceOptions.eager()), stop_at=3
    )
    with open_frame_source(str(tmp_path / "v.mp4")) as source:
        writers = [
            AnnotatedVideoWriter(tmp_path / "p.mp4", source.fps),
            BoxesFileWriter(tmp_path / "p.json"),
        ]
        summary = track_video(
            stopper, source, [50, 40, 24, 30], writers=writers, show_progress=False
        )
    assert not summary.completed and len(summary.result) == 3
    assert len(read_boxes_file(tmp_path / "p.json")[None].frames) == 3
    assert len(list(open_frame_source(str(tmp_path / "p.mp4")))) == 3
    assert (
        sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    )  # no temp files


def test_track_video_rejects_bad_boxes_and_existing_outputs(tmp_path):
    write_video(tmp_path / "v.mp4", num_frames=3)
    tracker = SiamTracker(model=ContentStubModel(), inference=InferenceOptions.eager())
    with open_frame_source(str(tmp_path / "v.mp4")) as source:
        with pytest.raises(ValueError, match="outside the 160x120 image"):
            track_video(tracker, source, [500, 10, 20, 20], show_progress=False)
    (tmp_path / "mine.txt").write_text("keep me")
    with open_frame_source(str(tmp_path / "v.mp4")) as source:
        with pytest.raises(OutputExistsError, match="mine.txt"):
            writers = [BoxesFileWriter(tmp_path / "mine.txt")]  # checked before any tracking
            track_video(tracker, source, [10, 10, 20, 20], writers=writers, show_progress=False)
    assert (tmp_path / "mine.txt").read_text() == "keep me"


class _FakeCapture:
    """cv2.VideoCapture stand-in whose reads fail at given positions."""

    def __init__(self, num_frames, failing, header_frames=None):
        self.results = [k not in failing for k in range(num_frames)]
        self.header_frames = num_frames if header_frames is None else header_frames
        self.position = 0

    def get(self, prop):
        return {cv2.CAP_PROP_FPS: 25.0, cv2.CAP_PROP_FRAME_COUNT: self.header_frames}.get(prop, 0)

    def read(self):
        if self.position >= len(self.results):
            return False, None
        ok = self.results[self.position]
        self.position += 1
        return (True, np.zeros((4, 4, 3), np.uint8)) if ok else (False, None)

    def release(self):
        pass


def test_video_read_failures_mid_video_keep_indices():
    from siamtrack.io.video import FrameSource

    source = FrameSource("fake.mp4", "video", capture=_FakeCapture(8, failing={3, 4}))
    items = list(source)
    assert [i for i, _ in items] == list(range(8))
    assert [f is None for _, f in items] == [False] * 3 + [True] * 2 + [False] * 3
    assert source.bad_frames == [3, 4]
    short = FrameSource(
        "short.mp4", "video", capture=_FakeCapture(5, failing=set(), header_frames=9)
    )
    assert len(list(short)) == 5 and short.num_frames == 5  # header over-counted: end of video
