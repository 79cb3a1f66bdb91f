"""siamtrack.integrations.vot: the TraX server, driven by vot-trax's client and by the VOT toolkit.

The server runs as the toolkit runs it (``python -m siamtrack.integrations.vot`` in a child
process speaking TraX on its stdin/stdout) on the first frames of OTB Crossing, with the tiny
standard-layout config and a seeded random checkpoint. Its replies must be ``SiamTracker``'s own
boxes: TraX carries region coordinates as float32 printed with 4 decimals, so they agree to
5e-5 px + float32 rounding, checked with ``TRAX_ATOL``; confidences travel as text and agree
exactly.
"""

import contextlib
import os
import shutil
import subprocess
import sys
import threading

import cv2
import numpy as np
import pytest
import torch

from siamtrack.integrations import vot as vot_server

from ..conftest import CONFIGS_DIR, REPO_ROOT

CONFIG = CONFIGS_DIR / "siamrpn" / "quick_schedules" / "siamrpn_tiny_standard_instant_test.yaml"
NUM_FRAMES = 10
TRAX_ATOL = 1e-4
ERROR_PREFIX = "siamtrack.integrations.vot: error: "
# The child process gets one torch thread, like the reference run (and the other tests).
CHILD_ENV = {"OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO_ROOT)}


@pytest.fixture(scope="module")
def trax():
    try:
        return vot_server.import_trax()
    except ImportError as error:
        pytest.fail(f"{error}; it is a test dependency: pip install -r dev/requirements.txt")


@pytest.fixture(scope="module")
def crossing(shared_data):
    """First NUM_FRAMES frame paths of OTB Crossing and their ground-truth boxes (x,y,w,h)."""
    root = shared_data / "sequences" / "Crossing"
    frames = [str(path) for path in sorted((root / "img").glob("*.jpg"))[:NUM_FRAMES]]
    boxes = np.loadtxt(root / "groundtruth.txt", delimiter=",")[:NUM_FRAMES]
    assert len(frames) == NUM_FRAMES and boxes.shape == (NUM_FRAMES, 4)
    return frames, boxes


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    """A seeded random checkpoint whose box predictors are scaled down (and biases zeroed), so
    the tracker drifts smoothly with scores near 0.47 instead of jumping to a saturated corner."""
    from detectron2.modeling import build_model

    from siamtrack import load_config

    torch.manual_seed(7)
    model = build_model(load_config(str(CONFIG))).eval()
    with torch.no_grad():
        for level in model.head.levels.values():
            for branch in (level.cls, level.loc):
                branch.predictor.weight.mul_(1e-4)
                branch.predictor.bias.zero_()
    path = tmp_path_factory.mktemp("vot_weights") / "model.pth"
    torch.save({"model": model.state_dict()}, path)
    return path


def server_args(weights):
    return ["--config-file", str(CONFIG), "--weights", str(weights), "--device", "cpu"]


@pytest.fixture(scope="module")
def reference(crossing, weights):
    """SiamTracker built exactly as the server builds it, on the same frames (1 torch thread)."""
    frames, boxes = crossing
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        args = vot_server.get_parser().parse_args(server_args(weights))
        result = vot_server.build_tracker(args).track(frames, boxes[0])
    finally:
        torch.set_num_threads(previous)
    assert np.ptp(result.boxes_xywh[:, 0]) > 20 and 0.3 < result.scores[1:].min() < 0.6
    return result


@contextlib.contextmanager
def trax_server_process(trax, args, stderr_path, timeout=120):
    """Start the server as the VOT toolkit does; yield (vot-trax Client, process)."""
    from trax.client import Client

    with open(stderr_path, "w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "siamtrack.integrations.vot"] + args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=dict(os.environ, **CHILD_ENV),
            cwd=str(stderr_path.parent),
        )
    watchdog = threading.Timer(timeout, process.kill)  # never hang the test run
    watchdog.start()
    try:
        # A log callback is required: vot-trax's Client fails without one.
        client = Client(stream=(process.stdin.fileno(), process.stdout.fileno()), log=[].append)
        yield client, process
    finally:
        watchdog.cancel()
        process.stdin.close()
        try:
            process.wait(timeout=30)
        finally:
            process.kill()
            process.stdout.close()


def _boxes_and_confidences(states):
    """vot-trax replies [[(region, properties)], ...] -> boxes (N, 4), confidences (N,)."""
    boxes, confidences = [], []
    for state in states:
        assert len(state) == 1 and state[0][0].type == "rectangle"
        boxes.append(state[0][0].bounds())
        confidences.append(float(state[0][1]["confidence"]))
    return np.array(boxes), np.array(confidences)


def _diamond(box_xywh):
    """A 4-point polygon whose bounding rectangle is ``box_xywh`` (no vertex at a corner)."""
    x, y, w, h = box_xywh
    return [(x + w / 2, y), (x + w, y + h / 2), (x + w / 2, y + h), (x, y + h / 2)]


@pytest.fixture(scope="module")
def conversation(trax, crossing, weights, tmp_path_factory):
    """One server process, four sessions: a rectangle with file paths, a polygon with memory
    images, a rectangle with encoded buffers (all on the same frames), then a mask, which must
    stop the server. Returns what the client saw."""
    frames, boxes = crossing
    folder = tmp_path_factory.mktemp("vot_session")
    stderr_path = folder / "stderr.txt"
    bgr = [cv2.imread(path) for path in frames]
    as_path = [{"color": trax.FileImage.create(path)} for path in frames]
    as_memory = [{"color": trax.MemoryImage.create(image[:, :, ::-1].copy())} for image in bgr]
    as_buffer = [
        {"color": trax.BufferImage.create(cv2.imencode(".png", image)[1].tobytes())}
        for image in bgr
    ]
    seen = {}
    with trax_server_process(trax, server_args(weights), stderr_path) as (client, process):
        seen["name"] = client.tracker_name
        seen["region_formats"] = client.region_formats
        seen["image_formats"] = client.image_formats
        seen["multiobject"] = client.get("multiobject")
        for name, init_region, images in (
            ("rectangle_paths", trax.Rectangle.create(*boxes[0]), as_path),
            ("polygon_memory", trax.Polygon.create(_diamond(boxes[0])), as_memory),
            ("rectangle_buffers", trax.Rectangle.create(*boxes[0]), as_buffer),
        ):
            states = [client.initialize(images[0], [(init_region, {})], {})[0]]
            states += [client.frame(frame_images, {}, [])[0] for frame_images in images[1:]]
            seen[name] = _boxes_and_confidences(states)
        # libtrax converts a region the server does not declare before sending it; claim mask
        # support on the client side so that the mask itself reaches the server.
        client._handle.reference.contents.metadata.contents.format_region |= 8
        mask = trax.Mask.create(np.full((50, 17), 255, np.uint8), x=204, y=150)
        with pytest.raises(trax.TraxException) as raised:
            client.initialize(as_path[0], [(mask, {})], {})
        seen["mask_error"] = str(raised.value)
        seen["exit_code"] = process.wait(timeout=30)
    seen["stderr"] = stderr_path.read_text()
    return seen


def test_handshake_declares_rectangles_and_polygons(conversation):
    assert conversation["name"] == "siamtrack"
    assert conversation["region_formats"] == ["rectangle", "polygon"]
    assert conversation["image_formats"] == ["path", "memory", "buffer"]
    assert conversation["multiobject"] is False


def test_reported_regions_are_siamtrackers_boxes(conversation, reference):
    boxes, confidences = conversation["rectangle_paths"]
    np.testing.assert_allclose(boxes, reference.boxes_xywh, rtol=0, atol=TRAX_ATOL)
    np.testing.assert_array_equal(confidences, reference.confidences)  # frame 0: 1.0 (given box)


@pytest.mark.parametrize("session", ["polygon_memory", "rectangle_buffers"])
def test_polygon_init_and_in_memory_images_give_the_same_boxes(conversation, reference, session):
    """A polygon starts from its bounding rectangle; RGB memory images and PNG buffers are the
    same frames as the files; a new initialize restarts the tracker cleanly."""
    boxes, confidences = conversation[session]
    np.testing.assert_allclose(boxes, reference.boxes_xywh, rtol=0, atol=TRAX_ATOL)
    np.testing.assert_array_equal(confidences, reference.confidences)


def test_mask_region_ends_the_session_with_a_clear_error(conversation):
    reason = "unsupported TraX region type 'mask'"
    assert f"Server terminated the session: {reason}" in conversation["mask_error"]
    assert conversation["exit_code"] == 2
    errors = [line for line in conversation["stderr"].splitlines() if "error" in line.lower()]
    assert len(errors) == 1 and errors[0].startswith(ERROR_PREFIX + reason), errors
    assert "Traceback" not in conversation["stderr"]


def test_region_and_image_conversion(trax, crossing, tmp_path):
    frames, _ = crossing
    box = vot_server.region_to_box_xywh(trax.Rectangle.create(10.5, 20, 30, 40.25))
    np.testing.assert_array_equal(box, [10.5, 20, 30, 40.25])
    polygon = trax.Polygon.create([(12.0, 5.0), (40.0, 9.5), (30.0, 60.0), (8.0, 30.0)])
    np.testing.assert_array_equal(vot_server.region_to_box_xywh(polygon), [8, 5, 32, 55])
    with pytest.raises(ValueError, match="unsupported TraX region type 'special'"):
        vot_server.region_to_box_xywh(trax.Special.create(0))
    with pytest.raises(ValueError, match="unsupported TraX region type 'mask'"):
        vot_server.region_to_box_xywh(trax.Mask.create(np.ones((4, 4), np.uint8)))

    bgr = cv2.imread(frames[0])
    rgb_memory = trax.MemoryImage.create(bgr[:, :, ::-1].copy())
    np.testing.assert_array_equal(vot_server.trax_image_to_bgr(rgb_memory), bgr)
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    converted = vot_server.trax_image_to_bgr(trax.MemoryImage.create(gray))
    assert converted.shape == bgr.shape and np.array_equal(converted[:, :, 1], gray)
    with pytest.raises(ValueError, match="dtype uint16 is not supported"):
        vot_server.trax_image_to_bgr(trax.MemoryImage.create(gray.astype(np.uint16)))
    with pytest.raises(ValueError, match="cannot be decoded"):
        vot_server.trax_image_to_bgr(trax.BufferImage.create(b"not an image"))
    missing = str(tmp_path / "missing.jpg")
    with pytest.raises(ValueError, match=f"image {missing} does not exist"):
        vot_server.trax_image_to_bgr(trax.FileImage.create(missing))


class _FakeServer:
    """Stands in for trax.Server after the handshake: records the quit reason."""

    def __init__(self):
        self.reason = None

    def wait(self):
        raise AssertionError("the tracker must fail to build before any request is read")

    def quit(self, reason=None):
        self.reason = reason


@pytest.mark.parametrize(
    "problem, expected",
    [
        ("missing_config", "config file {tmp}/nope.yaml does not exist"),
        ("bad_override", "TRACKER.NO_SUCH_KEY"),
        ("missing_weights", "{tmp}/none.pth"),
        ("garbage_weights", "cannot read checkpoint {tmp}/garbage.pth"),
    ],
)
def test_config_and_weights_errors_end_the_session_with_a_reason(
    trax, weights, tmp_path, monkeypatch, capsys, problem, expected
):
    """Errors after the handshake: one stderr line, exit code 2, the same text as quit reason."""
    (tmp_path / "garbage.pth").write_text("not a checkpoint")
    args = {
        "missing_config": ["--config-file", str(tmp_path / "nope.yaml")],
        "bad_override": server_args(weights) + ["--opts", "TRACKER.NO_SUCH_KEY", "1"],
        "missing_weights": ["--config-file", str(CONFIG), "--weights", str(tmp_path / "none.pth")],
        "garbage_weights": [
            "--config-file",
            str(CONFIG),
            "--weights",
            str(tmp_path / "garbage.pth"),
        ],
    }[problem]
    server = _FakeServer()
    monkeypatch.setattr(vot_server, "open_trax_server", lambda trax_module: server)
    assert vot_server.main(args) == 2
    expected = expected.format(tmp=tmp_path)
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("siam")]
    assert len(errors) == 1 and errors[0].startswith(ERROR_PREFIX), errors
    assert expected in errors[0] and server.reason == errors[0][len(ERROR_PREFIX) :]


