"""A3C learns Pong from pixels: the run behind ``benchmarks/pong.py``, ``reproduce pong`` and nb 10.

The configuration is the paper's (Mnih et al. 2016: shared RMSProp, t_max 5, entropy 0.01,
γ 0.99, the conv net of ``keras/atari_net.py``, the preprocessing of ``envs/atari.py``); every
departure is commented in :func:`pong_config`. A run stops when the mean return of the last
``window`` = 10 training episodes reaches ``target`` = 18 (Pong's score is −21 … 21) or at its
time limit, and writes what the notebook shows::

    data/pong/provenance.json   command, versions, git commit, UTC date, machine, load average
    data/pong/summary.json      solved?, wall seconds and agent steps to the target, steps/s …
    data/pong/episodes.csv      one row per training episode (worker, step, time, return, length)
    data/pong/theta.npz         the final θ (float32, compressed; ~2.5 MB), loaded without pickle
    data/pong/progress.txt      the progress lines the run wrote as it went

>>> pong_config(max_steps=1000).envs_per_worker, pong_config().policy
(8, 'keras:a3c_lib.keras.atari_net:build')
>>> load_pong("/nonexistent")
Traceback (most recent call last):
...
ValueError: no cached Pong run in /nonexistent yet: run `python -m a3c_lib reproduce pong` \
(about an hour on 2 cores) to create it
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from a3c_lib.engine.config import TrainConfig
from a3c_lib.engine.metrics import MetricsLog
from a3c_lib.envs.atari import PONG

MODEL = "a3c_lib.keras.atari_net:build"  #: the paper's network, a Keras model factory
TARGET, WINDOW = 18.0, 10  #: stop when the mean return of the last 10 episodes reaches 18
DATA = Path(__file__).resolve().parents[2] / "data" / "pong"
FAST_STEPS = 640  #: fast mode: 2 workers × 8 envs × t_max 5 = 80 steps per round of updates


def pong_config(max_steps: int = 50_000_000, seed: int = 0, workers: int = 2) -> TrainConfig:
    """The Pong run's TrainConfig (stopping is done by :func:`train_pong`, not target_return)."""
    return TrainConfig(
        algo="a3c", env_id=PONG, policy="keras:" + MODEL, workers=workers,
        # 8 envs per worker in lockstep (the paper: 1 env per actor-learner, 16 of them). Two
        # workers × 8 = 16 env streams as in the paper, and one forward pass serves 8 env steps
        # (1.7 ms for 8 stacks against ~1 ms for 1: batching is nearly free in a conv net).
        envs_per_worker=8,
        t_max=5,  # the paper's; a gradient on 8 × 5 = 40 frames (~12.5 ms)
        gamma=0.99, entropy_coef=0.01,  # the paper's
        value_coef=0.5,  # the critic's ½(G − V)² with weight 0.5, the usual A3C/A2C choice
        # lr: the paper sampled η log-uniformly in [1e-4, 1e-2] per run (summed losses); with our
        # batch-mean losses 7e-4 is the tested A2C value for Atari (OpenAI baselines).
        lr=7e-4, rms_alpha=0.99,  # α: the paper's
        rms_eps=1e-5,  # the paper: 0.1 with SUMMED losses; batch means make g ~1600× smaller
        max_grad_norm=0.5,  # not in Algorithm S3; clips one unlucky rollout (as in A2C)
        reward_clip=1.0,  # the paper's (Pong's rewards are ±1 already: no change here)
        seed=seed, max_steps=max_steps, target_return=None)


class PongRun(NamedTuple):
    """What :func:`train_pong` returns (and writes to ``out``)."""

    summary: dict[str, Any]
    metrics: MetricsLog
    theta: np.ndarray  # (P,) float32


