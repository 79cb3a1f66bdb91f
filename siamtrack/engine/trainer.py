"""``SiamTrainer``: detectron2's DefaultTrainer with the SiamRPN++ recipe
(``docs/siamrpnpp.md#training-recipe``), which NanoTrack's shares (``docs/nanotrack.md``): the family-specific parts (targets, losses) live in the
model's ``losses``, the rest is set by the config.

What differs from ``DefaultTrainer``:
- data: pair batches from ``siamtrack.data.build_pair_train_loader``;
- optimizer / LR schedule: ``engine.solver`` (backbone at 0.1x LR, warm-up + log decay,
  full-model gradient clipping);
- backbone freezing: ``hooks.BackboneUnfreezeHook``;
- distributed: DistributedDataParallel also on CPU (gloo), where detectron2's
  ``create_ddp_model`` would pass GPU ``device_ids``;
- checkpoints: ``SiamCheckpointer`` (also reads pysot and ImageNet weights);
- evaluation (``test``): one-pass evaluation (OPE) of the online tracker on the sequence datasets
  in ``DATASETS.TEST``, reported as success AUC / precision to detectron2's metrics.
"""

import logging
from collections import OrderedDict
from typing import Dict

import torch
from detectron2.engine import DefaultTrainer
from detectron2.modeling import build_model
from detectron2.utils import comm
from torch.nn.parallel import DistributedDataParallel

from ..checkpoint import SiamCheckpointer
from ..data import build_pair_train_loader, get_sequences
from ..errors import ConfigError
from ..evaluation import run_ope
from ..tracking import SiamTracker
from . import solver
from .d2_compat import init_default_trainer, inner_trainer, restart_train_loader
from .hooks import BackboneUnfreezeHook, set_stages_trainable

logger = logging.getLogger(__name__)


def unwrap_model(module: torch.nn.Module) -> torch.nn.Module:
    """The network inside a ``DistributedDataParallel`` wrapper (or ``module`` itself)."""
    return module.module if isinstance(module, DistributedDataParallel) else module


def wrap_distributed(model: torch.nn.Module) -> torch.nn.Module:
    """DistributedDataParallel on the model's own device (GPU ids only for CUDA models)."""
    if comm.get_world_size() == 1:
        return model
    on_cuda = next(model.parameters()).device.type == "cuda"
    device_ids = [comm.get_local_rank()] if on_cuda else None
    return DistributedDataParallel(model, device_ids=device_ids, broadcast_buffers=False)


def _build_checkpointer(model, cfg, trainer) -> SiamCheckpointer:
    return SiamCheckpointer(
        model, cfg.OUTPUT_DIR, trust_weights=cfg.MODEL.TRUST_WEIGHTS, trainer=trainer
    )


