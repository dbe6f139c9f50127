"""The Gaussian policy: closed forms, finite differences, and its Keras/GradientTape twin."""

import math

import numpy as np
import pytest

from a3c_lib.nn import gaussian
from a3c_lib.nn.gaussian import GaussianPolicy, GaussianSpec

SPECS = [GaussianSpec(3, 1, hidden=(5,)), GaussianSpec(4, 2, hidden=(6, 5), sigma_init=0.3)]


def random_problem(spec, seed, batch=7):
    rng = np.random.default_rng(seed)
    theta = gaussian.init_theta(spec, rng) + 0.3 * rng.standard_normal(spec.n_params)
    obs = rng.standard_normal((batch, spec.obs_dim))
    actions = 1.5 * rng.standard_normal((batch, spec.action_dim))  # some outside [-1, 1]
    returns = 2.0 * rng.standard_normal(batch)
    return theta, obs, actions, returns


def test_log_density_and_entropy_match_closed_forms():
    rng = np.random.default_rng(0)
    a, mu = rng.standard_normal((6, 3)), rng.standard_normal((6, 3))
    sigma = rng.uniform(0.1, 2.0, (6, 3))
    # product of 1-D normal densities, written independently of the module
    pdf = np.exp(-((a - mu) ** 2) / (2 * sigma**2)) / np.sqrt(2 * np.pi * sigma**2)
    np.testing.assert_allclose(gaussian.log_density(a, mu, sigma), np.log(pdf).sum(axis=1),
                               rtol=1e-12)
    np.testing.assert_allclose(gaussian.entropy(sigma),
                               (0.5 * np.log(2 * np.pi * np.e * sigma**2)).sum(axis=1),
                               rtol=1e-12)


def test_entropy_equals_monte_carlo_mean_of_minus_log_density():
    rng = np.random.default_rng(1)
    mu, sigma = np.full((1, 1), 0.4), np.full((1, 1), 0.7)
    a = mu + sigma * rng.standard_normal((200_000, 1))  # samples of N(0.4, 0.7²)
    mc = -gaussian.log_density(a, mu, sigma).mean()
    assert abs(mc - gaussian.entropy(sigma)[0]) < 0.01  # σ_MC of the mean ≈ 0.0016


def test_log_density_gradients_are_the_derived_formulas():
    # ∂/∂μ log N = (a − μ)/σ², ∂/∂σ log N = (a − μ)²/σ³ − 1/σ, by central differences
    a, mu, sigma, eps = 0.8, -0.3, 0.6, 1e-6

    def f(m, s):
        return float(gaussian.log_density(np.array([[a]]), np.array([[m]]), np.array([[s]]))[0])

    d_mu = (f(mu + eps, sigma) - f(mu - eps, sigma)) / (2 * eps)
    d_sigma = (f(mu, sigma + eps) - f(mu, sigma - eps)) / (2 * eps)
    assert d_mu == pytest.approx((a - mu) / sigma**2, rel=1e-8)
    assert d_sigma == pytest.approx((a - mu) ** 2 / sigma**3 - 1 / sigma, rel=1e-8)


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("coefs", [(0.0, 0.5), (0.05, 1.0)])
def test_gradient_equals_central_finite_differences(spec, coefs):
    theta, obs, actions, returns = random_problem(spec, 2)

    entropy_coef, value_coef = coefs
    advantage = returns - gaussian.forward(spec, theta, obs)[2]  # held fixed: stop-gradient

    def loss(th):  # the same loss written from forward(), with A a constant
        mu, sigma, v = gaussian.forward(spec, th, obs)
        return (-np.mean(gaussian.log_density(actions, mu, sigma) * advantage)
                + value_coef * 0.5 * np.mean((returns - v) ** 2)
                - entropy_coef * np.mean(gaussian.entropy(sigma)))

    assert loss(theta) == pytest.approx(
        gaussian.loss_and_grad(spec, theta, obs, actions, returns, *coefs)[0].total, rel=1e-12)

    _, grad = gaussian.loss_and_grad(spec, theta, obs, actions, returns, *coefs)
    eps = 1e-6
    numeric = np.array([(loss(theta + eps * e) - loss(theta - eps * e)) / (2 * eps)
                        for e in np.eye(spec.n_params)])
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7)


def test_advantage_is_held_constant_in_the_policy_gradient():
    # with value_coef = entropy_coef = 0 the value head gets no gradient at all
    spec = SPECS[0]
    theta, obs, actions, returns = random_problem(spec, 3)
    _, grad = gaussian.loss_and_grad(spec, theta, obs, actions, returns, 0.0, 0.0)
    p = gaussian.unflatten(spec, grad)
    assert not p["W_v"].any() and not p["b_v"].any()
    assert np.abs(p["W_mu"]).sum() > 0


@pytest.mark.parametrize("spec", SPECS)
def test_keras_twin_outputs_and_tape_gradients_agree(spec):
    from a3c_lib.keras.gaussian import (
        build_gaussian_actor_critic,
        gaussian_gradients,
        set_flat_weights,
    )

    theta, obs, actions, returns = random_problem(spec, 4)
    model = build_gaussian_actor_critic(spec, dtype="float64")
    set_flat_weights(model, spec, theta)
    mu, sigma, value = (np.asarray(t) for t in model(obs))
    np_mu, np_sigma, np_v = gaussian.forward(spec, theta, obs)
    np.testing.assert_allclose(mu, np_mu, atol=1e-12)
    np.testing.assert_allclose(sigma, np_sigma, atol=1e-12)
    np.testing.assert_allclose(value[:, 0], np_v, atol=1e-12)
    tape_stats, tape_grad = gaussian_gradients(model, spec, obs, actions, returns, 0.02, 0.5)
    stats, grad = gaussian.loss_and_grad(spec, theta, obs, actions, returns, 0.02, 0.5)
    np.testing.assert_allclose(tape_grad, grad, rtol=0, atol=1e-10)
    np.testing.assert_allclose(tape_stats, stats, rtol=0, atol=1e-10)