def train_pong(out: str | Path | None, minutes: float = 60.0, target: float = TARGET,
               window: int = WINDOW, config: TrainConfig | None = None,
               progress_every: float = 30.0, on_metrics=None, echo: bool = True,
               until=None) -> PongRun:
    """Train until the last ``window`` episodes average ``target``, or ``minutes`` pass.

    Writes a progress line every ``progress_every`` s to ``out/progress.txt`` (and stdout if
    ``echo``); at the end ``summary.json``, ``episodes.csv``, ``theta.npz`` in ``out`` (if given).
    ``on_metrics``: more callbacks ``f(metrics_log)`` (the benchmark samples memory with one);
    ``until(metrics_log) -> bool``: one more reason to stop (the tests stop when every worker
    has updated θ, whatever the machine's speed).
    """
    from a3c_lib.engine import training
    from a3c_lib.experiments.reproduce import _write_episodes_csv, solve_point

    if not (isinstance(minutes, int | float) and minutes > 0):
        raise ValueError(f"minutes must be a number > 0, got {minutes!r}")
    if isinstance(window, bool) or not isinstance(window, int) or window < 1:
        raise ValueError(f"window must be an integer >= 1, got {window!r}")
    config = config or pong_config()
    folder = Path(out) if out is not None else None
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "progress.txt").write_text("")
    state = {"run": None, "next": 0.0, "t0": time.monotonic()}

    def log_line(text: str) -> None:
        if echo:
            print(text, flush=True)
        if folder is not None:
            with open(folder / "progress.txt", "a") as f:
                f.write(text + "\n")

    def watch(log: MetricsLog) -> None:  # the run's monitor thread calls it ~4 times a second
        run, now = state["run"], time.monotonic()
        if run is None:
            return
        mean = log.mean_return(window) if log.n_episodes >= window else None
        if now >= state["next"] or not run.running:
            state["next"] = now + progress_every
            steps = run.global_step
            log_line(f"{now - state['t0']:7.0f} s  {steps:>11,} steps  {log.n_episodes:>5} "
                     f"episodes  mean of last {window}: "
                     f"{'-' if mean is None else f'{mean:6.2f}'}  "
                     f"{steps / max(now - state['t0'], 1e-9):7.0f} steps/s")
        if mean is not None and mean >= target or now - state["t0"] > 60.0 * minutes \
                or until is not None and until(log):
            run.stop()

    callbacks = [watch] + (list(on_metrics) if isinstance(on_metrics, list | tuple)
                           else [on_metrics] if on_metrics is not None else [])
    run = training.start(config, on_metrics=callbacks)
    state["run"], state["t0"] = run, run.t0
    try:
        while run.wait(timeout=0.2) is None:
            pass
    except KeyboardInterrupt:  # Ctrl-C: stop the workers and clean up, as training.train does
        training.stop_and_wait(run)
        raise
    if run.error:
        raise RuntimeError(f"the Pong run failed: {run.error}")
    result = run.result
    hit = solve_point(result.metrics.episodes, target, window)
    summary = {k: v for k, v in result.summary.items() if k not in ("solved", "solve_steps",
                                                                      "solve_seconds")}
    summary.update(
        solved=hit is not None, solve_steps=hit and hit.step,
        solve_seconds=hit and round(hit.time, 1),
        solve_rule=f"first episode where the mean return of the last {window} training "
                   f"episodes (all workers, in arrival order) reached {target:g}",
        time_limit_minutes=minutes,
        final_mean_return=result.metrics.mean_return(window) if result.metrics.n_episodes
        else None)
    theta = np.asarray(result.theta, np.float32)
    if folder is not None:
        (folder / "summary.json").write_text(json.dumps(summary, indent=1, default=float) + "\n")
        _write_episodes_csv(result.metrics, folder / "episodes.csv")
        np.savez_compressed(folder / "theta.npz", theta=theta, model=np.array(MODEL),
                            env_id=np.array(config.env_id))
    log_line(f"done: solved={summary['solved']} at {summary['solve_steps']} steps, "
             f"{summary['solve_seconds']} s; {summary['global_steps']:,} steps in "
             f"{summary['wall_seconds']:.0f} s")
    return PongRun(summary, result.metrics, theta)


def write_provenance(folder: str | Path, command: str, config: TrainConfig,
                     extra: dict[str, Any] | None = None) -> Path:
    """provenance.json: how, when and where the run was made."""
    from datetime import UTC, datetime

    from a3c_lib.experiments.reproduce import _git, versions

    commit, dirty = _git()
    provenance = {
        "name": "pong", "command": command, "config": config.to_dict(), "model": MODEL,
        "versions": versions(), "git_commit": commit, "git_dirty_a3c_lib": dirty,
        "date_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"nproc": os.cpu_count(), "platform": platform.platform(),
                    "load_average_at_start": [round(x, 2) for x in os.getloadavg()]},
        **(extra or {}),
    }
    path = Path(folder) / "provenance.json"
    path.write_text(json.dumps(provenance, indent=1) + "\n")
    return path


