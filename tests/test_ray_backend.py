"""Issue 14: the ``ray`` backend — the same A3C on a Ray cluster, loopback only on this machine.

Two Ray set-ups, each started once (Ray takes seconds to start) and torn down on every exit
path: the backend's own local instance (``ray.init(num_cpus=2)``: learning, loopback sockets,
nothing left behind) and a real two-node ``ray.cluster_utils.Cluster`` (placement on both nodes,
a raising worker, a killed worker actor, Stop, the CLI joining by address). Ray's session files
go to a private temp folder (``RAY_TMPDIR``), removed at the end; the processes are found by it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import psutil
import pytest
from fault_envs import fault
from process_helpers import ENV, group_run

from a3c_lib.engine import training
from a3c_lib.engine.checkpoint import load_checkpoint
from a3c_lib.engine.config import TrainConfig
from a3c_lib.engine.cpus import available_cpus

ray = pytest.importorskip("ray", reason="the optional extra: pip install 'a3c-course[ray]'")
from a3c_lib.engine.backends import ray as ray_backend  # noqa: E402 (after the skip)

pytestmark = pytest.mark.timeout(240)
ROOT = Path(__file__).resolve().parents[1]
SMALL = dict(backend="ray", hidden=(16,), target_return=None)
LOOPBACK = {"127.0.0.1", "::1", "::ffff:127.0.0.1"}


@pytest.fixture(scope="module", autouse=True)
def ray_tmp():
    """A private RAY_TMPDIR (and fault_envs importable in Ray's workers), removed at the end."""
    tmp = tempfile.mkdtemp(prefix="a3c-ray-")
    saved = {k: os.environ.get(k) for k in ("RAY_TMPDIR", "PYTHONPATH")}
    os.environ.update(RAY_TMPDIR=tmp, PYTHONPATH=ENV["PYTHONPATH"])
    left = None
    try:
        yield tmp
    finally:
        try:
            with contextlib.suppress(Exception):
                ray.shutdown()
            left = wait_gone(tmp)
        finally:  # whatever happened: the environment back, the folder gone
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            shutil.rmtree(tmp, ignore_errors=True)
    assert left == [], f"Ray processes left behind: {left}"


def ray_processes(tmp: str) -> list[psutil.Process]:
    """Live processes of the Ray instances started here: our children, or any process whose
    command line names our private temp folder (Ray passes its session folder to each)."""
    ours = {p.pid for p in psutil.Process().children(recursive=True)}
    out = []
    for p in psutil.process_iter(["pid", "name", "cmdline", "status"]):
        try:
            cmd = " ".join(p.info["cmdline"] or [])
            if p.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            if tmp in cmd or (p.pid in ours and ("ray" in p.info["name"] or "ray" in cmd)):
                out.append(p)
        except psutil.Error:
            pass
    return out


def wait_gone(tmp: str, timeout: float = 30.0) -> list[str]:
    """Wait (polling the process table) until Ray's processes of ``tmp`` are gone; return the
    ones still alive at the deadline, after killing them (the next test must start clean)."""
    deadline = time.monotonic() + timeout
    while (left := ray_processes(tmp)) and time.monotonic() < deadline:
        time.sleep(0.1)
    names = []
    for p in left:
        with contextlib.suppress(psutil.Error):
            names.append(f"{p.pid} {p.name()}")
            p.kill()
    psutil.wait_procs(left, timeout=5)
    return names


def non_loopback_sockets(tmp: str) -> list[str]:
    """TCP sockets of our Ray processes with an address other than loopback (listening ones
    on 0.0.0.0 included)."""
    bad = []
    for p in ray_processes(tmp):
        with contextlib.suppress(psutil.Error):
            for c in p.net_connections(kind="inet"):
                for addr in (c.laddr, c.raddr):
                    if addr and addr.ip not in LOOPBACK:
                        bad.append(f"{p.name()}: {c.laddr} -> {c.raddr} {c.status}")
    return bad


def wait_for(condition, timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def actors_dead(backend) -> bool:
    """Every actor of the run (workers and server) is gone: a call to it fails at once."""
    for actor in [*backend._workers, backend._server]:
        try:
            ray.get(actor.snapshot.remote() if actor is backend._server else
                    actor.where.remote(), timeout=30)
            return False
        except ray.exceptions.RayActorError:
            pass
    return True


# ---- bad input (no Ray started) ----------------------------------------------------------------
def test_ray_address_only_with_the_ray_backend():
    with pytest.raises(ValueError, match="ray_address must be None or a Ray address"):
        TrainConfig(ray_address="auto")
    with pytest.raises(ValueError, match="ray_address must be None"):
        TrainConfig(backend="ray", ray_address="")


def test_without_ray_installed_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    with pytest.raises(ValueError, match=r"backend 'ray' needs Ray.*a3c-course\[ray\]"):
        training.start(TrainConfig(workers=1, **SMALL))


def test_unreachable_address_fails_with_a_clear_error():
    assert not ray.is_initialized()
    with pytest.raises(ValueError, match=r"no Ray cluster answers at 127\.0\.0\.1:1 "):
        training.start(TrainConfig(workers=1, ray_address="127.0.0.1:1", **SMALL))
    assert not ray.is_initialized()


# ---- the backend's own local instance: ray.init(num_cpus=2) ------------------------------------
@pytest.mark.slow
def test_local_instance_learns_cartpole_on_loopback_and_leaves_nothing(ray_tmp, tmp_path):
    assert not ray.is_initialized() and ray_processes(ray_tmp) == []
    # generous, as tests/test_learning.py: 195 (not 475) within 200k steps, 2 workers
    cfg = TrainConfig(backend="ray", workers=2, seed=0, target_return=195.0, max_steps=200_000)
    run = training.start(cfg, out_dir=tmp_path)
    try:
        # the backend's ray.init(num_cpus=max(usable CPUs, workers)): 2 here, more on a bigger CI
        assert ray.cluster_resources()["CPU"] == max(available_cpus(), 2)
        wait_for(lambda: len(run.metrics.updates) > 0 or not run.running, what="updates")
        assert non_loopback_sockets(ray_tmp) == []
        result = run.wait(timeout=200)
    finally:
        training.stop_and_wait(run)
    assert result is not None and run.error is None
    s = result.summary
    assert s["solved"], f"mean return of the last 100 episodes only {s['final_mean_return']}"
    assert s["solve_steps"] <= 200_000 and min(s["worker_updates"]) > 0
    assert s["updates"] == sum(s["worker_updates"]) == len(result.metrics.updates)
    assert json.loads((tmp_path / "summary.json").read_text())["solved"]
    assert (tmp_path / "metrics.csv").exists() and (tmp_path / "weights.npz").exists()
    assert not ray.is_initialized()  # we started it, we stopped it
    assert wait_gone(ray_tmp) == []


# ---- a real two-node cluster on this machine ---------------------------------------------------
_cluster_error: list[str] = []  # a cluster that failed to start fails the next tests at once


@pytest.fixture(scope="module")
def cluster(ray_tmp):
    """Two Ray nodes of 1 CPU each (head + worker) on 127.0.0.1; this process is its driver."""
    from ray.cluster_utils import Cluster

    if _cluster_error:
        pytest.fail(f"the two-node Ray cluster did not start: {_cluster_error[0]}")
    assert not ray.is_initialized()
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    c = None
    try:
        with ray_backend.loopback_only():
            node = dict(num_cpus=1, node_ip_address="127.0.0.1")
            c = Cluster(initialize_head=True, head_node_args=dict(include_dashboard=False,
                                                                    **node))
            c.add_node(**node)
            c.wait_for_nodes()
            c.connect()
    except Exception as err:  # e.g. Ray's 30 s limit for a raylet to start, on a busy machine
        _cluster_error.append(f"{type(err).__name__}: {err}")
        raise
    finally:
        if not ray.is_initialized():  # a half-started cluster: its processes go now
            if c is not None:
                c.shutdown()
            started = [p for p in psutil.Process().children(recursive=True)
                       if p.pid not in before]
            for p in started:
                with contextlib.suppress(psutil.Error):
                    p.kill()
            psutil.wait_procs(started, timeout=10)
    try:
        assert ray.cluster_resources()["CPU"] == 2
        yield c
    finally:
        with contextlib.suppress(Exception):
            ray.shutdown()
        c.shutdown()
        assert wait_gone(ray_tmp) == []


def alive_nodes() -> set[str]:
    return {n["NodeID"] for n in ray.nodes() if n["Alive"]}


def test_cluster_workers_on_both_nodes_every_update_counted(cluster, tmp_path):
    nodes = alive_nodes()
    assert len(nodes) == 2
    # the run is stopped once EVERY worker has applied updates (a state, not a step budget: CI
    # saw one worker spend a 20k budget before the other node's actor had started); the budget
    # ending a Ray run is the CLI test's. 10**9 is only a safety net.
    cfg = TrainConfig(workers=2, max_steps=10**9, checkpoint_every=100, **SMALL)
    run = training.start(cfg, out_dir=tmp_path)
    try:
        wait_for(lambda: len(run._backend.placement) == 2 or not run.running, what="placement")
        assert non_loopback_sockets(os.environ["RAY_TMPDIR"]) == []
        wait_for(lambda: not run.running or all(
            sum(u.worker == w for u in run.metrics.updates) >= 3 for w in (0, 1)),
            timeout=150, what="3 updates from each worker")
        run.stop()
        result = run.wait(timeout=120)
    finally:
        training.stop_and_wait(run)
    assert run.error is None, run.error
    placed = {node for node, _, _ in run._backend.placement.values()}
    assert placed == nodes  # one worker on each node
    assert {ip for _, ip, _ in run._backend.placement.values()} == {"127.0.0.1"}
    s = result.summary
    assert s["stopped_by"] == "stop" and s["global_steps"] > 0
    assert s["updates"] == sum(s["worker_updates"]) == len(result.metrics.updates)
    assert min(s["worker_updates"]) > 0 and all(u.policy_lag >= 0 for u in result.metrics.updates)
    ckpt = load_checkpoint(tmp_path)  # the final one: the server's last snapshot
    assert (ckpt.step, ckpt.updates) == (s["global_steps"], s["updates"])
    assert np.array_equal(ckpt.theta, result.theta) and ckpt.rms_g.max() > 0  # the server's g
    assert actors_dead(run._backend) and alive_nodes() == nodes  # the cluster keeps running


def test_more_workers_than_cluster_cpus_refused_before_anything_starts(cluster):
    wait_for(lambda: ray.available_resources().get("CPU") == 2, what="free CPUs")
    with pytest.raises(ValueError, match=r"workers must be at most the 2 free CPUs .*got 3"), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TrainConfig's "more workers than THIS machine's CPUs"
        training.start(TrainConfig(workers=3, max_steps=10**9, **SMALL))
    assert ray.is_initialized() and ray.available_resources().get("CPU") == 2  # no actor


def test_worker_exception_surfaces_with_its_traceback(cluster, tmp_path):
    flag = tmp_path / "raised"
    cfg = TrainConfig(workers=2, max_steps=10**9, **{**SMALL, **fault(1, 3, flag=flag)})
    run = training.start(cfg)
    try:
        result = run.wait(timeout=120)
    finally:
        training.stop_and_wait(run)
    assert flag.exists() and result is not None
    assert run.error.startswith("worker 1 failed:\n")
    assert "RuntimeError: fault injected by fault_envs" in run.error
    assert "fault_envs.py" in run.error  # the worker's own traceback
    assert result.summary["stopped_by"] == "error" and actors_dead(run._backend)


def test_killed_worker_actor_is_reported(cluster):
    run = training.start(TrainConfig(workers=2, max_steps=10**9, **SMALL))
    try:
        wait_for(lambda: 1 in run._backend.placement and any(
            u.worker == 1 for u in run.metrics.updates), what="worker 1's first update")
        os.kill(run._backend.placement[1][2], signal.SIGKILL)
        result = run.wait(timeout=60)
    finally:
        training.stop_and_wait(run)
    assert result is not None and run.error.startswith("worker 1 failed:\n")
    assert "Ray actor died" in run.error
    assert result.summary["stopped_by"] == "error" and actors_dead(run._backend)
    assert len(alive_nodes()) == 2  # killing an actor's process does not take its node down


def test_stop_ends_the_run_and_kills_our_actors(cluster):
    run = training.start(TrainConfig(workers=2, max_steps=10**9, **SMALL))
    try:
        wait_for(lambda: len({u.worker for u in run.metrics.updates}) == 2, what="updates")
        run.set_lr(1e-4)  # the dashboard's slider: the server uses it from the next push on
        wait_for(lambda: {u.worker for u in run.metrics.updates if u.lr == 1e-4} == {0, 1},
                 what="updates with the new lr")
        run.stop()
        result = run.wait(timeout=60)
    finally:
        training.stop_and_wait(run)
    assert run.error is None and result.summary["stopped_by"] == "stop"
    assert result.summary["updates"] == sum(result.summary["worker_updates"]) > 0
    assert actors_dead(run._backend) and len(alive_nodes()) == 2


def test_cli_joins_the_cluster_by_address_and_leaves_it_running(cluster, tmp_path):
    # the test's own environment (RAY_TMPDIR, PYTHONPATH, and RAY_AUTH_MODE=token, which Ray's
    # first ray.init set here: the cluster checks tokens), loopback only
    env = {**os.environ, **ray_backend.LOCAL_ENV}
    out = group_run([sys.executable, "-m", "a3c_lib", "train", "--backend", "ray",
                     "--ray-address", cluster.address, "--workers", "2", "--hidden", "16",
                     "--max-steps", "5000", "--target-return", "none", "--out", str(tmp_path),
                     "--no-progress", "--no-keras"], timeout=180, env=env, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    s = json.loads((tmp_path / "summary.json").read_text())
    assert s["global_steps"] >= 5000 and s["config"]["backend"] == "ray"
    assert len(alive_nodes()) == 2
    wait_for(lambda: ray.available_resources().get("CPU") == 2, what="its actors' CPUs back")
