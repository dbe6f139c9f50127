"""The A3C loss in TensorFlow, with ``tf.GradientTape``: the reference for mlp.py's backprop.

"Why not a plain Keras loss ``loss(y_true, y_pred)``?" A Keras loss compares the network's output
with a target. The critic has one (the return G), but the actor does not: the policy loss
−log π(a|s)·A needs the action a that was taken and the advantage A, and neither is a target for
the logits. With Keras 3 you CAN make it fit: pack (a, A) into a fake ``y_true`` of shape (B, 2)
(see :func:`keras_compile_loss_demo`) or override ``Model.train_step``. Both work, but they hide
the math — "y_true" is not true anything, and the stop-gradient on A happens silently because A
was computed outside. The GradientTape form below says what the math says, line by line.

Loss (Mnih et al. 2016; batch mean instead of the paper's rollout sum, see mlp.loss_and_grad)::

    A           = stop_gradient(G − v)
    policy_loss = −mean(log π(a|s) · A)
    value_loss  = ½ · mean((G − v)²)
    entropy     = mean(−Σ_a π log π)
    total       = policy_loss + value_coef · value_loss − entropy_coef · entropy

The workers use the numpy twin ``mlp.loss_and_grad``; the tests check both give equal gradients.
"""

from __future__ import annotations

import os

# Quiet TensorFlow's C++ start-up chatter (CUDA probes on a CPU-only machine) in notebooks and
# the CLI; set before TensorFlow is first imported. A user's own setting wins.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import tensorflow as tf

from a3c_lib.nn.mlp import LossStats


def loss_from_outputs(
    logits: tf.Tensor,
    v: tf.Tensor,
    actions: tf.Tensor,
    returns: tf.Tensor,
    entropy_coef: float,
    value_coef: float,
) -> tuple[tf.Tensor, dict[str, tf.Tensor]]:
    """The loss from the network's outputs: logits (B, A), v (B,), actions (B,), returns (B,).

    >>> total, parts = loss_from_outputs(tf.zeros((2, 2)), tf.zeros(2), tf.constant([0, 1]),
    ...                                  tf.constant([1.0, 1.0]), entropy_coef=0.0, value_coef=1.0)
    >>> round(float(parts["policy_loss"]), 4), float(parts["value_loss"])  # −log ½ · 1, ½ · 1²
    (0.6931, 0.5)
    """
    returns = tf.cast(returns, v.dtype)  # (B,)
    log_pi = tf.nn.log_softmax(logits, axis=-1)  # (B, A)
    pi = tf.exp(log_pi)  # (B, A)
    advantage = tf.stop_gradient(returns - v)  # (B,) the actor must not move the critic
    log_pi_a = tf.gather(log_pi, tf.cast(actions, tf.int32), axis=1, batch_dims=1)  # (B,)
    policy_loss = -tf.reduce_mean(log_pi_a * advantage)
    value_loss = 0.5 * tf.reduce_mean(tf.square(returns - v))
    entropy = tf.reduce_mean(-tf.reduce_sum(pi * log_pi, axis=-1))  # mean over B of H(π(·|s))
    total = policy_loss + value_coef * value_loss - entropy_coef * entropy
    parts = {"policy_loss": policy_loss, "value_loss": value_loss, "entropy": entropy}
    return total, parts


def actor_critic_loss(
    model: keras.Model,
    states: np.ndarray,
    actions: np.ndarray,
    returns: np.ndarray,
    entropy_coef: float,
    value_coef: float,
) -> tuple[tf.Tensor, dict[str, tf.Tensor]]:
    """Run the model on states (B, obs_dim) and return (total, parts) of the A3C loss.

    >>> from a3c_lib.keras.networks import build_actor_critic
    >>> model = build_actor_critic(4, 2, hidden=(8,))
    >>> total, parts = actor_critic_loss(model, np.zeros((3, 4)), np.array([0, 1, 0]),
    ...                                  np.zeros(3), entropy_coef=0.01, value_coef=0.5)
    >>> sorted(parts)
    ['entropy', 'policy_loss', 'value_loss']
    """
    states = np.asarray(states, dtype=model.inputs[0].dtype)
    logits, value = model(states, training=True)  # (B, A), (B, 1)
    v = tf.squeeze(value, axis=1)  # (B,)
    return loss_from_outputs(logits, v, actions, returns, entropy_coef, value_coef)


def actor_critic_gradients(
    model: keras.Model,
    states: np.ndarray,
    actions: np.ndarray,
    returns: np.ndarray,
    entropy_coef: float,
    value_coef: float,
) -> tuple[LossStats, list[tf.Tensor]]:
    """LossStats and d total / d w for every ``model.trainable_variables`` w (same order).

    >>> from a3c_lib.keras.networks import build_actor_critic
    >>> model = build_actor_critic(4, 2, hidden=(8,))
    >>> stats, grads = actor_critic_gradients(model, np.ones((3, 4)), np.array([0, 1, 0]),
    ...                                       np.ones(3), entropy_coef=0.01, value_coef=0.5)
    >>> len(grads) == len(model.trainable_variables)
    True
    """
    with tf.GradientTape() as tape:
        total, parts = actor_critic_loss(model, states, actions, returns, entropy_coef, value_coef)
    grads = tape.gradient(total, model.trainable_variables)
    stats = LossStats(
        float(total), *(float(parts[k]) for k in ("policy_loss", "value_loss", "entropy"))
    )
    return stats, grads


def keras_compile_loss_demo(entropy_coef: float = 0.01):
    """A policy loss in Keras' ``loss(y_true, y_pred)`` form, to show what it takes.

    ``y_true`` must be a PACKED (B, 2) array ``[action, advantage]`` — not a target at all —
    and the advantage must be computed beforehand from a separate forward pass of the critic
    (which is why it is a constant). Use it as
    ``model.compile(loss={"policy_logits": fn, "value": "mse"})``. It gives the same number as
    ``policy_loss − entropy_coef · entropy`` from :func:`loss_from_outputs`.

    >>> fn = keras_compile_loss_demo(entropy_coef=0.0)
    >>> y_true = np.array([[0.0, 2.0], [1.0, -1.0]])  # (B, 2): [action, advantage]
    >>> np.round(np.asarray(fn(y_true, tf.zeros((2, 2), tf.float64))), 4)  # −log ½ · A
    array([ 1.3863, -0.6931])
    """

    def packed_policy_loss(y_true: tf.Tensor, y_pred: tf.Tensor) -> tf.Tensor:
        y_true = tf.cast(y_true, y_pred.dtype)
        actions = tf.cast(y_true[:, 0], tf.int32)  # (B,) unpacked from the fake target
        advantage = y_true[:, 1]  # (B,)
        log_pi = tf.nn.log_softmax(y_pred, axis=-1)  # (B, A)
        log_pi_a = tf.gather(log_pi, actions, axis=1, batch_dims=1)  # (B,)
        entropy = -tf.reduce_sum(tf.exp(log_pi) * log_pi, axis=-1)  # (B,)
        return -log_pi_a * advantage - entropy_coef * entropy  # (B,) Keras takes the mean

    return packed_policy_loss
