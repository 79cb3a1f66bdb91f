"""Training hooks of the SiamRPN++ recipe."""

import logging
from typing import Callable, Iterable, List

import torch
from detectron2.engine import HookBase

from .solver import backbone_stage_names

logger = logging.getLogger(__name__)


def set_stages_trainable(model: torch.nn.Module, stages: Iterable[str], trainable: bool) -> None:
    """Switch ``requires_grad`` of the named backbone stages (``model.backbone.<stage>``)."""
    for name in stages:
        for param in getattr(model.backbone, name).parameters():
            param.requires_grad_(trainable)


class BackboneUnfreezeHook(HookBase):
    """Keeps backbone stages frozen (no gradients, BatchNorm in eval mode) and unfreezes the
    ``train_stages`` at iteration ``unfreeze_iter`` (pysot: epoch 10 of 20; NanoTrack: 10 of 50).

    Stages outside ``train_stages`` stay frozen for the whole run. Because something may call
    ``model.train()`` (evaluation restores the training mode), frozen stages are put back in eval
    mode before every step. At the unfreeze point the ``train_stages`` go back to training mode
    (BatchNorm statistics update again, as pysot and NanoTrack do), the optimizer's state
    (momentum) is reset, as pysot rebuilds its optimizer there, and ``rewrap_model`` is called
    so that a DistributedDataParallel wrapper learns about the parameters that now need
    gradients.
    A resumed run past the unfreeze point unfreezes in ``before_train``.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        train_stages: Iterable[str],
        unfreeze_iter: int,
        rewrap_model: Callable[[], None],
    ):
        self._model = model
        self._train_stages = list(train_stages)
        self._unfreeze_iter = unfreeze_iter
        self._rewrap_model = rewrap_model
        self._unfrozen = unfreeze_iter == 0  # trained from the start: nothing to unfreeze

    @property
    def frozen_stages(self) -> List[str]:
        stages = backbone_stage_names(self._model)
        if self._unfrozen:
            return [s for s in stages if s not in self._train_stages]
        return stages

    def _unfreeze(self) -> None:
        set_stages_trainable(self._model, self._train_stages, True)
        for name in self._train_stages:  # their BatchNorm was put in eval mode before each step
            getattr(self._model.backbone, name).train(self._model.training)
        self._unfrozen = True
        self.trainer.optimizer.state.clear()
        self._rewrap_model()
        logger.info(f"Iteration {self.trainer.iter}: unfroze backbone stages {self._train_stages}")

    def before_train(self) -> None:
        if 0 <= self._unfreeze_iter <= self.trainer.iter and not self._unfrozen:
            self._unfreeze()

    def before_step(self) -> None:
        if self.trainer.iter == self._unfreeze_iter and not self._unfrozen:
            self._unfreeze()
        for name in self.frozen_stages:
            getattr(self._model.backbone, name).eval()