class SiamTrainer(DefaultTrainer):
    """Trains a ``SiameseNetwork`` (any registered family: ``SiameseRPN``, ``NanoTrack``, ...) from a config; see the
    module docstring."""

    def __init__(self, cfg):
        # DefaultTrainer's set-up with DDP also on CPU, AMP only with CUDA, SiamCheckpointer
        init_default_trainer(
            self, cfg, wrap_model=wrap_distributed, build_checkpointer=_build_checkpointer
        )

    def resume_or_load(self, resume: bool = True) -> None:
        super().resume_or_load(resume=resume)
        if self.start_iter > 0:  # continue the pair stream exactly where the stopped run was
            loader = self.build_train_loader(self.cfg, start_iter=self.start_iter)
            restart_train_loader(self, loader)

    def state_dict(self):
        """As ``DefaultTrainer``'s, with the optimizer's state: detectron2 0.6's DefaultTrainer
        does not save its inner trainer (momentum), newer versions do (key ``_trainer``)."""
        state = super().state_dict()
        state["_trainer"] = inner_trainer(self).state_dict()
        return state

    def load_state_dict(self, state_dict) -> None:
        super().load_state_dict(state_dict)
        if "_trainer" in state_dict:
            inner_trainer(self).load_state_dict(state_dict["_trainer"])

    def _rewrap_model(self) -> None:
        """Rebuild the DDP wrapper after ``requires_grad`` changed (DDP fixes its set of
        gradient-carrying parameters at construction)."""
        if comm.get_world_size() > 1:
            inner = inner_trainer(self)
            inner.model = wrap_distributed(unwrap_model(inner.model))

    def build_hooks(self):
        hooks = super().build_hooks()
        unfreeze = BackboneUnfreezeHook(
            unwrap_model(self.model),
            self.cfg.MODEL.BACKBONE.TRAIN_STAGES,
            self.cfg.SOLVER.BACKBONE_UNFREEZE_ITER,
            rewrap_model=self._rewrap_model,
        )
        hooks.insert(1, unfreeze)
        return hooks

    @staticmethod
    def auto_scale_workers(cfg, num_workers: int):
        scaled = DefaultTrainer.auto_scale_workers(cfg, num_workers)
        old_world_size = cfg.SOLVER.REFERENCE_WORLD_SIZE
        if scaled is cfg or cfg.SOLVER.BACKBONE_UNFREEZE_ITER <= 0:
            return scaled
        frozen = scaled.is_frozen()
        scaled.defrost()
        scale = num_workers / old_world_size
        scaled.SOLVER.BACKBONE_UNFREEZE_ITER = int(round(cfg.SOLVER.BACKBONE_UNFREEZE_ITER / scale))
        if frozen:
            scaled.freeze()
        return scaled

    @classmethod
    def build_model(cls, cfg):
        """The model, with backbone stages frozen as the recipe wants at iteration 0."""
        model = build_model(cfg)
        train_stages = solver.check_train_stages(model, cfg.MODEL.BACKBONE.TRAIN_STAGES)
        all_stages = solver.backbone_stage_names(model)
        frozen_forever = all_stages[: cfg.MODEL.BACKBONE.FREEZE_AT]  # FrozenBN, no gradients
        conflict = [s for s in train_stages if s in frozen_forever]
        if conflict:
            raise ConfigError(
                f"MODEL.BACKBONE.TRAIN_STAGES lists {conflict}, which MODEL.BACKBONE.FREEZE_AT "
                f"{cfg.MODEL.BACKBONE.FREEZE_AT} freezes for good (stages {frozen_forever}); "
                "lower FREEZE_AT or drop them from TRAIN_STAGES"
            )
        trained_now = train_stages if cfg.SOLVER.BACKBONE_UNFREEZE_ITER == 0 else []
        set_stages_trainable(model, [s for s in all_stages if s not in trained_now], False)
        set_stages_trainable(model, trained_now, True)
        return model

    @classmethod
    def build_optimizer(cls, cfg, model):
        return solver.build_optimizer(cfg, model)

    @classmethod
    def build_lr_scheduler(cls, cfg, optimizer):
        return solver.build_lr_scheduler(cfg, optimizer)

    @classmethod
    def build_train_loader(cls, cfg, start_iter: int = 0):
        return build_pair_train_loader(cfg, start_iter=start_iter)

    @classmethod
    def test(cls, cfg, model, evaluators=None) -> Dict[str, Dict[str, float]]:
        """One-pass evaluation of the online tracker on every ``DATASETS.TEST`` sequence dataset.

        Runs on the main process only (other ranks return an empty dict). Each dataset is
        scored with its benchmark's protocol (``siamtrack.evaluation.protocols``). Returns
        ``{dataset: {metric: percent}}``, e.g. ``{"auc", "precision_20", "norm_precision"}``
        (OTB / LaSOT rules) or ``{"ao", "sr50", "sr75"}`` (GOT-10k).
        """
        if evaluators is not None:
            raise ValueError("SiamTrainer.test evaluates trackers with OPE; evaluators are unused")
        if not comm.is_main_process() or not cfg.DATASETS.TEST:
            return {}
        model = unwrap_model(model)
        was_training = model.training
        results = OrderedDict()
        try:
            tracker = SiamTracker(cfg, model=model)
            for dataset_name in cfg.DATASETS.TEST:
                report = run_ope(tracker, get_sequences(dataset_name), show_progress=False)
                results[dataset_name] = {k: 100.0 * v for k, v in report.metrics().items()}
                logger.info(
                    f"OPE on {dataset_name}: "
                    + ", ".join(f"{k} {v:.1f}" for k, v in results[dataset_name].items())
                )
        finally:
            model.train(was_training)
        return results
