"""Dask distributed against Ray on this machine: what hpo's choice of cluster engine rests on.

python benchmarks/cluster_probe.py dask
python benchmarks/cluster_probe.py ray     # needs `pip install ray` (not an hpo dependency)

Prints one JSON line: seconds to start a local cluster of 2 one-core workers,
milliseconds per trivial task (200 after a warm-up of 10), resident memory of
each idle worker process (and Ray's daemons), and what happened to a 3-second
task whose worker was killed with SIGKILL one second in.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from typing import Any


def rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def noop(x: Any) -> Any:
    return x


def slow(x: Any) -> int:
    time.sleep(3)
    return os.getpid()


def dask_probe() -> dict[str, Any]:
    from distributed import Client, LocalCluster

    t0 = time.perf_counter()
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    client = Client(cluster)
    start = time.perf_counter() - t0
    client.gather(client.map(noop, range(10)))
    t0 = time.perf_counter()
    client.gather(client.map(noop, range(200), pure=False))
    per_task = (time.perf_counter() - t0) / 200
    memory = [rss_mb(p) for p in client.run(os.getpid).values()]
    future = client.submit(slow, 1, pure=False)
    time.sleep(1)
    busy = [w for w, keys in client.processing().items() if keys][0]
    pid = client.run(os.getpid, workers=[busy])[busy]
    t0 = time.perf_counter()
    os.kill(pid, signal.SIGKILL)
    try:
        res = future.result(timeout=60)
        took = time.perf_counter() - t0
        lost = f"ran again on another worker (pid {res}, killed {pid}) in {took:.1f} s"
    except Exception as e:  # what a user would see
        lost = f"failed: {type(e).__name__}: {e}"
    client.close()
    cluster.close()
    return {
        "startup_s": round(start, 2),
        "per_task_ms": round(per_task * 1000, 2),
        "worker_rss_mb": [round(m or 0) for m in memory],
        "lost_worker": lost,
    }


def ray_probe() -> dict[str, Any]:
    import ray

    t0 = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    start = time.perf_counter() - t0
    remote_noop = ray.remote(num_cpus=1)(noop)
    ray.get([remote_noop.remote(i) for i in range(10)])
    t0 = time.perf_counter()
    ray.get([remote_noop.remote(i) for i in range(200)])
    per_task = (time.perf_counter() - t0) / 200
    ref = ray.remote(num_cpus=1, max_retries=3)(slow).remote(1)
    time.sleep(1.5)

    def pids(pattern: str) -> list[int]:
        out = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]

    memory = [rss_mb(p) for p in pids("ray::")]
    daemons = sum(rss_mb(p) or 0 for p in pids("raylet|gcs_server"))
    running = pids("ray::slow")
    t0 = time.perf_counter()
    if running:
        os.kill(running[0], signal.SIGKILL)
    try:
        res = ray.get(ref, timeout=60)
        lost = f"ran again (pid {res}, killed {running[:1]}) in {time.perf_counter() - t0:.1f} s"
    except Exception as e:
        lost = f"failed: {type(e).__name__}: {str(e)[:100]}"
    ray.shutdown()
    return {
        "startup_s": round(start, 2),
        "per_task_ms": round(per_task * 1000, 2),
        "worker_rss_mb": [round(m) for m in memory if m],
        "daemons_rss_mb": round(daemons),
        "lost_worker": lost,
    }


if __name__ == "__main__":
    which = sys.argv[1] if len(sys.argv) > 1 else "dask"
    print(which, json.dumps(dask_probe() if which == "dask" else ray_probe()))
