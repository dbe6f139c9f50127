"""Cached reference runs: ``python -m a3c_lib reproduce [NAME ...] [--fast] [--out DIR]``.

The long experiments of the course (A3C vs A2C vs one agent, the γ and learning-rate sweeps, a
trained agent to watch) take minutes, too long for a class. They are run once by this module and
stored in ``data/NAME/``; the notebooks show the cached result and retrain only when asked.
Every experiment directory holds::

    provenance.json       command, seeds, configs, package versions, git commit, UTC date, nproc
    RUN/episodes.csv      one row per episode (kind, worker, step, time, ret, length), rounded
    RUN/summary.json      the run's summary (solve steps/seconds, final mean return, config …)
    RUN/weights.npz       final theta (np.savez, no pickle) + obs_dim, n_actions, hidden
    RUN/model.weights.h5  the same weights for Keras (trained_agent only)

and the ``cartpole_*`` experiments copy seed 0 to ``reference_runs/{a3c,a2c,ac}.csv`` (notebook 06).
A description of every file and the numbers of the committed runs: ``data/README.md``.

>>> sorted(EXPERIMENTS)
['acrobot_reward_scale', 'cartpole_a2c', 'cartpole_a3c', 'cartpole_ac', 'cartpole_ray',
 'gamma_sweep', 'lr_sweep', 'lunarlander', 'lunarlander_continuous', 'mountaincar', 'pendulum',
 'trained_agent']
>>> load_cached("nope")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
ValueError: name must be one of acrobot_reward_scale, cartpole_a2c, ..., trained_agent, got 'nope'
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from a3c_lib import FAST_MODE
from a3c_lib.engine.config import TrainConfig
from a3c_lib.engine.metrics import EpisodeRow, MetricsLog
from a3c_lib.engine.results import load_theta, versions  # noqa: F401 (re-export)
from a3c_lib.engine.tasks import TASKS

DATA_DIR = Path(__file__).resolve().parents[2] / "data"  # the repo's committed data/
TARGET, WINDOW = 475.0, 100  # CartPole-v1 "solved": mean return of the last 100 episodes >= 475
BUDGET, FAST_BUDGET = 300_000, 3_000  # global env steps per run (normal / fast mode)


@dataclass(frozen=True)
class Experiment:
    """A named set of runs: ``runs`` maps a run id to its TrainConfig (normal budget)."""

    description: str
    runs: dict[str, TrainConfig]
    keras: bool = False  # also write model.weights.h5 (imports TensorFlow)
    by_default: bool = True  # run by a bare `reproduce` (False: only when named)


def _cartpole(algo: str) -> Experiment:
    # Fixed budget (target_return=None) so the three curves span the same steps; "solved" is
    # measured afterwards on the episode rows (see solve_point), the same rule as the trainer's.
    runs = {f"seed{s}": TrainConfig(algo=algo, seed=s, max_steps=BUDGET, target_return=None)
            for s in (0, 1, 2)}
    return Experiment(f"{algo} on CartPole-v1, 3 seeds, {BUDGET:,} env steps each", runs)


def _sweep(field: str, values: tuple[float, ...]) -> Experiment:
    runs = {f"{field}{v:g}-seed{s}": TrainConfig(seed=s, max_steps=BUDGET, **{field: v})
            for v in values for s in (0, 1)}
    return Experiment(f"a3c on CartPole-v1: {field} in {list(values)}, seeds 0-1; each run stops "
                      f"when solved (mean-100 return >= {TARGET:g}) or at {BUDGET:,} steps", runs)


EXPERIMENTS: dict[str, Experiment] = {
    "cartpole_a3c": _cartpole("a3c"),
    "cartpole_a2c": _cartpole("a2c"),
    "cartpole_ac": _cartpole("ac"),
    "gamma_sweep": _sweep("gamma", (0.9, 0.97, 0.99, 0.999)),
    "lr_sweep": _sweep("lr", (3e-4, 1e-3, 3e-3, 1e-2)),
    "trained_agent": Experiment(
        "agents for notebook 08 (default config): seed0 is a3c stopped when solved (mean-100 "
        "return >= 475); halfway-seed0 is a half-trained agent, a2c after 40,000 steps (a seeded "
        "fixed-budget a2c run is bit-for-bit repeatable, so its weights are too)",
        {"seed0": TrainConfig(seed=0, max_steps=2 * BUDGET),
         "halfway-seed0": TrainConfig(algo="a2c", seed=0, max_steps=40_000,
                                      target_return=None)},
        keras=True),
    # notebook 06, "from one machine to a cluster": the same a3c on Ray (needs the extra `ray`)
    "cartpole_ray": Experiment(
        f"a3c on CartPole-v1 with backend='ray': 2 worker actors and a parameter-server actor "
        f"on a local loopback Ray instance, seed 0, {BUDGET:,} env steps",
        {"seed0": TrainConfig(backend="ray", workers=2, seed=0, max_steps=BUDGET,
                              target_return=None)}, by_default=False),
    # notebook 09, beyond CartPole: the per-env defaults of engine/tasks.py (TrainConfig.for_env)
    "acrobot_reward_scale": Experiment(
        "a3c on Acrobot-v1 with its defaults (rewards x 0.1) and with raw rewards "
        "(reward_scale 1), seed 0, 100,000 env steps each",
        {f"scale{c:g}-seed0": TrainConfig.for_env("Acrobot-v1", seed=0, reward_scale=c,
                                                  max_steps=100_000, target_return=None)
         for c in (0.1, 1.0)}),
    "mountaincar": Experiment(
        "a3c on MountainCar-v0 with its defaults, seed 0, 300,000 env steps: undirected "
        "exploration never reaches the flag", {"seed0": TrainConfig.for_env(
            "MountainCar-v0", seed=0, max_steps=300_000, target_return=None)}),
    **{name: Experiment(f"a3c on {env_id} with its defaults, seed 0, stopped when solved",
                        {"seed0": TrainConfig.for_env(env_id, seed=0)})
       for name, env_id in (("lunarlander", "LunarLander-v3"), ("pendulum", "Pendulum-v1"),
                            ("lunarlander_continuous", "LunarLanderContinuous-v3"))},
}


#: Experiments with their own runner, run only when named (Pong takes about an hour on 2 cores):
#: name -> "module:function(out, fast=, command=) -> folder", imported when run.
NAMED_ONLY: dict[str, str] = {"pong": "a3c_lib.experiments.pong:reproduce"}


def _check_name(name: str) -> Experiment:
    if name not in EXPERIMENTS:
        raise ValueError(f"name must be one of {', '.join(sorted(EXPERIMENTS))}, got {name!r}")
    return EXPERIMENTS[name]


def solve_point(episodes: list[EpisodeRow], target: float = TARGET,
                window: int = WINDOW) -> EpisodeRow | None:
    """The episode at which the mean return of the last ``window`` episodes first reached target.

    >>> rows = [EpisodeRow(0, 10 * i, 0.1 * i, float(r), 1) for i, r in enumerate([1, 3, 5, 7])]
    >>> solve_point(rows, target=4.0, window=2).step  # means (1+3)/2=2, (3+5)/2=4 -> row 2
    20
    """
    returns = np.array([r.ret for r in episodes], dtype=float)  # (E,)
    if len(returns) < window:
        return None
    means = np.convolve(returns, np.ones(window) / window, mode="valid")  # (E - window + 1,)
    hits = np.flatnonzero(means >= target - 1e-9)
    return None if hits.size == 0 else episodes[int(hits[0]) + window - 1]


def _write_episodes_csv(log: MetricsLog, path: Path) -> None:
    """Episode rows only (update rows are ~10x more and not needed for the plots), rounded."""
    lines = ["kind,worker,step,time,ret,length"]
    lines += [f"episode,{r.worker},{r.step},{r.time:.3f},{r.ret:g},{r.length}"
              for r in log.episodes]
    path.write_text("\n".join(lines) + "\n")


def _git() -> tuple[str, bool | None]:
    """(commit of HEAD or "unknown", whether the working tree had uncommitted changes)."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=DATA_DIR.parent, text=True,
                              capture_output=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "a3c_lib"],
                               cwd=DATA_DIR.parent, text=True, capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "unknown", None
    if head.returncode != 0:
        return "unknown", None
    return head.stdout.strip(), bool(dirty.stdout.strip())


