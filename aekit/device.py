"""Choosing where tensors live: ``auto`` takes a CUDA GPU when there is one."""


def resolve_device(device="auto"):
    """The torch device name for ``device``: "auto" (a CUDA GPU, else Apple's MPS, else
    the CPU), "cpu", "cuda", "cuda:N" or "mps".

    Raises
    ------
    ValueError
        An unknown device, or one this machine does not have.
    """
    import torch

    if device is None or device == "auto":
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return "mps"
        return "cpu"
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"unknown device {device!r}: use auto, cpu, cuda or cuda:N") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} was asked for but no CUDA GPU is available")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise ValueError(f"device {device!r} was asked for but this machine has "
                         f"{torch.cuda.device_count()} CUDA GPU(s): cuda:0 to "
                         f"cuda:{torch.cuda.device_count() - 1}")
    if dev.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise ValueError(f"device {device!r} was asked for but this machine has no "
                             "Apple GPU (MPS)")
    elif dev.type not in ("cpu", "cuda"):
        raise ValueError(f"unknown device {device!r}: use auto, cpu, cuda or cuda:N")
    return str(dev)


def gpu_possible():
    """Whether torch might find a GPU here, judged without importing torch (~2.5 s).

    No NVIDIA or AMD device node (Linux, WSL) means no CUDA or ROCm device;
    elsewhere (macOS with MPS, Windows) it cannot be told cheaply, so yes.
    """
    import os
    import sys

    if not sys.platform.startswith("linux"):
        return True
    return any(os.path.exists(p) for p in ("/dev/nvidiactl", "/dev/nvidia0", "/dev/kfd", "/dev/dxg"))
