"""Deterministic tabular MDPs: the small worlds where every quantity of the theory is exact.

As in the course's source article, the environment is deterministic: taking action a in state s
always leads to the same next state s' = ``next_state[s, a]`` and gives the reward ``reward[s, a]``.
The randomness lives in the policy π(a|s) and in the start state s0 ~ ρ^{s0} (``start``).

Terminal states end the episode. We store them as absorbing states — every action stays put and
pays 0 — so their value is V = 0 and the linear algebra in :mod:`a3c_lib.values` needs no special
case. Whatever the caller passes in the rows of terminal states is replaced by that convention.

The :class:`~a3c_lib.gridworld.GridWorld` of notebooks 00 and 02 lives in :mod:`a3c_lib.gridworld`;
``GridWorld().to_mdp()`` builds a :class:`TabularMDP`.
"""

from __future__ import annotations

import numpy as np

from a3c_lib.expectation import check_distribution


def as_array(value, name: str, dtype=None) -> np.ndarray:
    """``np.asarray(value, dtype)``, but a ragged or non-numeric input names the argument.

    >>> as_array([[1, 2], [3]], "reward", np.float64)
    Traceback (most recent call last):
    ...
    ValueError: reward must be a rectangular numeric array, got [[1, 2], [3]]
    """
    try:
        return np.asarray(value, dtype=dtype)
    except (ValueError, TypeError):
        raise ValueError(f"{name} must be a rectangular numeric array, got {value!r:.80}") from None


def check_mdp(mdp) -> None:
    """Raise ``ValueError`` unless ``mdp`` is a :class:`TabularMDP`, e.g. ``GridWorld().to_mdp()``.

    >>> check_mdp("grid")
    Traceback (most recent call last):
    ...
    ValueError: mdp must be a TabularMDP (e.g. GridWorld().to_mdp()), got str
    """
    if not isinstance(mdp, TabularMDP):
        raise ValueError(f"mdp must be a TabularMDP (e.g. GridWorld().to_mdp()), "
                         f"got {type(mdp).__name__}")


class TabularMDP:
    """A deterministic MDP given by tables.

    Args:
        next_state: s' for every (s, a), int array of shape (S, A) with entries in [0, S).
        reward: r(s, a), float array of shape (S, A).
        terminal: which states are terminal, bool array of shape (S,); default none.
        start: the start distribution ρ^{s0}, shape (S,); default uniform over non-terminal states.

    Raises:
        ValueError: naming the argument, for bad shapes, next states out of range, a ``start``
            that is not a probability distribution, or no non-terminal state to start from.

    >>> mdp = TabularMDP(next_state=[[1, 0], [1, 1]], reward=[[0.0, 0.0], [0.0, 0.0]],
    ...                  terminal=[False, True])
    >>> mdp.n_states, mdp.n_actions, mdp.start
    (2, 2, array([1., 0.]))
    """

    def __init__(self, next_state, reward, terminal=None, start=None) -> None:
        next_state = as_array(next_state, "next_state")
        if next_state.ndim != 2 or next_state.size == 0:
            raise ValueError(f"next_state must be a non-empty 2-D array (S, A), got shape "
                             f"{next_state.shape}")
        if not np.issubdtype(next_state.dtype, np.integer):
            raise ValueError(f"next_state must hold integer state indices, "
                             f"got dtype {next_state.dtype}")
        n_states, n_actions = next_state.shape
        if next_state.min() < 0 or next_state.max() >= n_states:
            raise ValueError(f"next_state entries must be state indices in [0, {n_states}), got "
                             f"values from {next_state.min()} to {next_state.max()}")
        reward = as_array(reward, "reward", np.float64)
        if reward.shape != next_state.shape:
            raise ValueError(f"reward must have the shape of next_state {next_state.shape}, got "
                             f"{reward.shape}")
        if not np.all(np.isfinite(reward)):
            raise ValueError("reward must be finite everywhere")
        if terminal is None:
            terminal = np.zeros(n_states, dtype=bool)
        terminal = as_array(terminal, "terminal")
        if terminal.shape != (n_states,) or terminal.dtype != bool:
            raise ValueError(f"terminal must be a bool array of shape ({n_states},), got "
                             f"{terminal.dtype} array of shape {terminal.shape}")
        if start is None:
            if terminal.all():
                raise ValueError("terminal must leave a non-terminal state to start from")
            start = (~terminal) / np.sum(~terminal)  # uniform over non-terminal states  (S,)
        start = as_array(start, "start", np.float64)
        if start.shape != (n_states,):
            raise ValueError(f"start must have shape ({n_states},), got {start.shape}")
        start = check_distribution(start, "start")

        # Terminal states are absorbing: every action stays put and pays 0, so V(terminal) = 0.
        next_state = next_state.astype(np.int64)  # copy  (S, A)
        reward = reward.copy()  # (S, A)
        next_state[terminal] = np.flatnonzero(terminal)[:, None]
        reward[terminal] = 0.0
        self.next_state, self.reward = next_state, reward
        self.terminal, self.start = terminal.copy(), start.copy()
        for arr in (self.next_state, self.reward, self.terminal, self.start):
            arr.setflags(write=False)  # read-only: an MDP does not change under our feet

    @property
    def n_states(self) -> int:
        """Number of states S."""
        return self.next_state.shape[0]

    @property
    def n_actions(self) -> int:
        """Number of actions A."""
        return self.next_state.shape[1]

    def __repr__(self) -> str:
        return (f"TabularMDP(n_states={self.n_states}, n_actions={self.n_actions}, "
                f"n_terminal={int(self.terminal.sum())})")


def random_mdp(n_states: int, n_actions: int, rng: np.random.Generator | int | None = None,
               n_terminal: int = 1) -> TabularMDP:
    """A random deterministic MDP, for tests and exercises.

    Next states are uniform, rewards standard normal, the last ``n_terminal`` states are terminal
    and the start distribution is a random (Dirichlet) distribution over the other states.

    >>> mdp = random_mdp(4, 2, rng=0)
    >>> mdp
    TabularMDP(n_states=4, n_actions=2, n_terminal=1)
    >>> bool(np.isclose(mdp.start.sum(), 1.0)), float(mdp.start[-1])
    (True, 0.0)
    """
    if not (isinstance(n_states, (int, np.integer)) and n_states >= 1):
        raise ValueError(f"n_states must be an integer >= 1, got {n_states!r}")
    if not (isinstance(n_actions, (int, np.integer)) and n_actions >= 1):
        raise ValueError(f"n_actions must be an integer >= 1, got {n_actions!r}")
    if not (isinstance(n_terminal, (int, np.integer)) and 0 <= n_terminal < n_states):
        raise ValueError(f"n_terminal must be an integer in [0, {n_states}), got {n_terminal!r}")
    rng = np.random.default_rng(rng)
    next_state = rng.integers(0, n_states, size=(n_states, n_actions))  # (S, A)
    reward = rng.standard_normal((n_states, n_actions))  # (S, A)
    terminal = np.arange(n_states) >= n_states - n_terminal  # (S,)
    start = np.zeros(n_states)
    start[~terminal] = rng.dirichlet(np.ones(n_states - n_terminal))
    return TabularMDP(next_state, reward, terminal, start)


__all__ = ["TabularMDP", "random_mdp"]
