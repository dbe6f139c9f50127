"""Exact checks of the numpy actor-critic (a3c_lib/mlp.py): layout, init, sampling, backprop."""

import pickle

import numpy as np
import pytest

from a3c_lib.nn.mlp import (
    MLPSpec,
    forward,
    init_theta,
    log_softmax,
    loss_and_grad,
    sample_actions,
    softmax,
    unflatten,
)

TINY = MLPSpec(obs_dim=3, n_actions=4, hidden=(5, 4))


def random_problem(spec, seed, batch=7, scale=0.5):
    """theta away from init (so π is not uniform), and a random batch (obs, actions, returns)."""
    rng = np.random.default_rng(seed)
    theta = init_theta(spec, rng) + scale * rng.standard_normal(spec.n_params)
    obs = rng.standard_normal((batch, spec.obs_dim))
    actions = rng.integers(0, spec.n_actions, batch)
    returns = 2.0 * rng.standard_normal(batch)
    return theta, obs, actions, returns


def central_differences(f, theta, eps=1e-6):
    grad = np.zeros_like(theta)
    for i in range(theta.size):
        e = np.zeros_like(theta)
        e[i] = eps
        grad[i] = (f(theta + e) - f(theta - e)) / (2 * eps)
    return grad


def test_layout_and_n_params():
    spec = MLPSpec(4, 2)  # the CartPole network
    assert spec.hidden == (64, 64)
    assert spec.n_params == (4 * 64 + 64) + (64 * 64 + 64) + (64 * 2 + 2) + (64 * 1 + 1) == 4675
    names = [name for name, _ in spec.shapes()]
    assert names == ["W0", "b0", "W1", "b1", "W_pi", "b_pi", "W_v", "b_v"]
    assert MLPSpec(2, 3, hidden=[4]).hidden == (4,)  # a list is turned into a tuple


@pytest.mark.parametrize(
    "kwargs, field",
    [
        (dict(obs_dim=0, n_actions=2), "obs_dim"),
        (dict(obs_dim=4, n_actions=0), "n_actions"),
        (dict(obs_dim=2.5, n_actions=2), "obs_dim"),
        (dict(obs_dim=4, n_actions=2, hidden=(8, 0)), "hidden"),
        (dict(obs_dim=4, n_actions=2, hidden=5), "hidden"),
    ],
)
def test_bad_spec_names_the_field(kwargs, field):
    with pytest.raises(ValueError, match=field):
        MLPSpec(**kwargs)


def test_bad_shapes_name_the_argument():
    theta, obs, actions, returns = random_problem(TINY, 0)
    with pytest.raises(ValueError, match="theta"):
        forward(TINY, theta[:-1], obs)
    with pytest.raises(ValueError, match="obs"):
        forward(TINY, theta, obs[:, :2])
    with pytest.raises(ValueError, match="obs"):
        forward(TINY, theta, obs[0])  # one observation must be passed as a (1, obs_dim) batch
    ok = dict(entropy_coef=0.01, value_coef=0.5)
    with pytest.raises(ValueError, match="actions"):
        loss_and_grad(TINY, theta, obs, actions + 4, returns, **ok)
    with pytest.raises(ValueError, match="actions"):
        loss_and_grad(TINY, theta, obs, actions[:3], returns, **ok)
    with pytest.raises(ValueError, match="returns"):
        loss_and_grad(TINY, theta, obs, actions, returns[:, None], **ok)
    with pytest.raises(ValueError, match="entropy_coef"):
        loss_and_grad(TINY, theta, obs, actions, returns, entropy_coef=-1.0, value_coef=0.5)
    with pytest.raises(ValueError, match="value_coef"):
        loss_and_grad(TINY, theta, obs, actions, returns, entropy_coef=0.0, value_coef=np.nan)


