"""Channel gates: the export forms give the eager values, the gate is resized only where map
sizes are fixed, and NanoTrack's exported graphs use the forms onnxruntime keeps blocked."""

import numpy as np
import onnx
import pytest
import torch

from siamtrack.export import export_siamese_graphs
from siamtrack.export.onnx import CROP_INPUTS, create_session, export_graph, runtime_graphs
from siamtrack.modeling.gates import (
    apply_gate,
    channel_mean,
    fixed_map_sizes,
    hardswish_after_gate,
    linear_on_channels,
)

from ..export.helpers import nanotrack_config
from .helpers import build, randomize_batchnorm


def all_forms(x, gate, linear):
    return (
        channel_mean(x),
        linear_on_channels(channel_mean(x), linear),
        apply_gate(x, gate),
        hardswish_after_gate(x * 4),  # spans all three pieces of the hard-swish
    )


def test_export_forms_equal_the_eager_forms(monkeypatch):
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(2, 16, 7, 5, generator=generator)
    gate = torch.rand(2, 16, 1, 1, generator=generator)
    linear = torch.nn.Linear(16, 8)
    eager = all_forms(x, gate, linear)
    monkeypatch.setattr(torch.onnx, "is_in_onnx_export", lambda: True)
    with fixed_map_sizes():
        exported = all_forms(x, gate, linear)
    for a, b in zip(eager, exported):
        assert a.shape == b.shape
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-6)


class Gated(torch.nn.Module):
    def forward(self, x):
        return apply_gate(x, torch.sigmoid(channel_mean(x)))


def op_types(data: bytes):
    return {node.op_type for node in onnx.load_from_string(data).graph.node}


def test_the_gate_is_resized_only_where_map_sizes_are_fixed():
    """A graph with dynamic spatial axes keeps the broadcasting Mul and runs at any size."""
    x = torch.randn(1, 8, 6, 6)
    spatial = {"x": {2: "h", 3: "w"}, "y": {2: "h", 3: "w"}}
    dynamic = export_graph(Gated(), (x,), ["x"], ["y"], spatial)
    with fixed_map_sizes():
        fixed = export_graph(Gated(), (x,), ["x"], ["y"])
    assert "Resize" not in op_types(dynamic) and "Resize" in op_types(fixed)
    bigger = torch.randn(1, 8, 9, 11)
    (out,) = create_session(dynamic).run(None, {"x": bigger.numpy()})
    np.testing.assert_allclose(out, Gated()(bigger).numpy(), rtol=1e-6, atol=1e-6)
    (out,) = create_session(fixed).run(None, {"x": x.numpy()})
    np.testing.assert_allclose(out, Gated()(x).numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("version", [2, 3])
def test_nanotrack_graphs_use_the_blocked_forms(version):
    """Pooling, 1x1 convs and resized gates; every hard-sigmoid / hard-swish follows a conv
    (onnxruntime fuses it there)."""
    model = randomize_batchnorm(build(nanotrack_config(version)).eval())
    nodes = onnx.load_from_string(export_siamese_graphs(model).track).graph.node
    ops = {node.op_type for node in nodes}
    assert {"GlobalAveragePool", "Resize"} <= ops and not ops & {"ReduceMean", "Gemm"}
    producers = {output: node.op_type for node in nodes for output in node.output}
    activations = [node for node in nodes if node.op_type in ("HardSigmoid", "HardSwish")]
    assert activations and all(producers[node.input[0]] == "Conv" for node in activations)


def test_dynamic_and_fixed_batch_sessions_agree_bit_for_bit():
    """The resized gates keep the batch axis named, so onnxruntime makes the same fusions in
    the dynamic-batch session as in a fixed-batch one (K targets equal K single targets)."""
    model = randomize_batchnorm(build(nanotrack_config(3)).eval())
    graphs = runtime_graphs(export_siamese_graphs(model))
    rng = np.random.default_rng(0)
    size_t, size_s = model.template_size, model.search_size
    templates = rng.integers(0, 256, (2, size_t, size_t, 3), dtype=np.uint8)
    searches = rng.integers(0, 256, (2, size_s, size_s, 3), dtype=np.uint8)
    features = create_session(graphs.template).run(None, {CROP_INPUTS["template"]: templates})
    feeds = {CROP_INPUTS["search"]: searches, **dict(zip(graphs.feature_names, features))}
    dynamic = create_session(graphs.track).run(None, feeds)
    fixed = create_session(graphs.track, batch_size=2).run(None, feeds)
    assert all(np.array_equal(a, b) for a, b in zip(dynamic, fixed))
