"""The Policy seam: what the engine's workers need from an actor-critic, and the registry.

The rollout loop, the workers, a2c/ac, checkpoints and results talk to a policy only through
this small interface, so a Gaussian policy (continuous actions) or a Keras model plugs in
without touching the loop. θ is always ONE flat vector (it lives in shared memory)::

    n_params       P, the length of θ
    dtype          θ's dtype (float64 for the numpy MLP; a Keras policy may use float32)
    action_shape   () for discrete actions, (act_dim,) for continuous ones
    action_dtype   int64 for discrete, float64 for continuous
    init_params(rng)                       -> θ (P,)
    act(θ, obs, rng)                       -> actions (N, *action_shape), values V(s) (N,)
    value(θ, obs)                          -> V(s) (N,)
    env_action(action)                     -> what env.step receives (clip to bounds here)
    loss_and_grad(θ, obs, actions, G, β, c_v) -> (LossStats, ∇θ (P,))

Policies are built by :func:`make_policy` from ``(config, observation_space, action_space)``
in the parent AND in every spawned worker (nothing is pickled but the config), so a factory
must be deterministic. ``config.policy`` picks it: ``"auto"`` (by action space), a registered
name, ``"name:rest"`` for a registered name that reads the rest itself (``"keras:pkg.mod:fn"``),
or ``"module:function"`` (imported, then called like a factory).

>>> import gymnasium as gym
>>> from types import SimpleNamespace
>>> cfg = SimpleNamespace(policy="auto", hidden=(8,))
>>> pi = make_policy(cfg, gym.spaces.Box(-1, 1, (4,)), gym.spaces.Discrete(2))
>>> type(pi).__name__, pi.n_params, pi.action_shape, pi.dtype
('CategoricalMLP', 67, (), dtype('float64'))
>>> theta = pi.init_params(np.random.default_rng(0))
>>> actions, v = pi.act(theta, np.zeros((3, 4)), np.random.default_rng(0))
>>> actions.shape, actions.dtype, v.shape
((3,), dtype('int64'), (3,))
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import numpy as np

from a3c_lib.nn import mlp
from a3c_lib.nn.mlp import LossStats


@runtime_checkable
class Policy(Protocol):
    """An actor-critic over a flat parameter vector θ (see the module docstring)."""

    n_params: int
    dtype: np.dtype
    action_shape: tuple[int, ...]
    action_dtype: np.dtype

    def init_params(self, rng: np.random.Generator) -> np.ndarray: ...

    def act(self, theta: np.ndarray, obs: np.ndarray,
            rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]: ...

    def value(self, theta: np.ndarray, obs: np.ndarray) -> np.ndarray: ...

    def env_action(self, action: np.ndarray) -> Any: ...

    def loss_and_grad(self, theta: np.ndarray, obs: np.ndarray, actions: np.ndarray,
                      returns: np.ndarray, entropy_coef: float,
                      value_coef: float) -> tuple[LossStats, np.ndarray]: ...


class CategoricalMLP:
    """π(·|s) = softmax(logits) of the numpy MLP of :mod:`a3c_lib.nn.mlp` (discrete actions).

    Every current run uses it; its maths is ``mlp.forward``, ``mlp.sample_actions`` and
    ``mlp.loss_and_grad`` unchanged (same random draws, so seeded runs stay bit-identical).

    >>> pi = CategoricalMLP(mlp.MLPSpec(4, 2, hidden=(8,)))
    >>> pi.value(pi.init_params(np.random.default_rng(0)), np.zeros((2, 4))).shape
    (2,)
    """

    dtype = np.dtype(np.float64)
    action_shape: tuple[int, ...] = ()
    action_dtype = np.dtype(np.int64)

    def __init__(self, spec: mlp.MLPSpec) -> None:
        self.spec = spec
        self.n_params = spec.n_params

    def init_params(self, rng: np.random.Generator) -> np.ndarray:
        return mlp.init_theta(self.spec, rng)  # (P,)

    def act(self, theta: np.ndarray, obs: np.ndarray,
            rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        logits, v = mlp.forward(self.spec, theta, obs)  # (N, A), (N,)
        return mlp.sample_actions(logits, rng), v  # a ~ π(·|s): (N,) int64

    def value(self, theta: np.ndarray, obs: np.ndarray) -> np.ndarray:
        return mlp.forward(self.spec, theta, obs)[1]  # (N,)

    def env_action(self, action: np.ndarray) -> Any:
        # the np.int64 itself: Discrete.contains checks it ~2 µs faster than a Python int
        return action

    def loss_and_grad(self, theta: np.ndarray, obs: np.ndarray, actions: np.ndarray,
                      returns: np.ndarray, entropy_coef: float,
                      value_coef: float) -> tuple[LossStats, np.ndarray]:
        return mlp.loss_and_grad(self.spec, theta, obs, actions, returns, entropy_coef,
                                 value_coef)


def categorical_mlp(config, observation_space, action_space) -> CategoricalMLP:
    """Factory of :class:`CategoricalMLP`: Discrete actions, 1-D Box observations."""
    if type(action_space).__name__ != "Discrete":
        raise ValueError(f"policy 'categorical' needs a Discrete action space, got "
                         f"{type(action_space).__name__}")
    shape = getattr(observation_space, "shape", None)
    if type(observation_space).__name__ != "Box" or shape is None or len(shape) != 1:
        raise ValueError(f"policy 'categorical' (an MLP) needs 1-D Box observations, got "
                         f"{observation_space}")
    return CategoricalMLP(mlp.MLPSpec(int(shape[0]), int(action_space.n), tuple(config.hidden)))


#: name -> factory(config, observation_space, action_space) -> Policy, or the factory's
#: "module:function" path, imported only when used (so that this module never imports
#: TensorFlow). Others add theirs with :func:`register_policy` (e.g. "gaussian" for Box actions).
POLICIES: dict[str, Callable[..., Policy] | str] = {
    "categorical": categorical_mlp,
    "keras": "a3c_lib.keras.policy:keras_policy",  # policy="keras:module:function"
    "gaussian": "a3c_lib.nn.gaussian:gaussian_mlp",  # N(μ(s), σ(s)²) for Box actions
}

#: policy="auto": the policy name for each kind of action space (by the space's class name).
AUTO: dict[str, str] = {"Discrete": "categorical", "Box": "gaussian"}


def register_policy(name: str, factory: Callable[..., Policy],
                    auto_for: str | None = None) -> None:
    """Add (or replace) policy ``name``; ``auto_for="Box"`` makes it "auto"'s choice there.

    A module that registers a policy must be imported in the worker too: name it in
    ``config.policy`` as ``"module:factory"``, or import it from a module that the env id's
    prefix (``"module:Env-v0"``) imports.
    """
    POLICIES[name] = factory
    if auto_for is not None:
        AUTO[auto_for] = name


def make_policy(config, observation_space, action_space) -> Policy:
    """The policy ``config.policy`` names, built for these spaces (ValueError if none fits)."""
    name = getattr(config, "policy", "auto")
    if name == "auto":
        kind = type(action_space).__name__
        if kind not in AUTO:
            raise ValueError(f"policy 'auto' has no policy for a {kind} action space (known: "
                             f"{', '.join(AUTO)}); pass policy= a registered name or "
                             "'module:function'")
        name = AUTO[kind]
    head = name.partition(":")[0]
    if name in POLICIES or head in POLICIES:  # "name" or "name:whatever the factory reads"
        factory = POLICIES[name if name in POLICIES else head]
    elif ":" in name:
        factory = name
    else:
        raise ValueError(f"policy must be 'auto', one of {', '.join(POLICIES)} or "
                         f"'module:function', got {name!r}")
    if isinstance(factory, str):
        module, _, attr = factory.partition(":")
        try:
            factory = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as err:
            raise ValueError(f"policy {name!r} cannot be loaded: {type(err).__name__}: "
                             f"{err}") from None
    policy = factory(config, observation_space, action_space)
    if not isinstance(policy, Policy):
        raise ValueError(f"policy {name!r} built a {type(policy).__name__}, which lacks the "
                         "Policy interface (n_params, dtype, act, loss_and_grad, …)")
    return policy
