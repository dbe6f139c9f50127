"""Per-environment defaults: the settings that make each classic task learn, and its target.

``TrainConfig``'s own defaults are tuned on CartPole-v1. Other tasks pay rewards on other
scales and need other budgets, so :meth:`TrainConfig.for_env` (and the CLI, which uses it)
layers three sources, the first that sets a field wins:

1. the fields YOU pass (``TrainConfig.for_env("Acrobot-v1", lr=1e-3)``, ``--lr 1e-3``);
2. the env's row in :data:`TASKS` below (``config`` plus ``target_return`` and ``max_steps``);
3. the dataclass defaults.

A plain ``TrainConfig(env_id=...)`` uses (1) and (3) only. An env not listed here gets (1) and
(3) as well. The numbers are measured by ``benchmarks/solve_tasks.py`` (5 seeds each).

>>> task_defaults("Acrobot-v1")["reward_scale"]
0.1
>>> task_defaults("my_pkg.envs:Acrobot-v1") == task_defaults("Acrobot-v1")  # prefix ignored
True
>>> task_defaults("Unknown-v0")
{}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Task:
    """One task: its target (mean of the last 100 TRAINING episodes), budget and settings."""

    env_id: str
    target: float
    budget: int  #: env steps: the benchmark's budget and the config's max_steps
    config: dict[str, Any] = field(default_factory=dict)  #: TrainConfig fields that differ
    why: str = ""


# Family "−1 per step until done" (Acrobot, MountainCar): returns ≈ −100…−500, so the rewards
# are scaled by 0.1 (see engine/rewards.py); the entropy bonus keeps the policy exploring until
# the first successes arrive.
_MINUS_ONE_PER_STEP = {"reward_scale": 0.1, "entropy_coef": 0.01}
# Family "LunarLander" (discrete and continuous): shaped rewards with ±100 at landing or crash
_LANDER = {"reward_scale": 0.05, "entropy_coef": 1e-3, "lr": 7e-4, "t_max": 32}

TASKS: dict[str, Task] = {t.env_id: t for t in (
    Task("CartPole-v1", 475.0, 500_000, {},
         why="+1 per step up to 500: the dataclass defaults were tuned here"),
    Task("Acrobot-v1", -100.0, 500_000, dict(_MINUS_ONE_PER_STEP),
         why="−1 per step; unscaled, the critic's ~−100 targets swamp the actor"),
    Task("MountainCar-v0", -110.0, 200_000, dict(_MINUS_ONE_PER_STEP),
         why="−1 per step; undirected exploration almost never reaches the flag (notebook 09)"),
    # The lander family needs LONG n-step returns: with t_max 8 every seed hovered or peaked near
    # +150 and fell back (entropy 0.01 or 0.001, lr annealing, 8 envs, lr 5e-4, clip 0.5: README
    # "Beyond CartPole"); t_max 32 carries the landing bonus 4x further back per update before
    # leaning on the critic's bootstrap: LunarLander 5/5 seeds in benchmarks/solve_tasks.py.
    Task("LunarLander-v3", 200.0, 8_000_000, dict(_LANDER),
         why="shaped rewards with ±100 at landing or crash; hovering is the trap: a small "
             "entropy bonus lets the policy commit, t_max 32 carries the landing bonus back"),
    # The continuous family: the lander's runs peaked and fell back because σ collapsed onto its
    # old floor of 0.001 (its weights showed it), and Pendulum seeds ended near −1400; with the
    # floor at 0.05 (nn/gaussian.py, SIGMA_MIN) the defaults below solved every seed we ran.
    Task("Pendulum-v1", -200.0, 2_000_000,
         dict(reward_scale=0.1, gamma=0.9, lr=5e-4, envs_per_worker=8, t_max=4),
         why="continuous torque; −16…0 per step for 200 steps: a short horizon (γ 0.9, "
             "t_max 4) suffices; 8 envs per worker keep the batch at 32 rows"),
    Task("LunarLanderContinuous-v3", 200.0, 8_000_000, dict(_LANDER),
         why="continuous main and side engines; shaped rewards and t_max 32 as LunarLander; "
             "entropy 1e-3 as there (1e-4 left the slowest seed at −22 after 6M steps)"),
)}


def task_defaults(env_id: str) -> dict[str, Any]:
    """The TrainConfig fields that :data:`TASKS` sets for ``env_id`` ({} if it is not listed)."""
    task = TASKS.get(env_id.rpartition(":")[2])
    if task is None:
        return {}
    return {**task.config, "target_return": task.target, "max_steps": task.budget}
