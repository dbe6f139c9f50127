"""Rollouts (bootstrap at time limits, none at terminals), shared RMSProp and gradient clipping."""

from types import SimpleNamespace

import gymnasium as gym
import numpy as np
import pytest

from a3c_lib.engine.config import TrainConfig
from a3c_lib.engine.rollout import RolloutCollector
from a3c_lib.engine.shared import STEP, SharedState
from a3c_lib.nn import mlp
from a3c_lib.nn.optim import clip_grad_norm, rmsprop_update
from a3c_lib.nn.policy import CategoricalMLP, Policy, make_policy
from a3c_lib.returns import n_step_returns


class CountEnv(gym.Env):
    """obs = [k], the number of steps taken in the episode; reward k + 1; terminates at k = stop."""

    def __init__(self, stop=None):
        self.observation_space = gym.spaces.Box(0.0, 100.0, (1,))
        self.action_space = gym.spaces.Discrete(2)
        self.stop, self.k = stop, 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.k = 0
        return np.array([0.0], np.float32), {}

    def step(self, action):
        reward = float(self.k + 1)
        self.k += 1
        return np.array([self.k], np.float32), reward, self.k == self.stop, False, {}


def v_of(spec, theta, x):
    return mlp.forward(spec, theta, np.array([[float(x)]]))[1][0]


def test_rollout_bootstraps_time_limits_and_not_terminals():
    spec = mlp.MLPSpec(1, 2, hidden=(5,))
    theta = mlp.init_theta(spec, np.random.default_rng(1))
    theta += np.random.default_rng(2).normal(size=theta.shape)  # a critic with distinct values
    envs = [CountEnv(stop=2), gym.wrappers.TimeLimit(CountEnv(), max_episode_steps=3)]
    c = RolloutCollector(envs, CategoricalMLP(spec), t_max=4, env_seeds=[0, 1],
                         rng=np.random.default_rng(0))
    r, episodes = c.collect(theta)

    np.testing.assert_array_equal(r.states[:, :, 0], [[0, 0], [1, 1], [0, 2], [1, 0]])
    np.testing.assert_array_equal(r.rewards, [[1, 1], [2, 2], [1, 3], [2, 1]])
    np.testing.assert_array_equal(r.terminated, [[0, 0], [1, 0], [0, 0], [1, 0]])
    np.testing.assert_array_equal(r.truncated, [[0, 0], [0, 0], [0, 1], [0, 0]])
    # env 1 was truncated at t=2: V of the FINAL observation [3], not of the reset one [0]
    assert r.next_values[2, 1] == pytest.approx(v_of(spec, theta, 3))
    assert r.next_values[3, 1] == pytest.approx(v_of(spec, theta, 1))  # last step: V(s_T)
    np.testing.assert_allclose(r.values[:, 1], [v_of(spec, theta, x) for x in (0, 1, 2, 0)])
    assert episodes == [(0, 1, 3.0, 2), (1, 2, 6.0, 3), (0, 3, 3.0, 2)]
    assert c.steps == 8

    gamma = 0.5
    g = n_step_returns(r.rewards, r.terminated, r.truncated, r.next_values, gamma)  # (T, N)
    np.testing.assert_allclose(g[:, 0], [2.0, 2.0, 2.0, 2.0])  # terminals: nothing bootstrapped
    g3 = 1 + gamma * v_of(spec, theta, 1)
    g2 = 3 + gamma * v_of(spec, theta, 3)
    np.testing.assert_allclose(g[:, 1], [1 + gamma * (2 + gamma * g2), 2 + gamma * g2, g2, g3])


def test_rollout_seeds_are_reproducible():
    spec = mlp.MLPSpec(4, 2, hidden=(8,))
    theta = mlp.init_theta(spec, np.random.default_rng(0))
    runs = []
    for _ in range(2):
        envs = [gym.make("CartPole-v1") for _ in range(2)]
        c = RolloutCollector(envs, CategoricalMLP(spec), t_max=30, env_seeds=[7, 8],
                             rng=np.random.default_rng(7))
        r, _ = c.collect(theta)
        runs.append((r.states.copy(), r.actions.copy()))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    assert not np.array_equal(runs[0][0][:, 0], runs[0][0][:, 1])  # env j uses env_seeds[j]


