"""Start single- or multi-process training: detectron2's ``launch`` plus CPU and torchrun support.

- CUDA available: detectron2's ``launch`` (NCCL, one process per GPU, multi-machine via
  ``--dist-url``), unchanged.
- No CUDA and more than one process requested: the same process layout with the gloo backend
  (detectron2 0.6's ``launch`` asserts CUDA; this does not).
- Started by ``torchrun`` (``RANK``/``WORLD_SIZE``/``LOCAL_RANK``/``LOCAL_WORLD_SIZE`` set): the
  process group is initialised from those variables (``env://``), NCCL with CUDA, gloo without.
"""

import logging
import os
import socket
from datetime import timedelta

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from detectron2.engine import launch as d2_launch
from detectron2.utils import comm

from ..errors import BadInputError
from .d2_compat import create_local_process_group

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = timedelta(minutes=30)
TORCHRUN_VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")


def started_by_torchrun() -> bool:
    return all(v in os.environ for v in TORCHRUN_VARIABLES)


def _free_local_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _init_process_group(init_method, world_size, rank, local_rank, processes_per_machine, timeout):
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    dist.init_process_group(
        backend=backend, init_method=init_method, world_size=world_size, rank=rank, timeout=timeout
    )
    create_local_process_group(processes_per_machine)
    if torch.cuda.is_available():
        torch.cuda.set_device(local_rank)
    comm.synchronize()


def _cpu_worker(
    local_rank, main_func, world_size, per_machine, machine_rank, dist_url, args, timeout
):
    rank = machine_rank * per_machine + local_rank
    _init_process_group(dist_url, world_size, rank, local_rank, per_machine, timeout)
    try:
        main_func(*args)
    finally:
        dist.destroy_process_group()


def launch(
    main_func,
    num_processes_per_machine: int,
    num_machines: int = 1,
    machine_rank: int = 0,
    dist_url: str = "auto",
    args=(),
    timeout: timedelta = DEFAULT_TIMEOUT,
):
    """Run ``main_func(*args)`` in every training process (see the module docstring).

    Args:
        num_processes_per_machine: processes on this machine (``--num-gpus``: GPUs with CUDA,
            CPU processes without).
        num_machines, machine_rank, dist_url: as detectron2's ``launch``; ``dist_url="auto"``
            picks a free local port (single machine only).
    """
    if started_by_torchrun():
        world_size = int(os.environ["WORLD_SIZE"])
        per_machine = int(os.environ.get("LOCAL_WORLD_SIZE", world_size))
        _init_process_group(
            "env://",
            world_size,
            int(os.environ["RANK"]),
            int(os.environ["LOCAL_RANK"]),
            per_machine,
            timeout,
        )
        try:
            return main_func(*args)
        finally:
            dist.destroy_process_group()
    world_size = num_processes_per_machine * num_machines
    if world_size <= 1:
        return main_func(*args)
    if torch.cuda.is_available():
        return d2_launch(
            main_func,
            num_processes_per_machine,
            num_machines=num_machines,
            machine_rank=machine_rank,
            dist_url=dist_url,
            args=args,
            timeout=timeout,
        )
    if dist_url == "auto":
        if num_machines != 1:
            raise BadInputError("--dist-url auto works on one machine only; give tcp://HOST:PORT")
        dist_url = f"tcp://127.0.0.1:{_free_local_port()}"
    logger.info(f"No CUDA: starting {num_processes_per_machine} CPU processes (gloo backend)")
    mp.start_processes(
        _cpu_worker,
        nprocs=num_processes_per_machine,
        args=(
            main_func,
            world_size,
            num_processes_per_machine,
            machine_rank,
            dist_url,
            args,
            timeout,
        ),
        start_method="spawn",
    )