def test_unflatten_returns_views_in_layout_order():
    theta = np.arange(float(TINY.n_params))
    params = unflatten(TINY, theta)
    assert all(np.shares_memory(p, theta) for p in params.values())
    assert np.array_equal(np.concatenate([p.ravel() for p in params.values()]), theta)
    theta[:] = -1.0  # in-place update of theta (what the optimizer does) ...
    assert all((p == -1.0).all() for p in params.values())  # ... is seen through the views
    params["b_v"][0] = 42.0
    assert theta[-1] == 42.0
    del params["W0"]  # the returned dict is the caller's: the next call is unaffected
    assert np.shares_memory(unflatten(TINY, theta)["W0"], theta)
    other = np.zeros(TINY.n_params)  # a new theta gets its own views
    assert np.shares_memory(unflatten(TINY, other)["W0"], other)
    assert not np.shares_memory(unflatten(TINY, other)["W0"], theta)


def test_spec_pickles_without_the_cached_theta():
    spec = MLPSpec(4, 2, hidden=(8,))
    unflatten(spec, np.zeros(spec.n_params))  # fills the view cache
    clone = pickle.loads(pickle.dumps(spec))
    assert clone == spec and len(pickle.dumps(spec)) < 1000
    assert clone.n_params == spec.n_params


def test_init_gives_near_uniform_policy_and_orthogonal_trunk():
    spec = MLPSpec(4, 3, hidden=(16, 16))
    theta = init_theta(spec, np.random.default_rng(0))
    assert np.array_equal(theta, init_theta(spec, np.random.default_rng(0)))  # seeded
    p = unflatten(spec, theta)
    assert all((p[b] == 0).all() for b in ("b0", "b1", "b_pi", "b_v"))
    assert np.allclose(p["W1"].T @ p["W1"], 2.0 * np.eye(16))  # orthogonal × gain √2
    obs = np.random.default_rng(1).standard_normal((100, 4))  # (100, obs_dim)
    pi = softmax(forward(spec, theta, obs)[0])  # (100, A)
    assert np.abs(pi - 1 / 3).max() < 0.02
    assert np.abs(p["W_pi"]).max() < 0.02 < np.abs(p["W_v"]).max()


def test_linear_forward_by_hand():
    spec = MLPSpec(2, 2, hidden=())
    theta = np.array([1.0, 2.0, 3.0, 4.0, 0.5, -0.5, 10.0, 20.0, 1.0])  # W_pi, b_pi, W_v, b_v
    logits, v = forward(spec, theta, np.array([[1.0, -1.0]]))
    assert np.array_equal(logits, [[1 - 3 + 0.5, 2 - 4 - 0.5]])
    assert np.array_equal(v, [10 - 20 + 1.0])


def test_log_softmax_and_softmax_are_stable():
    logits = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0]])
    logp = log_softmax(logits)
    assert np.isfinite(logp).all()
    assert np.allclose(logp, [[0.0, -2000.0, -1000.0], [-np.log(3)] * 3])
    pi = softmax(logits)
    assert np.isfinite(pi).all() and np.allclose(pi.sum(axis=1), 1.0)
    small = np.random.default_rng(0).standard_normal((5, 3))
    naive = np.log(np.exp(small) / np.exp(small).sum(axis=1, keepdims=True))
    assert np.allclose(log_softmax(small), naive)


def test_sample_actions_frequencies_match_pi():
    pi = np.array([0.1, 0.2, 0.7])
    n = 100_000
    logits = np.tile(np.log(pi), (n, 1)) + 3.0  # (n, 3); a constant shift does not change π
    actions = sample_actions(logits, np.random.default_rng(123))
    assert actions.shape == (n,) and np.issubdtype(actions.dtype, np.integer)
    counts = np.bincount(actions, minlength=3)  # (3,)
    chi2 = ((counts - n * pi) ** 2 / (n * pi)).sum()
    assert chi2 < 13.8  # the 99.9 % quantile of χ² with 2 degrees of freedom
    one_hot_rows = np.array([[0.0, -50.0, -50.0], [-50.0, -50.0, 0.0]])  # π ≈ onehot per row
    assert np.array_equal(sample_actions(one_hot_rows, np.random.default_rng(0)), [0, 2])


