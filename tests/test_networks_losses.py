"""The Keras model and the GradientTape loss agree with mlp.py's numpy twin, number for number."""

import numpy as np
import pytest
import tensorflow as tf

from a3c_lib.keras.losses import (
    actor_critic_gradients,
    actor_critic_loss,
    keras_compile_loss_demo,
    loss_from_outputs,
)
from a3c_lib.keras.networks import (
    build_actor_critic,
    flat_gradients,
    get_flat_weights,
    save_weights,
    set_flat_weights,
    spec_of,
)
from a3c_lib.nn.mlp import MLPSpec, forward, init_theta, loss_and_grad, softmax

THETA_NAME = {"kernel": "W", "bias": "b"}


def random_problem(spec, seed, batch=9):
    rng = np.random.default_rng(seed)
    theta = init_theta(spec, rng) + 0.3 * rng.standard_normal(spec.n_params)
    obs = rng.standard_normal((batch, spec.obs_dim))
    actions = rng.integers(0, spec.n_actions, batch)
    returns = 2.0 * rng.standard_normal(batch)
    return theta, obs, actions, returns


def model_for(spec, theta, dtype="float64"):
    model = build_actor_critic(spec.obs_dim, spec.n_actions, spec.hidden, dtype=dtype)
    set_flat_weights(model, theta, spec)
    return model


def flat_tape_gradient(model, grads, spec):
    """Tape gradients (one per trainable variable) laid out like mlp.py's theta."""
    assert spec_of(model) == spec
    return flat_gradients(model, grads)  # (P,)


@pytest.mark.parametrize("spec", [MLPSpec(4, 2), MLPSpec(3, 5, hidden=(7,))])
def test_keras_forward_equals_numpy_forward(spec):
    theta, obs, _, _ = random_problem(spec, 0)
    logits, value = model_for(spec, theta, dtype="float32")(obs.astype("float32"))
    np_logits, np_v = forward(spec, theta, obs)
    np.testing.assert_allclose(np.asarray(logits), np_logits, atol=1e-5)
    np.testing.assert_allclose(np.asarray(value)[:, 0], np_v, atol=1e-5)


def test_flat_weights_round_trip_and_spec():
    spec = MLPSpec(3, 2, hidden=(6, 5))
    theta, _, _, _ = random_problem(spec, 1)
    model = model_for(spec, theta)
    assert spec_of(model) == spec
    assert np.array_equal(get_flat_weights(model), theta)  # float64 model: exact
    with pytest.raises(ValueError, match="theta"):
        set_flat_weights(model, theta[:-1])
    with pytest.raises(ValueError, match="spec"):
        get_flat_weights(model, MLPSpec(3, 2, hidden=(6,)))
    with pytest.raises(ValueError, match="obs_dim"):
        build_actor_critic(0, 2)
    with pytest.raises(ValueError, match="dtype"):
        build_actor_critic(3, 2, dtype="int8")


def test_save_weights_round_trip(tmp_path):
    spec = MLPSpec(4, 2, hidden=(8,))
    theta, _, _, _ = random_problem(spec, 2)
    path = save_weights(model_for(spec, theta, "float32"), tmp_path / "run" / "model.weights.h5")
    fresh = build_actor_critic(4, 2, hidden=(8,))
    fresh.load_weights(str(path))
    np.testing.assert_allclose(get_flat_weights(fresh), theta, rtol=1e-7)  # float32 storage
    with pytest.raises(ValueError, match="weights.h5"):
        save_weights(fresh, tmp_path / "model.h5")


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_numpy_backprop_equals_gradient_tape(seed):
    spec = MLPSpec(4, 3, hidden=(16, 8))
    theta, obs, actions, returns = random_problem(spec, seed, batch=5 + 7 * seed)
    coefs = dict(entropy_coef=0.05, value_coef=0.5)
    stats, grad = loss_and_grad(spec, theta, obs, actions, returns, **coefs)
    for dtype, rtol, atol in [("float64", 1e-10, 1e-12), ("float32", 1e-4, 1e-6)]:
        model = model_for(spec, theta, dtype)
        tf_stats, grads = actor_critic_gradients(model, obs, actions, returns, **coefs)
        np.testing.assert_allclose(flat_tape_gradient(model, grads, spec), grad, rtol, atol)
        np.testing.assert_allclose(tf_stats, stats, rtol=1e-5)
    assert np.abs(grad).max() > 1e-2


def test_tape_gradient_wrt_logits_is_onehot_minus_pi_times_advantage():
    rng = np.random.default_rng(5)
    batch, n_actions = 6, 4
    logits = tf.Variable(rng.standard_normal((batch, n_actions)))  # a pure softmax policy
    v = tf.constant(rng.standard_normal(batch))
    actions, returns = rng.integers(0, n_actions, batch), rng.standard_normal(batch)
    with tf.GradientTape() as tape:
        _, parts = loss_from_outputs(logits, v, actions, returns, entropy_coef=0.0, value_coef=0.0)
    d_logits = tape.gradient(parts["policy_loss"], logits)  # (B, A)
    advantage = returns - np.asarray(v)  # (B,)
    pi = softmax(logits.numpy())  # (B, A)
    # our loss is −mean(log π(a|s)·A), so its gradient is −(onehot(a) − π)·A / B
    expected = -(np.eye(n_actions)[actions] - pi) * advantage[:, None] / batch
    np.testing.assert_allclose(d_logits.numpy(), expected, rtol=1e-12, atol=1e-15)


def test_policy_loss_gives_no_gradient_to_the_value_head():
    spec = MLPSpec(3, 2, hidden=(5,))
    theta, obs, actions, returns = random_problem(spec, 6)
    model = model_for(spec, theta)
    value_vars = model.get_layer("value").trainable_variables
    with tf.GradientTape(persistent=True) as tape:
        _, parts = actor_critic_loss(model, obs, actions, returns, 0.0, 0.0)
        logits, value = model(obs)
        log_pi_a = tf.gather(tf.nn.log_softmax(logits), actions, axis=1, batch_dims=1)
        # the bug that stop_gradient avoids: the advantage left differentiable
        no_stop = -tf.reduce_mean(log_pi_a * (returns - value[:, 0]))
    for g in tape.gradient(parts["policy_loss"], value_vars):
        assert g is None or not np.any(np.asarray(g))
    leaked = tape.gradient(no_stop, value_vars)
    assert np.abs(np.asarray(leaked[1])).max() > 1e-3  # without stop_gradient the critic moves


def test_packed_keras_loss_equals_tape_policy_part():
    spec = MLPSpec(3, 4, hidden=(5,))
    theta, obs, actions, returns = random_problem(spec, 7)
    model = model_for(spec, theta)
    _, parts = actor_critic_loss(model, obs, actions, returns, entropy_coef=0.1, value_coef=0.5)
    logits, value = model(obs)
    advantage = returns - np.asarray(value)[:, 0]  # computed beforehand: a constant
    y_true = np.stack([actions, advantage], axis=1)  # (B, 2): the fake "target"
    per_sample = keras_compile_loss_demo(entropy_coef=0.1)(y_true, logits)  # (B,)
    expected = float(parts["policy_loss"]) - 0.1 * float(parts["entropy"])
    assert np.isclose(float(tf.reduce_mean(per_sample)), expected, rtol=1e-12)