def test_shared_rmsprop_matches_hand_computation_in_shared_memory():
    state = SharedState.create(n_params=2, n_workers=1)
    try:
        theta, g = state.theta, state.g
        theta[:] = [1.0, -1.0]
        lr, alpha, eps = 0.1, 0.9, 1e-2
        grads = [np.array([2.0, 0.5]), np.array([-1.0, 0.0])]
        want_theta, want_g = np.array([1.0, -1.0]), np.zeros(2)
        for grad in grads:  # g ← αg + (1−α)Δ²;  θ ← θ − η Δ/√(g+ε), written out by hand
            want_g = [alpha * want_g[i] + (1 - alpha) * grad[i] ** 2 for i in range(2)]
            want_theta = [want_theta[i] - lr * grad[i] / np.sqrt(want_g[i] + eps)
                          for i in range(2)]
            rmsprop_update(theta, g, grad, lr, alpha, eps)
        np.testing.assert_allclose(g, [0.1 * 4 * 0.9 + 0.1 * 1, 0.9 * 0.025])
        np.testing.assert_allclose(g, want_g)
        np.testing.assert_allclose(theta, want_theta)
        other = SharedState.attach(state.handle)  # another process would see the same numbers
        np.testing.assert_allclose(other.theta, want_theta)
        other.counters[STEP] = 7
        assert state.counters[STEP] == 7
        other.close()
    finally:
        state.close()
        state.unlink()


@pytest.mark.parametrize("schedule", ["constant", "linear"])
def test_annealed_lr_is_applied_by_the_step_at_each_update(schedule):
    """lr_schedule='linear' (the paper's): the update at global step t uses α·(1 − t/T), T =
    max_steps, on the shared-memory params and on the Ray parameter server alike (no Ray
    needed: the server is a plain class); 'constant' keeps α."""
    import multiprocessing as mp

    from a3c_lib.engine.backends.process import SharedParams
    from a3c_lib.engine.backends.ray_actors import ParameterServer

    config = TrainConfig(lr=0.1, lr_schedule=schedule, max_steps=100, rms_alpha=0.5,
                         rms_eps=1e-8)
    grads = [np.array([1.0, -2.0]), np.array([0.5, 0.5]), np.array([-1.0, 3.0])]
    want_lrs = [0.1, 0.1 * 0.6, 0.1 * 0.2] if schedule == "linear" else [0.1] * 3
    want_theta, want_g = np.zeros(2), np.zeros(2)  # by hand, with those rates
    for grad, lr in zip(grads, want_lrs, strict=True):
        rmsprop_update(want_theta, want_g, grad, lr, config.rms_alpha, config.rms_eps)

    state = SharedState.create(n_params=2, n_workers=1)
    try:
        state.lr[0] = config.lr
        shared = SharedParams(state, mp.get_context("spawn").Lock(), config.rms_alpha,
                              config.rms_eps, config.lr_decay_steps)
        server = ParameterServer(np.zeros(2), np.zeros(2), step=0, updates=0, n_workers=1,
                                 lr=config.lr, alpha=config.rms_alpha, eps=config.rms_eps,
                                 decay_steps=config.lr_decay_steps)
        # the three updates come at global steps 0, 40 and 80
        for grad, want_lr in zip(grads, want_lrs, strict=True):
            assert shared.push(grad, n_steps=40, worker=0)[2] == pytest.approx(want_lr)
            assert server.push(grad, n_steps=40, worker=0)[3] == pytest.approx(want_lr)
        np.testing.assert_allclose(state.theta, want_theta)
        np.testing.assert_allclose(server.theta, want_theta)
        np.testing.assert_allclose(state.g, want_g)
    finally:
        state.close()
        state.unlink()


def test_rmsprop_scratch_gives_same_result_and_grad_is_untouched():
    rng = np.random.default_rng(0)
    grad = rng.normal(size=5)
    grad_copy = grad.copy()
    a_theta, a_g = np.ones(5), np.full(5, 0.3)
    b_theta, b_g = a_theta.copy(), a_g.copy()
    rmsprop_update(a_theta, a_g, grad, 0.01, 0.99, 1e-5)
    rmsprop_update(b_theta, b_g, grad, 0.01, 0.99, 1e-5, scratch=np.empty(5))
    np.testing.assert_array_equal(a_theta, b_theta)
    np.testing.assert_array_equal(grad, grad_copy)


