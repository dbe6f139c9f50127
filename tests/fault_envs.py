"""Test-only environments, loaded by module prefix: ``env_id="fault_envs:A3CFault-v0"``.

Fault injection lives HERE, not in the engine: a CartPole that misbehaves in one worker after
some steps, chosen with ``env_kwargs`` (a worker only builds its envs from the config, so the
spawned process imports this module itself through the id's prefix, as ``gym.make`` does).

* ``A3CFault-v0(worker, after_steps, mode, flag=None)`` — in the process of worker ``worker``
  (``a3c-worker-<i>``), the env's step number ``after_steps + 1`` does ``mode``: ``raise``
  (RuntimeError), ``nan`` (a NaN reward: the loss and the gradient become non-finite),
  ``exit`` (``os._exit(3)``: dies without a word), ``hang`` (sleeps an hour), and two deaths at
  the worst moments a SIGKILL can pick: ``exit_holding_locks`` takes every multiprocessing lock
  and semaphore the process holds a handle to (as if killed inside each), then ``os._exit(3)``;
  ``exit_mid_message`` writes the first bytes of a message into every pipe it can write to (a
  header announcing 100,000 bytes, then 10 of them), then ``os._exit(3)``. With
  ``envs_per_worker`` envs, each counts its own steps: ``after_steps = k · t_max`` fires in the
  worker's rollout k + 1, after exactly k updates. ``flag``: a path created just before the fault
  strikes, so a test can WAIT for it instead of guessing a time.
* ``A3CProbe-v0(report)`` — a CartPole that, when created, writes which heavy modules the
  process has loaded to ``report/<pid>.json``.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
import struct
import sys
import time
from pathlib import Path

import gymnasium as gym

FAULT_ID, PROBE_ID = "fault_envs:A3CFault-v0", "fault_envs:A3CProbe-v0"
MODES = ("raise", "nan", "exit", "hang", "exit_holding_locks", "exit_mid_message")


def _hold_every_lock() -> None:
    """Acquire (without blocking) every multiprocessing Lock/Semaphore this process can see."""
    import multiprocessing.synchronize as sync

    for obj in gc.get_objects():
        if isinstance(obj, sync.SemLock):
            obj.acquire(False)


def _write_half_a_message() -> None:
    """Into every writable multiprocessing Connection: a 4-byte header saying 100,000 bytes
    follow, then only 10 of them — what a process killed in the middle of a send leaves."""
    from multiprocessing.connection import Connection

    for obj in gc.get_objects():
        if isinstance(obj, Connection) and not obj.closed and obj.writable:
            os.write(obj.fileno(), struct.pack("!i", 100_000) + b"x" * 10)


class FaultEnv(gym.Wrapper):
    def __init__(self, worker: int = 0, after_steps: int = 0, mode: str = "raise",
                 flag: str | None = None, wait_for: str | None = None):
        super().__init__(gym.make("CartPole-v1", disable_env_checker=True))
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        self.armed = multiprocessing.current_process().name == f"a3c-worker-{worker}"
        self.after_steps, self.mode, self.flag, self.steps = after_steps, mode, flag, 0
        self.wait_for = wait_for

    def step(self, action):
        self.steps += 1
        if self.wait_for and not self.armed and self.steps == 1:
            deadline = time.monotonic() + 120
            while not Path(self.wait_for).exists() and time.monotonic() < deadline:
                time.sleep(0.01)
        out = self.env.step(action)
        if self.armed and self.steps == self.after_steps + 1:
            if self.flag:
                Path(self.flag).touch()
            if self.mode == "raise":
                raise RuntimeError("fault injected by fault_envs")
            if self.mode == "exit":
                os._exit(3)
            if self.mode == "hang":
                time.sleep(3600)
            if self.mode == "exit_holding_locks":
                _hold_every_lock()
                os._exit(3)
            if self.mode == "exit_mid_message":
                _write_half_a_message()
                os._exit(3)
            obs, _, terminated, truncated, info = out
            return obs, float("nan"), terminated, truncated, info
        return out


class ProbeEnv(gym.Wrapper):
    def __init__(self, report: str):
        super().__init__(gym.make("CartPole-v1", disable_env_checker=True))
        loaded = {name: name in sys.modules for name in ("tensorflow", "keras", "matplotlib",
                                                         "a3c_lib.keras", "a3c_lib.viz")}
        Path(report, f"{os.getpid()}.json").write_text(json.dumps(loaded))


gym.register(id="A3CFault-v0", entry_point=FaultEnv, max_episode_steps=500)
gym.register(id="A3CProbe-v0", entry_point=ProbeEnv, max_episode_steps=500)


def fault(worker: int, after_updates: int, mode: str = "raise", t_max: int = 8,
          flag=None, wait_for=None) -> dict:
    """TrainConfig fields for a fault in ``worker`` after ``after_updates`` of its updates."""
    kwargs = {"worker": worker, "after_steps": after_updates * t_max, "mode": mode}
    if flag is not None:
        kwargs["flag"] = str(flag)
    if wait_for is not None:
        kwargs["wait_for"] = str(wait_for)
    return {"env_id": FAULT_ID, "env_kwargs": kwargs, "t_max": t_max}


def float32_categorical(config, observation_space, action_space):
    """A policy factory for ``policy="fault_envs:float32_categorical"``: the categorical MLP with
    θ in float32 (as a Keras policy may keep it), to test the dtype seam end to end."""
    import numpy as np

    from a3c_lib.nn.policy import categorical_mlp

    policy = categorical_mlp(config, observation_space, action_space)
    policy.dtype = np.dtype(np.float32)
    init = policy.init_params
    policy.init_params = lambda rng: init(rng).astype(np.float32)
    return policy


def not_a_policy(config, observation_space, action_space):
    return object()