class _ScriptedServer:
    """Stands in for trax.Server: answers ``wait`` from a list of requests, records replies."""

    def __init__(self, requests):
        self.requests = list(requests)
        self.replies = []

    def wait(self):
        return self.requests.pop(0)

    def status(self, objects, properties=None):
        self.replies.append(objects)

    def quit(self, reason=None):
        raise AssertionError(f"unexpected quit: {reason}")


class _ConfidenceTracker:
    """Reports a fixed box with a raw score 0.25 and a presence confidence 0.75 (absent)."""

    def init(self, image_bgr, box_xywh):
        self.box = box_xywh

    def update(self, image_bgr):
        from siamtrack.tracking.results import TrackResult

        return TrackResult(self.box, 0.25, 1, present=False, confidence=0.75)


def test_replies_carry_the_presence_confidence_not_the_score(trax, crossing):
    from types import SimpleNamespace

    frames, boxes = crossing
    image = {"color": trax.FileImage.create(frames[0])}
    rectangle = trax.Rectangle.create(*boxes[0])
    server = _ScriptedServer(
        [
            SimpleNamespace(type="initialize", objects=[(rectangle, {})], image=image),
            SimpleNamespace(type="frame", objects=[], image=image),
            SimpleNamespace(type="quit", objects=[], image=None),
        ]
    )
    assert vot_server.serve(server, _ConfidenceTracker) == 0
    confidences = [float(reply[0][1]["confidence"]) for reply in server.replies]
    assert confidences == [vot_server.INIT_CONFIDENCE, 0.75]