def test_clip_grad_norm():
    grad = np.array([3.0, 0.0, -4.0])
    assert clip_grad_norm(grad, 2.5) == pytest.approx(5.0)
    np.testing.assert_allclose(grad, [1.5, 0.0, -2.0])
    assert np.linalg.norm(grad) == pytest.approx(2.5)
    small = np.array([0.1, 0.2])
    assert clip_grad_norm(small, 1.0) == pytest.approx(np.sqrt(0.05))
    np.testing.assert_array_equal(small, [0.1, 0.2])
    bad = np.array([np.nan, 1.0])
    assert np.isnan(clip_grad_norm(bad, 1.0))  # the worker refuses such a gradient


# ---- the Policy seam ------------------------------------------------------------------------
def test_make_policy_picks_by_name_and_space_and_refuses_clearly():
    cfg = SimpleNamespace(policy="auto", hidden=(8,))
    obs, discrete = gym.spaces.Box(-1, 1, (3,)), gym.spaces.Discrete(4)
    pi = make_policy(cfg, obs, discrete)
    assert isinstance(pi, Policy) and isinstance(pi, CategoricalMLP)
    assert (pi.n_params, pi.action_shape, pi.action_dtype) == (3 * 8 + 8 + 8 * 4 + 4 + 8 + 1,
                                                               (), np.dtype(np.int64))
    assert make_policy(SimpleNamespace(policy="categorical", hidden=(8,)), obs,
                       discrete).n_params == pi.n_params
    for name, message in [
        ("nope", "policy must be 'auto', one of categorical"),
        ("no_such_module:f", "policy 'no_such_module:f' cannot be loaded: ModuleNotFoundError"),
        ("fault_envs:not_a_policy", "built a object, which lacks the Policy interface"),
    ]:
        with pytest.raises(ValueError, match=message):
            make_policy(SimpleNamespace(policy=name, hidden=(8,)), obs, discrete)
    with pytest.raises(ValueError, match="policy 'categorical' needs a Discrete action space, "
                                         "got Box"):
        make_policy(SimpleNamespace(policy="categorical", hidden=(8,)), obs, obs)


def test_categorical_mlp_is_exactly_the_mlp_functions():
    spec = mlp.MLPSpec(4, 3, hidden=(6,))
    pi = CategoricalMLP(spec)
    theta = pi.init_params(np.random.default_rng(1))
    np.testing.assert_array_equal(theta, mlp.init_theta(spec, np.random.default_rng(1)))
    obs = np.random.default_rng(2).normal(size=(5, 4))
    actions, v = pi.act(theta, obs, np.random.default_rng(3))
    logits, v_ref = mlp.forward(spec, theta, obs)
    np.testing.assert_array_equal(actions, mlp.sample_actions(logits, np.random.default_rng(3)))
    np.testing.assert_array_equal(v, v_ref)
    np.testing.assert_array_equal(pi.value(theta, obs), v_ref)
    returns = np.arange(5.0)
    stats, grad = pi.loss_and_grad(theta, obs, actions, returns, 0.01, 0.5)
    ref_stats, ref_grad = mlp.loss_and_grad(spec, theta, obs, actions, returns, 0.01, 0.5)
    assert stats == ref_stats
    np.testing.assert_array_equal(grad, ref_grad)


def test_a_float32_policy_trains_with_theta_float32_in_shared_memory(tmp_path):
    from a3c_lib.engine import training
    from a3c_lib.engine.checkpoint import load_checkpoint
    from a3c_lib.engine.config import TrainConfig

    cfg = TrainConfig(policy="fault_envs:float32_categorical", hidden=(8,), workers=2,
                      max_steps=2000, target_return=None, checkpoint_every=10)
    run = training.start(cfg, out_dir=tmp_path)
    assert run._backend._shared.theta.dtype == np.float32
    result = run.wait(timeout=120)
    assert result is not None and run.error is None
    assert result.theta.dtype == np.float32 and np.isfinite(result.theta).all()
    assert result.summary["global_steps"] >= 2000
    assert load_checkpoint(tmp_path).theta.dtype == np.float32


def test_unknown_backend_is_one_value_error():
    from a3c_lib.engine import training
    from a3c_lib.engine.config import TrainConfig

    with pytest.raises(ValueError, match="^backend must be one of process"):
        training.start(TrainConfig(backend="carrier-pigeon", hidden=(8,)))
