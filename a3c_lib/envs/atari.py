"""Atari for A3C (Mnih et al. 2016): ALE games with the DQN preprocessing, from gymnasium's parts.

``"a3c_lib.envs.atari:PongA3C-v0"`` (any process: the prefix imports this module, which registers
the id) or :func:`make_atari` gives an env whose observation is the last 4 preprocessed frames::

    ALE frame        (210, 160, 3) uint8 RGB, 60 per second of play
    AtariPreprocessing: repeat the action 4 frames; max of the last 2 (sprites flicker);
                     grey; resize to 84×84                       -> (84, 84) uint8
    FrameStackObservation: the last 4 of those                  -> (4, 84, 84) uint8

Choices, each with its reason:

* **No sticky actions** (``repeat_action_probability=0``; ``ALE/*-v5`` defaults to 0.25). The
  paper used the deterministic ALE of its time, randomised only by up to 30 no-op actions at
  the start of every episode (``noop_max=30``, done here). Sticky actions (Machado et al. 2018)
  came later; they make the game harder to learn. ``sticky=0.25`` turns them on.
* **Frame skip 4, max over the last 2 frames, 84×84 grey, 4 stacked** as in the paper (which
  took them from DQN, Mnih et al. 2015). Frames stay uint8: the network scales them to [0, 1],
  so a rollout of 40 observations is 1.1 MB instead of 4.5 MB.
* **Rewards are the game's**; the paper's clip to [−1, 1] is the ENGINE's job
  (``TrainConfig(reward_clip=1.0)``, ``engine/rewards.py``), so that the returns the run reports
  stay the game scores. Pong's rewards are −1 or +1 anyway: an episode's return is the score
  (−21 … 21) and the clip changes nothing.
* **A lost life is not terminal** (``terminal_on_life_loss=False``): Pong has no lives, so the
  choice is moot for it; for other games the episode and its return stay the game's own.
* **The minimal action set** (6 actions for Pong), as in the paper; ``full_action_space=False``.
* **Episodes are cut at 108,000 frames** (30 minutes of play; ALE's default), a truncation.

The id to train on (a TrainConfig's ``env_id``) and the shapes (``tests/test_atari_env.py``
makes the env; doctests must also pass where the optional extra is missing)::

    >>> PONG
    'a3c_lib.envs.atari:PongA3C-v0'
    >>> make_atari("pong", noop_max=-1)
    Traceback (most recent call last):
    ...
    ValueError: noop_max must be an integer in [0, 100], got -1
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

ENV_ID = "PongA3C-v0"  #: registered here; workers make it as "a3c_lib.envs.atari:PongA3C-v0"
PONG = f"{__name__}:{ENV_ID}"  #: the full id to give a TrainConfig (module prefix included)
FRAMES, SIZE = 4, 84  # frames stacked, side of a preprocessed frame
INSTALL_HINT = ("Atari needs the 'atari' extra (ale-py, which ships the game ROMs, and OpenCV "
                "for the resize): pip install -e \".[atari]\" (from the course folder)")


def _require_ale() -> Any:
    """Import ale_py and register its ALE/* ids with gymnasium (gymnasium 1.x does not)."""
    try:
        import ale_py
        import cv2  # noqa: F401  (AtariPreprocessing's resize)
    except ImportError as err:
        raise gym.error.DependencyNotInstalled(f"{INSTALL_HINT} ({err})") from None
    gym.register_envs(ale_py)
    # ALE prints a two-line banner to stderr for EVERY env it creates (16 per Pong run, and stray
    # stderr in a notebook); its errors are still printed at this level
    ale_py.ALEInterface.setLoggerMode(ale_py.LoggerMode.Error)
    return ale_py


def atari_available() -> bool:
    """True if the 'atari' extra (ale-py, OpenCV) is installed, without raising."""
    try:
        _require_ale()
    except gym.error.DependencyNotInstalled:
        return False
    return True


def make_atari(game: str = "pong", *, noop_max: int = 30, sticky: float = 0.0,
               render_mode: str | None = None) -> gym.Env:
    """An ALE game preprocessed as in the paper; observation (4, 84, 84) uint8.

    Args:
        game: ALE game name in snake case ("pong", "breakout", …).
        noop_max: at most this many no-op actions after each reset, in [0, 100].
        sticky: ALE's repeat_action_probability, in [0, 1); 0 = the paper's deterministic ALE.
        render_mode: None, or "rgb_array" for ``env.render()`` frames (210, 160, 3).

    Raises:
        gymnasium.error.DependencyNotInstalled: ale-py or OpenCV missing (says which extra).
        ValueError: a bad argument.
    """
    if not isinstance(game, str) or not game:
        raise ValueError(f"game must be an ALE game name such as 'pong', got {game!r}")
    if isinstance(noop_max, bool) or not isinstance(noop_max, int) or not 0 <= noop_max <= 100:
        raise ValueError(f"noop_max must be an integer in [0, 100], got {noop_max!r}")
    if isinstance(sticky, bool) or not isinstance(sticky, int | float) or not 0 <= sticky < 1:
        raise ValueError(f"sticky must be a probability in [0, 1), got {sticky!r}")
    if render_mode not in (None, "rgb_array"):
        raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
    _require_ale()
    name = "ALE/" + "".join(part.capitalize() for part in game.split("_")) + "-v5"
    if name not in gym.registry:
        raise ValueError(f"game must be an ALE game such as 'pong' or 'breakout', got {game!r}")
    # frameskip=1: AtariPreprocessing does the skipping (and the max over the last two frames)
    env = gym.make(name, frameskip=1, repeat_action_probability=float(sticky),
                   full_action_space=False, render_mode=render_mode,
                   disable_env_checker=True)  # the checker re-validates every step
    env = gym.wrappers.AtariPreprocessing(env, noop_max=noop_max, frame_skip=4, screen_size=SIZE,
                                          terminal_on_life_loss=False, grayscale_obs=True,
                                          scale_obs=False)  # (84, 84) uint8
    return gym.wrappers.FrameStackObservation(env, FRAMES)  # (4, 84, 84) uint8, oldest first


def make_pong(**kwargs: Any) -> gym.Env:
    """Entry point of ``PongA3C-v0``: :func:`make_atari` for Pong (kwargs: see there)."""
    return make_atari("pong", **kwargs)


if ENV_ID not in gym.registry:  # registering is cheap and needs no ale-py: make() checks that
    gym.register(ENV_ID, entry_point=make_pong)
