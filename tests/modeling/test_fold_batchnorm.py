"""fold_batchnorm: same outputs as the eval-mode model, no BatchNorm left, input untouched."""

import pytest
import torch

from siamtrack.modeling import count_batchnorm, fold_batchnorm

from .helpers import TINY_CONFIGS, build, random_images, randomize_batchnorm


@pytest.mark.parametrize("layout, freeze_at", [("pysot", 0), ("standard", 2)])
def test_folded_model_matches_unfused(layout, freeze_at):
    # freeze_at 2 turns stem/res2 BN into FrozenBatchNorm2d: both kinds are folded
    model = build(TINY_CONFIGS[layout], "MODEL.BACKBONE.FREEZE_AT", freeze_at)
    model = randomize_batchnorm(model).train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    folded = fold_batchnorm(model)
    assert not folded.training and model.training  # copy in eval mode, original untouched
    assert count_batchnorm(model) > 0 and count_batchnorm(folded) == 0
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())

    model.eval()
    template = random_images(2, model.template_size, 5)
    search = random_images(2, model.search_size, 6)
    with torch.no_grad():
        expected, expected_output = _head_outputs(model, template, search)
        actual, actual_output = _head_outputs(folded, template, search)
    for a, e in zip(actual, expected):  # raw logits/deltas, relative to their scale
        assert (a - e).abs().max() <= 1e-5 * e.abs().max()
    torch.testing.assert_close(actual_output.scores, expected_output.scores, rtol=0, atol=1e-3)


def _head_outputs(model, template, search):
    features = model.encode_template(template)
    return model.raw_outputs(features, search), model.track(features, search)


def test_inplace_folds_the_model_itself():
    model = randomize_batchnorm(build(TINY_CONFIGS["pysot"], "MODEL.BACKBONE.FREEZE_AT", 0))
    model.eval()
    search = random_images(1, model.search_size, 7)
    template = random_images(1, model.template_size, 8)
    with torch.no_grad():
        expected = model.track(model.encode_template(template), search).scores
        folded = fold_batchnorm(model, inplace=True)
        actual = folded.track(folded.encode_template(template), search).scores
    assert folded is model and count_batchnorm(model) == 0
    torch.testing.assert_close(actual, expected, rtol=0, atol=1e-5)