def test_sigma_never_falls_below_its_floor_in_numpy_and_keras():
    # A σ head driven far negative: σ = softplus(z) + SIGMA_MIN = SIGMA_MIN exactly (softplus
    # underflows to 0), in the numpy policy and its Keras twin; so the μ score ε/σ stays
    # within |ε|/SIGMA_MIN (nn/gaussian.py says why that matters).
    from a3c_lib.keras.gaussian import build_gaussian_actor_critic, set_flat_weights

    spec = GaussianSpec(3, 2, hidden=(4,))
    theta = gaussian.init_theta(spec, np.random.default_rng(0))
    gaussian.unflatten(spec, theta)["b_sigma"][...] = -1e3  # view into theta
    obs = np.random.default_rng(1).standard_normal((5, 3))
    _, sigma, _ = gaussian.forward(spec, theta, obs)
    assert gaussian.SIGMA_MIN == 0.05 and np.all(sigma == gaussian.SIGMA_MIN)
    model = build_gaussian_actor_critic(spec, dtype="float64")
    set_flat_weights(model, spec, theta)
    np.testing.assert_array_equal(np.asarray(model(obs)[1]), sigma)


def test_initial_sigma_and_sampling_statistics():
    spec = GaussianSpec(2, 1, hidden=(8,), sigma_init=0.4)
    pol = GaussianPolicy(spec, low=[-2.0], high=[2.0])
    rng = np.random.default_rng(5)
    theta = pol.init_params(rng)
    obs = np.zeros((50_000, 2))  # h = tanh(0) = 0: μ = b_mu = 0, σ = sigma_init exactly
    actions, values = pol.act(theta, obs, rng)
    assert actions.shape == (50_000, 1) and values.shape == (50_000,)
    assert abs(actions.mean()) < 0.01 and actions.std() == pytest.approx(0.4, rel=0.02)


def test_env_action_clips_then_maps_onto_the_bounds_and_log_prob_uses_the_raw_sample():
    spec = GaussianSpec(1, 2, hidden=(3,))
    pol = GaussianPolicy(spec, low=[-2.0, 0.0], high=[2.0, 1.0])
    np.testing.assert_allclose(pol.env_action(np.array([5.0, -5.0])), [2.0, 0.0])
    np.testing.assert_allclose(pol.env_action(np.array([0.5, 0.0])), [1.0, 0.5])
    # a sample beyond the box: its log-density (not the clipped one's) enters the loss
    theta = pol.init_params(np.random.default_rng(0))
    raw = np.array([[3.0, -2.5]])
    stats_raw = pol.loss_and_grad(theta, np.zeros((1, 1)), raw, np.ones(1), 0.0, 0.0)[0]
    mu, sigma, v = gaussian.forward(spec, theta, np.zeros((1, 1)))
    expected = -gaussian.log_density(raw, mu, sigma)[0] * (1.0 - v[0])
    assert stats_raw.policy_loss == pytest.approx(expected, rel=1e-12)
    clipped = np.clip(raw, -1, 1)
    assert -gaussian.log_density(clipped, mu, sigma)[0] * (1.0 - v[0]) != pytest.approx(expected)


@pytest.mark.parametrize("kwargs, match", [
    ({"obs_dim": 0, "action_dim": 1}, "obs_dim"),
    ({"obs_dim": 2, "action_dim": 1, "sigma_init": 0.0}, "sigma_init"),
    ({"obs_dim": 2, "action_dim": 1, "sigma_init": math.inf}, "sigma_init"),
])
def test_bad_spec_is_one_clear_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GaussianSpec(**kwargs)


def test_bad_bounds_and_shapes_are_clear_errors():
    spec = GaussianSpec(2, 1, hidden=(3,))
    with pytest.raises(ValueError, match="action bounds"):
        GaussianPolicy(spec, low=[1.0], high=[-1.0])
    theta = gaussian.init_theta(spec, np.random.default_rng(0))
    with pytest.raises(ValueError, match="actions must have shape"):
        gaussian.loss_and_grad(spec, theta, np.zeros((3, 2)), np.zeros(3), np.zeros(3), 0, 0)
    with pytest.raises(ValueError, match="obs must have shape"):
        gaussian.forward(spec, theta, np.zeros((3, 5)))


def test_an_empty_batch_is_refused_not_nan():
    """As for the categorical MLP: a batch of 0 rows would give a NaN loss (a mean over nothing)."""
    spec = GaussianSpec(3, 1, hidden=(4,))
    theta = gaussian.init_theta(spec, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"^obs must hold a batch of at least 1 observation, "
                                         r"got shape \(0, 3\)$"):
        gaussian.loss_and_grad(spec, theta, np.zeros((0, 3)), np.zeros((0, 1)), np.zeros(0),
                               entropy_coef=0.0, value_coef=0.5)
