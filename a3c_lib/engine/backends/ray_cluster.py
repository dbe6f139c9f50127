"""Reaching Ray for the ``ray`` backend: import it, start a loopback instance or join a cluster.

* :func:`import_ray` — a missing Ray is a ValueError that names the extra to install.
* :func:`connect` — no address: a private instance on 127.0.0.1 (no dashboard, no usage
  statistics); an address: probed first (:func:`probe_address`), because ``ray.init`` retries an
  unreachable one for minutes; a connection the caller already has is used as it is.
* :func:`check_cpus` — more workers than free CPUs is refused before any actor starts.

>>> class TwoCPUs:  # what check_cpus asks of Ray: a cluster of 2 CPUs, both free
...     def cluster_resources(self): return {"CPU": 2.0}
...     def available_resources(self): return {"CPU": 2.0}
>>> check_cpus(TwoCPUs(), 2)
>>> check_cpus(TwoCPUs(), 3)
Traceback (most recent call last):
...
ValueError: workers must be at most the 2 free CPUs of the Ray cluster (2 in total; each worker
actor takes one), got 3
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import time

from a3c_lib.engine.cpus import available_cpus

CONNECT_SECONDS = 5.0  # TCP probe of a --ray-address before ray.init (which would retry forever)
OBJECT_STORE_BYTES = 256 * 2**20  # a local instance's object store: θ is kB (MLP) to MB (Pong)
EXTRA_HINT = "pip install 'a3c-course[ray]' (or: pip install 'ray>=2.60')"
#: Environment of a local instance: loopback only (Ray's own switch, read when Ray is imported
#: and by the processes it starts), no usage statistics sent anywhere.
LOCAL_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0"}


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
