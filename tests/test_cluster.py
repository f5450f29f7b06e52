"""Cells on a real Dask cluster: same records as a local run, a killed worker's cell resumed.

The clusters here are real: a scheduler and worker processes on this machine
(Dask's LocalCluster, the path `--hpo-cluster local:N` takes), not mocks.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hpo.errors import HpoError
from hpo.experiment.results import load_results
from hpo.parallel.cluster import Cluster, ClusterAddress, mismatch, parse_cluster, worker_facts
from hpo.parallel.isolation import run_cell_isolated
from hpo.run.cell import Cell
from hpo.run.store import Outcome, RunOptions, work_dir
from tests.helpers import outside_xdist

ROOT = Path(__file__).parents[1]


@pytest.mark.parametrize("text", ["local:0", "local", "local:two", "", "tcp://a b:1"])
def test_bad_cluster_addresses_are_refused_in_one_line(text):
    with pytest.raises(HpoError) as e:
        parse_cluster(text)
    assert "\n" not in str(e.value)


def test_cluster_addresses():
    assert parse_cluster("local:2") == ClusterAddress("local:2", 2)
    assert parse_cluster(" tcp://10.0.0.5:8786 ") == ClusterAddress("tcp://10.0.0.5:8786")


def test_a_worker_with_other_versions_is_named_with_what_differs():
    ours = worker_facts()
    theirs = {**ours, "versions": {**ours["versions"], "tensorflow": "2.0.0"}}
    assert mismatch(ours, ours) is None
    assert mismatch(ours, theirs) == f"tensorflow 2.0.0 (here {ours['versions']['tensorflow']})"


@pytest.mark.slow
def test_real_workers_with_other_hpo_code_or_daemonic_are_refused_before_any_cell(tmp_path):
    import dask
    from distributed import LocalCluster

    def local(**kwargs) -> LocalCluster:
        return LocalCluster(n_workers=1, processes=True, dashboard_address=None, **kwargs)

    with local() as daemonic, pytest.raises(HpoError, match="DASK_DISTRIBUTED__WORKER__DAEMON"):
        Cluster(ClusterAddress(daemonic.scheduler_address))
    preload = tmp_path / "other_code.py"  # this worker's hpo reports another source hash
    preload.write_text(
        "import hpo.run.provenance\nhpo.run.provenance.source_hash = lambda: 'f00d'\n"
    )
    with (
        dask.config.set({"distributed.worker.daemon": False}),
        local(preload=[str(preload)]) as lc,
        pytest.raises(HpoError, match=r"runs other versions: hpo source f00d \(here "),
    ):
        Cluster(ClusterAddress(lc.scheduler_address))


@pytest.mark.slow
def test_an_unreachable_scheduler_stops_the_session_in_one_line_exit_2(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "benchmarks/test_search.py", "--hpo-profile", "smoke",
         "--hpo-seeds", "0", "--hpo-cluster", "tcp://127.0.0.1:9",
         "--benchmark-json", str(tmp_path / "b.json")],
        capture_output=True, text=True, cwd=ROOT, timeout=300, env=outside_xdist(),
    )  # fmt: skip
    assert proc.returncode == 2
    lines = (proc.stdout + proc.stderr).strip().splitlines()
    assert len(lines) == 1
    assert "hpo: error: cannot reach the Dask scheduler at tcp://127.0.0.1:9" in lines[0]
    assert "Traceback" not in proc.stdout + proc.stderr


def _session(json_path: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "benchmarks/test_search.py", "--hpo-profile", "smoke",
         "--hpo-seeds", "0-1", "--hpo-tuners", "hyperband,bayesian,random",
         "--benchmark-json", str(json_path), *extra],
        capture_output=True, text=True, cwd=ROOT, timeout=1200, env=outside_xdist(),
    )  # fmt: skip


def _records(json_path: Path) -> dict[str, dict]:
    return {c.id.name: c.without_times() for c in load_results([json_path]).cells}


@pytest.mark.slow
def test_a_local_cluster_gives_the_records_a_local_session_gives(tmp_path):
    local = _session(tmp_path / "local.json")
    assert local.returncode == 0, local.stdout[-3000:]
    cluster = _session(tmp_path / "cluster.json", "--hpo-cluster", "local:2")
    assert cluster.returncode == 0, cluster.stdout[-3000:]
    assert _records(tmp_path / "cluster.json") == _records(tmp_path / "local.json")
    assert len(_records(tmp_path / "local.json")) == 6
    doc = json.loads((tmp_path / "cluster.json").read_text())
    assert doc["machine_info"]["hpo"]["cluster"] == {
        "engine": "dask", "address": "local:2", "workers": 2
    }  # fmt: skip
    assert (
        "on a Dask cluster (local:2) of 2 workers"
        in (tmp_path / "cluster-report" / "report.md").read_text()
    )


@pytest.mark.slow
def test_a_worker_killed_mid_cell_is_replaced_and_the_cell_resumes_to_the_same_record(tmp_path):
    cell = Cell.of("random", 6, "quick")
    record_path = tmp_path / "cells" / f"{cell.name}.json"
    record_path.parent.mkdir()
    cluster = Cluster(parse_cluster("local:2"))
    try:
        # The straight run with the TensorFlow threads each cluster worker gets: on some
        # CPUs float32 sums round differently with the thread count.
        threads = max(1, len(os.sched_getaffinity(0)) // 2)
        expected, _ = run_cell_isolated(cell, tmp_path / "straight.json", threads=threads)
        cluster.submit([(cell, record_path)], RunOptions())
        log = None
        deadline = time.monotonic() + 300
        while log is None and time.monotonic() < deadline:  # a trial or more done
            log = next(work_dir(record_path).glob("*/hpo-history-*.json"), None)
            time.sleep(0.2)
        assert log is not None, "the cell never finished a trial"
        busy = [w for w, keys in cluster.client.processing().items() if keys]
        pid = cluster.client.run(os.getpid, workers=busy)[busy[0]]
        os.kill(pid, signal.SIGKILL)
        resumed, how = cluster.result(cell, record_path, RunOptions())
    finally:
        cluster.close()
    assert how == Outcome.RESUMED and resumed.resumes >= 1
    assert resumed.without_times() == expected.without_times()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_cluster(port: int) -> list[subprocess.Popen]:
    """A scheduler and one worker as separate processes, with Dask's own commands."""
    dask = Path(sys.executable).with_name("dask")
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    scheduler = subprocess.Popen(
        [str(dask), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True,
    )  # fmt: skip
    worker = subprocess.Popen(
        [str(dask), "worker", f"tcp://127.0.0.1:{port}", "--nworkers", "1", "--nthreads", "1",
         "--no-dashboard"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True,
    )  # fmt: skip
    return [scheduler, worker]


def _stop(processes: list[subprocess.Popen]) -> None:
    """Kill each process with everything it started (its own session)."""
    for p in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, signal.SIGKILL)
        p.wait()


@pytest.mark.slow
def test_a_lost_scheduler_stops_the_session_in_one_line_and_a_rerun_reuses_what_finished(
    tmp_path,
):
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    command = [
        sys.executable, "-m", "pytest", "benchmarks/test_search.py", "--hpo-profile", "smoke",
        "--hpo-seeds", "0-2", "--hpo-tuners", "random,hyperband", "--hpo-cluster", address,
        "--benchmark-json", str(tmp_path / "b.json"),
    ]  # fmt: skip
    env = outside_xdist()
    cluster = _start_cluster(port)
    try:
        time.sleep(3)
        session = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT
        )
        for line in session.stdout:
            if "smoke: test acc" in line:  # one cell finished
                _stop(cluster[:1])  # the scheduler
                break
        out = session.communicate(timeout=300)[0]
    finally:
        _stop(cluster)
    assert session.returncode == 1, out[-3000:]
    last = out.strip().splitlines()[-1]
    assert f"hpo: error: lost the Dask scheduler at {address};" in last, out[-3000:]
    assert "run the same command again" in last and "Traceback" not in out
    done = len(list((tmp_path / "b-cells").glob("*.json")))
    assert done >= 1
    cluster = _start_cluster(port)
    try:
        time.sleep(3)
        again = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT,
                               timeout=600)  # fmt: skip
    finally:
        _stop(cluster)
    assert again.returncode == 0, again.stdout[-3000:]
    assert again.stdout.count("(reused)") >= done
    assert len(list((tmp_path / "b-cells").glob("*.json"))) == 6


