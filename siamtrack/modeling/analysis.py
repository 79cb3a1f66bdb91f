"""Parameter counts and compute (fvcore) of a ``SiameseNetwork``, per branch and per part.

fvcore counts one fused multiply-add as one "flop", so its numbers are MACs (GMAC below; x2
for FLOPs), as in pysot's published 48.9 figure. Convolutions, linear layers and matrix
products (the pixel-wise correlation) are counted; activations, poolings and element-wise
gates are not.
"""

from typing import Dict

import torch
from fvcore.nn import FlopCountAnalysis
from torch import nn

from .fold_batchnorm import fold_batchnorm
from .siamese import TemplateBranch, TrackStep

__all__ = ["count_parameters", "analyze_flops", "count_macs"]


def count_parameters(model: nn.Module) -> Dict[str, int]:
    """Parameters per top-level part, counting frozen BatchNorm affine weights too.

    ``FrozenBatchNorm2d`` (stages frozen by ``MODEL.BACKBONE.FREEZE_AT``) keeps weight/bias as
    buffers; they are counted here so the total does not depend on freezing (pysot's
    53,950,624 for the R-50 l234 model includes them).

    Returns:
        {"total", "trainable", "<child name>" for each child (backbone, neck, head)}.
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


def count_macs(module: nn.Module, inputs) -> FlopCountAnalysis:
    """fvcore's count of ``module(*inputs)`` (MACs), without its warnings."""
    analysis = FlopCountAnalysis(module, tuple(inputs))
    analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    return analysis


@torch.no_grad()
def analyze_flops(model: nn.Module) -> Dict[str, float]:
    """GMAC of each inference branch for one template and one search crop (batch 1).

    Returns:
        dict with "template_branch" (backbone + neck on T x T), "template_kernels" (the head's
        template side, run once per target by ``encode_template``), "track_step" (backbone +
        neck + head on S x S with cached template features, i.e. ``track``), its parts
        "track_step/<child>" for each child of the model (backbone, neck, head),
        "track_step_pysot" (track_step + template_kernels: pysot's ``track()`` recomputes the
        template convs every frame), "training_pair" (both branches and the head) and
        "track_step_folded" (track_step with BatchNorm folded into the convs, as the tracker
        runs it: fvcore counts BatchNorm as one op per element).
    """
    model = model.eval()
    device = next(model.parameters()).device
    size_t, size_s = model.template_size, model.search_size
    template = torch.rand(1, 3, size_t, size_t, device=device) * 255
    search = torch.rand(1, 3, size_s, size_s, device=device) * 255
    features = model.encode_template(template)

    template_count = count_macs(TemplateBranch(model), (template,))
    step = count_macs(TrackStep(model), (search, *features))
    children = [name for name, _ in model.named_children()]
    # the head runs through methods, not __call__: it gets the remainder
    head = "head" if "head" in children else children[-1]
    children = [name for name in children if name != head] + [head]

    def parts(analysis: FlopCountAnalysis) -> Dict[str, float]:
        by_module = analysis.by_module()
        result = {name: by_module.get(f"model.{name}", 0) / 1e9 for name in children[:-1]}
        result[head] = analysis.total() / 1e9 - sum(result.values())
        return result

    template_parts = parts(template_count)
    result = {
        "template_branch": sum(v for k, v in template_parts.items() if k != head),
        "template_kernels": template_parts[head],
        "track_step": step.total() / 1e9,
    }
    for name, value in parts(step).items():
        result[f"track_step/{name}"] = value
    result["track_step_pysot"] = result["track_step"] + result["template_kernels"]
    result["training_pair"] = result["template_branch"] + result["track_step_pysot"]
    folded = fold_batchnorm(model)
    result["track_step_folded"] = count_macs(TrackStep(folded), (search, *features)).total() / 1e9
    return result
