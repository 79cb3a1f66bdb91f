"""Parameter counts and compute (fvcore) of a ``SiameseRPN``, per branch.

fvcore counts one fused multiply-add as one "flop", so its numbers are MACs (GMAC below; x2
for FLOPs), as in pysot's published 48.9 figure.
"""

from typing import Dict

import torch
from fvcore.nn import FlopCountAnalysis
from torch import nn

__all__ = ["count_parameters", "analyze_flops"]


def count_parameters(model: nn.Module) -> Dict[str, int]:
    """Parameters per top-level part, counting frozen BatchNorm affine weights too.

    ``FrozenBatchNorm2d`` (stages frozen by ``MODEL.BACKBONE.FREEZE_AT``) keeps weight/bias as
    buffers; they are counted here so the total does not depend on freezing (pysot's
    53,950,624 for the R-50 l234 model includes them).

    Returns:
        {"total", "trainable", "<child name>" for each child (backbone, neck, rpn_head)}.
    """

    def count(module: nn.Module) -> int:
        total = sum(p.numel() for p in module.parameters())
        for sub in module.modules():
            if type(sub).__name__ == "FrozenBatchNorm2d":
                total += sub.weight.numel() + sub.bias.numel()
        return total

    result = {"total": count(model)}
    result["trainable"] = sum(p.numel() for p in model.parameters() if p.requires_grad)
    for name, child in model.named_children():
        result[name] = count(child)
    return result


class _TemplateBranch(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, images):
        return tuple(self.model.neck(self.model.backbone(images), is_template=True))


class _TemplateKernels(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, *features):
        cls_kernels, loc_kernels = self.model.rpn_head.template_kernels(list(features))
        return tuple(cls_kernels) + tuple(loc_kernels)


class _TrackStep(nn.Module):
    def __init__(self, model, template_features):
        super().__init__()
        self.model = model
        self.template_features = template_features

    def forward(self, images):
        features = self.model.neck(self.model.backbone(images), is_template=False)
        return self.model.rpn_head.forward_with_kernels(
            self.template_features.cls_kernels, self.template_features.loc_kernels, features
        )


def _gmac(analysis: FlopCountAnalysis) -> float:
    return analysis.total() / 1e9


def _analysis(module: nn.Module, inputs) -> FlopCountAnalysis:
    analysis = FlopCountAnalysis(module, inputs)
    analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    return analysis


@torch.no_grad()
def analyze_flops(model: nn.Module) -> Dict[str, float]:
    """GMAC of each inference branch for one template and one search crop (batch 1).

    Returns:
        dict with "template_branch" (backbone + neck on T x T), "template_kernels" (the head's
        template-side convs, run once per target by ``encode_template``), "track_step"
        (backbone + neck + head on S x S with cached kernels, i.e. ``track``), its parts
        "track_step/backbone", "track_step/neck", "track_step/rpn_head",
        "track_step_pysot" (track_step + template_kernels: pysot's ``track()`` recomputes the
        template convs every frame) and "training_pair" (both branches and the head).
    """
    model = model.eval()
    device = next(model.parameters()).device
    size_t, size_s = model.template_size, model.search_size
    template = torch.rand(1, 3, size_t, size_t, device=device) * 255
    search = torch.rand(1, 3, size_s, size_s, device=device) * 255
    template = (template - model.pixel_mean) / model.pixel_std
    search = (search - model.pixel_mean) / model.pixel_std

    branch = _TemplateBranch(model)
    template_branch = _analysis(branch, (template,))
    neck_outputs = branch(template)
    kernels = _analysis(_TemplateKernels(model), tuple(neck_outputs))
    cls_kernels, loc_kernels = model.rpn_head.template_kernels(list(neck_outputs))
    from .meta_arch import TemplateFeatures

    step = _analysis(_TrackStep(model, TemplateFeatures(cls_kernels, loc_kernels)), (search,))
    by_module = step.by_module()
    result = {
        "template_branch": _gmac(template_branch),
        "template_kernels": _gmac(kernels),
        "track_step": _gmac(step),
    }
    for part in ("backbone", "neck"):
        result[f"track_step/{part}"] = by_module.get(f"model.{part}", 0) / 1e9
    # The head runs through forward_with_kernels (not __call__), so fvcore cannot scope the
    # functional correlation to it: the head is everything after backbone and neck.
    result["track_step/rpn_head"] = (
        result["track_step"] - result["track_step/backbone"] - result["track_step/neck"]
    )
    result["track_step_pysot"] = result["track_step"] + result["template_kernels"]
    result["training_pair"] = result["template_branch"] + result["track_step_pysot"]
    return result
