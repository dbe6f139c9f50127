"""The Keras policy backend: same numbers as the numpy MLP, compiled calls, clear errors.

The model factories below are module-level functions, so the policy can name them
``"test_keras_policy:mlp64"`` (pytest puts tests/ on sys.path, and spawned processes inherit it).
"""

from __future__ import annotations

import multiprocessing as mp
import sys

import gymnasium as gym
import numpy as np
import pytest

from a3c_lib.keras.model_factory import resolve_factory
from a3c_lib.keras.networks import build_actor_critic
from a3c_lib.keras.policy import KerasPolicy
from a3c_lib.nn import mlp

OBS, ACT = gym.spaces.Box(-1.0, 1.0, (4,), np.float64), gym.spaces.Discrete(3)
HIDDEN = (16, 8)


def mlp64(observation_space, action_space):
    return build_actor_critic(observation_space.shape[0], int(action_space.n), HIDDEN, "float64")


def mlp32(observation_space, action_space):
    return build_actor_critic(observation_space.shape[0], int(action_space.n), HIDDEN, "float32")


def wrong_heads(observation_space, action_space):  # one logit too many
    return build_actor_critic(observation_space.shape[0], int(action_space.n) + 1, HIDDEN)


def one_head(observation_space, action_space):
    import keras

    obs = keras.Input((observation_space.shape[0],))
    return keras.Model(obs, keras.layers.Dense(int(action_space.n))(obs))


def raises(observation_space, action_space):
    raise RuntimeError("no model today")


def _batch(rng: np.random.Generator, b: int = 40):
    obs = rng.standard_normal((b, 4))  # (B, obs_dim)
    actions = rng.integers(0, ACT.n, b)  # (B,)
    returns = rng.standard_normal(b) * 3.0  # (B,)
    return obs, actions, returns


@pytest.mark.parametrize("factory, dtype, tol", [("mlp64", np.float64, 1e-10),
                                                 ("mlp32", np.float32, 1e-5)])
def test_keras_gradient_equals_the_numpy_gradient_on_the_same_weights(factory, dtype, tol):
    pi = KerasPolicy(f"test_keras_policy:{factory}", OBS, ACT)
    spec = mlp.MLPSpec(4, int(ACT.n), HIDDEN)
    assert pi.n_params == spec.n_params and pi.dtype == np.dtype(dtype)
    rng = np.random.default_rng(3)
    theta64 = mlp.init_theta(spec, rng) + 0.3 * rng.standard_normal(spec.n_params)  # not tiny
    theta = theta64.astype(dtype)  # the Keras policy's own dtype
    obs, actions, returns = _batch(rng)
    stats_np, grad_np = mlp.loss_and_grad(spec, theta.astype(np.float64), obs, actions, returns,
                                          entropy_coef=0.01, value_coef=0.5)
    stats_k, grad_k = pi.loss_and_grad(theta, obs, actions, returns, 0.01, 0.5)
    assert grad_k.shape == (spec.n_params,) and grad_k.dtype == np.dtype(dtype)
    scale = np.abs(grad_np).max()
    assert scale > 1e-3  # a gradient worth comparing
    np.testing.assert_allclose(grad_k, grad_np, rtol=0, atol=tol * scale)
    np.testing.assert_allclose(stats_k, stats_np, rtol=tol)
    # acting: the same V(s) as the numpy forward pass, and a ~ π from the same logits
    logits_np, v_np = mlp.forward(spec, theta.astype(np.float64), obs)
    np.testing.assert_allclose(pi.value(theta, obs), v_np, rtol=0, atol=tol * 10)
    np.testing.assert_allclose(pi.logits(theta, obs), logits_np, rtol=0, atol=tol * 10)
    a, v = pi.act(theta, obs, np.random.default_rng(0))
    assert np.array_equal(a, mlp.sample_actions(pi.logits(theta, obs), np.random.default_rng(0)))


def test_a_changed_theta_reaches_the_model_even_in_one_entry():
    pi = KerasPolicy("test_keras_policy:mlp64", OBS, ACT)
    theta = pi.init_params(np.random.default_rng(0))
    obs = np.ones((2, 4))
    v1 = pi.value(theta, obs)
    theta[-1] += 1.0  # b_v, the value head's bias: V moves by exactly 1, in the SAME array
    np.testing.assert_allclose(pi.value(theta, obs), v1 + 1.0, rtol=0, atol=1e-12)


def test_theta_of_the_wrong_shape_is_refused():
    pi = KerasPolicy("test_keras_policy:mlp64", OBS, ACT)
    with pytest.raises(ValueError, match=rf"theta must be .* shape \({pi.n_params},\)"):
        pi.value(np.zeros(pi.n_params - 1), np.ones((1, 4)))


def test_an_empty_batch_is_refused_not_nan():
    pi = KerasPolicy("test_keras_policy:mlp64", OBS, ACT)
    theta = pi.init_params(np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"^obs must hold a batch of at least 1 observation, "
                                         r"got shape \(0, 4\)$"):
        pi.loss_and_grad(theta, np.zeros((0, 4)), np.zeros(0, np.int64), np.zeros(0), 0.0, 0.5)