class CachedPong(NamedTuple):
    """A cached Pong run (``data/pong``): provenance, summary, episode rows, θ."""

    provenance: dict[str, Any]
    summary: dict[str, Any]
    metrics: MetricsLog
    theta: np.ndarray  # (P,) float32


def load_pong(root: str | Path | None = None) -> CachedPong:
    """Read a run written by ``reproduce pong`` (default: data/pong); ValueError if missing."""
    from a3c_lib.experiments.reproduce import read_episodes_csv

    folder = Path(DATA if root is None else root)
    if not (folder / "provenance.json").is_file() or not (folder / "theta.npz").is_file():
        raise ValueError(f"no cached Pong run in {folder} yet: run `python -m a3c_lib reproduce "
                         "pong` (about an hour on 2 cores) to create it")
    log = MetricsLog()
    log.append("episodes", read_episodes_csv(folder / "episodes.csv"))
    with np.load(folder / "theta.npz", allow_pickle=False) as z:
        theta = z["theta"]
    return CachedPong(json.loads((folder / "provenance.json").read_text()),
                      json.loads((folder / "summary.json").read_text()), log, theta)


def reproduce(out: str | Path, fast: bool = False, command: str | None = None) -> Path:
    """``python -m a3c_lib reproduce pong``: the benchmark's run, written to ``out/pong``.

    Normal: up to 90 minutes of 2 workers (the goal is under 60). Fast: a few hundred steps.
    """
    folder = Path(out) / "pong"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "provenance.json").unlink(missing_ok=True)  # "cached" only once it is complete
    config = pong_config(max_steps=FAST_STEPS if fast else 50_000_000)
    command = command or "python -m a3c_lib reproduce pong" + " --fast" * fast
    run = train_pong(folder, minutes=5.0 if fast else 90.0, config=config)
    write_provenance(folder, command, config,
                     {"fast": fast, "wall_seconds": run.summary["wall_seconds"]})
    return folder


class Episode(NamedTuple):
    """One played episode: the game score, its length in agent steps, the recorded frames."""

    ret: float  # Pong: points won − points lost, −21 … 21
    length: int
    frames: list[np.ndarray]  # (210, 160, 3) uint8 screens, every ``record_every``-th step


def play_pong(theta: np.ndarray | None, greedy: bool = False, seed: int = 0,
              max_steps: int = 27_000, record_every: int = 0, max_frames: int = 400) -> Episode:
    """Play one episode of Pong with θ (or uniformly random actions if ``theta`` is None).

    Args:
        theta: (P,) parameters of the paper's network, or None for a random agent.
        greedy: a = argmax π(·|s) instead of a ~ π(·|s).
        seed: the env's reset seed (and the action sampler's).
        max_steps: stop after this many agent steps (27,000 = the env's own 108,000-frame limit).
        record_every: keep every k-th screen (0 = none), at most ``max_frames`` of them.
    """
    from a3c_lib.envs.atari import make_atari

    if isinstance(record_every, bool) or not isinstance(record_every, int) or record_every < 0:
        raise ValueError(f"record_every must be an integer >= 0, got {record_every!r}")
    env = make_atari(render_mode="rgb_array" if record_every else None)
    rng = np.random.default_rng(seed)
    policy = None
    if theta is not None:
        from a3c_lib.keras.policy import KerasPolicy

        policy = KerasPolicy(MODEL, env.observation_space, env.action_space)
        theta = np.asarray(theta, policy.dtype)
    frames, total, t = [], 0.0, 0
    try:
        obs, _ = env.reset(seed=seed)
        for t in range(1, max_steps + 1):  # noqa: B007 (t is the episode's length afterwards)
            if record_every and (t - 1) % record_every == 0 and len(frames) < max_frames:
                frames.append(env.render())
            if policy is None:
                action = int(rng.integers(env.action_space.n))
            elif greedy:
                action = int(np.argmax(policy.logits(theta, obs[None])[0]))
            else:
                action = int(policy.act(theta, obs[None], rng)[0][0])
            obs, r, terminated, truncated, _ = env.step(action)
            total += float(r)
            if terminated or truncated:
                break
    finally:
        env.close()
    return Episode(total, t, frames)
