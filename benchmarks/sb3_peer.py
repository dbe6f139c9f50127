"""The peer: Stable-Baselines3's A2C with rl-zoo's published hyperparameters, same stopping rule.

NOT a course dependency: run it with the python of a throwaway venv::

    python3 -m venv /tmp/sb3venv
    /tmp/sb3venv/bin/pip install torch==2.13.0 stable-baselines3 "gymnasium[box2d]"
    /tmp/sb3venv/bin/python benchmarks/sb3_peer.py --env Acrobot-v1 --seeds 5 [--max-steps N]

The hyperparameters are those of rl-baselines3-zoo's ``hyperparams/a2c.yml`` (its entries for
LunarLander-v2 / Pendulum-v0 / LunarLanderContinuous-v2 are used for the -v3 / -v1 / -v3 ids of
the same tasks), hard-coded below. ``normalize: true`` is ``VecNormalize`` (observations and
rewards, with the run's γ) as the zoo applies it; ``lin_x`` is a learning rate decaying linearly
from x to 0 over the zoo's ``n_timesteps`` (we pass that horizon to ``learn`` and stop early).

Stopping rule = ours (``benchmarks/solve_tasks.py``): the run is solved at the first env step at
which the mean of the last 100 training episodes' (un-normalised) returns reaches the target;
otherwise it stops after ``--max-steps`` env steps or ``--max-seconds`` wall seconds. Wall
seconds are counted from the model's construction (envs included) to the solving step. One
line per seed starts with ``RESULT`` and carries JSON, for ``solve_tasks.py`` to read.
"""

from __future__ import annotations

import argparse
import collections
import json
import statistics
import time

# rl-baselines3-zoo hyperparams/a2c.yml (SB3 A2C defaults elsewhere: n_steps 5, lr 7e-4,
# gamma 0.99, gae_lambda 1, vf_coef 0.5, max_grad_norm 0.5, RMSprop eps 1e-5)
_CONTINUOUS = dict(normalize=True, ent_coef=0.0, max_grad_norm=0.5, n_steps=8, gae_lambda=0.9,
                   vf_coef=0.4, gamma=0.99, use_rms_prop=True, normalize_advantage=False,
                   learning_rate="lin_7e-4", use_sde=True,
                   policy_kwargs=dict(log_std_init=-2, ortho_init=False))
ZOO: dict[str, dict] = {
    "CartPole-v1": dict(n_envs=8, n_timesteps=5e5, ent_coef=0.0),
    "Acrobot-v1": dict(normalize=True, n_envs=16, n_timesteps=5e5, ent_coef=0.0),
    "MountainCar-v0": dict(normalize=True, n_envs=16, n_timesteps=1e6, ent_coef=0.0),
    "LunarLander-v3": dict(n_envs=8, n_timesteps=2e5, gamma=0.995, n_steps=5,
                           learning_rate="lin_0.00083", ent_coef=1e-5),
    "Pendulum-v1": dict(_CONTINUOUS, n_envs=8, n_timesteps=1e6),
    "LunarLanderContinuous-v3": dict(_CONTINUOUS, n_envs=4, n_timesteps=5e6),
}
TARGETS = {"CartPole-v1": 475.0, "Acrobot-v1": -100.0, "MountainCar-v0": -110.0,
           "LunarLander-v3": 200.0, "Pendulum-v1": -200.0, "LunarLanderContinuous-v3": 200.0}


def _learning_rate(value):
    if isinstance(value, str) and value.startswith("lin_"):
        start = float(value[4:])
        return lambda progress_remaining: progress_remaining * start  # 1 → 0 over the horizon
    return value


def run_seed(env_id: str, seed: int, max_steps: int, max_seconds: float = float("inf")) -> dict:
    from stable_baselines3 import A2C
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import VecNormalize

    hp = dict(ZOO[env_id])
    n_envs, horizon = hp.pop("n_envs"), int(hp.pop("n_timesteps"))
    normalize = hp.pop("normalize", False)
    hp["learning_rate"] = _learning_rate(hp.get("learning_rate", 7e-4))
    target = TARGETS[env_id]

    class Stop(BaseCallback):
        """Our stopping rule on the Monitor's raw episode returns."""

        def __init__(self) -> None:
            super().__init__()
            self.recent = collections.deque(maxlen=100)
            self.solved_steps = self.solved_seconds = None

        def _on_step(self) -> bool:
            for info in self.locals["infos"]:
                if "episode" in info:
                    self.recent.append(info["episode"]["r"])
                    if len(self.recent) == 100 and sum(self.recent) / 100 >= target:
                        self.solved_steps = self.num_timesteps
                        self.solved_seconds = time.monotonic() - t0
                        return False
            return self.num_timesteps < max_steps and time.monotonic() - t0 < max_seconds

    t0 = time.monotonic()
    env = make_vec_env(env_id, n_envs=n_envs, seed=seed)  # Monitor inside: raw returns
    if normalize:
        env = VecNormalize(env, gamma=hp.get("gamma", 0.99))
    model = A2C("MlpPolicy", env, seed=seed, verbose=0, device="cpu", **hp)
    stop = Stop()
    model.learn(total_timesteps=horizon, callback=stop)
    wall = time.monotonic() - t0
    env.close()
    mean = sum(stop.recent) / len(stop.recent) if stop.recent else float("nan")
    return {"env": env_id, "seed": seed, "solved": stop.solved_steps is not None,
            "steps": stop.solved_steps or model.num_timesteps,
            "seconds": stop.solved_seconds if stop.solved_steps else wall,
            "mean100": mean}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", required=True, choices=sorted(ZOO))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--max-steps", type=int, default=None,
                        help="env-step cap per seed (default: the zoo's n_timesteps)")
    parser.add_argument("--max-seconds", type=float, default=float("inf"),
                        help="wall-clock cap per seed (a busy machine: report, do not wait)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (1: these tiny MLPs gain nothing from more, and the "
                             "envs step in the same process)")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)

    max_steps = args.max_steps or int(ZOO[args.env]["n_timesteps"])
    print(f"# SB3 A2C (rl-zoo a2c.yml) on {args.env}; torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads; cap {max_steps} steps; hp {ZOO[args.env]}")
    rows = []
    for seed in range(args.seeds):
        r = run_seed(args.env, seed, max_steps, args.max_seconds)
        rows.append(r)
        print("RESULT " + json.dumps(r), flush=True)
        text = (f"solved in {r['steps']} steps, {r['seconds']:.2f} s" if r["solved"] else
                f"not solved, mean {r['mean100']:.1f} after {r['steps']} steps")
        print(f"  seed {seed}: {text}", flush=True)
    solved = [r for r in rows if r["solved"]]
    if solved:
        print(f"solved {len(solved)}/{len(rows)}; median of solved: "
              f"{statistics.median(r['steps'] for r in solved):.0f} steps, "
              f"{statistics.median(r['seconds'] for r in solved):.2f} s")
    else:
        print(f"solved 0/{len(rows)}")


if __name__ == "__main__":
    main()