def run_experiment(name: str, out: str | Path, fast: bool = False,
                   command: str | None = None) -> Path:
    """Run experiment ``name`` (tiny budgets if ``fast``) and write it to ``out/name/``.

    ``command`` is recorded in provenance.json (default: the equivalent CLI call).
    """
    from a3c_lib.engine import training
    from a3c_lib.viz.render import evaluate_policy

    experiment = _check_name(name)
    folder = Path(out) / name
    folder.mkdir(parents=True, exist_ok=True)
    t0, runs = time.monotonic(), {}
    for run_id, config in experiment.runs.items():
        if fast:
            config = TrainConfig.from_dict({**config.to_dict(), "max_steps": FAST_BUDGET})
        result = training.train(config)
        summary = dict(result.summary)
        task = TASKS.get(config.env_id)
        target = config.target_return if config.target_return is not None else \
            task.target if task else TARGET
        if config.target_return is None:  # fixed-budget run: measure the solve point afterwards
            hit = solve_point(result.metrics.episodes, target=target)
            summary.update(solved=hit is not None, solve_steps=hit and hit.step,
                           solve_seconds=hit and round(hit.time, 3))
        if summary["solve_seconds"] is not None:
            summary["solve_seconds"] = round(summary["solve_seconds"], 3)
        summary["solve_rule"] = f"first episode where the mean return of the last {WINDOW} " \
                                f"episodes (all workers) reached {target:g}"
        greedy = evaluate_policy(result.theta, config.env_id, greedy=True, episodes=10,
                                 seed=1000, hidden=config.hidden)
        summary["greedy_eval"] = {"seeds": "1000-1009", "returns": greedy.returns.tolist()}
        run_dir = folder / run_id
        run_dir.mkdir(exist_ok=True)
        _write_episodes_csv(result.metrics, run_dir / "episodes.csv")
        (run_dir / "summary.json").write_text(json.dumps(summary, indent=1, default=float) + "\n")
        # weights as TrainResult.save writes them (its metrics.csv would add the 10x larger
        # update rows, which no plot here needs)
        np.savez(run_dir / "weights.npz", theta=result.theta, obs_dim=result.spec.obs_dim,
                 n_actions=getattr(result.spec, "n_actions", 0),  # 0: a Gaussian policy
                 hidden=np.array(result.spec.hidden))
        if experiment.keras:
            from a3c_lib.keras import networks  # TensorFlow, after the workers are done

            networks.save_theta(result.theta, result.spec, run_dir / "model.weights.h5")
        runs[run_id] = {"seed": config.seed, "config": config.to_dict()}
        print(f"{name}/{run_id}: solved={summary['solved']} at step {summary['solve_steps']} "
              f"({summary['solve_seconds']} s); {summary['global_steps']:,} steps, "
              f"{summary['steps_per_second']:,.0f} steps/s; greedy {greedy.returns.mean():.0f}",
              flush=True)
    commit, dirty = _git()
    provenance = {
        "name": name, "description": experiment.description,
        "command": command or f"python -m a3c_lib reproduce {name}" + " --fast" * fast,
        "fast": fast, "seeds": sorted({r["seed"] for r in runs.values()}), "runs": runs,
        "versions": versions(), "git_commit": commit, "git_dirty_a3c_lib": dirty,
        "date_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"nproc": os.cpu_count(), "platform": platform.platform()},
        "wall_seconds": round(time.monotonic() - t0, 1),
    }
    (folder / "provenance.json").write_text(json.dumps(provenance, indent=1) + "\n")
    if name.startswith("cartpole_"):  # seed 0 in the layout notebook 06 reads (find_cached_runs)
        (Path(out) / "reference_runs").mkdir(exist_ok=True)
        algo = name.removeprefix("cartpole_")
        (Path(out) / "reference_runs" / f"{algo}.csv").write_bytes(
            (folder / "seed0" / "episodes.csv").read_bytes())
    return folder


