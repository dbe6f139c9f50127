"""Any two-head Keras 3 model as an A3C policy: ``policy="keras:MODULE:FUNCTION"``.

``FUNCTION(observation_space, action_space)`` must return a Keras model with two outputs,
``[logits (B, A), value (B, 1) or (B,)]``, for a ``Discrete(A)`` action space — for example
``a3c_lib.keras.atari_net:build``, the paper's Atari network. :class:`KerasPolicy` wraps it in
the engine's :class:`~a3c_lib.nn.policy.Policy` interface, so the same workers, shared RMSProp
and lock that train the numpy MLP train it:

* **θ is ONE flat vector** in the model's dtype (float32 for Atari): the model's
  ``trainable_variables`` flattened and concatenated in their order. A worker copies the shared
  θ into its θ' as before; the policy writes θ' into the variables (one compiled assign, only
  when θ' changed: an exact ``np.array_equal``), and returns ∇θ' as one flat vector in the same
  layout (concatenated inside the compiled gradient function).
* **Compiled, never eager per step**: ``act``/``value`` and ``loss_and_grad`` each call one
  ``tf.function`` (traced once, a ``None`` batch axis so no retracing); sampling
  a ~ softmax(logits) is numpy (``mlp.sample_actions``), the loss is ``losses.loss_from_outputs``
  — the tape twin of the numpy MLP's hand-written gradient.
* **One TF thread per worker**: a spawned worker pins TensorFlow to 1 intra-op and 1 inter-op
  thread before its first op, so two workers on two cores do not fight over both.

Where does the parent need TensorFlow? Only here, once, to VALIDATE the factory and draw the
initial θ (``init_params``): the errors below come from the caller's own process, before any
worker starts, with a one-line message. A short-lived subprocess could keep the parent TF-free,
but it would pay the same TF import (~3 s) and add a pickled round trip of θ; a notebook that
trains a Keras model has imported TensorFlow anyway (to draw and load the model). The parent
never runs a forward pass or gradient for the workers.

Bad factories, each ONE ValueError naming the factory: it does not exist, its module fails to
import, it is defined in ``__main__``, it raises (all found by ``model_factory.py``), or its
heads do not match the action space (checked here on one observation).
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable
from typing import Any

import numpy as np

from a3c_lib.keras import tf  # TensorFlow, imported quietly by the package
from a3c_lib.keras.losses import loss_from_outputs
from a3c_lib.keras.model_factory import build_model, resolve_factory
from a3c_lib.nn import mlp
from a3c_lib.nn.mlp import LossStats

PREFIX = "keras:"  #: config.policy = PREFIX + "module:function"


def keras_policy(config: Any, observation_space: Any, action_space: Any) -> KerasPolicy:
    """The Policy factory behind ``config.policy = "keras:module:function"`` (see make_policy)."""
    name = str(config.policy)
    return KerasPolicy(name.removeprefix(PREFIX), observation_space, action_space)


def _pin_threads_in_worker() -> None:
    """1 intra-op + 1 inter-op TF thread in a spawned worker (the parent keeps its defaults)."""
    if mp.parent_process() is None:
        return
    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # TF already ran an op in this process: too late, keep its pools
        pass


class KerasPolicy:
    """A Keras model with heads [logits (B, A), value] as a :class:`~a3c_lib.nn.policy.Policy`.

    Args:
        model_factory: ``"module:function"`` (or the function) building the model from
            ``(observation_space, action_space)``.
        observation_space: the env's observation space.
        action_space: the env's action space; must be ``Discrete``.

    >>> import gymnasium as gym
    >>> pi = KerasPolicy("a3c_lib.keras.atari_net:build",
    ...                  gym.spaces.Box(0, 255, (4, 84, 84), np.uint8), gym.spaces.Discrete(6))
    >>> pi.n_params, pi.dtype
    (677943, dtype('float32'))
    >>> theta = pi.init_params(np.random.default_rng(0))  # (P,) float32
    >>> actions, v = pi.act(theta, np.zeros((8, 4, 84, 84), np.uint8), np.random.default_rng(0))
    >>> actions.shape, actions.dtype, v.shape
    ((8,), dtype('int64'), (8,))
    """

    action_shape: tuple[int, ...] = ()
    action_dtype = np.dtype(np.int64)

    def __init__(self, model_factory: str | Callable[..., Any], observation_space: Any,
                 action_space: Any) -> None:
        self.name, self._factory = resolve_factory(model_factory)
        if type(action_space).__name__ != "Discrete":
            raise ValueError(f"model factory {self.name!r}: the Keras policy needs a Discrete "
                             f"action space, got {action_space}")
        self.observation_space, self.action_space = observation_space, action_space
        self.n_actions = int(action_space.n)
        _pin_threads_in_worker()
        self.model = build_model(self.name, self._factory, observation_space, action_space, seed=0)
        variables = list(self.model.trainable_variables)
        if not variables or getattr(self.model, "non_trainable_variables", []):
            raise ValueError(f"model factory {self.name!r}: the model must have trainable "
                             "variables and no non-trainable ones (e.g. BatchNormalization "
                             "statistics), which the shared θ cannot hold")
        dtypes = {np.dtype(v.dtype) for v in variables}
        if len(dtypes) != 1:
            raise ValueError(f"model factory {self.name!r}: all variables must share one dtype, "
                             f"got {sorted(map(str, dtypes))}")
        self.dtype = dtypes.pop()
        self._sizes = [int(np.prod(v.shape)) for v in variables]
        self.n_params = sum(self._sizes)
        inputs = getattr(self.model, "inputs", None)
        self._obs_dtype = np.dtype(inputs[0].dtype if inputs else observation_space.dtype)
        self._obs_shape = tuple(observation_space.shape)
        self._check_heads()
        self._loaded = np.full(self.n_params, np.nan, self.dtype)  # θ in the variables
        self._compile(variables)

    # ---- validation and compiled functions ----------------------------------------------------
    def _check_heads(self) -> None:
        obs = np.asarray(self.observation_space.sample(), self._obs_dtype)[None]  # (1, *obs)
        try:
            outputs = self.model(obs, training=False)
        except Exception as err:
            raise ValueError(f"model factory {self.name!r}: the model cannot take an observation "
                             f"of shape {obs.shape} ({type(err).__name__}: {err})") from None
        shapes = [tuple(o.shape) for o in outputs] if isinstance(outputs, list | tuple) else None
        if shapes is None or len(shapes) != 2 or shapes[0] != (1, self.n_actions) \
                or shapes[1] not in ((1,), (1, 1)):
            got = shapes if shapes is not None else type(outputs).__name__
            raise ValueError(f"model factory {self.name!r}: the model must output [logits (B, "
                             f"{self.n_actions}), value (B, 1)] for {self.action_space}; on a "
                             f"batch of 1 it gives {got}")

    def _compile(self, variables: list) -> None:
        model, dtype, sizes = self.model, tf.as_dtype(self.dtype.name), self._sizes
        obs_spec = tf.TensorSpec((None, *self._obs_shape), tf.as_dtype(self._obs_dtype.name))

        # autograph=False: these are plain traced code (the Python loops unroll at trace time),
        # and autograph would write its converted source to /tmp files that outlive the process
        @tf.function(autograph=False, input_signature=[tf.TensorSpec((self.n_params,), dtype)])
        def assign(theta):  # θ (P,) -> the variables, in their order
            for variable, piece in zip(variables, tf.split(theta, sizes), strict=True):
                variable.assign(tf.reshape(piece, variable.shape))

        @tf.function(autograph=False, input_signature=[obs_spec])
        def forward(obs):  # (B, *obs) -> logits (B, A), v (B,)
            logits, value = model(obs, training=False)
            return logits, tf.reshape(value, (-1,))

        scalar = tf.TensorSpec((), dtype)

        @tf.function(autograph=False,
                     input_signature=[obs_spec, tf.TensorSpec((None,), tf.int64),
                                      tf.TensorSpec((None,), dtype), scalar, scalar])
        def gradient(obs, actions, returns, entropy_coef, value_coef):
            with tf.GradientTape() as tape:
                logits, value = model(obs, training=True)  # (B, A), (B, 1)
                total, parts = loss_from_outputs(logits, tf.reshape(value, (-1,)), actions,
                                                 returns, entropy_coef, value_coef)
            grads = tape.gradient(total, variables,
                                  unconnected_gradients=tf.UnconnectedGradients.ZERO)
            flat = tf.concat([tf.reshape(g, (-1,)) for g in grads], axis=0)  # (P,) θ's layout
            return total, parts["policy_loss"], parts["value_loss"], parts["entropy"], flat

        self._assign, self._forward, self._gradient = assign, forward, gradient

    def load(self, theta: np.ndarray) -> None:
        """Write θ (P,) into ``self.model``'s variables, unless they already hold exactly this θ.

        Afterwards ``self.model`` is the network with θ: ``policy.model.save_weights(path)``
        exports it as a Keras weights file.
        """
        if not isinstance(theta, np.ndarray) or theta.shape != (self.n_params,):
            got = getattr(theta, "shape", type(theta).__name__)
            raise ValueError(f"theta must be a numpy array of shape ({self.n_params},), got {got}")
        if np.array_equal(theta, self._loaded):  # ~0.4 ms for 678k float32: cheaper than assign
            return
        self._assign(np.asarray(theta, self.dtype))
        np.copyto(self._loaded, theta)

    def _obs(self, obs: np.ndarray) -> np.ndarray:
        return np.asarray(obs, self._obs_dtype)  # e.g. float32 frames -> the model's uint8

    # ---- the Policy interface ------------------------------------------------------------------
    def init_params(self, rng: np.random.Generator) -> np.ndarray:
        """θ (P,) from the factory's own initializers, seeded by ``rng`` (same rng, same θ)."""
        model = build_model(self.name, self._factory, self.observation_space, self.action_space,
                       seed=int(rng.integers(2**31)))
        return np.concatenate([np.asarray(v.numpy(), self.dtype).ravel()
                               for v in model.trainable_variables])  # (P,)

    def act(self, theta: np.ndarray, obs: np.ndarray,
            rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """a ~ π(·|s) (N,) int64 and V(s) (N,) for observations (N, *obs_shape)."""
        self.load(theta)
        logits, v = self._forward(self._obs(obs))  # (N, A), (N,)
        return mlp.sample_actions(logits.numpy(), rng), v.numpy()

    def value(self, theta: np.ndarray, obs: np.ndarray) -> np.ndarray:
        """V(s) (N,)."""
        self.load(theta)
        return self._forward(self._obs(obs))[1].numpy()

    def logits(self, theta: np.ndarray, obs: np.ndarray) -> np.ndarray:
        """The policy's logits (N, A) (for greedy play: argmax)."""
        self.load(theta)
        return self._forward(self._obs(obs))[0].numpy()

    def env_action(self, action: np.ndarray) -> Any:
        return action  # an np.int64: what a Discrete env's step takes

    def loss_and_grad(self, theta: np.ndarray, obs: np.ndarray, actions: np.ndarray,
                      returns: np.ndarray, entropy_coef: float,
                      value_coef: float) -> tuple[LossStats, np.ndarray]:
        """The A3C loss of ``mlp.loss_and_grad`` (batch means) and ∇θ (P,) in θ's dtype."""
        self.load(theta)
        obs = self._obs(obs)
        batch = mlp.batch_size(obs)  # B = 0 is refused (a mean over nothing is NaN)
        actions = np.asarray(actions)
        if actions.shape != (batch,) or not np.issubdtype(actions.dtype, np.integer) \
                or not 0 <= actions.min() <= actions.max() < self.n_actions:
            raise ValueError(f"actions must be {batch} integers in [0, {self.n_actions}), got "
                             f"{actions.dtype} {actions.shape}")
        returns = np.asarray(returns, self.dtype)
        if returns.shape != (batch,):
            raise ValueError(f"returns must have shape ({batch},), got {returns.shape}")
        total, policy_loss, value_loss, entropy, grad = self._gradient(
            obs, actions.astype(np.int64), returns, np.asarray(entropy_coef, self.dtype),
            np.asarray(value_coef, self.dtype))
        stats = LossStats(float(total), float(policy_loss), float(value_loss), float(entropy))
        return stats, grad.numpy()  # (P,)
