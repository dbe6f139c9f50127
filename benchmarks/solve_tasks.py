"""Every task of notebook 09, solved by the per-env defaults, next to SB3's A2C (the issue's table).

For each task: ``TrainConfig.for_env(env_id, seed=s)`` (the settings of ``engine/tasks.py``,
whose budget is the run's max_steps) for 5 seeds; per seed and as the median, the env steps and
wall seconds from the ``train()`` call (imports excluded, worker start-up included) until the
mean of the last 100 training episodes reaches the task's target. 5/5 must reach it.

In the same run, on the same machine, ``benchmarks/sb3_peer.py`` (Stable-Baselines3 A2C with
rl-zoo's hyperparameters, same stopping rule) runs in its own venv's python, one seed after the
other (never at the same time as ours), with a step cap (the zoo's own ``n_timesteps`` or less)
and a wall cap; the ratio is our median wall time over SB3's median wall time where SB3 solved.

    python3 benchmarks/solve_tasks.py [--tasks Acrobot-v1,Pendulum-v1] [--seeds 5]
        [--sb3-python /tmp/sb3venv/bin/python] [--sb3-seeds 5] [--sb3-max-seconds 300]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from machine import print_machine

from a3c_lib.engine.config import TrainConfig
from a3c_lib.engine.tasks import TASKS
from a3c_lib.engine.training import train

HERE = Path(__file__).resolve().parent
#: SB3's step cap per task: the zoo's own n_timesteps (rl-zoo's a2c.yml; the wall cap
#: --sb3-max-seconds may end a run first, and the table then says after how many steps).
SB3_CAP = {"CartPole-v1": 500_000, "Acrobot-v1": 500_000, "MountainCar-v0": 1_000_000,
           "LunarLander-v3": 200_000, "Pendulum-v1": 1_000_000,
           "LunarLanderContinuous-v3": 5_000_000}


def ours(env_id: str, seeds: int) -> list[dict]:
    rows = []
    for seed in range(seeds):
        config = TrainConfig.for_env(env_id, seed=seed)
        t = time.monotonic()
        s = train(config).summary
        wall = time.monotonic() - t
        row = {"seed": seed, "solved": s["solved"],
               "steps": s["solve_steps"] if s["solved"] else s["global_steps"],
               "seconds": s["solve_seconds"] if s["solved"] else wall,
               "mean100": s["final_mean_return"]}
        rows.append(row)
        print(f"  ours  {env_id:<26} seed {seed}: "
              + (f"solved at {row['steps']:>9} steps {row['seconds']:7.1f} s" if row["solved"]
                 else f"NOT solved: mean {row['mean100']:.1f} after {row['steps']} steps"),
              flush=True)
    return rows


def sb3(python: str, env_id: str, seeds: int, max_seconds: float) -> list[dict]:
    """Run sb3_peer.py in its own process group (killed on every exit path)."""
    cmd = [python, str(HERE / "sb3_peer.py"), "--env", env_id, "--seeds", str(seeds),
           "--max-steps", str(SB3_CAP[env_id]), "--max-seconds", str(max_seconds)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            start_new_session=True)
    rows = []
    try:
        for line in proc.stdout:
            if line.startswith("RESULT "):
                r = json.loads(line[7:])
                rows.append(r)
                print(f"  SB3   {env_id:<26} seed {r['seed']}: "
                      + (f"solved at {r['steps']:>9} steps {r['seconds']:7.1f} s" if r["solved"]
                         else f"not solved: mean {r['mean100']:.1f} after {r['steps']} steps "
                              f"({r['seconds']:.0f} s)"), flush=True)
        proc.wait()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return rows


def _median(rows: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rows) if rows else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--sb3-python", default="/tmp/sb3venv/bin/python",
                        help="python of the throwaway SB3 venv ('' = skip SB3)")
    parser.add_argument("--sb3-seeds", type=int, default=5)
    parser.add_argument("--sb3-max-seconds", type=float, default=300.0)
    args = parser.parse_args()
    print_machine()
    table = []
    for env_id in args.tasks.split(","):
        task = TASKS[env_id]
        print(f"# {env_id}: target {task.target}, budget {task.budget} steps, "
              f"config {TrainConfig.for_env(env_id).to_dict()}", flush=True)
        mine = ours(env_id, args.seeds)
        peer = sb3(args.sb3_python, env_id, args.sb3_seeds, args.sb3_max_seconds) \
            if args.sb3_python and Path(args.sb3_python).exists() else []
        table.append((env_id, task, mine, peer))
    print("\n| task | target | budget | ours solved | median steps | median s | SB3 solved "
          "| SB3 median s | ours / SB3 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for env_id, task, mine, peer in table:
        solved = [r for r in mine if r["solved"]]
        peer_solved = [r for r in peer if r["solved"]]
        if peer_solved:
            sb3_text = f"{_median(peer_solved, 'seconds'):.1f}"
            ratio = (f"{_median(solved, 'seconds') / _median(peer_solved, 'seconds'):.2f}"
                     if solved else "-")
        elif peer:
            worst = max(r["steps"] for r in peer)
            sb3_text = (f"not solved after ≤{worst} steps (mean "
                        f"{statistics.median(r['mean100'] for r in peer):.0f})")
            ratio = "-"
        else:
            sb3_text, ratio = "not run", "-"
        ours_steps = f"{_median(solved, 'steps'):.0f}" if solved else \
            f"- (mean {statistics.median(r['mean100'] for r in mine):.0f})"
        ours_s = f"{_median(solved, 'seconds'):.1f}" if solved else "-"
        print(f"| {env_id} | {task.target:g} | {task.budget} | {len(solved)}/{len(mine)} | "
              f"{ours_steps} | {ours_s} | {len(peer_solved)}/{len(peer)} | {sb3_text} | "
              f"{ratio} |")
    print_machine()


if __name__ == "__main__":
    sys.exit(main())