class CachedRun(NamedTuple):
    """One cached run: its episode rows, summary dict and the path of its weights.npz."""

    metrics: MetricsLog
    summary: dict[str, Any]
    weights: Path


class CachedExperiment(NamedTuple):
    """A cached experiment: ``runs`` maps run ids (``seed0``, ``gamma0.9-seed1`` …) to runs."""

    name: str
    provenance: dict[str, Any]
    runs: dict[str, CachedRun]


def load_cached(name: str, root: str | Path | None = None) -> CachedExperiment:
    """Read ``root/name/`` (default root: the repo's data/) written by :func:`run_experiment`.

    Raises:
        ValueError: unknown name, or nothing cached yet (the message says which command to run).
    """
    _check_name(name)
    folder = Path(DATA_DIR if root is None else root) / name
    if not (folder / "provenance.json").is_file():
        raise ValueError(f"no cached results for {name!r} in {folder.parent}; run "
                         f"`python -m a3c_lib reproduce {name}` to create them")
    provenance = json.loads((folder / "provenance.json").read_text())
    runs = {}
    for run_id in provenance["runs"]:
        run_dir = folder / run_id
        log = MetricsLog()
        log.append("episodes", read_episodes_csv(run_dir / "episodes.csv"))
        runs[run_id] = CachedRun(log, json.loads((run_dir / "summary.json").read_text()),
                                 run_dir / "weights.npz")
    return CachedExperiment(name, provenance, runs)


