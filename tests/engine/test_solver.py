"""Optimizer groups, gradient clipping, LR schedule and backbone freezing of the recipe."""

import math
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from siamtrack.engine.hooks import BackboneUnfreezeHook, set_stages_trainable
from siamtrack.engine.solver import (
    WarmupLogDecayParamScheduler,
    _with_full_model_gradient_clipping,
    build_param_groups,
)


class ToyBackbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
        for name in ("res2", "res3", "res4", "res5"):
            self.add_module(name, nn.Sequential(nn.Conv2d(4, 4, 1), nn.BatchNorm2d(4)))

    def forward(self, x):
        for child in self.children():
            x = child(x)
        return x


class ToyModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = ToyBackbone()
        self.neck = nn.Sequential(nn.Conv2d(4, 4, 1), nn.BatchNorm2d(4))
        self.rpn_head = nn.Conv2d(4, 2, 1)
        self.fusion_weight = nn.Parameter(torch.ones(3))

    def forward(self, x):
        return self.rpn_head(self.neck(self.backbone(x))).mean() + self.fusion_weight.sum()


def _lr_of(groups, param):
    (group,) = [g for g in groups if any(p is param for p in g["params"])]
    return group


def test_param_groups_lr_and_decay():
    model = ToyModel()
    groups = build_param_groups(
        model,
        base_lr=0.005,
        weight_decay=1e-4,
        weight_decay_norm=0.0,
        backbone_lr_factor=0.1,
        train_stages=["res3", "res4", "res5"],
    )
    grouped = {id(p) for g in groups for p in g["params"]}
    assert id(model.backbone.res3[0].weight) in grouped
    assert id(model.backbone.stem[0].weight) not in grouped  # never trained
    assert id(model.backbone.res2[0].weight) not in grouped
    assert _lr_of(groups, model.backbone.res4[0].weight)["lr"] == pytest.approx(0.0005)
    assert _lr_of(groups, model.neck[0].weight)["lr"] == pytest.approx(0.005)
    assert _lr_of(groups, model.fusion_weight)["lr"] == pytest.approx(0.005)
    assert _lr_of(groups, model.neck[1].weight)["weight_decay"] == 0.0
    assert _lr_of(groups, model.rpn_head.weight)["weight_decay"] == 1e-4
    # every trainable non-backbone parameter is in exactly one group
    assert sum(len(g["params"]) for g in groups) == len(grouped)


def test_unknown_train_stage_is_named():
    with pytest.raises(ValueError, match="res7"):
        build_param_groups(
            ToyModel(),
            base_lr=1,
            weight_decay=0,
            weight_decay_norm=0,
            backbone_lr_factor=1,
            train_stages=["res7"],
        )


def test_full_model_clipping_bounds_global_norm():
    torch.manual_seed(0)
    params = [nn.Parameter(torch.randn(10)), nn.Parameter(torch.randn(5))]
    optimizer = _with_full_model_gradient_clipping(torch.optim.SGD, 1.0, 2.0)(params, lr=1.0)
    for p in params:
        p.grad = torch.full_like(p, 10.0)
    before = [p.detach().clone() for p in params]
    optimizer.step()
    step = torch.cat([(b - p.detach()) for b, p in zip(before, params)])
    assert step.norm().item() == pytest.approx(1.0, rel=1e-5)
    # direction kept: all coordinates moved equally
    assert torch.allclose(step, step[0].expand_as(step))


def test_warmup_log_decay_schedule():
    sched = WarmupLogDecayParamScheduler(warmup_fraction=0.25, warmup_factor=0.2, end_factor=0.1)
    assert sched(0.0) == pytest.approx(0.2)
    assert sched(0.125) == pytest.approx(math.sqrt(0.2))  # geometric midpoint
    assert sched(0.25) == pytest.approx(1.0)
    assert sched(0.625) == pytest.approx(math.sqrt(0.1))  # log-linear midpoint
    assert sched(1.0) == pytest.approx(0.1)
    values = [sched(i / 100) for i in range(101)]
    peak = values.index(max(values))
    assert all(a < b for a, b in zip(values[:peak], values[1 : peak + 1]))
    assert all(a > b for a, b in zip(values[peak:], values[peak + 1 :]))


def test_warmup_log_decay_rejects_bad_values():
    with pytest.raises(ValueError, match="fraction"):
        WarmupLogDecayParamScheduler(1.0, 0.2, 0.1)
    with pytest.raises(ValueError, match="end factor"):
        WarmupLogDecayParamScheduler(0.1, 0.2, 0.0)


def _fake_trainer(model, it):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    return SimpleNamespace(iter=it, optimizer=optimizer)


def test_unfreeze_hook_freezes_then_unfreezes():
    model = ToyModel()
    set_stages_trainable(model, ["stem", "res2", "res3", "res4", "res5"], False)
    rewraps = []
    hook = BackboneUnfreezeHook(model, ["res4", "res5"], 3, rewrap_model=lambda: rewraps.append(1))
    hook.trainer = _fake_trainer(model, 0)
    hook.trainer.optimizer.state[model.neck[0].weight] = {"momentum_buffer": torch.ones(1)}
    hook.before_train()
    model.train()
    for it in range(3):
        hook.trainer.iter = it
        hook.before_step()
        assert not model.backbone.res4[1].training  # BN of frozen stage in eval mode
        assert not model.backbone.res4[0].weight.requires_grad
        model.train()  # e.g. evaluation restoring training mode
    hook.trainer.iter = 3
    hook.before_step()
    assert model.backbone.res4[0].weight.requires_grad and model.backbone.res5[1].training
    assert not model.backbone.res3[0].weight.requires_grad and not model.backbone.res3[1].training
    assert rewraps == [1] and len(hook.trainer.optimizer.state) == 0  # momentum reset


def test_unfreeze_hook_on_resume_past_unfreeze_point():
    model = ToyModel()
    set_stages_trainable(model, ["stem", "res2", "res3", "res4", "res5"], False)
    hook = BackboneUnfreezeHook(model, ["res3"], 5, rewrap_model=lambda: None)
    hook.trainer = _fake_trainer(model, 8)  # resumed at iteration 8
    hook.before_train()
    assert model.backbone.res3[0].weight.requires_grad
