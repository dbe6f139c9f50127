"""The cached reference runs: the fast pipeline, the committed data/ files and the CLI."""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from process_helpers import group_run

from a3c_lib.engine.config import TrainConfig
from a3c_lib.engine.metrics import EpisodeRow
from a3c_lib.experiments import reproduce
from a3c_lib.nn import mlp
from a3c_lib.viz.render import _make_policy, evaluate_policy

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
PROVENANCE_KEYS = {"name", "command", "seeds", "runs", "versions", "git_commit", "date_utc",
                   "machine", "fast"}


def _check_experiment_dir(folder: Path, fast: bool) -> dict:
    """Every file of one experiment loads without pickle and carries its provenance."""
    provenance = json.loads((folder / "provenance.json").read_text())
    assert PROVENANCE_KEYS <= set(provenance), PROVENANCE_KEYS - set(provenance)
    assert provenance["fast"] is fast
    assert provenance["command"].startswith("python -m a3c_lib reproduce")
    assert {"numpy", "gymnasium", "python"} <= set(provenance["versions"])
    assert provenance["machine"]["nproc"] >= 1 and provenance["date_utc"][:2] == "20"
    assert provenance["git_commit"] == "unknown" or len(provenance["git_commit"]) == 40
    assert provenance["runs"]
    for run_id, run in provenance["runs"].items():
        d = folder / run_id
        assert run["config"]["seed"] == run["seed"] and run["seed"] in provenance["seeds"]
        summary = json.loads((d / "summary.json").read_text())
        assert summary["config"] == run["config"]
        with open(d / "episodes.csv", newline="") as f:
            rows = list(csv.DictReader(f))
        assert rows and {r["kind"] for r in rows} == {"episode"}
        assert len(rows) == summary["episodes"]
        steps = [int(r["step"]) for r in rows]
        assert max(steps) <= summary["global_steps"]
        theta, (obs_dim, n_actions, hidden) = reproduce.load_theta(d / "weights.npz")
        policy = _make_policy(run["config"]["env_id"], hidden)  # categorical MLP or Gaussian
        assert theta.shape == (policy.n_params,) and list(hidden) == run["config"]["hidden"]
    return provenance


def test_solve_point_hand_worked():
    rows = [EpisodeRow(0, 10 * (i + 1), 0.5 * i, float(r), int(r)) for i, r in
            enumerate([2, 4, 6, 2, 9])]
    # window 2 means: 3, 5, 4, 5.5 -> first >= 5 is the mean of episodes 1-2, i.e. row 2
    assert reproduce.solve_point(rows, target=5.0, window=2) == rows[2]
    assert reproduce.solve_point(rows, target=5.6, window=2) is None
    assert reproduce.solve_point(rows[:1], target=0.0, window=2) is None  # too few episodes


def test_fast_run_writes_every_file_with_provenance(tmp_path):
    folder = reproduce.run_experiment("cartpole_ac", tmp_path, fast=True)
    assert folder == tmp_path / "cartpole_ac"
    provenance = _check_experiment_dir(folder, fast=True)
    assert provenance["seeds"] == [0, 1, 2]
    assert all(r["config"]["max_steps"] == reproduce.FAST_BUDGET
               for r in provenance["runs"].values())
    # notebook 06's layout: seed 0's episodes, byte for byte
    assert (tmp_path / "reference_runs" / "ac.csv").read_bytes() == \
        (folder / "seed0" / "episodes.csv").read_bytes()
    cached = reproduce.load_cached("cartpole_ac", root=tmp_path)
    assert sorted(cached.runs) == ["seed0", "seed1", "seed2"]
    run = cached.runs["seed1"]
    assert run.metrics.n_episodes == run.summary["episodes"] > 0
    assert run.summary["global_steps"] >= reproduce.FAST_BUDGET


def test_unknown_name_lists_the_known_ones(tmp_path):
    with pytest.raises(ValueError, match="name must be one of "
                                         + ", ".join(sorted(reproduce.EXPERIMENTS))):
        reproduce.run_experiment("cartpole_dqn", tmp_path)
    with pytest.raises(ValueError, match="python -m a3c_lib reproduce lr_sweep"):
        reproduce.load_cached("lr_sweep", root=tmp_path)  # nothing cached there


