"""The ``ray`` backend: the same A3C workers as Ray actors around a parameter-server actor.

When one machine is not enough (dozens of Atari workers, a class sharing a cluster), the run
keeps its monitor, MetricsLog, stopping criteria and checkpoints (``run.py``) and only the
workers move: this backend follows the asynchronous parameter-server pattern of Ray's docs::

    driver (TrainingRun)          ParameterServer actor            RolloutWorker actors (1 CPU)
    messages() ◄── drain() ────── θ, g, lr, counters        ◄──── push(∇) → fresh θ
                                  (one update at a time)           run_worker(): the SAME loop
                                                                   as the process backend

* A worker runs :func:`~a3c_lib.engine.workers.run_worker` unchanged, with a ``GlobalParams``
  (:class:`RemoteParams`) whose push is ONE actor call: the server applies ∇ with the shared
  RMSProp statistics (``nn.optim.rmsprop_update``) and replies with the new θ, which is the
  worker's θ' for its next rollout. An actor runs one method call at a time, so every update
  (θ, g, counters) is atomic, as under the process backend's lock; updates are asynchronous:
  each worker pushes when its rollout is done, nobody waits for the others.
* Policy lag is measured as in the process backend: updates applied by the server between the
  θ a worker computed its ∇ on and that ∇'s arrival (:class:`ParameterServer`).
* Messages ("ready", "metrics", "done") wait in each worker's outbox; the driver long-polls it
  (``drain``) from its monitor thread. A worker's exception comes back as the ``run`` call's
  error with the worker's traceback; a killed actor as ``ActorDiedError``: both fail the run.

Loopback and privacy: a Ray instance started here (no ``ray_address``) binds 127.0.0.1 only,
sends no usage statistics and runs no dashboard. ``ray_address`` joins a cluster that the user
started (``ray start --head``); it is left running, only this run's actors are killed.

The classes below are plain Python (tested without Ray); :class:`RayBackend` wraps them with
``ray.remote`` at run time, so ``a3c_lib.engine`` imports without Ray installed.

>>> ps = ParameterServer(np.zeros(2), np.zeros(2), step=0, updates=0, n_workers=2, lr=0.1,
...                      alpha=0.75, eps=0.0)
>>> _ = ps.pull(worker=0)
>>> theta, step, lag, lr, updates = ps.push(np.array([1.0, -2.0]), n_steps=32, worker=0)
>>> theta, step, lag               # RMSProp as in nn.optim's example; no other update between
(array([-0.2,  0.2]), 32, 0)
>>> ps.snapshot().counters         # [steps, updates, updates of worker 0, of worker 1]
array([32,  1,  1,  0])
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time

import numpy as np

from a3c_lib.engine.backends import Snapshot
from a3c_lib.engine.cpus import available_cpus
from a3c_lib.engine.workers import WorkerJob, run_worker
from a3c_lib.nn.optim import rmsprop_update

DRAIN_SECONDS = 0.2  # a worker's outbox is long-polled: it answers at once if it holds messages
CONNECT_SECONDS = 5.0  # TCP probe of a --ray-address before ray.init (which would retry forever)
OBJECT_STORE_BYTES = 256 * 2**20  # a local instance's object store: θ is kB (MLP) to MB (Pong)
EXTRA_HINT = "pip install 'a3c-course[ray]' (or: pip install 'ray>=2.60')"
#: Environment of a local instance: loopback only (Ray's own switch, read when Ray is imported
#: and by the processes it starts), no usage statistics sent anywhere.
LOCAL_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0"}


class ParameterServer:
    """The global θ, the shared RMSProp statistics g, the lr and the counters (one actor).

    Counters as in the process backend: [global steps, global updates, updates of each worker].
    """

    def __init__(self, theta: np.ndarray, g: np.ndarray, step: int, updates: int,
                 n_workers: int, lr: float, alpha: float, eps: float) -> None:
        self.theta, self.g = np.array(theta), np.array(g)  # (P,) each, owned here
        self.counters = np.zeros(2 + n_workers, dtype=np.int64)
        self.counters[0], self.counters[1] = step, updates
        self.seen = np.zeros(n_workers, dtype=np.int64)  # global updates at each worker's θ'
        self.lr, self.alpha, self.eps = lr, alpha, eps
        self.scratch = np.empty_like(self.theta)  # work array of the RMSProp update

    def pull(self, worker: int) -> tuple[np.ndarray, int, int]:
        """θ for ``worker`` (its θ'); return (θ, global updates, global steps) at the copy."""
        self.seen[worker] = self.counters[1]
        return self.theta, int(self.counters[1]), int(self.counters[0])

    def push(self, grad: np.ndarray, n_steps: int,
             worker: int) -> tuple[np.ndarray, int, int, float, int]:
        """θ ← RMSProp(θ, g, ∇), count ``n_steps``; return (new θ, global step, policy lag, lr,
        global updates).

        The new θ is also the worker's next θ' (its next pull, with nothing in between): one
        round trip per update instead of two.
        """
        rmsprop_update(self.theta, self.g, grad, self.lr, self.alpha, self.eps, self.scratch)
        policy_lag = int(self.counters[1] - self.seen[worker])  # others' updates since its θ'
        self.counters[0] += n_steps
        self.counters[1] += 1
        self.counters[2 + worker] += 1
        self.seen[worker] = self.counters[1]
        return self.theta, int(self.counters[0]), policy_lag, self.lr, int(self.counters[1])

    def set_lr(self, lr: float) -> None:
        self.lr = lr

    def snapshot(self) -> Snapshot:
        return Snapshot(self.theta.copy(), self.g.copy(), self.counters.copy())


class RemoteParams:
    """``GlobalParams`` inside a worker actor: pull and push are calls to the server actor."""

    def __init__(self, server, worker: int, ray_get) -> None:
        self.server, self.worker, self.ray_get = server, worker, ray_get
        self.fresh = None  # (θ, updates, step) from the last push: the next pull is free

    def pull(self, out: np.ndarray) -> tuple[int, int]:
        fresh = self.fresh or self.ray_get(self.server.pull.remote(self.worker))
        theta, updates, step = fresh
        out[:] = theta  # θ' ← θ
        return updates, step

    def push(self, grad: np.ndarray, n_steps: int, worker: int) -> tuple[int, int, float]:
        theta, step, policy_lag, lr, updates = self.ray_get(
            self.server.push.remote(grad, n_steps, worker))
        self.fresh = (theta, updates, step)
        return step, policy_lag, lr


class RolloutWorker:
    """One actor-learner as an actor: :func:`run` is the process backend's worker loop.

    The actor runs two method calls at once (``max_concurrency=2``): ``run`` (the loop, for
    the whole run) and the driver's short ``drain``/``stop``/``where`` calls beside it.
    """

    def __init__(self, job: WorkerJob, server, t0_wall: float) -> None:
        import multiprocessing

        # the worker's name as under the process backend (logs, test-only fault envs)
        multiprocessing.current_process().name = f"a3c-worker-{job.worker_id}"
        # metrics times count from the run's start: rebase the driver's t0 onto THIS machine's
        # monotonic clock through the wall clock (NTP-synchronised across a cluster)
        self.job = job._replace(t0=time.monotonic() - (time.time() - t0_wall))
        self.server, self.outbox = server, []
        self.stop_event, self.cond = threading.Event(), threading.Condition()

    def where(self) -> tuple[str, str, int]:
        """(Ray node id, node IP, pid) of this worker: where the cluster placed it."""
        import ray

        ctx = ray.get_runtime_context()
        return ctx.get_node_id(), ray.util.get_node_ip_address(), os.getpid()

    def run(self) -> None:
        import ray

        params = RemoteParams(self.server, self.job.worker_id, ray.get)
        run_worker(self.job, params, self.stop_event.is_set, self.emit)

    def emit(self, kind: str, payload) -> None:
        with self.cond:
            self.outbox.append((kind, payload))
            self.cond.notify()

    def drain(self, timeout: float) -> list[tuple[str, object]]:
        """The messages emitted since the last drain; waits up to ``timeout`` s for one."""
        with self.cond:
            self.cond.wait_for(lambda: self.outbox, timeout)
            out, self.outbox = self.outbox, []
        return out

    def stop(self) -> None:
        self.stop_event.set()


# ---- connecting ----------------------------------------------------------------------------
def import_ray():
    """``import ray``, or a ValueError that names the extra to install."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # before Ray reads it
    try:
        import ray
    except ImportError:
        raise ValueError(f"backend 'ray' needs Ray, which is not installed here: "
                         f"{EXTRA_HINT}") from None
    return ray


@contextlib.contextmanager
def loopback_only():
    """Within: a Ray instance started by this process binds 127.0.0.1 only (Ray picks the
    machine's network address otherwise). Ray reads the switch when it is first imported, so
    the module constant is set too, and both are restored afterwards (a driver that later
    joins a real cluster must announce its real address)."""
    from ray._private import ray_constants

    saved_env = {k: os.environ.get(k) for k in LOCAL_ENV}
    saved_flag = ray_constants.ENABLE_RAY_CLUSTER
    os.environ.update(LOCAL_ENV)
    ray_constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = saved_flag
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def probe_address(address: str) -> tuple[str, bool]:
    """(``host:port``, is it loopback?) of the cluster at ``address`` if something answers
    there within CONNECT_SECONDS, else a ValueError (``ray.init`` would retry for minutes)."""
    from ray._private.services import get_ray_address_from_environment

    if address.startswith("ray://"):
        raise ValueError(f"ray_address {address!r}: Ray Client (ray://) is not supported; run "
                         "the training on a cluster node with --ray-address auto or HOST:PORT")
    try:  # "auto": the cluster that `ray start` recorded on this machine
        target = get_ray_address_from_environment(address, None)
    except ConnectionError as err:
        raise ValueError(f"ray_address {address!r}: {err}") from None
    host, _, port = target.rpartition(":")
    host = host.strip("[]")
    try:
        socket.create_connection((host, int(port)), CONNECT_SECONDS).close()
    except (OSError, ValueError) as err:
        raise ValueError(f"ray_address {address!r}: no Ray cluster answers at {target} "
                         f"({getattr(err, 'strerror', None) or err}); is `ray start --head` "
                         "running there?") from None
    return target, host == "localhost" or host == "::1" or host.startswith("127.")


def connect(address: str | None, n_workers: int):
    """(ray, ours): join ``address``, or start a local loopback instance; ``ours``: whether
    this run connected (and so disconnects at its end). A connection the caller already has
    (``ray.init`` in a notebook) is used and left as it is."""
    ray = import_ray()
    if ray.is_initialized():
        return ray, False
    quiet = dict(log_to_driver=False, logging_level=logging.ERROR)
    if address is None:
        import psutil  # Ray's dependency (vendored by its wheel)

        before = {p.pid for p in psutil.Process().children(recursive=True)}
        try:
            with loopback_only():
                ray.init(num_cpus=max(available_cpus(), n_workers), _node_ip_address="127.0.0.1",
                         object_store_memory=OBJECT_STORE_BYTES, include_dashboard=False, **quiet)
        except BaseException:  # e.g. a raylet too slow to start on a busy machine, or Ctrl-C
            with contextlib.suppress(Exception):
                ray.shutdown()
            # a failed ray.init leaves the processes it had started (gcs_server, raylet …)
            started = [p for p in psutil.Process().children(recursive=True)
                       if p.pid not in before]
            for p in started:
                with contextlib.suppress(psutil.Error):
                    p.kill()
            psutil.wait_procs(started, timeout=5)
            raise
        return ray, True
    target, loopback = probe_address(address)
    # a cluster on 127.0.0.1 is on this machine only: the driver must announce 127.0.0.1 too
    # (Ray would replace a loopback address by the machine's network address)
    try:
        with loopback_only() if loopback else contextlib.nullcontext():
            ray.init(address=target, **quiet)
    except ConnectionError as err:  # e.g. a token-authenticated cluster, and no token here
        raise ValueError(f"ray_address {address!r}: {err} (a cluster started with token "
                         "authentication also needs RAY_AUTH_MODE=token and its token here)"
                         ) from None
    return ray, True


def check_cpus(ray, n_workers: int, wait_seconds: float = 10.0) -> None:
    """Refuse, before any actor starts, more workers than the cluster has free CPUs (the extra
    actors would wait forever for a CPU). If the cluster has enough in total, wait up to
    ``wait_seconds`` for them: a previous run's actors hand their CPUs back asynchronously."""
    total = int(ray.cluster_resources().get("CPU", 0))
    deadline = time.monotonic() + (wait_seconds if n_workers <= total else 0.0)
    while (free := int(ray.available_resources().get("CPU", 0))) < n_workers \
            and time.monotonic() < deadline:
        time.sleep(0.05)
    if n_workers > free:
        raise ValueError(f"workers must be at most the {free} free CPUs of the Ray cluster "
                         f"({total} in total; each worker actor takes one), got {n_workers}")


# ---- the backend -----------------------------------------------------------------------------
class RayBackend:
    """Workers as Ray actors; θ, g, lr and the counters in a parameter-server actor.

    See :mod:`a3c_lib.engine.backends` for the contract. ``placement`` maps each worker to
    (node id, node IP, pid) once it is known.
    """

    def __init__(self, config, n_params: int, dtype, jobs: list[WorkerJob]) -> None:
        self.config, self.jobs = config, jobs
        self.ray, self._ours = connect(getattr(config, "ray_address", None), len(jobs))
        try:
            check_cpus(self.ray, len(jobs))
        except BaseException:
            self._disconnect()
            raise
        self._server, self._workers, self._initial = None, [], None
        self._runs, self._drains, self._where = {}, {}, {}  # object ref -> worker
        self._gone: dict[int, int] = {}  # worker -> -1: its run call ended (or its actor died)
        self._step, self._closed, self._stopping = 0, False, False
        self.placement: dict[int, tuple[str, str, int]] = {}

    def _disconnect(self) -> None:
        if self._ours and self.ray.is_initialized():
            self.ray.shutdown()  # a local instance stops; a joined cluster keeps running

    # ---- start ----------------------------------------------------------------------------
    def start(self, theta: np.ndarray, g: np.ndarray, step: int, updates: int,
              lr: float) -> None:
        ray, cfg, n = self.ray, self.config, len(self.jobs)
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        counters = np.zeros(2 + n, dtype=np.int64)
        counters[0], counters[1] = step, updates
        self._initial, self._step = Snapshot(np.array(theta), np.array(g), counters), step
        # the server reserves no CPU: it is light (~20 µs of RMSProp per MLP update, see
        # benchmarks/ray_backend.py), and a reserved core would idle on a 2-core machine; it
        # lives on the driver's node, which reads it for checkpoints
        here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=True)
        self._server = ray.remote(num_cpus=0)(ParameterServer).options(
            scheduling_strategy=here).remote(theta, g, step, updates, n, lr, cfg.rms_alpha,
                                             cfg.rms_eps)
        t0_wall = time.time() - (time.monotonic() - self.jobs[0].t0)  # the run's start
        worker_class = ray.remote(num_cpus=1, max_concurrency=2, max_restarts=0)(RolloutWorker)
        # SPREAD: one worker per node before a second on any node (all nodes' CPUs work)
        self._workers = [worker_class.options(scheduling_strategy="SPREAD").remote(
            job, self._server, t0_wall) for job in self.jobs]
        self._runs = {w.run.remote(): i for i, w in enumerate(self._workers)}
        self._where = {w.where.remote(): i for i, w in enumerate(self._workers)}

    # ---- while running --------------------------------------------------------------------
    def messages(self, timeout: float) -> list[tuple]:
        ray, out = self.ray, []
        polled = set(self._drains.values())
        for i, w in enumerate(self._workers):
            if i not in polled and i not in self._gone:
                self._drains[w.drain.remote(DRAIN_SECONDS)] = i
        pending = [*self._runs, *self._drains, *self._where]
        if not pending:
            time.sleep(timeout)
            return out
        ready, _ = ray.wait(pending, num_returns=1, timeout=timeout)
        if ready:  # and whatever else is ready now
            ready, _ = ray.wait(pending, num_returns=len(pending), timeout=0)
        for ref in ready:
            if ref in self._where:
                i = self._where.pop(ref)
                with contextlib.suppress(Exception):  # a dead actor: reported by its run call
                    self.placement[i] = ray.get(ref)
            elif ref in self._drains:
                i = self._drains.pop(ref)
                with contextlib.suppress(Exception):
                    out += self._received(i, ray.get(ref))
            else:
                out += self._run_ended(self._runs.pop(ref), ref)
        return out

    def _received(self, i: int, msgs: list) -> list[tuple]:
        for kind, payload in msgs:
            if kind == "metrics" and payload[1]:  # update rows: (worker, global step, …)
                self._step = max(self._step, max(row[1] for row in payload[1]))
        return [(kind, i, payload) for kind, payload in msgs]

    def _run_ended(self, i: int, ref) -> list[tuple]:
        """Worker i's run call returned or failed: its last messages, then its error if any."""
        ray = self.ray
        self._gone[i] = -1
        error, died = None, False
        try:
            ray.get(ref)
        except ray.exceptions.RayTaskError as err:  # the worker's own exception
            error = getattr(err, "traceback_str", None) or str(err)
        except ray.exceptions.RayActorError as err:  # the actor's process died
            error, died = (f"its Ray actor died without reporting an error (killed? out of "
                           f"memory? node lost?):\n{err}"), True
        out = []
        if not died:
            with contextlib.suppress(Exception):  # its outbox: the last metrics, "done"
                out += self._received(i, ray.get(self._workers[i].drain.remote(0), timeout=2))
        if error is not None and not self._stopping:
            out.append(("error", i, error))
        return out

    def exited(self) -> dict[int, int]:
        return dict(self._gone)

    def global_step(self) -> int:
        """Global env steps as of the workers' latest messages (no call to the server)."""
        return self._step

    def snapshot(self, timeout: float) -> Snapshot | None:
        try:
            return self.ray.get(self._server.snapshot.remote(), timeout=timeout)
        except Exception:
            return None

    def set_lr(self, lr: float) -> None:
        if self._server is not None and not self._closed:
            self._server.set_lr.remote(lr)

    def request_stop(self) -> None:
        if self._closed:
            return
        for w in self._workers:
            w.stop.remote()

    # ---- the end --------------------------------------------------------------------------
    def shutdown(self, on_message, join_seconds: float) -> Snapshot:
        """Stop, wait for the run calls, kill every actor of ours, final snapshot, disconnect."""
        ray, final = self.ray, None
        try:
            self.request_stop()
            deadline = time.monotonic() + join_seconds
            while self._runs and time.monotonic() < deadline:
                for msg in self.messages(timeout=0.02):
                    on_message(msg)
            self._stopping = True  # from here on, actors die because WE kill them
            for w in self._workers:  # stragglers (a hung worker) included
                ray.kill(w)
            final = self.snapshot(timeout=5.0)
            if final is None and self._initial is not None:  # the server itself is gone
                on_message(("error", 0, "the parameter-server actor died; θ was lost"))
                final = self._initial
            if self._server is not None:
                ray.kill(self._server)
        finally:
            self._closed = True
            self._disconnect()
        if final is None:  # shut down before start(): nothing ever ran
            final = Snapshot(np.zeros(0), np.zeros(0), np.zeros(2 + len(self.jobs), np.int64))
        self._step = int(final.counters[0])
        return final
