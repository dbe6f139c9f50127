"""The Gaussian actor-critic as a Keras 3 model, with its ``tf.GradientTape`` loss.

The Keras twin of ``a3c_lib.nn.gaussian`` (numpy, hand-written backprop, used by the workers):
the same layers, the same flat theta, the same loss written the way the maths reads. The tests
check that both give the same outputs and gradients (float64: 1e-10).

====================  ===========  ==============================================
output                shape        meaning
====================  ===========  ==============================================
``mu``                (B, D)       mean of the action distribution (linear head)
``sigma``             (B, D)       standard deviation, softplus(·) + σ_min
``value``             (B, 1)       V(s); squeeze to (B,) before use
====================  ===========  ==============================================
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # quiet TensorFlow start-up (as networks.py)

import keras
import numpy as np
import tensorflow as tf

from a3c_lib.nn.gaussian import HALF_LOG_2PI, SIGMA_MIN, GaussianSpec, unflatten
from a3c_lib.nn.mlp import LossStats


def build_gaussian_actor_critic(spec: GaussianSpec, dtype: str = "float32") -> keras.Model:
    """Functional model obs (B, obs_dim) -> [mu (B, D), sigma (B, D), value (B, 1)].

    >>> model = build_gaussian_actor_critic(GaussianSpec(3, 2, hidden=(8,)))
    >>> [tuple(t.shape) for t in model(np.zeros((4, 3), dtype="float32"))]
    [(4, 2), (4, 2), (4, 1)]
    """
    if dtype not in ("float32", "float64"):
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    obs = keras.Input(shape=(spec.obs_dim,), name="obs", dtype=dtype)  # (B, obs_dim)
    h = obs
    for i, width in enumerate(spec.hidden):
        h = keras.layers.Dense(width, activation="tanh", name=f"trunk_{i}", dtype=dtype)(h)
    mu = keras.layers.Dense(spec.action_dim, name="mu", dtype=dtype)(h)  # (B, D)
    z = keras.layers.Dense(spec.action_dim, name="sigma_pre", dtype=dtype)(h)  # (B, D)
    sigma = keras.layers.Lambda(lambda t: tf.nn.softplus(t) + SIGMA_MIN, name="sigma",
                                dtype=dtype)(z)  # (B, D)
    value = keras.layers.Dense(1, name="value", dtype=dtype)(h)  # (B, 1)
    return keras.Model(obs, [mu, sigma, value], name="gaussian_actor_critic")


def _pairs(spec: GaussianSpec) -> list[tuple[str, str, str]]:
    """(Keras layer, theta kernel name, theta bias name) in theta's order."""
    pairs = [(f"trunk_{i}", f"W{i}", f"b{i}") for i in range(len(spec.hidden))]
    return pairs + [("mu", "W_mu", "b_mu"), ("sigma_pre", "W_sigma", "b_sigma"),
                    ("value", "W_v", "b_v")]


def set_flat_weights(model: keras.Model, spec: GaussianSpec, theta: np.ndarray) -> None:
    """Load the numpy policy's flat theta (P,) into the model."""
    p = unflatten(spec, np.asarray(theta, dtype=np.float64))
    for layer, w, b in _pairs(spec):
        model.get_layer(layer).set_weights([p[w], p[b]])


def flat_gradients(model: keras.Model, spec: GaussianSpec, grads) -> np.ndarray:
    """Tape gradients (one per trainable variable) in theta's layout (P,), matched by path."""
    by_path = {v.path: np.asarray(g) for v, g in zip(model.trainable_variables, grads, strict=True)}
    flat = np.zeros(spec.n_params)  # (P,)
    p = unflatten(spec, flat)
    for layer, w, b in _pairs(spec):
        p[w][...] = by_path[f"{layer}/kernel"]
        p[b][...] = by_path[f"{layer}/bias"]
    return flat


def gaussian_loss(mu: tf.Tensor, sigma: tf.Tensor, v: tf.Tensor, actions, returns,
                  entropy_coef: float, value_coef: float) -> tuple[tf.Tensor, dict]:
    """The A3C loss of a Gaussian policy from the model's outputs (batch means).

    >>> total, parts = gaussian_loss(tf.zeros((1, 1)), tf.ones((1, 1)), tf.zeros(1),
    ...     tf.zeros((1, 1)), tf.ones(1), entropy_coef=0.0, value_coef=1.0)
    >>> round(float(parts["policy_loss"]), 4)  # −log N(0; 0, 1) · 1 = ½ log 2π
    0.9189
    """
    actions = tf.cast(actions, mu.dtype)  # (B, D) the UNCLIPPED samples
    returns = tf.cast(returns, v.dtype)  # (B,)
    log_density = tf.reduce_sum(-0.5 * tf.square((actions - mu) / sigma) - tf.math.log(sigma)
                                - HALF_LOG_2PI, axis=-1)  # (B,) log N(a; μ, σ²)
    entropy = tf.reduce_sum(tf.math.log(sigma) + HALF_LOG_2PI + 0.5, axis=-1)  # (B,)
    advantage = tf.stop_gradient(returns - v)  # (B,) the actor must not move the critic
    policy_loss = -tf.reduce_mean(log_density * advantage)
    value_loss = 0.5 * tf.reduce_mean(tf.square(returns - v))
    total = policy_loss + value_coef * value_loss - entropy_coef * tf.reduce_mean(entropy)
    return total, {"policy_loss": policy_loss, "value_loss": value_loss,
                   "entropy": tf.reduce_mean(entropy)}


def gaussian_gradients(model: keras.Model, spec: GaussianSpec, states, actions, returns,
                       entropy_coef: float, value_coef: float) -> tuple[LossStats, np.ndarray]:
    """LossStats and the tape gradient of the loss, flat in theta's layout (P,).

    >>> spec = GaussianSpec(3, 1, hidden=(4,))
    >>> model = build_gaussian_actor_critic(spec)
    >>> stats, grad = gaussian_gradients(model, spec, np.ones((2, 3)), np.zeros((2, 1)),
    ...                                  np.ones(2), entropy_coef=0.01, value_coef=0.5)
    >>> grad.shape
    (31,)
    """
    states = np.asarray(states, dtype=model.inputs[0].dtype)
    with tf.GradientTape() as tape:
        mu, sigma, value = model(states, training=True)  # (B, D), (B, D), (B, 1)
        total, parts = gaussian_loss(mu, sigma, tf.squeeze(value, axis=1), actions, returns,
                                     entropy_coef, value_coef)
    grads = tape.gradient(total, model.trainable_variables)
    stats = LossStats(float(total), *(float(parts[k]) for k in
                                      ("policy_loss", "value_loss", "entropy")))
    return stats, flat_gradients(model, spec, grads)


def save_theta(theta: np.ndarray, spec: GaussianSpec, path) -> object:
    """Write the numpy Gaussian policy's theta as a Keras ``.weights.h5`` file (as
    ``networks.save_theta`` does for the categorical MLP)."""
    from a3c_lib.keras.networks import save_weights

    model = build_gaussian_actor_critic(spec)
    set_flat_weights(model, spec, theta)
    return save_weights(model, path)
