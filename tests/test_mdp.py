"""TabularMDP validation, random_mdp, and the GridWorld (tables, gymnasium env, frames)."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from a3c_lib.gridworld import GridWorld
from a3c_lib.mdp import TabularMDP, random_mdp

NEXT = np.array([[1, 2], [2, 0], [0, 0]])  # (S=3, A=2)
REWARD = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])


def test_tables_sizes_and_default_start():
    mdp = TabularMDP(NEXT, REWARD, terminal=[False, False, True])
    assert (mdp.n_states, mdp.n_actions) == (3, 2)
    np.testing.assert_array_equal(mdp.start, [0.5, 0.5, 0.0])  # uniform over non-terminal
    np.testing.assert_array_equal(mdp.next_state[:2], NEXT[:2])
    np.testing.assert_array_equal(mdp.reward[:2], REWARD[:2])


def test_no_terminal_by_default_and_uniform_start():
    mdp = TabularMDP(NEXT, REWARD)
    assert not mdp.terminal.any()
    np.testing.assert_allclose(mdp.start, np.full(3, 1 / 3))


def test_terminal_states_are_absorbing_with_zero_reward():
    mdp = TabularMDP(NEXT, REWARD, terminal=[False, False, True])
    np.testing.assert_array_equal(mdp.next_state[2], [2, 2])  # the caller's [0, 0] is replaced
    np.testing.assert_array_equal(mdp.reward[2], [0.0, 0.0])


def test_tables_are_copied_and_read_only():
    next_state = NEXT.copy()
    mdp = TabularMDP(next_state, REWARD)
    next_state[0, 0] = 0
    assert mdp.next_state[0, 0] == 1
    with pytest.raises(ValueError):
        mdp.reward[0, 0] = 9.0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"next_state": [1, 2, 0]}, "next_state must be a non-empty 2-D"),
        ({"next_state": NEXT.astype(float)}, "next_state must hold integer"),
        ({"next_state": [[1, 3], [2, 0], [0, 0]]}, r"next_state entries must be .* in \[0, 3\)"),
        ({"next_state": [[1, -1], [2, 0], [0, 0]]}, "next_state entries"),
        ({"reward": np.zeros((3, 3))}, "reward must have the shape of next_state"),
        ({"reward": [[np.inf, 0], [0, 0], [0, 0]]}, "reward must be finite"),
        ({"terminal": [False, True]}, r"terminal must be a bool array of shape \(3,\)"),
        ({"terminal": [0, 0, 1]}, "terminal must be a bool array"),
        ({"terminal": [True, True, True]}, "terminal must leave a non-terminal state"),
        ({"start": [0.5, 0.5]}, r"start must have shape \(3,\)"),
        ({"start": [0.5, 0.2, 0.2]}, "start must sum to 1"),
        ({"start": [1.5, -0.5, 0.0]}, "start must have finite, non-negative"),
    ],
)
def test_bad_tables_raise_naming_the_argument(kwargs, match):
    args = {"next_state": NEXT, "reward": REWARD} | kwargs
    with pytest.raises(ValueError, match=match):
        TabularMDP(**args)


def test_random_mdp_is_valid_and_reproducible():
    mdp = random_mdp(6, 3, rng=4, n_terminal=2)
    assert (mdp.n_states, mdp.n_actions) == (6, 3)
    np.testing.assert_array_equal(mdp.terminal, [False] * 4 + [True] * 2)
    assert mdp.start.sum() == pytest.approx(1.0) and np.all(mdp.start[4:] == 0)
    again = random_mdp(6, 3, rng=4, n_terminal=2)
    np.testing.assert_array_equal(mdp.next_state, again.next_state)
    np.testing.assert_array_equal(mdp.reward, again.reward)
    with pytest.raises(ValueError, match="n_terminal must be an integer in"):
        random_mdp(3, 2, rng=0, n_terminal=3)
    with pytest.raises(ValueError, match="n_states must be an integer >= 1"):
        random_mdp(0, 2, rng=0)


# --- GridWorld ------------------------------------------------------------------------------


def test_grid_state_cell_round_trip():
    grid = GridWorld()
    assert grid.n_states == 4 * 5 - 3
    for s in range(grid.n_states):
        assert grid.state_of(*grid.cell_of(s)) == s
    with pytest.raises(ValueError, match=r"\(row, col\) must be a free cell"):
        grid.state_of(1, 1)  # a wall
    with pytest.raises(ValueError, match="state must be in"):
        grid.cell_of(17)


def test_grid_tables_by_hand():
    grid = GridWorld()
    mdp = grid.to_mdp()
    s = grid.state_of
    assert mdp.next_state[s(3, 0), 0] == s(2, 0)  # up
    assert mdp.next_state[s(3, 0), 3] == s(3, 0)  # left edge: stay put
    assert mdp.next_state[s(0, 1), 2] == s(0, 1)  # down into the wall (1, 1): stay put
    assert mdp.next_state[s(2, 2), 1] == s(2, 2)  # right into the wall (2, 3): stay put
    assert mdp.reward[s(0, 3), 1] == 1.0  # into the goal
    assert mdp.reward[s(1, 3), 1] == -1.0  # into the trap
    assert mdp.reward[s(2, 4), 0] == -1.0  # into the trap from below
    assert mdp.reward[s(3, 0), 0] == pytest.approx(-0.04)
    np.testing.assert_array_equal(np.flatnonzero(mdp.terminal), [s(0, 4), s(1, 4)])
    assert mdp.start[s(3, 0)] == 1.0


def test_grid_uniform_start_when_start_is_none():
    mdp = GridWorld(start=None).to_mdp()
    np.testing.assert_allclose(mdp.start[~mdp.terminal], 1 / 15)
    assert np.all(mdp.start[mdp.terminal] == 0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"rows": 0}, "rows must be an integer >= 1"),
        ({"max_episode_steps": 0}, "max_episode_steps must be an integer >= 1"),
        ({"walls": ((4, 0),)}, "walls cells must be"),
        ({"goals": ((1, 1),)}, "walls must not overlap"),
        ({"start": (1, 1)}, "start must be a free, non-terminal cell"),
        ({"start": (0, 4)}, "start must be a free, non-terminal cell"),
    ],
)
def test_bad_grid_raises(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GridWorld(**kwargs)


def test_to_grid_puts_nan_on_walls():
    grid = GridWorld()
    layout = grid.to_grid(np.arange(grid.n_states, dtype=float))
    assert layout.shape == (4, 5)
    assert np.isnan(layout[1, 1]) and np.isnan(layout[2, 3])
    assert layout[3, 0] == grid.state_of(3, 0)
    with pytest.raises(ValueError, match="values must have shape"):
        grid.to_grid(np.zeros(3))


@pytest.mark.parametrize("render_mode", [None, "rgb_array"])
def test_env_passes_gymnasium_check_env(render_mode):
    env = GridWorld().make_env(render_mode=render_mode)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any checker warning fails the test, except (added last,
        # so checked first) that it cannot try other render modes of an env not from gym.make
        warnings.filterwarnings("ignore", message=".*alternative render modes.*")
        check_env(env)
    assert isinstance(env.observation_space, gym.spaces.Discrete) and env.observation_space.n == 17
    assert env.action_space.n == 4


def test_env_episode_to_the_goal_terminates():
    grid = GridWorld()
    env = grid.make_env()
    s, _ = env.reset(seed=0)
    assert s == grid.state_of(3, 0)
    total, done = 0.0, False
    for a in [0, 0, 0, 1, 1, 1, 1]:  # up ×3 to (0, 0), right ×4 to the goal (0, 4)
        s, r, terminated, truncated, _ = env.step(a)
        total += r
        done = terminated
        assert not truncated
    assert done and s == grid.state_of(0, 4)
    assert total == pytest.approx(6 * -0.04 + 1.0)


def test_env_truncates_at_the_time_limit():
    env = GridWorld(max_episode_steps=5).make_env()
    env.reset(seed=0)
    flags = [env.step(3)[2:4] for _ in range(5)]  # bump into the left edge 5 times
    assert flags == [(False, False)] * 4 + [(False, True)]


def test_env_rejects_bad_action_and_render_mode():
    env = GridWorld().make_env()
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action must be in"):
        env.step(4)
    with pytest.raises(ValueError, match="render_mode must be None or 'rgb_array'"):
        GridWorld().make_env(render_mode="human")


def test_rgb_array_frame_shape_dtype_and_agent():
    grid = GridWorld()
    env = grid.make_env(render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    assert frame.shape == (4 * 32, 5 * 32, 3) and frame.dtype == np.uint8
    assert tuple(frame[3 * 32 + 16, 0 * 32 + 16]) == (33, 99, 214)  # agent disc at (3, 0)
    assert tuple(frame[1 * 32 + 16, 1 * 32 + 16]) == (64, 64, 64)  # wall
    assert tuple(frame[0 * 32 + 16, 4 * 32 + 16]) == (76, 175, 80)  # goal
    env.step(1)
    moved = env.render()
    assert tuple(moved[3 * 32 + 16, 1 * 32 + 16]) == (33, 99, 214)
    assert not np.array_equal(frame, moved)
    assert GridWorld().make_env().render() is None