def test_fast_mode_never_writes_the_committed_data(tmp_path, monkeypatch, capsys):
    fake_data = tmp_path / "data"
    monkeypatch.setattr(reproduce, "DATA_DIR", fake_data)
    # --fast without --out writes to a new temp folder: make it one pytest removes (it used to
    # leave an a3c-reproduce-* folder in the system's temp dir after every test run)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    args = argparse.Namespace(names=["cartpole_ac"], fast=True, out=None)
    assert reproduce._run(args) == 0
    assert not fake_data.exists()
    written = Path(capsys.readouterr().out.split("written to ")[1].split(" in ")[0])
    assert written.name == "cartpole_ac" and (written / "provenance.json").is_file()
    assert written.parent.parent == tmp_path


def _cli(*args: str, module: str = "a3c_lib") -> subprocess.CompletedProcess:
    env = {**os.environ, "A3C_FAST": "0"}  # its own process group, killed on any exit path
    return group_run([sys.executable, "-m", module, *args], cwd=ROOT, env=env, timeout=300)


def test_cli_help_and_bad_name():
    out = _cli("reproduce", "--help")
    assert out.returncode == 0, out.stderr
    assert "--fast" in out.stdout and "trained_agent" in out.stdout
    out = _cli("reproduce", "cartpole_dqn", "--fast")
    assert out.returncode == 2
    assert out.stderr.strip().startswith("error: name must be one of "
                                         + ", ".join(sorted(reproduce.EXPERIMENTS)))


def test_cli_fast_run(tmp_path):
    out = _cli("reproduce", "cartpole_a2c", "--fast", "--out", str(tmp_path))
    assert out.returncode == 0, out.stderr
    provenance = _check_experiment_dir(tmp_path / "cartpole_a2c", fast=True)
    assert provenance["command"] == (f"python -m a3c_lib reproduce cartpole_a2c --fast --out "
                                     f"{tmp_path}")


# ---- the committed data/ ------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(reproduce.EXPERIMENTS))
def test_committed_experiment_loads_without_pickle(name):
    provenance = _check_experiment_dir(DATA / name, fast=False)
    assert set(provenance["runs"]) == set(reproduce.EXPERIMENTS[name].runs)
    cached = reproduce.load_cached(name)
    for run_id, config in reproduce.EXPERIMENTS[name].runs.items():
        # fields added to TrainConfig after the run was cached take their defaults
        assert TrainConfig.from_dict(cached.runs[run_id].summary["config"]) == config


def test_every_committed_data_file_is_a_safe_format():
    files = [p for p in DATA.rglob("*") if p.is_file()]
    assert files
    for p in files:
        # .txt: data/pong/progress.txt, the lines the Pong run printed as it went
        assert p.name.endswith((".json", ".csv", ".npz", ".weights.h5", ".md", ".txt")), p
        if p.suffix == ".npz":
            with np.load(p, allow_pickle=False) as z:
                assert all(z[k].dtype != object for k in z.files)
        elif p.suffix == ".json":
            json.loads(p.read_text())
    # the MLP runs stay small (their largest part: the episode rows, 22k of them for the 8M-step
    # continuous lander); Pong's conv net (677,943 float32 weights) has its own bound, the
    # issue's "weights <= 5 MB in data/"
    pong = [p for p in files if "pong" in p.relative_to(DATA).parts[:1]]
    size = sum(p.stat().st_size for p in files if p not in pong)
    assert size < 5 * 2**20, f"data/ holds {size / 2**20:.1f} MiB; keep it under 5 MiB"
    pong_size = sum(p.stat().st_size for p in pong)
    assert pong_size < 5 * 2**20, f"data/pong holds {pong_size / 2**20:.1f} MiB; keep it < 5 MiB"


def test_cached_trained_agent_numpy_equals_keras_and_balances():
    run = reproduce.load_cached("trained_agent").runs["seed0"]
    theta, (obs_dim, n_actions, hidden) = reproduce.load_theta(run.weights)
    spec = mlp.MLPSpec(obs_dim, n_actions, hidden)
    obs = np.random.default_rng(0).normal(size=(16, obs_dim))  # (16, 4)
    logits, v = mlp.forward(spec, theta, obs)  # (16, 2), (16,)

    from a3c_lib.keras import networks

    model = networks.build_actor_critic(obs_dim, n_actions, hidden)
    model.load_weights(str(run.weights.parent / "model.weights.h5"))
    k_logits, k_v = (np.asarray(x) for x in model(obs.astype("float32")))
    np.testing.assert_allclose(k_logits, logits, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(k_v[:, 0], v, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(networks.get_flat_weights(model), theta, atol=1e-6)  # float32

    greedy = evaluate_policy(run.weights, greedy=True, episodes=3, seed=7)
    assert greedy.returns.min() >= 400, greedy.returns  # the cached weights really balance
    assert run.summary["solved"] and run.summary["solve_steps"] <= run.summary["global_steps"]
