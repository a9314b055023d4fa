"""The machine a benchmark ran on, thread settings, and the devices to run on."""
import ctypes
import ctypes.util
import os
import platform
from typing import Callable, Dict, List, Optional

import paddle
from paddle.base import core


def cpu_model(cpuinfo: str = "/proc/cpuinfo") -> str:
    """Return the first 'model name' of /proc/cpuinfo, else platform.processor()."""
    try:
        with open(cpuinfo, encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def torch_module():
    """Return the torch module, or None when it is not installed (it is an optional extra)."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def gpu_available() -> bool:
    """True when Paddle was built with CUDA and sees at least one GPU."""
    return paddle.device.is_compiled_with_cuda() and paddle.device.cuda.device_count() > 0


def devices(requested: Optional[List[str]] = None) -> List[str]:
    """Return the devices to run on: 'cpu' always, 'gpu' when one is present (or as requested)."""
    found = ["cpu"] + (["gpu"] if gpu_available() else [])
    if requested is None:
        return found
    missing = [d for d in requested if d not in found]
    if missing:
        raise ValueError(f"device {missing[0]!r} is not available; available: {', '.join(found)}")
    return list(requested)


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
MALLOC_MODES = ("default", "keep")


def set_malloc(mode: str) -> str:
    """'keep': make glibc keep freed buffers up to 32 MiB (mmap threshold 32 MiB, trim 1 GiB).

    Paddle's CPU allocator hands large buffers back to malloc, which by default returns them to
    the OS, so every new large tensor page-faults on first touch; on CPU that can cost more than
    the arithmetic. 'default' leaves glibc as it is, which is what users get. Returns a
    description for the report.
    """
    if mode not in MALLOC_MODES:
        raise ValueError(f"unknown malloc mode {mode!r}; known: {', '.join(MALLOC_MODES)}")
    if mode == "default":
        return "glibc defaults"
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    if not (libc.mallopt(_M_MMAP_THRESHOLD, 32 << 20) and libc.mallopt(_M_TRIM_THRESHOLD, 1 << 30)):
        raise RuntimeError("set_malloc('keep'): glibc mallopt refused the thresholds")
    return "glibc mallopt: mmap threshold 32 MiB, trim threshold 1 GiB"


def set_threads(threads: int) -> None:
    """Use `threads` CPU threads in Paddle and, if installed, torch.

    OMP_NUM_THREADS only takes effect before the libraries load, so tools/benchmark.py sets it
    from the same argument before importing Paddle.
    """
    if threads < 1:
        raise ValueError(f"threads must be at least 1, got {threads}")
    core.set_num_threads(threads)
    torch = torch_module()
    if torch is not None:
        torch.set_num_threads(threads)


def syncs(device: str) -> Dict[str, Callable[[], None]]:
    """Return functions that wait for queued work: {'paddle': ..., 'torch': ...}."""
    if device == "cpu":
        return {"paddle": lambda: None, "torch": lambda: None}
    torch = torch_module()
    return {"paddle": paddle.device.synchronize,
            "torch": torch.cuda.synchronize if torch is not None else (lambda: None)}


def machine_info(threads: int) -> Dict:
    """Describe the machine: CPU model, cores, threads, load, GPU and library versions."""
    torch = torch_module()
    info = {
        "cpu": cpu_model(),
        "logical_cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "threads": threads,
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        "paddle": paddle.__version__,
        "torch": torch.__version__ if torch is not None else None,
        "gpu": None,
    }
    if gpu_available():
        info["gpu"] = paddle.device.cuda.get_device_name(0)
    return info
