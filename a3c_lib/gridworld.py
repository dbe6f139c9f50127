"""A small deterministic grid world: the running example of notebooks 00 and 02.

Default layout (4 rows × 5 columns; ``S`` start, ``#`` wall, ``G`` goal +1, ``T`` trap −1)::

    . . . . G
    . # # . T
    . . . # .
    S . . . .

States are the free (non-wall) cells in row-major order; actions are 0 up, 1 right, 2 down,
3 left. Moving into a wall or off the grid leaves the agent where it is. Entering the goal pays
``goal_reward``, entering the trap ``trap_reward``, every other move ``step_reward``; goal and
trap cells are terminal. It is deterministic, like the environments of the course's article.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import gymnasium as gym
import numpy as np

from a3c_lib.mdp import TabularMDP

# Gymnasium draws CartPole (notebook 00) with pygame. Without a display SDL picks a video driver
# that needs XDG_RUNTIME_DIR and prints "XDG_RUNTIME_DIR is invalid" into the notebook; the dummy
# driver draws rgb_array frames off-screen. Set before pygame starts; a desktop keeps its driver.
if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

Cell = tuple[int, int]
ACTIONS = ("up", "right", "down", "left")
MOVES = ((-1, 0), (0, 1), (1, 0), (0, -1))  # (d_row, d_col) of each action
COLORS = {"free": (236, 236, 236), "wall": (64, 64, 64), "goal": (76, 175, 80),
          "trap": (214, 69, 65), "start": (250, 236, 170), "agent": (33, 99, 214),
          "line": (190, 190, 190)}


@dataclass(frozen=True)
class GridWorld:
    """Layout and rewards of a grid world (cells are (row, col), row 0 at the top).

    Attributes:
        rows: number of rows, >= 1.
        cols: number of columns, >= 1.
        walls: cells the agent cannot enter.
        goals: terminal cells paying ``goal_reward`` when entered.
        traps: terminal cells paying ``trap_reward`` when entered.
        start: the start cell, or None for a uniform start over non-terminal cells.
        step_reward: reward of every other move (a small cost makes short paths better).
        goal_reward: reward for entering a goal.
        trap_reward: reward for entering a trap.
        max_episode_steps: the env truncates an episode after this many steps, >= 1.

    >>> grid = GridWorld()
    >>> grid.n_states, grid.state_of(3, 0), grid.cell_of(16)
    (17, 12, (3, 4))
    """

    rows: int = 4
    cols: int = 5
    walls: tuple[Cell, ...] = ((1, 1), (1, 2), (2, 3))
    goals: tuple[Cell, ...] = ((0, 4),)
    traps: tuple[Cell, ...] = ((1, 4),)
    start: Cell | None = (3, 0)
    step_reward: float = -0.04
    goal_reward: float = 1.0
    trap_reward: float = -1.0
    max_episode_steps: int = 100

    def __post_init__(self) -> None:
        for name in ("rows", "cols", "max_episode_steps"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        for name in ("walls", "goals", "traps"):
            cells = tuple(tuple(int(i) for i in cell) for cell in getattr(self, name))
            object.__setattr__(self, name, cells)  # lists from a widget become hashable tuples
            for cell in getattr(self, name):
                if not (len(cell) == 2 and 0 <= cell[0] < self.rows and 0 <= cell[1] < self.cols):
                    raise ValueError(f"{name} cells must be (row, col) inside the "
                                     f"{self.rows}x{self.cols} grid, got {cell}")
        if set(self.walls) & (set(self.goals) | set(self.traps)):
            raise ValueError("walls must not overlap goals or traps")
        terminal = set(self.goals) | set(self.traps)
        if self.start is not None and (tuple(self.start) in set(self.walls) | terminal
                                       or not (0 <= self.start[0] < self.rows
                                               and 0 <= self.start[1] < self.cols)):
            raise ValueError(f"start must be a free, non-terminal cell of the grid, "
                             f"got {self.start}")
        if len(self.free_cells) == len(terminal):
            raise ValueError("walls, goals and traps leave no cell to start from")

    @property
    def free_cells(self) -> list[Cell]:
        """The non-wall cells in row-major order; cell i is state i."""
        walls = set(self.walls)
        return [(r, c) for r in range(self.rows) for c in range(self.cols) if (r, c) not in walls]

    @property
    def n_states(self) -> int:
        """Number of states (free cells)."""
        return len(self.free_cells)

    def state_of(self, row: int, col: int) -> int:
        """State index of the free cell (row, col)."""
        try:
            return self.free_cells.index((row, col))
        except ValueError:
            raise ValueError(f"(row, col) must be a free cell of the grid, "
                             f"got {(row, col)}") from None

    def cell_of(self, state: int) -> Cell:
        """(row, col) of a state index."""
        if not 0 <= state < self.n_states:
            raise ValueError(f"state must be in [0, {self.n_states}), got {state}")
        return self.free_cells[state]

    def to_mdp(self) -> TabularMDP:
        """The grid as a :class:`~a3c_lib.mdp.TabularMDP` (states = free cells, 4 actions).

        >>> mdp = GridWorld().to_mdp()
        >>> mdp.next_state[12]   # from the start (3, 0): up, right; down and left hit the edge
        array([ 8, 13, 12, 12])
        >>> float(mdp.reward[3, 1]), float(mdp.reward[6, 1]), float(mdp.reward[12, 0])
        (1.0, -1.0, -0.04)
        """
        cells = self.free_cells
        index = {cell: s for s, cell in enumerate(cells)}
        next_state = np.empty((len(cells), 4), dtype=np.int64)  # (S, A)
        reward = np.full((len(cells), 4), float(self.step_reward))  # (S, A)
        for s, (r, c) in enumerate(cells):
            for a, (dr, dc) in enumerate(MOVES):
                target = index.get((r + dr, c + dc), s)  # wall or edge: stay put
                next_state[s, a] = target
                if cells[target] in self.goals:
                    reward[s, a] = self.goal_reward
                elif cells[target] in self.traps:
                    reward[s, a] = self.trap_reward
        terminal = np.array([cell in self.goals or cell in self.traps for cell in cells])  # (S,)
        start = None
        if self.start is not None:
            start = np.zeros(len(cells))
            start[index[tuple(self.start)]] = 1.0
        return TabularMDP(next_state, reward, terminal, start)

    def to_grid(self, values: np.ndarray) -> np.ndarray:
        """Lay one value per state out on the grid, NaN on walls (for heatmaps).

        >>> GridWorld(rows=1, cols=3, walls=((0, 1),), goals=((0, 2),), traps=(),
        ...           start=(0, 0)).to_grid([5.0, 7.0])
        array([[ 5., nan,  7.]])
        """
        values = np.asarray(values, dtype=np.float64)
        if values.shape != (self.n_states,):
            raise ValueError(f"values must have shape ({self.n_states},), got {values.shape}")
        grid = np.full((self.rows, self.cols), np.nan)  # (rows, cols)
        for s, (r, c) in enumerate(self.free_cells):
            grid[r, c] = values[s]
        return grid

    def render_rgb(self, state: int | None = None, cell_px: int = 32) -> np.ndarray:
        """Draw the grid (and the agent in ``state``) as an RGB image, numpy only.

        >>> GridWorld().render_rgb(state=12).shape
        (128, 160, 3)
        """
        kinds = {cell: "wall" for cell in self.walls} | {cell: "goal" for cell in self.goals}
        kinds |= {cell: "trap" for cell in self.traps}
        if self.start is not None:
            kinds[tuple(self.start)] = "start"
        frame = np.zeros((self.rows * cell_px, self.cols * cell_px, 3), dtype=np.uint8)  # (H, W, 3)
        frame[:] = COLORS["line"]
        for r in range(self.rows):
            for c in range(self.cols):
                colour = COLORS[kinds.get((r, c), "free")]
                y0, x0 = r * cell_px, c * cell_px
                frame[y0 + 1:y0 + cell_px - 1, x0 + 1:x0 + cell_px - 1] = colour  # 1-px grid line
        if state is not None:
            r, c = self.cell_of(state)
            yy, xx = np.mgrid[0:cell_px, 0:cell_px]  # (cell_px, cell_px) each
            centre = cell_px / 2 - 0.5
            disc = (yy - centre) ** 2 + (xx - centre) ** 2 <= (cell_px / 3) ** 2  # (px, px)
            y0, x0 = r * cell_px, c * cell_px
            frame[y0:y0 + cell_px, x0:x0 + cell_px][disc] = COLORS["agent"]
        return frame

    def make_env(self, render_mode: str | None = None) -> GridWorldEnv:
        """A gymnasium environment of this grid (Discrete observations = state index)."""
        return GridWorldEnv(self, render_mode=render_mode)


def risky_shortcut_grid() -> GridWorld:
    """A grid with a short path past a trap and a long safe detour (notebook 04's γ slider).

    ::

        . . . . .      the detour: up, along the top row, down — 8 moves
        . # # # .
        S . . . G      the shortcut: 4 moves, with the trap T just below its middle cell
        # . T . #

    No step cost: only γ says how much a later goal is worth. A learning agent's policy is
    stochastic, so walking next to the trap risks falling in; whether the 4-move gamble or the
    8-move detour is better then depends on γ.

    >>> grid = risky_shortcut_grid()
    >>> grid.n_states, grid.to_mdp().start.argmax() == grid.state_of(2, 0)
    (15, np.True_)
    """
    return GridWorld(rows=4, cols=5, walls=((1, 1), (1, 2), (1, 3), (3, 0), (3, 4)),
                     goals=((2, 4),), traps=((3, 2),), start=(2, 0), step_reward=0.0)


class GridWorldEnv(gym.Env):
    """Gymnasium view of a :class:`GridWorld`.

    Observations are state indices (``Discrete(n_states)``), actions ``Discrete(4)``. An episode
    terminates in a goal or trap and is truncated after ``grid.max_episode_steps`` steps.

    >>> env = GridWorld().make_env()
    >>> env.reset(seed=0)
    (12, {})
    >>> env.step(0)   # up
    (8, -0.04, False, False, {})
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 4}

    def __init__(self, grid: GridWorld | None = None, render_mode: str | None = None) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
        self.grid = grid if grid is not None else GridWorld()
        self.mdp = self.grid.to_mdp()
        self.render_mode = render_mode
        self.observation_space = gym.spaces.Discrete(self.mdp.n_states)
        self.action_space = gym.spaces.Discrete(4)
        self._state, self._steps = 0, 0

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[int, dict]:
        super().reset(seed=seed)
        self._state = int(self.np_random.choice(self.mdp.n_states, p=self.mdp.start))  # s0 ~ ρ^{s0}
        self._steps = 0
        return self._state, {}

    def step(self, action: int) -> tuple[int, float, bool, bool, dict]:
        if not self.action_space.contains(action):
            raise ValueError(f"action must be in [0, 4), got {action!r}")
        r = float(self.mdp.reward[self._state, action])
        self._state = int(self.mdp.next_state[self._state, action])
        self._steps += 1
        terminated = bool(self.mdp.terminal[self._state])
        truncated = not terminated and self._steps >= self.grid.max_episode_steps
        return self._state, r, terminated, truncated, {}

    def render(self) -> np.ndarray | None:
        if self.render_mode == "rgb_array":
            return self.grid.render_rgb(self._state)
        return None