@pytest.mark.slow
def test_a_users_task_runs_on_the_workers_as_it_runs_here(tmp_path):
    cell = Cell.of("random", 0, "smoke", "tests.user_tasks:mlp_task")
    here, _ = run_cell_isolated(cell, record_path=tmp_path / "here.json")
    cluster = Cluster(parse_cluster("local:1"))
    try:
        there, how = cluster.result(cell, tmp_path / "there.json", RunOptions())
    finally:
        cluster.close()
    assert how == Outcome.RAN
    assert there.without_times() == here.without_times()


@pytest.mark.slow
def test_a_task_the_workers_cannot_load_is_refused_before_any_cell(tmp_path, monkeypatch):
    cluster = Cluster(parse_cluster("local:1"))  # its worker starts without the folder below
    try:
        (tmp_path / "only_here.py").write_text("from tests.user_tasks import mlp_task as task\n")
        monkeypatch.syspath_prepend(str(tmp_path))
        cell = Cell.of("random", 0, "smoke", "only_here:task")
        with pytest.raises(HpoError, match="cannot load task 'only_here:task'") as e:
            cluster.result(cell, tmp_path / "r.json", RunOptions())
        assert "\n" not in str(e.value)
        assert not (tmp_path / "r.json").exists()
    finally:
        cluster.close()