def test_loss_values_by_hand():
    spec = MLPSpec(1, 2, hidden=())
    theta = np.zeros(spec.n_params)  # logits 0 → π = (½, ½); v = 0
    obs, actions, returns = np.ones((2, 1)), np.array([0, 1]), np.array([2.0, -4.0])
    stats, _ = loss_and_grad(spec, theta, obs, actions, returns, entropy_coef=0.1, value_coef=0.5)
    log_half = np.log(0.5)
    assert np.isclose(stats.policy_loss, -np.mean(log_half * returns))  # A = G − 0
    assert np.isclose(stats.value_loss, 0.5 * np.mean(returns**2))
    assert np.isclose(stats.entropy, np.log(2))
    assert np.isclose(stats.total, stats.policy_loss + 0.5 * stats.value_loss - 0.1 * np.log(2))


def test_softmax_policy_gradient_is_onehot_minus_pi_times_advantage():
    spec = MLPSpec(3, 4, hidden=())  # logits = obs W_pi + b_pi: a pure softmax policy
    theta, obs, actions, returns = random_problem(spec, 1)
    stats, grad = loss_and_grad(spec, theta, obs, actions, returns, 0.0, value_coef=0.0)
    logits, v = forward(spec, theta, obs)
    advantage = returns - v  # (B,)
    d_logits = -(np.eye(4)[actions] - softmax(logits)) * advantage[:, None] / len(obs)  # (B, A)
    g = unflatten(spec, grad)
    assert np.allclose(g["b_pi"], d_logits.sum(axis=0), rtol=1e-12, atol=1e-14)
    assert np.allclose(g["W_pi"], obs.T @ d_logits, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gradient_equals_finite_differences_of_the_surrogate(seed):
    theta, obs, actions, returns = random_problem(TINY, seed)
    entropy_coef, value_coef = 0.05, 0.7
    _, grad = loss_and_grad(TINY, theta, obs, actions, returns, entropy_coef, value_coef)
    advantage = returns - forward(TINY, theta, obs)[1]  # frozen at the unperturbed theta

    def surrogate(t):
        logits, v = forward(TINY, t, obs)
        logp = log_softmax(logits)  # (B, A)
        policy = -np.mean(logp[np.arange(len(obs)), actions] * advantage)
        entropy = np.mean(-(np.exp(logp) * logp).sum(axis=1))
        return policy + value_coef * 0.5 * np.mean((returns - v) ** 2) - entropy_coef * entropy

    fd = central_differences(surrogate, theta)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-9)
    assert np.abs(grad).max() > 1e-2  # not a trivially zero gradient


def test_entropy_gradient_equals_finite_differences():
    theta, obs, actions, _ = random_problem(TINY, 3)
    returns = forward(TINY, theta, obs)[1]  # G = v: advantage 0 and value loss 0, only −H is left
    stats, grad = loss_and_grad(
        TINY, theta, obs, actions, returns, entropy_coef=1.0, value_coef=1.0
    )
    assert stats.policy_loss == 0.0 and stats.value_loss == 0.0

    def minus_entropy(t):
        logp = log_softmax(forward(TINY, t, obs)[0])  # (B, A)
        return -np.mean(-(np.exp(logp) * logp).sum(axis=1))

    np.testing.assert_allclose(
        grad, central_differences(minus_entropy, theta), rtol=1e-6, atol=1e-9
    )


def test_policy_loss_does_not_move_the_critic_head():
    theta, obs, actions, returns = random_problem(TINY, 4)
    _, grad = loss_and_grad(TINY, theta, obs, actions, returns, entropy_coef=0.0, value_coef=0.0)
    g = unflatten(TINY, grad)
    assert (g["W_v"] == 0).all() and (g["b_v"] == 0).all()  # advantage is a constant
    assert np.abs(g["W_pi"]).max() > 1e-3 and np.abs(g["W0"]).max() > 1e-4  # actor does learn


def test_an_empty_batch_is_refused_not_nan():
    """Defect 6: a batch of 0 observations gave a NaN loss (a mean over nothing)."""
    spec = MLPSpec(3, 2, hidden=(4,))
    theta = init_theta(spec, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"^obs must hold a batch of at least 1 observation, "
                                         r"got shape \(0, 3\)$"):
        loss_and_grad(spec, theta, np.zeros((0, 3)), np.zeros(0, np.int64), np.zeros(0),
                          entropy_coef=0.0, value_coef=0.5)
