"""Environments by id: ``"CartPole-v1"``, ``"module:Env-v0"`` and keyword arguments, validated.

As ``gym.make`` does, an id ``"module:Env-v0"`` first imports ``module`` (which registers
``Env-v0``), so a course or a test can bring its own environments without touching the engine.
``env_kwargs`` are passed to ``gym.make``; every problem is ONE ValueError naming ``env_id`` or
``env_kwargs``, raised in the parent before any worker starts.

>>> obs_space, action_space = env_spaces("CartPole-v1")
>>> obs_space.shape, action_space
((4,), Discrete(2))
>>> env_spaces("CartPole-v1", {"max_episode_steps": 50})[1]
Discrete(2)
>>> env_spaces("CartPole-v1", {"gravity": 1})  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
ValueError: env_kwargs {'gravity': 1} are not accepted by CartPole-v1: ...unexpected keyword...
"""

from __future__ import annotations

import importlib
from typing import Any

import gymnasium as gym


def make_env(env_id: str, env_kwargs: dict[str, Any] | None = None) -> gym.Env:
    """One env. ``disable_env_checker=True``: the passive checker re-validates every step (~30 %
    of a CartPole step); :func:`env_spaces` already checked the env once."""
    return gym.make(env_id, disable_env_checker=True, **(env_kwargs or {}))


def env_spaces(env_id: str, env_kwargs: dict[str, Any] | None = None) -> tuple[Any, Any]:
    """Check that ``env_id`` (with ``env_kwargs``) can be made here; (observation, action) space."""
    module, _, name = env_id.rpartition(":")
    if module:
        try:
            importlib.import_module(module)
        except ImportError as err:
            raise ValueError(f"env_id {env_id!r}: module {module!r} cannot be imported: "
                             f"{err}") from None
    if name not in gym.registry:
        close = [k for k in gym.registry if k.lower().startswith(name.split("-")[0].lower())]
        hint = f" (did you mean {', '.join(sorted(close)[:3])}?)" if close else ""
        raise ValueError(f"env_id {env_id!r} is not a registered gymnasium environment{hint}")
    try:
        env = make_env(env_id, env_kwargs)
    except TypeError as err:  # an unexpected keyword argument
        if not env_kwargs:
            raise ValueError(f"env_id {env_id!r} cannot be created here: TypeError: "
                             f"{err}") from None
        raise ValueError(f"env_kwargs {env_kwargs!r} are not accepted by {name}: TypeError: "
                         f"{err}") from None
    except Exception as err:  # e.g. DependencyNotInstalled (Box2D, Atari ROMs): one clear line
        what = f"with env_kwargs {env_kwargs!r} " if env_kwargs else ""
        raise ValueError(f"env_id {env_id!r} cannot be created {what}here: "
                         f"{type(err).__name__}: {err}") from None
    try:
        return env.observation_space, env.action_space
    finally:
        env.close()
