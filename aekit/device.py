"""Choosing where tensors live: ``auto`` takes a CUDA GPU when there is one."""


def resolve_device(device="auto"):
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
        raise ValueError("device 'cuda' was asked for but no CUDA GPU is available")
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
