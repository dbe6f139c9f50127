"""Pong as the workers see it: the paper's preprocessing, the id with its module prefix, the hint
when the 'atari' extra is missing.

Needs the optional extra (``pip install -e ".[atari]"``); without it these tests are skipped on
a student's machine and FAIL in CI (``CI`` set), which installs the extra.
"""

from __future__ import annotations

import os
import sys

import gymnasium as gym
import numpy as np
import pytest

if not os.environ.get("CI"):
    pytest.importorskip("ale_py", reason="the optional 'atari' extra is not installed")
    pytest.importorskip("cv2", reason="the optional 'atari' extra is not installed")

from a3c_lib.engine.envs import env_spaces  # noqa: E402
from a3c_lib.envs import atari  # noqa: E402


@pytest.fixture
def pong():
    env = gym.make(atari.PONG, disable_env_checker=True)
    yield env
    env.close()


def test_pong_id_with_module_prefix_gives_four_stacked_84x84_grey_frames(pong):
    assert pong.observation_space == gym.spaces.Box(0, 255, (4, 84, 84), np.uint8)
    assert pong.action_space == gym.spaces.Discrete(6)  # the minimal action set
    obs, info = pong.reset(seed=0)
    assert obs.shape == (4, 84, 84) and obs.dtype == np.uint8
    assert np.array_equal(obs[0], obs[3])  # after a reset the stack repeats the first frame
    rng = np.random.default_rng(0)
    for _ in range(30):
        new, r, terminated, truncated, new_info = pong.step(rng.integers(6))
        assert np.array_equal(new[:3], obs[1:])  # the stack slides by one frame, oldest first
        assert new_info["episode_frame_number"] - info["episode_frame_number"] == 4  # skip 4
        assert r in (-1.0, 0.0, 1.0) and not (terminated or truncated)
        obs, info = new, new_info
    assert obs.std() > 0  # real pixels, not a blank screen


def test_no_sticky_actions_and_random_no_op_starts(pong):
    ale = pong.unwrapped.ale
    assert ale.getFloat("repeat_action_probability") == 0.0  # the paper's deterministic ALE
    frames = {pong.reset(seed=s)[1]["episode_frame_number"] for s in range(8)}
    assert len(frames) > 1 and max(frames) <= 30  # 1..30 no-ops (frame skip off during them)


def test_same_seed_same_frames():
    a, b = atari.make_atari(), atari.make_atari()
    try:
        oa, ob = a.reset(seed=5)[0], b.reset(seed=5)[0]
        for action in [2, 3, 2, 2, 5, 1] * 5:
            oa, ob = a.step(action)[0], b.step(action)[0]
        assert np.array_equal(oa, ob)
    finally:
        a.close(), b.close()


def test_the_engine_sees_the_spaces_by_id():
    obs_space, action_space = env_spaces(atari.PONG)
    assert obs_space.shape == (4, 84, 84) and action_space.n == 6


def test_rgb_frames_for_the_notebook():
    env = atari.make_atari(render_mode="rgb_array")
    try:
        env.reset(seed=0)
        assert env.render().shape == (210, 160, 3)
    finally:
        env.close()


@pytest.mark.parametrize("kwargs, words", [
    ({"game": ""}, "game must be an ALE game name"),
    ({"game": "pongg"}, "game must be an ALE game such as 'pong'"),
    ({"noop_max": -1}, "noop_max must be an integer in [0, 100]"),
    ({"sticky": 1.0}, "sticky must be a probability in [0, 1)"),
    ({"render_mode": "human"}, "render_mode must be None or 'rgb_array'"),
])
def test_bad_arguments(kwargs, words):
    with pytest.raises(ValueError) as err:
        atari.make_atari(**kwargs)
    assert words in str(err.value)


def test_without_the_atari_extra_the_error_says_which_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "ale_py", None)  # `import ale_py` now raises ImportError
    with pytest.raises(ValueError) as err:
        env_spaces(atari.PONG)
    assert "pip install -e \".[atari]\"" in str(err.value) and "ale-py" in str(err.value)
