"""The agent on screen: frames, returns, greedy vs sampled, checked against hand-played games."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from a3c_lib.nn import mlp
from a3c_lib.viz.render import (
    animate,
    compare_greedy_sampled,
    evaluate_policy,
    record_episode,
    untrained_theta,
)

SPEC = mlp.MLPSpec(4, 2, (64, 64))


def always(action: int, margin: float = 50.0) -> np.ndarray:
    """A theta whose π puts all its mass on ``action`` whatever the state (bias of the logits)."""
    theta = np.zeros(SPEC.n_params)  # (P,)
    mlp.unflatten(SPEC, theta)["b_pi"][action] = margin
    return theta


def hand_played_length(action: int, seed: int) -> int:
    env = gym.make("CartPole-v1")
    env.reset(seed=seed)
    n, done = 0, False
    while not done:
        _, _, terminated, truncated, _ = env.step(action)
        n, done = n + 1, terminated or truncated
    env.close()
    return n


def test_frames_shape_dtype_and_count():
    frames, total = record_episode(always(1), seed=3)
    assert total == hand_played_length(1, seed=3)
    assert len(frames) == total  # one frame per state before the terminal one
    assert all(f.shape == (400, 600, 3) and f.dtype == np.uint8 for f in frames)
    assert frames[0].std() > 0 and not np.array_equal(frames[0], frames[-1])  # the cart moved
    small, _ = record_episode(always(1), seed=3, scale=2, max_steps=4)
    assert len(small) == 4 and small[0].shape == (200, 300, 3)
    np.testing.assert_array_equal(small[0], frames[0][::2, ::2])


def test_weights_path_and_theta_give_the_same_episode(tmp_path):
    theta = untrained_theta(seed=5)
    path = tmp_path / "weights.npz"
    np.savez(path, theta=theta, obs_dim=4, n_actions=2, hidden=np.array([64, 64]))
    a, ra = record_episode(theta, seed=2, max_steps=60)
    b, rb = record_episode(str(path), seed=2, max_steps=60)
    assert ra == rb and len(a) == len(b)
    np.testing.assert_array_equal(a[-1], b[-1])


def test_evaluate_policy_matches_hand_played_episodes():
    ev = evaluate_policy(always(0), episodes=4, seed=10, greedy=False)
    expected = [hand_played_length(0, seed=10 + i) for i in range(4)]
    np.testing.assert_array_equal(ev.lengths, expected)
    np.testing.assert_array_equal(ev.returns, expected)  # reward 1 per step


def test_greedy_vs_sampled():
    # a certain policy: sampling can only pick the argmax, so both modes play the same episodes
    same = compare_greedy_sampled(always(1), episodes=3, seed=0)
    np.testing.assert_array_equal(same["greedy"].returns, same["sampled"].returns)
    # an unsure policy (π = (½, ½)): greedy always pushes left (argmax takes the first
    # of equal logits), sampled flips a coin and balances longer on average
    unsure = compare_greedy_sampled(np.zeros(SPEC.n_params), episodes=20, seed=0)
    np.testing.assert_array_equal(unsure["greedy"].lengths,
                                  [hand_played_length(0, s) for s in range(20)])
    assert unsure["sampled"].returns.mean() > unsure["greedy"].returns.mean()


def test_animation_has_one_image_per_shown_frame():
    frames, _ = record_episode(always(1), seed=0, scale=4, max_steps=6)
    html = animate(frames, every=2).to_jshtml()
    assert html.count("data:image/png;base64") == 3


@pytest.mark.parametrize("call, message", [
    (lambda: record_episode(always(1), max_steps=0), "max_steps must be an integer >= 1"),
    (lambda: record_episode(always(1), scale=0), "scale must be an integer >= 1"),
    (lambda: evaluate_policy(always(1), episodes=0), "episodes must be an integer >= 1"),
    (lambda: animate([]), "frames must hold at least one frame"),
    (lambda: record_episode(np.zeros(3)), r"theta must be a numpy array of shape \(4675,\)"),
])
def test_bad_input_is_one_clear_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
