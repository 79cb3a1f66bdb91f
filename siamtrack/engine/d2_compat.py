"""The places where siamtrack needs detectron2 internals, and why (one module to update when
detectron2 changes).

- ``init_default_trainer`` / ``inner_trainer``: ``SiamTrainer`` is a ``DefaultTrainer`` whose
  constructor must differ in three fixed choices (DDP also on CPU, AMP only with CUDA,
  ``SiamCheckpointer``), so it sets up the attributes ``DefaultTrainer``'s methods rely on
  itself, as detectron2 0.6's ``DefaultTrainer.__init__`` does; the inner ``SimpleTrainer``
  (model, optimizer state) is the private ``_trainer``.
- ``restart_train_loader``: a resumed run must continue the pair stream where the stopped run
  was, so the trainer's data loader is replaced after ``resume_or_load`` has read the
  iteration. ``SimpleTrainer`` has no public way to restart its iterator: detectron2 0.6 makes
  it in ``__init__`` (``_data_loader_iter``), newer versions lazily (``_data_loader_iter_obj``).
- ``create_local_process_group``: CPU multi-process training (gloo) cannot use detectron2 0.6's
  ``launch`` (it asserts CUDA), so siamtrack initialises the process groups itself; detectron2's
  ``comm.get_local_rank`` reads a module-level group that newer versions set with the public
  ``comm.create_local_process_group`` and 0.6 only through ``comm._LOCAL_PROCESS_GROUP``.
"""

import logging
import weakref
from typing import Callable

import torch
import torch.distributed as dist
from detectron2.engine import AMPTrainer, SimpleTrainer, TrainerBase
from detectron2.utils import comm
from detectron2.utils.logger import setup_logger

__all__ = [
    "create_local_process_group",
    "init_default_trainer",
    "inner_trainer",
    "restart_train_loader",
]


def init_default_trainer(trainer, cfg, *, wrap_model: Callable, build_checkpointer: Callable):
    """Set up ``trainer`` (an instance of a ``DefaultTrainer`` subclass) as detectron2 0.6's
    ``DefaultTrainer.__init__`` does, with its builders (``build_model``, ``build_optimizer``,
    ``build_train_loader``, ``build_lr_scheduler``, ``build_hooks``, ``auto_scale_workers``)
    and three choices of the caller's:

    - ``wrap_model(model)`` wraps the model for training instead of ``create_ddp_model``;
    - AMP (``SOLVER.AMP.ENABLED``) only where CUDA is available;
    - ``build_checkpointer(model, cfg, trainer_proxy)`` makes ``trainer.checkpointer``
      (with the unwrapped model) instead of ``DetectionCheckpointer``.
    """
    TrainerBase.__init__(trainer)
    if not logging.getLogger("detectron2").isEnabledFor(logging.INFO):
        setup_logger()
    cfg = trainer.auto_scale_workers(cfg, comm.get_world_size())
    model = trainer.build_model(cfg)
    optimizer = trainer.build_optimizer(cfg, model)
    data_loader = trainer.build_train_loader(cfg)
    use_amp = cfg.SOLVER.AMP.ENABLED and torch.cuda.is_available()
    trainer._trainer = (AMPTrainer if use_amp else SimpleTrainer)(
        wrap_model(model), data_loader, optimizer
    )
    trainer.scheduler = trainer.build_lr_scheduler(cfg, optimizer)
    trainer.checkpointer = build_checkpointer(model, cfg, weakref.proxy(trainer))
    trainer.start_iter = 0
    trainer.max_iter = cfg.SOLVER.MAX_ITER
    trainer.cfg = cfg
    trainer.register_hooks(trainer.build_hooks())


def inner_trainer(trainer):
    """The ``SimpleTrainer`` / ``AMPTrainer`` a ``DefaultTrainer`` runs (``.model`` is the
    training model, wrapped; ``state_dict()`` holds the optimizer state)."""
    return trainer._trainer


def restart_train_loader(trainer, data_loader) -> None:
    """Make ``trainer`` (a ``DefaultTrainer``) read from ``data_loader`` next."""
    inner = inner_trainer(trainer)
    inner.data_loader = data_loader
    if hasattr(inner, "_data_loader_iter_obj"):  # newer detectron2: iterator made lazily
        inner._data_loader_iter_obj = None
    else:  # detectron2 0.6: iterator made in SimpleTrainer.__init__
        inner._data_loader_iter = iter(data_loader)


def create_local_process_group(processes_per_machine: int) -> None:
    """The group of ranks on this machine, which ``comm.get_local_rank`` uses."""
    if hasattr(comm, "create_local_process_group"):
        comm.create_local_process_group(processes_per_machine)
        return
    machine_rank = dist.get_rank() // processes_per_machine
    for i in range(dist.get_world_size() // processes_per_machine):
        group = dist.new_group(
            list(range(i * processes_per_machine, (i + 1) * processes_per_machine))
        )
        if i == machine_rank:
            comm._LOCAL_PROCESS_GROUP = group
