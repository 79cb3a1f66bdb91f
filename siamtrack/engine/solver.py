"""Optimizer and learning-rate schedule of the SiamRPN++ and NanoTrack recipes
(``docs/siamrpnpp.md#training-recipe``, ``docs/nanotrack.md#training-recipe``).

- SGD over two groups: the backbone stages that will be trained
  (``MODEL.BACKBONE.TRAIN_STAGES``) at ``BASE_LR * SOLVER.BACKBONE_LR_FACTOR`` and everything
  outside the backbone (neck, head, fusion weights) at ``BASE_LR``. Backbone stages that are
  temporarily frozen are already in the optimizer: SGD skips parameters without gradients, so
  they start moving the moment they are unfrozen (see ``hooks.BackboneUnfreezeHook``).
- Gradient clipping: ``SOLVER.CLIP_GRADIENTS.CLIP_TYPE == "full_model"`` clips the global norm
  over all parameters (pysot's ``clip_grad_norm_(model.parameters(), 10)``); "value" and "norm"
  keep detectron2's per-parameter meaning.
- ``SOLVER.LR_SCHEDULER_NAME == "WarmupLogDecayLR"``: geometric warm-up followed by log-linear
  decay, the per-iteration version of pysot's per-epoch "step" + "log" schedules. Any other name
  is handed to detectron2's ``build_lr_scheduler``.
"""

from typing import Dict, Iterable, List

import torch
from detectron2.config import CfgNode
from detectron2.solver import build_lr_scheduler as build_d2_lr_scheduler
from detectron2.solver.build import maybe_add_gradient_clipping
from detectron2.solver.lr_scheduler import LRMultiplier
from fvcore.common.param_scheduler import ParamScheduler

from ..errors import ConfigError

NORM_TYPES = (
    torch.nn.BatchNorm1d,
    torch.nn.BatchNorm2d,
    torch.nn.SyncBatchNorm,
    torch.nn.GroupNorm,
    torch.nn.LayerNorm,
)


def backbone_stage_names(model: torch.nn.Module) -> List[str]:
    """Names of the backbone's stage children (``stem``, ``res2`` ... ``res5``)."""
    return [name for name, _ in model.backbone.named_children()]


def check_train_stages(model: torch.nn.Module, train_stages: Iterable[str]) -> List[str]:
    stages = list(train_stages)
    known = backbone_stage_names(model)
    unknown = [s for s in stages if s not in known]
    if unknown:
        raise ConfigError(
            f"MODEL.BACKBONE.TRAIN_STAGES has {unknown}, which the backbone does not have "
            f"(its stages: {known})"
        )
    return stages


def build_param_groups(
    model: torch.nn.Module,
    *,
    base_lr: float,
    weight_decay: float,
    weight_decay_norm: float,
    backbone_lr_factor: float,
    train_stages: Iterable[str],
) -> List[Dict]:
    """Parameter groups for SGD; see the module docstring.

    Backbone stages outside ``train_stages`` are left out: they never train.
    """
    train_stages = set(check_train_stages(model, train_stages))
    groups: Dict[tuple, List[torch.nn.Parameter]] = {}
    seen = set()
    for module_name, module in model.named_modules():
        parts = module_name.split(".")
        in_backbone = parts[0] == "backbone"
        if in_backbone and (len(parts) < 2 or parts[1] not in train_stages):
            continue
        for param in module.parameters(recurse=False):
            if id(param) in seen:
                continue
            seen.add(id(param))
            lr = base_lr * backbone_lr_factor if in_backbone else base_lr
            decay = weight_decay_norm if isinstance(module, NORM_TYPES) else weight_decay
            groups.setdefault((lr, decay), []).append(param)
    return [
        {"params": params, "lr": lr, "weight_decay": decay}
        for (lr, decay), params in groups.items()
    ]


def _with_full_model_gradient_clipping(optimizer_type, max_norm: float, norm_type: float):
    class FullModelGradientClippingOptimizer(optimizer_type):
        def step(self, closure=None):
            params = [p for group in self.param_groups for p in group["params"]]
            torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type)
            return super().step(closure)

    FullModelGradientClippingOptimizer.__name__ = optimizer_type.__name__ + "WithFullModelClip"
    return FullModelGradientClippingOptimizer


def build_optimizer(cfg: CfgNode, model: torch.nn.Module) -> torch.optim.Optimizer:
    """SGD with the recipe's parameter groups and gradient clipping."""
    param_groups = build_param_groups(
        model,
        base_lr=cfg.SOLVER.BASE_LR,
        weight_decay=cfg.SOLVER.WEIGHT_DECAY,
        weight_decay_norm=cfg.SOLVER.WEIGHT_DECAY_NORM,
        backbone_lr_factor=cfg.SOLVER.BACKBONE_LR_FACTOR,
        train_stages=cfg.MODEL.BACKBONE.TRAIN_STAGES,
    )
    clip = cfg.SOLVER.CLIP_GRADIENTS
    if clip.ENABLED and clip.CLIP_TYPE == "full_model":
        optimizer_type = _with_full_model_gradient_clipping(
            torch.optim.SGD, clip.CLIP_VALUE, clip.NORM_TYPE
        )
    else:
        optimizer_type = maybe_add_gradient_clipping(cfg, torch.optim.SGD)
    return optimizer_type(
        param_groups,
        lr=cfg.SOLVER.BASE_LR,
        momentum=cfg.SOLVER.MOMENTUM,
        nesterov=cfg.SOLVER.NESTEROV,
    )


class WarmupLogDecayParamScheduler(ParamScheduler):
    """LR multiplier: geometric warm-up from ``warmup_factor`` to 1, then log-linear decay to
    ``end_factor``.

    ``where`` in [0, 1] is the training progress. During the first ``warmup_fraction`` the
    multiplier is ``warmup_factor ** (1 - where / warmup_fraction)``; afterwards it is
    ``end_factor ** t`` with t going from 0 to 1, i.e. equally spaced in log(LR) like pysot's
    ``LogScheduler``.
    """

    def __init__(self, warmup_fraction: float, warmup_factor: float, end_factor: float):
        if not 0.0 <= warmup_fraction < 1.0:
            raise ConfigError(f"warm-up fraction must be in [0, 1), got {warmup_fraction}")
        if warmup_factor <= 0 or end_factor <= 0:
            raise ConfigError(
                f"warm-up factor ({warmup_factor}) and end factor ({end_factor}) must be > 0"
            )
        self.warmup_fraction = warmup_fraction
        self.warmup_factor = warmup_factor
        self.end_factor = end_factor

    def __call__(self, where: float) -> float:
        if where < self.warmup_fraction:
            return self.warmup_factor ** (1.0 - where / self.warmup_fraction)
        decay_progress = (where - self.warmup_fraction) / (1.0 - self.warmup_fraction)
        return self.end_factor ** min(decay_progress, 1.0)


def build_lr_scheduler(cfg: CfgNode, optimizer: torch.optim.Optimizer):
    if cfg.SOLVER.LR_SCHEDULER_NAME != "WarmupLogDecayLR":
        return build_d2_lr_scheduler(cfg, optimizer)
    max_iter = cfg.SOLVER.MAX_ITER
    multiplier = WarmupLogDecayParamScheduler(
        warmup_fraction=min(cfg.SOLVER.WARMUP_ITERS / max_iter, 0.999),
        warmup_factor=cfg.SOLVER.WARMUP_FACTOR,
        end_factor=cfg.SOLVER.LOG_DECAY_END_FACTOR,
    )
    return LRMultiplier(optimizer, multiplier=multiplier, max_iter=max_iter)
