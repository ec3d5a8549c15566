"""The ``torch.distributed`` process group of a ``torchrun`` launch (DDP training)."""

import contextlib
import os


@contextlib.contextmanager
def distributed_context(device):
    """Inside a ``torchrun`` launch (WORLD_SIZE > 1): a process group for this rank (gloo on
    a CPU, nccl on CUDA, one GPU per local rank), destroyed at the end; yields
    ``(rank, world_size, device)``. Otherwise ``(0, 1, device)``."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        yield 0, 1, device
        return
    import torch
    import torch.distributed as dist

    from ..device import resolve_device

    local = int(os.environ.get("LOCAL_RANK", "0"))
    resolved = resolve_device(device)
    if resolved.startswith("cuda"):
        resolved = f"cuda:{local}"
        torch.cuda.set_device(local)
    dist.init_process_group(backend="nccl" if resolved.startswith("cuda") else "gloo")
    try:
        yield dist.get_rank(), dist.get_world_size(), resolved
    finally:
        dist.destroy_process_group()