def test_init_params_is_seeded_by_the_rng():
    pi = KerasPolicy("a3c_lib.keras.atari_net:build", gym.spaces.Box(0, 255, (4, 84, 84),
                     np.uint8), gym.spaces.Discrete(6))
    a = pi.init_params(np.random.default_rng(1))
    b = pi.init_params(np.random.default_rng(1))
    c = pi.init_params(np.random.default_rng(2))
    assert a.dtype == np.float32 and a.shape == (677_943,)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_the_paper_network_has_the_papers_shapes():
    from a3c_lib.keras.atari_net import build

    model = build(gym.spaces.Box(0, 255, (4, 84, 84), np.uint8), gym.spaces.Discrete(6))
    shapes = {layer.name: tuple(layer.output.shape[1:]) for layer in model.layers}
    assert shapes["conv_1"] == (20, 20, 16) and shapes["conv_2"] == (9, 9, 32)
    assert shapes["hidden"] == (256,) and shapes["policy_logits"] == (6,)
    assert shapes["value"] == (1,)
    kernels = {layer.name: tuple(layer.kernel.shape) for layer in model.layers
               if hasattr(layer, "kernel")}
    assert kernels["conv_1"] == (8, 8, 4, 16) and kernels["conv_2"] == (4, 4, 16, 32)
    assert [layer.strides for layer in model.layers if layer.name.startswith("conv")] == \
        [(4, 4), (2, 2)]


# ---- bad factories: one ValueError naming the factory ------------------------------------------
@pytest.mark.parametrize("name, words", [
    ("test_keras_policy:nope", "does not exist"),
    ("no_such_module_xyz:build", "importing 'no_such_module_xyz' failed"),
    ("__main__:build", "defined in __main__"),
    ("test_keras_policy:wrong_heads", "must output [logits (B, 3), value (B, 1)]"),
    ("test_keras_policy:one_head", "must output [logits (B, 3), value (B, 1)]"),
    ("test_keras_policy:raises", "failed: RuntimeError: no model today"),
    ("test_keras_policy", "must be 'module:function'"),
    ("test_keras_policy:HIDDEN", "is a tuple, not a function"),
])
def test_bad_factories_give_one_error_naming_the_factory(name, words):
    with pytest.raises(ValueError) as err:
        KerasPolicy(name, OBS, ACT)
    assert words in str(err.value)
    if ":" in name:
        assert repr(name) in str(err.value)


def test_a_factory_module_that_fails_to_import(tmp_path, monkeypatch):
    (tmp_path / "broken_nets_mod.py").write_text("import keras\nraise ImportError('boom')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ValueError, match=r"'broken_nets_mod:build': importing 'broken_nets_mod' "
                                         r"failed: ImportError: boom"):
        KerasPolicy("broken_nets_mod:build", OBS, ACT)
    sys.modules.pop("broken_nets_mod", None)


def test_a_function_from_main_is_refused_with_the_reason():
    def build(observation_space, action_space):
        return mlp32(observation_space, action_space)

    build.__module__ = "__main__"  # as if typed into a notebook cell
    with pytest.raises(ValueError, match="spawned processes that start a fresh Python"):
        resolve_factory(build)


def test_a_non_discrete_action_space_is_refused():
    with pytest.raises(ValueError, match="needs a Discrete action space"):
        KerasPolicy("test_keras_policy:mlp64", OBS, gym.spaces.Box(-1, 1, (2,)))


# ---- a spawned worker pins TensorFlow to one thread ----------------------------------------------
def _threads_in_child(queue) -> None:
    import tensorflow as tf

    KerasPolicy("test_keras_policy:mlp32", OBS, ACT)
    queue.put((tf.config.threading.get_intra_op_parallelism_threads(),
               tf.config.threading.get_inter_op_parallelism_threads()))


def test_a_spawned_process_pins_tensorflow_to_one_intra_and_one_inter_op_thread():
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_threads_in_child, args=(queue,), daemon=True)
    proc.start()
    try:
        assert queue.get(timeout=300) == (1, 1)
        proc.join(60)
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(5)
        queue.close()
        queue.join_thread()


# ---- through the trainer: the error comes before any worker starts -------------------------------
@pytest.mark.parametrize("policy, words", [
    ("keras:test_keras_policy:wrong_heads", "must output [logits (B, 2), value (B, 1)]"),
    ("keras:__main__:build", "defined in __main__"),
    ("keras:no_such_module_xyz:build", "importing 'no_such_module_xyz' failed"),
])
def test_train_refuses_a_bad_factory_before_any_worker_starts(policy, words):
    from process_helpers import spawned_children

    from a3c_lib.engine import training
    from a3c_lib.engine.config import TrainConfig

    with pytest.raises(ValueError) as err:
        training.start(TrainConfig(policy=policy, workers=2, max_steps=100))
    assert words in str(err.value) and policy.removeprefix("keras:") in str(err.value)
    assert spawned_children() == []

