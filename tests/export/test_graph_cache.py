"""The onnxruntime backend's graphs: the runtime form (crops in) equals the exported graphs bit
for bit, and the on-disk cache (hit, new key, unwritable folder, corrupt or foreign entries)."""

import json
import logging

import numpy as np
import pytest
import torch

from siamtrack.export import export_siamese_graphs
from siamtrack.export import graph_cache
from siamtrack.export.graph_cache import (
    MANIFEST_FILE,
    cached_graphs,
    graph_cache_dir,
    model_cache_key,
    read_cache_entry,
)
from siamtrack.export.onnx import CROP_INPUTS, create_session, runtime_graphs
from siamtrack.inference_options import InferenceOptions
from siamtrack.tracking.onnx_backend import OnnxRuntimeBackend

from ..modeling.helpers import TINY_PYSOT, build, randomize_batchnorm

ONNX = InferenceOptions(backend="onnxruntime")


@pytest.fixture
def model():
    return randomize_batchnorm(build(TINY_PYSOT).eval())


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache root of this test (never the user's home)."""
    monkeypatch.setenv("SIAMTRACK_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(graph_cache, "_unwritable_warned", set())
    return tmp_path / "cache" / "onnx"


def crops(batch, size, seed):
    return np.random.default_rng(seed).integers(0, 256, (batch, size, size, 3), dtype=np.uint8)


def outputs(backend, batch=1, seed=0):
    features = backend.encode_template(crops(batch, backend.template_size, seed))
    return backend.track(features, crops(batch, backend.search_size, seed + 1))


def count_exports(monkeypatch):
    calls = []
    original = graph_cache.export_siamese_graphs

    def counting(model):
        calls.append(model)
        return original(model)

    monkeypatch.setattr(graph_cache, "export_siamese_graphs", counting)
    return calls


def test_runtime_form_equals_the_exported_graphs_bit_for_bit(model):
    """uint8 NHWC crops in (transpose + cast in the graph, identity normalisation dropped),
    fixed batch sizes: the same outputs as the float NCHW graphs of tools/export_onnx.py."""
    exported = export_siamese_graphs(model)
    runtime = runtime_graphs(exported)
    assert runtime_graphs(runtime) is runtime  # already in the runtime form
    template_crops = crops(3, model.template_size, 1)
    search_crops = crops(3, model.search_size, 2)
    as_input = lambda c: np.ascontiguousarray(c.transpose(0, 3, 1, 2), np.float32)  # noqa: E731
    features = create_session(exported.template).run(None, {"template": as_input(template_crops)})
    feeds = dict(zip(exported.feature_names, features))
    expected = create_session(exported.track).run(None, {"search": as_input(search_crops), **feeds})
    runtime_features = create_session(runtime.template).run(
        None, {CROP_INPUTS["template"]: template_crops}
    )
    assert all(np.array_equal(a, b) for a, b in zip(runtime_features, features))
    for batch_size in (None, 3):
        track = create_session(runtime.track, batch_size=batch_size)
        actual = track.run(None, {CROP_INPUTS["search"]: search_crops, **feeds})
        assert all(np.array_equal(a, b) for a, b in zip(actual, expected))


def test_backend_batches_equal_single_targets(model, cache):
    """K targets in one call (dynamic batch, or a session with the batch fixed to K) give each
    target's single-target outputs bit for bit, and repeated calls reuse the bound buffers
    safely."""
    backend = OnnxRuntimeBackend.create(model, ONNX, "cpu")
    template_crops = crops(3, model.template_size, 5)
    search_crops = crops(3, model.search_size, 6)
    features = backend.encode_template(template_crops)
    scores, boxes = backend.track(features, search_crops)  # the dynamic-batch session
    backend.prepare(features)  # now a session with the batch fixed to 3
    static_scores, static_boxes = backend.track(features, search_crops)
    assert np.array_equal(static_scores, scores) and np.array_equal(static_boxes, boxes)
    for k in range(3):
        single = backend.take_features(features, [k])
        one_scores, one_boxes = backend.track(single, search_crops[k : k + 1])
        assert np.array_equal(one_scores[0], scores[k]) and np.array_equal(one_boxes[0], boxes[k])
    again_scores, _ = backend.track(features, search_crops)
    assert np.array_equal(again_scores, scores) and again_scores is not scores
    assert scores.dtype == boxes.dtype == np.float64


def test_second_build_reads_the_cache_without_exporting(model, cache, monkeypatch):
    first = OnnxRuntimeBackend.create(model, ONNX, "cpu")
    entry = cache / model_cache_key(model)
    assert (entry / MANIFEST_FILE).is_file() and graph_cache_dir() == cache

    def no_export(model):
        raise AssertionError("exported although the cache holds the graphs")

    monkeypatch.setattr(graph_cache, "export_siamese_graphs", no_export)
    second = OnnxRuntimeBackend.create(model, ONNX, "cpu")
    for a, b in zip(outputs(first), outputs(second)):
        assert np.array_equal(a, b)


def test_a_changed_weight_buffer_or_setting_gives_a_new_key(model, cache, monkeypatch):
    key = model_cache_key(model)
    assert model_cache_key(model) == key  # deterministic
    with torch.no_grad():
        next(model.parameters()).view(-1)[0] += 1e-3
    changed_weight = model_cache_key(model)
    assert changed_weight != key
    buffer = next(b for n, b in model.named_buffers() if "running_mean" in n)
    with torch.no_grad():
        buffer.view(-1)[0] += 1e-3
    assert model_cache_key(model) not in (key, changed_weight)
    other = randomize_batchnorm(build(TINY_PYSOT, "TRACKER.PENALTY_K", "0.2").eval())
    assert model_cache_key(other) == model_cache_key(randomize_batchnorm(build(TINY_PYSOT).eval()))
    calls = count_exports(monkeypatch)
    OnnxRuntimeBackend.create(model, ONNX, "cpu")
    with torch.no_grad():
        next(model.parameters()).view(-1)[0] += 1e-3
    OnnxRuntimeBackend.create(model, ONNX, "cpu")
    assert len(calls) == 2 and len(list(cache.iterdir())) == 2


def test_unwritable_cache_tracks_with_one_warning(model, tmp_path, monkeypatch, caplog):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("SIAMTRACK_CACHE_DIR", str(blocker / "cache"))
    monkeypatch.setattr(graph_cache, "_unwritable_warned", set())
    calls = count_exports(monkeypatch)
    with caplog.at_level(logging.WARNING, logger="siamtrack.export.graph_cache"):
        backends = [OnnxRuntimeBackend.create(model, ONNX, "cpu") for _ in range(2)]
    warnings = [r for r in caplog.records if "cannot write the ONNX graph cache" in r.message]
    assert len(warnings) == 1 and str(blocker) in warnings[0].message
    assert len(calls) == 2  # exported in memory each time
    scores, boxes = outputs(backends[1])
    assert np.isfinite(scores).all() and np.isfinite(boxes).all()


def corrupt_track_graph(entry):
    path = entry / "track.onnx"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def edit_manifest_metadata(entry):
    manifest = json.loads((entry / MANIFEST_FILE).read_text())
    manifest["content"]["metadata"]["search_size"] = "999"
    (entry / MANIFEST_FILE).write_text(json.dumps(manifest))


def truncate_template_graph(entry):
    path = entry / "template.onnx"
    path.write_bytes(path.read_bytes()[:100])


@pytest.mark.parametrize(
    "damage", [corrupt_track_graph, edit_manifest_metadata, truncate_template_graph]
)
def test_a_damaged_entry_is_rebuilt_with_a_warning(model, cache, monkeypatch, caplog, damage):
    reference = outputs(OnnxRuntimeBackend.create(model, ONNX, "cpu"))
    key = model_cache_key(model)
    damage(cache / key)
    calls = count_exports(monkeypatch)
    with caplog.at_level(logging.WARNING, logger="siamtrack.export.graph_cache"):
        rebuilt = OnnxRuntimeBackend.create(model, ONNX, "cpu")
    assert len(calls) == 1
    assert any("is unusable" in r.message for r in caplog.records)
    read_cache_entry(cache / key, key)  # the new entry checks out
    assert [p.name for p in cache.iterdir()] == [key]  # no temporary or stale folders left
    for a, b in zip(outputs(rebuilt), reference):
        assert np.array_equal(a, b)


def test_an_entry_of_another_model_is_not_used(model, cache, monkeypatch, caplog):
    """An entry copied under another key (or a key collision) is refused: the manifest names
    the key it was written for."""
    other = randomize_batchnorm(build(TINY_PYSOT).eval(), seed=1)
    cached_graphs(other)
    foreign = cache / model_cache_key(other)
    foreign.rename(cache / model_cache_key(model))
    calls = count_exports(monkeypatch)
    with caplog.at_level(logging.WARNING, logger="siamtrack.export.graph_cache"):
        cached_graphs(model)
    assert len(calls) == 1 and any("another model" in r.message for r in caplog.records)
