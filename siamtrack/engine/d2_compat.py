"""The two places where siamtrack needs detectron2 internals, and why (one module to update
when detectron2 changes).

- ``restart_train_loader``: a resumed run must continue the pair stream where the stopped run
  was, so the trainer's data loader is replaced after ``resume_or_load`` has read the
  iteration. ``SimpleTrainer`` has no public way to restart its iterator: detectron2 0.6 makes
  it in ``__init__`` (``_data_loader_iter``), newer versions lazily (``_data_loader_iter_obj``).
- ``create_local_process_group``: CPU multi-process training (gloo) cannot use detectron2 0.6's
  ``launch`` (it asserts CUDA), so siamtrack initialises the process groups itself; detectron2's
  ``comm.get_local_rank`` reads a module-level group that newer versions set with the public
  ``comm.create_local_process_group`` and 0.6 only through ``comm._LOCAL_PROCESS_GROUP``.
"""

import torch.distributed as dist
from detectron2.utils import comm

__all__ = ["create_local_process_group", "restart_train_loader"]


def restart_train_loader(trainer, data_loader) -> None:
    """Make ``trainer`` (a ``SimpleTrainer``/``AMPTrainer``) read from ``data_loader`` next."""
    trainer.data_loader = data_loader
    if hasattr(trainer, "_data_loader_iter_obj"):  # newer detectron2: iterator made lazily
        trainer._data_loader_iter_obj = None
    else:  # detectron2 0.6: iterator made in SimpleTrainer.__init__
        trainer._data_loader_iter = iter(data_loader)


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
