"""TrainConfig: every hyperparameter of the trainers in one typed, validated dataclass.

The CLI (``python -m a3c_lib train --gamma 0.99 …``) and the notebook widgets are generated from
``dataclasses.fields(TrainConfig)``: the first line of each field's doc (``FIELD_DOCS``) is its help
text, so the three cannot drift apart. The defaults are the configuration that
``benchmarks/solve_cartpole.py`` measures.

>>> TrainConfig(gamma=0.9).gamma
0.9
>>> TrainConfig(gamma=1.5)
Traceback (most recent call last):
...
ValueError: gamma must be in [0, 1), got 1.5
"""

from __future__ import annotations

import dataclasses
import json
import math
import numbers
import warnings
from dataclasses import dataclass, field
from typing import Any

from a3c_lib.engine.cpus import available_cpus
from a3c_lib.nn.gaussian import SIGMA_MIN

ALGOS = ("a3c", "a2c", "ac")
LR_SCHEDULES = ("constant", "linear")  #: see nn.optim.linear_decay
MAX_WORKERS = 256  #: a hard stop for typos (workers=1000 would spawn 1000 processes); > cpus warns
DEFAULT_MAX_WORKERS = 16  #: the default worker count is the usable CPUs, at most this (the
#                           paper's 16 actor-learner threads)


def default_workers() -> int:
    """The CPUs this process may use (affinity, cgroup quota), at most 16.

    >>> 1 <= default_workers() <= DEFAULT_MAX_WORKERS
    True
    """
    return min(available_cpus(), DEFAULT_MAX_WORKERS)


#: One line per field: what it is and its allowed range (used by the CLI's --help and widgets).
FIELD_DOCS: dict[str, str] = {
    "algo": "trainer: 'a3c' (async workers), 'a2c' (sync, lockstep envs) or 'ac' (a2c, 1 env)",
    "env_id": "gymnasium id ('CartPole-v1', or 'module:Env-v0' to import module first)",
    "env_kwargs": "keyword arguments of gym.make: a JSON object, e.g. '{\"max_episode_steps\": 9}'",
    "policy": "'auto' (by action space), a registered policy ('categorical') or 'module:function'",
    "backend": "how a3c workers run: 'process' (spawned processes on shared memory) or 'ray' "
               "(actors on a Ray cluster; pip install 'a3c-course[ray]')",
    "ray_address": "backend 'ray': join this cluster ('auto' or HOST:PORT of `ray start "
                   "--head`); None = start a local loopback instance",
    "workers": "a3c: actor-learner processes; a2c: envs stepped in lockstep; int in [1, 256] "
               "(default: the CPUs this process may use, at most 16)",
    "envs_per_worker": "envs each a3c worker steps in lockstep (1 = the paper); int >= 1",
    "t_max": "env steps per env before each update (n of the n-step return); int >= 1",
    "gamma": "discount factor γ; in [0, 1)",
    "lr": "RMSProp learning rate α (the paper's η); finite number > 0",
    "lr_schedule": "'constant', or 'linear': α falls linearly from lr to 0 over max_steps "
                   "(the paper anneals α to 0)",
    "rms_alpha": "RMSProp decay κ (the paper's α) of the shared mean of squares ν; in [0, 1)",
    "rms_eps": "RMSProp ε added under the square root; > 0",
    "entropy_coef": "weight c_H of the entropy bonus (the paper's β); >= 0",
    "value_coef": "weight c_v of the critic loss ½(G − V)²; >= 0",
    "max_grad_norm": "threshold c of the global gradient-norm clip (not in the paper's code); > 0",
    "hidden": "widths of the tanh trunk layers; each int >= 1",
    "seed": "root of every random stream (θ's init, each worker's envs and rng); int >= 0",
    "max_steps": "global env-step budget; int >= 1",
    "target_return": "stop when the 100-episode mean training return reaches it; None = never",
    "checkpoint_every": "save a checkpoint every this many global updates (0 = off); int >= 0",
    "reward_scale": "the learner sees reward_scale · r (returns shown stay raw); > 0",
    "reward_clip": "then clips it to [−c, c] (the paper's Atari recipe: 1); None = off, or > 0",
    "sigma_init": "Gaussian policy (Box actions): initial σ in the unit action box; "
                  f"> {SIGMA_MIN:g} (σ's floor)",
}