def test_missing_vot_trax_gives_install_hint(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "trax", None)  # makes `import trax` fail
    with pytest.raises(ImportError, match="pip install vot-trax"):
        vot_server.import_trax()
    monkeypatch.setattr(vot_server, "open_trax_server", pytest.fail)  # no handshake either
    assert vot_server.main(["--config-file", str(CONFIG)]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 1 and errors[0].startswith(ERROR_PREFIX)
    assert "pip install vot-trax" in errors[0]


def _write_vot_workspace(root, frames, boxes, weights):
    """A VOT toolkit workspace: one sequence in VOT layout, a one-experiment stack, and the
    trackers.ini entry from the README (absolute paths; env_ lines set the child's env)."""
    sequence = root / "sequences" / "crossing10"
    (sequence / "color").mkdir(parents=True)
    for index, path in enumerate(frames, start=1):
        shutil.copyfile(path, sequence / "color" / f"{index:08d}.jpg")
    np.savetxt(sequence / "groundtruth.txt", boxes, fmt="%g", delimiter=",")
    (sequence / "sequence").write_text("channels.color=color/%08d.jpg\nfps=30\n")
    (root / "sequences" / "list.txt").write_text("crossing10\n")
    (root / "stack.yaml").write_text(
        "title: siamtrack local test\n"
        "experiments:\n  baseline:\n    type: unsupervised\n    repetitions: 1\n"
    )
    (root / "config.yaml").write_text("registry:\n- ./trackers.ini\nstack: ./stack.yaml\n")
    (root / "trackers.ini").write_text(
        "[siamtrack]\n"
        "label = SiamRPN++ (siamtrack)\n"
        "protocol = trax\n"
        f"command = {sys.executable} -m siamtrack.integrations.vot\n"
        f"    --config-file {CONFIG}\n"
        f"    --weights {weights} --device cpu\n"
        "timeout = 60\n" + "".join(f"env_{name} = {value}\n" for name, value in CHILD_ENV.items())
    )


def test_vot_toolkit_runs_the_tracker_on_a_local_sequence(crossing, weights, reference, tmp_path):
    """vot-toolkit's own experiment runner (what ``vot evaluate`` calls) launches the server
    from trackers.ini on a local sequence, offline, and stores SiamTracker's boxes."""
    try:
        from vot.experiment import run_experiment
        from vot.region import Special
        from vot.region.io import read_trajectory
        from vot.workspace import Workspace
    except Exception as error:  # noqa: BLE001  (attributee 0.1.10 fails with a TypeError)
        pytest.fail(f"vot-toolkit does not import ({error}): pip install -r dev/requirements.txt")
    frames, boxes = crossing
    _write_vot_workspace(tmp_path, frames, boxes, weights)
    workspace = Workspace.load(str(tmp_path))
    tracker = workspace.registry["siamtrack"]
    run_experiment(workspace.stack.experiments["baseline"], tracker, workspace.dataset, True)
    results = tmp_path / "results" / "siamtrack" / "baseline" / "crossing10"
    trajectory = read_trajectory(str(results / "crossing10_001.bin"))
    assert len(trajectory) == NUM_FRAMES and isinstance(trajectory[0], Special)  # "initialized"
    stored = np.array([[r.x, r.y, r.width, r.height] for r in trajectory[1:]])
    np.testing.assert_allclose(stored, reference.boxes_xywh[1:], rtol=0, atol=TRAX_ATOL)
    confidences = np.loadtxt(results / "crossing10_001_confidence.value")
    np.testing.assert_array_equal(confidences, reference.confidences)
