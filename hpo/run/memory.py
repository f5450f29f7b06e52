"""Resident memory of this process: now, and the peak since the last reset (Linux /proc).

Linux lets a process reset its own high-water mark (`clear_refs` 5), so each
cell's peak is its own, not the session's. Elsewhere the peak falls back to
`ru_maxrss`, the process's peak since it started.
"""

from __future__ import annotations

import os
import resource
import sys

_PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20 if hasattr(os, "sysconf") else 0.0


def rss_mb() -> float | None:
    """Resident set size now, in MiB (None where /proc is absent)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * _PAGE_MB
    except OSError:
        return None


def reset_peak() -> bool:
    """Start a new peak measurement; False where the platform cannot."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_rss_mb() -> float:
    """Peak resident set size since `reset_peak()` (or since start), in MiB."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024
