"""Do more A3C workers give more env steps per second? (the issue's target: 2 workers >= 1.7x one)

Same config, fixed step budget, no target (so every run does the same amount of work); the rate
is measured from the moment all workers are up to the end (``summary["steps_per_second"]``).
Repeats use seeds 0, 1, …: independent runs (every stream comes from SeedSequence(seed)).

    python3 benchmarks/scaling.py [--steps 100000] [--repeats 2] [--workers 1 2]
"""

from __future__ import annotations

import argparse
import statistics

from machine import print_machine

from a3c_lib.engine.config import TrainConfig
from a3c_lib.engine.training import train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    print_machine()
    base = TrainConfig(target_return=None, max_steps=args.steps)
    print(f"# config: {base.to_dict()} (workers varied)")
    rates = {}
    for n in args.workers:
        runs, cpu = [], []
        for seed in range(args.repeats):
            config = TrainConfig.from_dict({**base.to_dict(), "workers": n, "seed": seed})
            s = train(config).summary
            runs.append(s["steps_per_second"])
            cpu.append(sum(s["worker_cpu_seconds"]) / s["global_steps"] * 1e6)
        rates[n] = statistics.median(runs)
        # CPU µs per env step (all workers): equal for 1 and N workers means no parallel
        # overhead (lock, shared memory); the wall-clock speed-up then only needs free cores
        print(f"workers={n}: {rates[n]:8.0f} env steps/s (runs: "
              f"{', '.join(f'{r:.0f}' for r in runs)}); {statistics.median(cpu):.1f} worker "
              "CPU-µs per env step", flush=True)
    one = rates.get(1)
    if one:
        for n, rate in rates.items():
            print(f"speed-up {n} workers / 1 worker: {rate / one:.2f}x")
    print_machine()


if __name__ == "__main__":
    main()
