"""The agent on screen: play an env with a theta, record the frames, animate them (nb 08, 09).

The agent acts with the numpy policy the trainer uses for the env (``nn.policy.make_policy``: the
categorical MLP of ``mlp.py`` or the Gaussian of ``nn/gaussian.py``; no Keras call per step).
Two ways to turn π(·|s) into an action:

* **sampled** — a ~ π(·|s), as during training: the agent keeps exploring, and its wobbles are
  the price (a rare unlucky action can end an episode);
* **greedy** — a = argmax_a π(a|s): deterministic and usually steadier once trained, but it never
  explores and, if two actions are close, a tiny change of theta can flip its whole behaviour.

>>> theta = untrained_theta(seed=0)
>>> frames, total = record_episode(theta, max_steps=5)
>>> len(frames), frames[0].dtype, frames[0].shape[2]
(5, dtype('uint8'), 3)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from a3c_lib.nn import mlp

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # pygame draws off-screen: no display needed


class Evaluation(NamedTuple):
    """Returns and lengths of ``episodes`` evaluation episodes, each of shape (episodes,)."""

    returns: np.ndarray
    lengths: np.ndarray


def _make_policy(env_id: str, hidden):
    """The policy the trainer builds for env_id ("auto": categorical MLP or Gaussian)."""
    from types import SimpleNamespace

    from a3c_lib.engine.envs import env_spaces
    from a3c_lib.nn.policy import make_policy

    obs_space, action_space = env_spaces(env_id)
    return make_policy(SimpleNamespace(policy="auto", hidden=tuple(hidden)), obs_space,
                       action_space)


def _policy(theta_or_path, env_id: str, hidden):
    """(policy, theta) from a theta array or a weights.npz path (loaded without pickle)."""
    if isinstance(theta_or_path, str | Path):
        from a3c_lib.engine.results import load_theta

        theta, (_, _, hidden) = load_theta(theta_or_path)
        return _make_policy(env_id, hidden), theta
    return _make_policy(env_id, hidden), np.asarray(theta_or_path, dtype=float)


def untrained_theta(env_id: str = "CartPole-v1", hidden=(64, 64), seed: int = 0) -> np.ndarray:
    """theta as the trainer initialises it (π ≈ uniform, or N(0, σ_init²)): the "before"."""
    return _make_policy(env_id, hidden).init_params(np.random.default_rng(seed))


def _act(policy, theta, obs, greedy: bool, rng):
    """What env.step receives. Greedy: argmax π (categorical) or the mean μ (Gaussian)."""
    obs = obs[None, :]  # (1, obs_dim)
    if greedy and hasattr(policy, "mode"):
        action = policy.mode(theta, obs)[0]  # Gaussian: μ(s)
    elif greedy:  # argmax π = argmax logits (softmax is monotonic)
        action = np.int64(np.argmax(mlp.forward(policy.spec, theta, obs)[0][0]))
    else:
        action = policy.act(theta, obs, rng)[0][0]  # a ~ π(·|s), as in training
    return policy.env_action(action)


def record_episode(theta_or_weights_path, env_id: str = "CartPole-v1", greedy: bool = False,
                   seed: int = 0, max_steps: int = 500, hidden=(64, 64),
                   scale: int = 1) -> tuple[list[np.ndarray], float]:
    """Play one episode and keep every frame.

    Args:
        theta_or_weights_path: a theta array (P,) or the path of a weights.npz.
        env_id: gymnasium id (rendered with ``render_mode="rgb_array"``).
        greedy: argmax π instead of sampling a ~ π.
        seed: seeds the env's reset and the action sampling.
        max_steps: stop after this many steps, >= 1.
        hidden: trunk widths when a theta array is given (a .npz carries its own).
        scale: keep every ``scale``-th pixel (2 = half size), >= 1.

    Returns:
        (frames, total_return): frames[t] has shape (H // scale, W // scale, 3), dtype uint8;
        one frame per state, the first one before any action.
    """
    import gymnasium as gym

    for name, value in (("max_steps", max_steps), ("scale", scale)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    policy, theta = _policy(theta_or_weights_path, env_id, hidden)
    env = gym.make(env_id, render_mode="rgb_array", max_episode_steps=max_steps)
    rng = np.random.default_rng(seed)
    try:
        obs, _ = env.reset(seed=seed)
        frames, total = [env.render()[::scale, ::scale]], 0.0  # each (H, W, 3) uint8
        while True:
            obs, reward, terminated, truncated, _ = env.step(_act(policy, theta, obs, greedy, rng))
            total += float(reward)
            if terminated or truncated:
                return frames, total
            frames.append(env.render()[::scale, ::scale])
    finally:
        env.close()


def evaluate_policy(theta_or_weights_path, env_id: str = "CartPole-v1", greedy: bool = False,
                    episodes: int = 20, seed: int = 0, hidden=(64, 64),
                    max_steps: int | None = None) -> Evaluation:
    """Returns and lengths of ``episodes`` episodes (env seeds seed, seed+1, …), no rendering.

    >>> ev = evaluate_policy(untrained_theta(), greedy=True, episodes=3)
    >>> ev.returns.shape, bool((ev.returns == ev.lengths).all())  # CartPole: reward 1 per step
    ((3,), True)
    """
    import gymnasium as gym

    if isinstance(episodes, bool) or not isinstance(episodes, int) or episodes < 1:
        raise ValueError(f"episodes must be an integer >= 1, got {episodes!r}")
    policy, theta = _policy(theta_or_weights_path, env_id, hidden)
    env = gym.make(env_id, max_episode_steps=max_steps) if max_steps else gym.make(env_id)
    rng = np.random.default_rng(seed)
    returns, lengths = np.zeros(episodes), np.zeros(episodes, dtype=int)  # (episodes,) each
    try:
        for i in range(episodes):
            obs, _ = env.reset(seed=seed + i)
            done = False
            while not done:
                obs, reward, terminated, truncated, _ = env.step(
                    _act(policy, theta, obs, greedy, rng))
                returns[i] += reward
                lengths[i] += 1
                done = terminated or truncated
    finally:
        env.close()
    return Evaluation(returns, lengths)


def compare_greedy_sampled(theta, episodes: int = 20, seed: int = 0, env_id: str = "CartPole-v1",
                           hidden=(64, 64)) -> dict[str, Evaluation]:
    """``{"greedy": Evaluation, "sampled": Evaluation}`` on the SAME env seeds."""
    return {mode: evaluate_policy(theta, env_id, greedy=mode == "greedy", episodes=episodes,
                                  seed=seed, hidden=hidden) for mode in ("greedy", "sampled")}


def animate(frames: list[np.ndarray], fps: int = 30, every: int = 2, title: str = ""):
    """A matplotlib FuncAnimation of every ``every``-th frame.

    Show it in a notebook with ``HTML(anim.to_jshtml())``: self-contained HTML + JavaScript, no
    display server and no ffmpeg needed. Keep ``frames`` small (``record_episode(scale=2)``).

    >>> html = animate([np.zeros((20, 30, 3), np.uint8)] * 5, every=2).to_jshtml()
    >>> html.count("data:image/png;base64")  # frames 0, 2, 4
    3
    """
    from matplotlib.animation import FuncAnimation
    from matplotlib.figure import Figure

    if not frames:
        raise ValueError("frames must hold at least one frame")
    if isinstance(every, bool) or not isinstance(every, int) or every < 1:
        raise ValueError(f"every must be an integer >= 1, got {every!r}")
    shown = frames[::every]
    h, w = shown[0].shape[:2]
    fig = Figure(figsize=(w / 100, h / 100 + (0.3 if title else 0)), dpi=100)
    ax = fig.add_axes((0, 0, 1, h / (h + (30 if title else 0))))
    ax.set_axis_off()
    image = ax.imshow(shown[0])
    if title:
        fig.suptitle(title, fontsize=9)

    def draw(i: int):
        image.set_data(shown[i])
        return (image,)

    return FuncAnimation(fig, draw, frames=len(shown), interval=1000 * every / fps, blit=True)
