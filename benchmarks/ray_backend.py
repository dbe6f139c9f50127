"""Ray backend vs process backend, and how many workers one parameter server can feed.

1. Env steps/s of the same A3C (default TrainConfig, CartPole-v1, fixed budget, no target) with
   ``backend="process"`` and ``backend="ray"`` at 1 and 2 workers, measured as the process
   benchmark does: from the moment every worker is up to the last update
   (``summary["steps_per_second"]``). Ray runs on ONE local loopback instance started here.
2. The parameter server's ceiling in updates/s with synthetic gradients, for the course's MLP
   and for the paper's Atari network (Pong: 677,943 parameters, counted below without
   TensorFlow): (a) the update alone (RMSProp on θ, in this process), (b) through Ray, with 8
   pushes in flight from the driver (each one carries ∇ in and θ out, as a worker's does).

    python3 benchmarks/ray_backend.py [--steps 100000] [--repeats 2] [--pushes 2000]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from machine import print_machine

from a3c_lib.engine.backends import ray as ray_backend
from a3c_lib.engine.config import TrainConfig
from a3c_lib.engine.training import train
from a3c_lib.nn import mlp

IN_FLIGHT = 8  # pushes outstanding at once in the ceiling test


def atari_n_params(n_actions: int = 6) -> int:
    """The paper's network: conv 16 8×8/4 and 32 4×4/2 on 84×84×4, dense 256, two heads."""
    side1 = (84 - 8) // 4 + 1  # 20
    side2 = (side1 - 4) // 2 + 1  # 9
    conv1 = 8 * 8 * 4 * 16 + 16  # 4,112
    conv2 = 4 * 4 * 16 * 32 + 32  # 8,224
    dense = side2 * side2 * 32 * 256 + 256  # 2592·256 + 256 = 663,808
    return conv1 + conv2 + dense + (256 * n_actions + n_actions) + (256 + 1)


def throughput(args) -> dict:
    print("\n## env steps/s, process vs ray (default config, no target)")
    base = TrainConfig(target_return=None, max_steps=args.steps)
    rates = {}
    for backend in ("process", "ray"):
        for n in (1, 2):
            runs = []
            for seed in range(args.repeats):
                cfg = TrainConfig.from_dict({**base.to_dict(), "workers": n, "seed": seed,
                                             "backend": backend})
                runs.append(train(cfg).summary["steps_per_second"])
            rates[backend, n] = statistics.median(runs)
            print(f"{backend:7s} workers={n}: {rates[backend, n]:8.0f} env steps/s (runs: "
                  f"{', '.join(f'{r:.0f}' for r in runs)})", flush=True)
    for n in (1, 2):
        print(f"ray / process at {n} worker(s): {rates['ray', n] / rates['process', n]:.2f}x")
    return rates


def server_ceiling(ray, args) -> dict[str, float]:
    print("\n## parameter-server ceiling, synthetic gradients")
    nets = {"MLP 4-64-64-2 (float64)": (mlp.MLPSpec(4, 2, (64, 64)).n_params, np.float64),
            "Atari/Pong conv net (float32)": (atari_n_params(6), np.float32)}
    out = {}
    for name, (p, dtype) in nets.items():
        rng = np.random.default_rng(0)
        theta, grad = rng.standard_normal(p).astype(dtype), rng.standard_normal(p).astype(dtype)
        ps = ray_backend.ParameterServer(theta, np.zeros_like(theta), 0, 0, 1, 1e-4, 0.99, 1e-5)
        n = max(50, args.pushes if p < 100_000 else args.pushes // 10)
        t = time.perf_counter()
        for _ in range(n):
            ps.push(grad, 32, 0)
        local = n / (time.perf_counter() - t)
        server = ray.remote(num_cpus=0)(ray_backend.ParameterServer).remote(
            theta, np.zeros_like(theta), 0, 0, 1, 1e-4, 0.99, 1e-5)
        ray.get(server.push.remote(grad, 32, 0))  # warm up
        t, in_flight = time.perf_counter(), []
        for _ in range(n):  # IN_FLIGHT pushes at any time, as from that many busy workers
            in_flight.append(server.push.remote(grad, 32, 0))  # ∇ travels with every push
            if len(in_flight) >= IN_FLIGHT:
                ray.get(in_flight.pop(0))  # each reply is the new θ, as a worker receives it
        ray.get(in_flight)
        remote = n / (time.perf_counter() - t)
        ray.kill(server)
        out[name] = remote
        print(f"{name}: {p:,} parameters ({p * np.dtype(dtype).itemsize / 1e6:.2f} MB); "
              f"update alone {local:,.0f} updates/s; through Ray {remote:,.0f} updates/s "
              f"({n} pushes)", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--pushes", type=int, default=2000)
    parser.add_argument("--pong-updates-per-worker", type=float, default=None,
                        help="updates/s of one Pong worker (benchmarks/pong.py's time split)")
    args = parser.parse_args()
    print_machine()
    ray, _ = ray_backend.connect(None, 2)  # one local loopback instance for every Ray run
    try:
        rates = throughput(args)
        ceiling = server_ceiling(ray, args)
    finally:
        ray.shutdown()
    print("\n## workers one parameter server can feed (its ceiling / one worker's updates/s)")
    cfg = TrainConfig()
    per_worker = rates["process", 1] / (cfg.envs_per_worker * cfg.t_max)  # CartPole updates/s
    mlp_ceiling = ceiling["MLP 4-64-64-2 (float64)"]
    print(f"CartPole MLP: a worker makes {per_worker:,.0f} updates/s (process backend, 1 worker, "
          f"{cfg.envs_per_worker * cfg.t_max} steps each) -> {mlp_ceiling / per_worker:.1f} "
          "workers")
    if args.pong_updates_per_worker:
        pong = ceiling["Atari/Pong conv net (float32)"]
        print(f"Pong conv net: a worker makes {args.pong_updates_per_worker:g} updates/s -> "
              f"{pong / args.pong_updates_per_worker:.1f} workers")
    print_machine()


if __name__ == "__main__":
    main()