@dataclass
class TrainConfig:
    """Hyperparameters of ``a3c``, ``a2c`` and ``ac`` (see ``FIELD_DOCS`` for one line each).

    ``ac`` is a2c with ONE environment: ``workers`` and ``envs_per_worker`` are set to 1 for it
    (visible in ``to_dict()`` and in the run's summary).
    """

    # Defaults = the benchmark's config, tuned on CartPole-v1 (3–8 seeds each, env steps to a
    # 100-episode mean of 475): lr 3e-3 ≈ 98k (8/8 seeds), 2e-3 ≈ 110k, 4e-3 ≈ 103k; entropy
    # 0.01 failed a seed within 400k (CartPole needs little exploration); 8 envs × t_max 4–5
    # per worker needed similar step counts with ~10 % less CPU per step.
    algo: str = "a3c"
    env_id: str = "CartPole-v1"
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    policy: str = "auto"
    backend: str = "process"
    ray_address: str | None = None
    workers: int = field(default_factory=default_workers)
    envs_per_worker: int = 4
    t_max: int = 8
    gamma: float = 0.99
    lr: float = 3e-3
    # the paper anneals α to 0 over training; CartPole solves long before annealing would
    # matter, so the default keeps α constant (what it did on Pendulum and LunarLander:
    # README, "Beyond CartPole")
    lr_schedule: str = "constant"
    rms_alpha: float = 0.99
    rms_eps: float = 1e-5
    # entropy: the paper's β = 0.01 is relative to rewards clipped to [−1, 1]; CartPole's are +1
    # per step and need little exploration. Re-measured (issue 12, a3c, 3 seeds, 400k budget):
    # β = 0.01 solved 1/3 (280k steps; the others plateaued at a mean of ~385), β = 0 solves 5/5
    # in 108k–157k (benchmarks/solve_tasks.py). So 0 stays the default; tasks that need
    # exploration set it per env (engine/tasks.py: 0.01 for the −1-per-step family, LunarLander).
    entropy_coef: float = 0.0
    value_coef: float = 0.5
    max_grad_norm: float = 1.0
    hidden: tuple[int, ...] = field(default=(64, 64))
    seed: int = 0
    max_steps: int = 1_000_000
    target_return: float | None = 475.0
    checkpoint_every: int = 0
    # Reward handling: WHY in engine/rewards.py (the critic's regression target and the
    # advantage's magnitude scale with r). Per-env values: TrainConfig.for_env / engine/tasks.py.
    reward_scale: float = 1.0
    reward_clip: float | None = None
    sigma_init: float = 0.5

    def __post_init__(self) -> None:
        if self.algo not in ALGOS:
            raise ValueError(f"algo must be one of {', '.join(ALGOS)}, got {self.algo!r}")
        if not isinstance(self.env_id, str) or not self.env_id:
            raise ValueError(f"env_id must be a non-empty gymnasium id, got {self.env_id!r}")
        _check_env_kwargs(self)
        for name in ("policy", "backend"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise ValueError(f"{name} must be a non-empty name, got {getattr(self, name)!r}")
        if self.ray_address is not None and (self.backend != "ray" or not self.ray_address
                                             or not isinstance(self.ray_address, str)):
            raise ValueError("ray_address must be None or a Ray address ('auto', 'HOST:PORT') "
                             f"with backend='ray', got {self.ray_address!r}")
        _check_int(self, "workers", 1)
        if self.workers > MAX_WORKERS:
            raise ValueError(f"workers must be an integer in [1, {MAX_WORKERS}], "
                             f"got {self.workers}")
        _check_int(self, "envs_per_worker", 1)
        _check_int(self, "t_max", 1)
        _check_int(self, "seed", 0)
        _check_int(self, "max_steps", 1)
        _check_int(self, "checkpoint_every", 0)
        _check_float(self, "gamma", 0.0, 1.0, "[0, 1)")
        _check_float(self, "rms_alpha", 0.0, 1.0, "[0, 1)")
        _check_float(self, "lr", 0.0, math.inf, "a finite number > 0", low_open=True)
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"lr_schedule must be one of {', '.join(LR_SCHEDULES)}, "
                             f"got {self.lr_schedule!r}")
        _check_float(self, "rms_eps", 0.0, math.inf, "a finite number > 0", low_open=True)
        _check_float(self, "max_grad_norm", 0.0, math.inf, "a finite number > 0", low_open=True)
        _check_float(self, "entropy_coef", 0.0, math.inf, "a finite number >= 0")
        _check_float(self, "value_coef", 0.0, math.inf, "a finite number >= 0")
        if self.target_return is not None:
            _check_float(self, "target_return", -math.inf, math.inf, "a finite number or None")
        _check_float(self, "reward_scale", 0.0, math.inf, "a finite number > 0", low_open=True)
        if self.reward_clip is not None:
            _check_float(self, "reward_clip", 0.0, math.inf, "None or a finite number > 0",
                         low_open=True)
        _check_float(self, "sigma_init", SIGMA_MIN, math.inf, f"a finite number > {SIGMA_MIN:g}",
                     low_open=True)
        try:
            hidden = tuple(self.hidden)
        except TypeError:
            hidden = (None,)
        if not hidden or any(isinstance(h, bool) or not isinstance(h, int) or h < 1
                             for h in hidden):
            raise ValueError(f"hidden must be a non-empty tuple of ints >= 1, got {self.hidden!r}")
        self.hidden = hidden
        if self.algo == "ac":  # single agent: one env, by definition
            self.workers, self.envs_per_worker = 1, 1
        cpus = available_cpus()  # affinity and cgroup quota, not the host's os.cpu_count()
        if self.algo == "a3c" and self.workers > cpus and self.ray_address is None:
            warnings.warn(f"workers={self.workers} > the {cpus} CPU(s) this process may use: the "
                          "worker processes will share cores and each will run slower",
                          stacklevel=3)

    @property
    def lr_decay_steps(self) -> int | None:
        """T of ``nn.optim.linear_decay``: max_steps with the linear schedule, else None.

        >>> TrainConfig(lr_schedule="linear", max_steps=1000).lr_decay_steps
        1000
        >>> TrainConfig().lr_decay_steps is None  # constant α
        True
        """
        return self.max_steps if self.lr_schedule == "linear" else None

    @property
    def n_envs(self) -> int:
        """Environments stepped in total: workers × envs_per_worker (a2c: all in one process)."""
        return self.workers * self.envs_per_worker

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``hidden`` as a list).

        >>> TrainConfig().to_dict()["hidden"]
        [64, 64]
        """
        d = dataclasses.asdict(self)
        d["hidden"] = list(self.hidden)
        d["env_kwargs"] = json.loads(json.dumps(self.env_kwargs))  # a deep copy
        return d

    @classmethod
    def for_env(cls, env_id: str = "CartPole-v1", **fields: Any) -> TrainConfig:
        """The config for ``env_id``: YOUR fields > the env's defaults (``engine/tasks.py``) >
        the dataclass defaults (tuned on CartPole). The CLI builds its config this way.

        >>> cfg = TrainConfig.for_env("Acrobot-v1", seed=3)
        >>> cfg.reward_scale, cfg.target_return, cfg.seed
        (0.1, -100.0, 3)
        >>> TrainConfig.for_env("Acrobot-v1", reward_scale=1.0).reward_scale  # yours win
        1.0
        """
        from a3c_lib.engine.tasks import task_defaults

        return cls(**{**task_defaults(env_id), "env_id": env_id, **fields})

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        """Inverse of :meth:`to_dict`; unknown keys are an error.

        >>> TrainConfig.from_dict(TrainConfig(lr=1e-3).to_dict()).lr
        0.001
        """
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ValueError(f"unknown TrainConfig field(s): {', '.join(unknown)}")
        d = dict(d)
        if "hidden" in d and isinstance(d["hidden"], list):
            d["hidden"] = tuple(d["hidden"])
        return cls(**d)


def _check_int(cfg: TrainConfig, name: str, low: int) -> None:
    """Accept ints (numpy's too) >= low; store them as int."""
    value = getattr(cfg, name)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    setattr(cfg, name, int(value))


def _check_env_kwargs(cfg: TrainConfig) -> None:
    """A dict with str keys that survives JSON (it is saved in summaries and checkpoints)."""
    kwargs = cfg.env_kwargs
    ok = isinstance(kwargs, dict) and all(isinstance(k, str) for k in kwargs)
    if ok:
        try:
            ok = json.loads(json.dumps(kwargs)) == kwargs
        except (TypeError, ValueError):
            ok = False
    if not ok:
        raise ValueError(f"env_kwargs must be a JSON object (a dict of str keys and JSON values), "
                         f"got {kwargs!r}")


def _check_float(cfg: TrainConfig, name: str, low: float, high: float, text: str,
                 low_open: bool = False) -> None:
    """Accept ints/floats in [low, high) (or (low, high) if low_open); store them as float."""
    value = getattr(cfg, name)
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = (value > low if low_open else value >= low) and value < high
    if not ok:
        raise ValueError(f"{name} must be {text}, got {value!r}" if text[0] != "["
                         else f"{name} must be in {text}, got {value!r}")
    setattr(cfg, name, float(value))


def validate_env(env_id: str, env_kwargs: dict[str, Any] | None = None) -> tuple[int, int]:
    """Check that ``env_id`` exists and suits the categorical MLP; return (obs_dim, n_actions).

    (A run checks its env against ITS policy: ``run.TrainingRun`` uses
    ``envs.env_spaces`` and ``nn.policy.make_policy``.)

    >>> validate_env("CartPole-v1")
    (4, 2)
    >>> validate_env("Pendulum-v1")
    Traceback (most recent call last):
    ...
    ValueError: A3C here supports discrete actions; Pendulum-v1 has a Box action space
    """
    from a3c_lib.engine.envs import env_spaces

    obs_space, action_space = env_spaces(env_id, env_kwargs)
    kind = type(action_space).__name__
    if kind != "Discrete":
        raise ValueError(f"A3C here supports discrete actions; {env_id} has a {kind} action "
                         "space")
    if kind != "Discrete" or type(obs_space).__name__ != "Box" or len(obs_space.shape) != 1:
        raise ValueError(f"the MLP here needs 1-D Box observations; {env_id} has "
                         f"{obs_space} observations")
    return int(obs_space.shape[0]), int(action_space.n)
