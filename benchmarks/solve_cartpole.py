"""How fast does the DEFAULT TrainConfig solve CartPole-v1? (the issue's performance target)

Runs the CLI's trainer (``engine.training.train``) with ``TrainConfig(seed=s)`` for 5 seeds and
prints, per seed and as the median, the env steps and the wall seconds from the ``train()`` call
(imports excluded; worker start-up included) until the mean return of the last 100 training
episodes reaches 475. Target on a 2-core machine: 5/5 solved, median <= 6 s and <= 250k steps.
Seeds are independent: each is the root of its own ``np.random.SeedSequence`` (engine/seeding.py),
so seed s shares no random stream with seed s + 1.

    python3 benchmarks/solve_cartpole.py [--seeds 5] [--algo a3c]
"""

from __future__ import annotations

import argparse
import statistics
import time

from machine import print_machine

from a3c_lib.engine.config import TrainConfig
from a3c_lib.engine.training import train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--algo", default=None, help="override the default algo (for comparison)")
    args = parser.parse_args()
    print_machine()
    base = TrainConfig() if args.algo is None else TrainConfig(algo=args.algo)
    print(f"# config: {base.to_dict()}")
    # cpu s/worker: CPU seconds each worker spent training (mean over workers, until the run
    # stopped). On a machine with a free core per worker, seconds ≈ startup s + cpu s/worker;
    # on a busy machine, seconds is larger and cpu s/worker shows what the code itself costs.
    print(f"{'seed':>4} {'solved':>6} {'env steps':>10} {'seconds':>8} {'steps/s':>8} "
          f"{'startup s':>9} {'cpu s/worker':>12}")
    rows = []
    for seed in range(args.seeds):
        config = TrainConfig.from_dict({**base.to_dict(), "seed": seed})
        t = time.monotonic()
        s = train(config).summary
        wall = time.monotonic() - t
        steps = s["solve_steps"] if s["solved"] else s["global_steps"]
        seconds = s["solve_seconds"] if s["solved"] else wall
        rows.append((s["solved"], steps, seconds))
        cpu = [c for c in s["worker_cpu_seconds"] if c is not None]
        cpu_text = f"{sum(cpu) / len(cpu):.2f}" if cpu else "?"
        print(f"{seed:>4} {s['solved']!s:>6} {steps:>10} {seconds:>8.2f} "
              f"{s['steps_per_second']:>8.0f} {s['startup_seconds']:>9.2f} {cpu_text:>12}",
              flush=True)
    solved = sum(r[0] for r in rows)
    steps = statistics.median(r[1] for r in rows)
    seconds = statistics.median(r[2] for r in rows)
    print(f"solved {solved}/{len(rows)}; median env steps {steps:.0f}, "
          f"median seconds {seconds:.2f}")
    print_machine()


if __name__ == "__main__":
    main()