def read_episodes_csv(path: str | Path) -> list[EpisodeRow]:
    """The episode rows of an episodes.csv (or of any MetricsLog.to_csv file)."""
    rows = []
    with open(path) as f:
        header = f.readline().strip().split(",")
        col = {k: header.index(k) for k in ("kind", *EpisodeRow._fields)}
        for line in f:
            v = line.rstrip("\n").split(",")
            if v[col["kind"]] == "episode":
                rows.append(EpisodeRow(int(v[col["worker"]]), int(v[col["step"]]),
                                       float(v[col["time"]]), float(v[col["ret"]]),
                                       int(v[col["length"]])))
    return rows


# ---- command line -------------------------------------------------------------------------------
def _add_arguments(parser) -> None:
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"experiments to run (default: all): {', '.join(EXPERIMENTS)}; "
                             f"only when named: {', '.join(NAMED_ONLY)}")
    parser.add_argument("--fast", action="store_true",
                        help=f"tiny budgets ({FAST_BUDGET:,} steps per run; also when A3C_FAST=1) "
                             "written to a temporary directory unless --out is given")
    parser.add_argument("--out", default=None, help=f"output directory (default: {DATA_DIR})")


def _run(args) -> int:
    fast = args.fast or FAST_MODE
    names = args.names or [n for n, e in EXPERIMENTS.items() if e.by_default]
    for name in names:
        if name not in NAMED_ONLY:
            _check_name(name)  # all names checked before anything runs
    out = Path(args.out) if args.out else \
        Path(tempfile.mkdtemp(prefix="a3c-reproduce-")) if fast else DATA_DIR
    command = "python -m a3c_lib reproduce " + " ".join(sys.argv[2:] if len(sys.argv) > 1
                                                         and sys.argv[1] == "reproduce" else names)
    for name in names:
        t0 = time.monotonic()
        if name in NAMED_ONLY:
            module, _, function = NAMED_ONLY[name].partition(":")
            runner = getattr(importlib.import_module(module), function)
            folder = runner(out, fast=fast, command=command.strip())
        else:
            folder = run_experiment(name, out, fast=fast, command=command.strip())
        print(f"{name}: written to {folder} in {time.monotonic() - t0:.1f} s", flush=True)
    return 0


def _register() -> None:
    from a3c_lib.cli import register_command

    register_command("reproduce", "regenerate the cached reference runs in data/",
                     _add_arguments, _run)


_register()

if __name__ == "__main__":  # `python -m a3c_lib.experiments.reproduce` works alone
    from a3c_lib.cli import main

    sys.exit(main(["reproduce", *sys.argv[1:]]))
