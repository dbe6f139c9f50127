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

The actors are plain classes in ``ray_actors.py`` (tested without Ray), wrapped with
``ray.remote`` at run time; connecting is ``ray_cluster.py``. Ray is imported only when a run
asks for this backend, so ``a3c_lib.engine`` imports without it.
"""

from __future__ import annotations

import contextlib
import time

import numpy as np

from a3c_lib.engine.backends import Snapshot
from a3c_lib.engine.backends.ray_actors import ParameterServer, RemoteParams, RolloutWorker
from a3c_lib.engine.backends.ray_cluster import LOCAL_ENV, check_cpus, connect, loopback_only
from a3c_lib.engine.workers import WorkerJob

__all__ = ["LOCAL_ENV", "ParameterServer", "RayBackend", "RemoteParams", "RolloutWorker",
           "connect", "loopback_only"]

DRAIN_SECONDS = 0.2  # a worker's outbox is long-polled: it answers at once if it holds messages


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
                                             cfg.rms_eps, cfg.lr_decay_steps)
        t0_wall = time.time() - (time.monotonic() - self.jobs[0].t0)  # the run's start
        # three calls at once: the run loop, the driver's long-polling drain, and stop (which
        # must not wait behind a drain)
        worker_class = ray.remote(num_cpus=1, max_concurrency=3, max_restarts=0)(RolloutWorker)
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
            # until every run call has ended AND every drain in flight has come back (a drain
            # sent before a worker's end may hold its last metrics)
            while (self._runs or self._drains) and time.monotonic() < deadline:
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
